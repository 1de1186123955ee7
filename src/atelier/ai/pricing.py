"""Estimated cost of a call in USD, from the offline genai-prices table.

A provider config may override prices (``options.input_usd_per_mtok`` and
``options.output_usd_per_mtok``), e.g. for a self-hosted model or a negotiated rate.
Local models cost nothing; an unknown model costs an unknown amount, recorded as 0.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

_MILLION = Decimal(1_000_000)
_PROVIDER_IDS = {"anthropic": "anthropic", "openai": "openai"}


def estimate_cost(
    *,
    provider: str,
    model: str,
    input_tokens: int,
    output_tokens: int,
    options: dict[str, Any] | None = None,
) -> Decimal:
    options = options or {}
    if "input_usd_per_mtok" in options or "output_usd_per_mtok" in options:
        per_in = Decimal(str(options.get("input_usd_per_mtok", 0)))
        per_out = Decimal(str(options.get("output_usd_per_mtok", 0)))
        return (per_in * input_tokens + per_out * output_tokens) / _MILLION
    if provider not in _PROVIDER_IDS:
        # Local and self-hosted models: free unless the config sets prices (a model that
        # merely shares a public model's name is not billed at that model's price).
        return Decimal(0)
    from genai_prices import Usage, calc_price

    try:
        price = calc_price(
            Usage(input_tokens=input_tokens, output_tokens=output_tokens),
            model_ref=model,
            provider_id=_PROVIDER_IDS.get(provider),
        )
    except LookupError:
        return Decimal(0)
    return Decimal(price.total_price).quantize(Decimal("0.000001"))
