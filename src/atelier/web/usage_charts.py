"""The usage page's charts (``/usage``, in ``pages_usage``), computed here and drawn by
``templates/account/_chart.html``: cost per day, tokens per day, tokens per model.

Charts are inline SVG drawn by the template from what is computed here. Horizontal
positions are percentages of the SVG's width and vertical ones pixels, with no viewBox:
the chart spans its card at any width while its text keeps its size (a scaled viewBox
would shrink the labels to nothing on a phone).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # what the bar is (a day, a model)
    text: str  # its value as written in the tooltip
    x: float  # % of the width
    width: float  # % of the width
    y: float  # px
    height: float  # px
    # A second segment stacked on top (output tokens above input tokens).
    y2: float = 0.0
    height2: float = 0.0
    note: str = ""  # written at the end of a horizontal bar


@dataclass(frozen=True, slots=True)
class AxisLabel:
    x: float  # % of the width
    anchor: str  # start | middle | end: the first and last labels stay inside the chart
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    description: str  # what the chart shows and what it says, for people who cannot see it
    height: int  # px
    bars: list[Bar]
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (y px, value) gridlines
    labels: list[AxisLabel] = field(default_factory=list)
    baseline: float = 0.0  # y px of the zero line
    horizontal: bool = False
    empty_text: str = ""  # written across an empty chart


DAY_CHART_HEIGHT, PLOT_TOP, PLOT_BOTTOM = 200, 18, 24


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover


def format_tokens(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"{value / 1_000:.1f}k"
    return f"{value:.0f}"


def format_usd(value: float) -> str:
    if value == 0:
        return "$0"
    return f"${value:.4f}" if value < 0.01 else f"${value:.2f}"


def _axis_labels(days: list[str], slot: float) -> list[AxisLabel]:
    """A handful of dates (one per bar would collide on 30 bars), kept inside the chart."""
    every = max(1, round(len(days) / 5))
    labels = []
    for i in range(0, len(days), every):
        middle = (i + 0.5) * slot
        if middle < 8:
            labels.append(AxisLabel(round(i * slot, 3), "start", days[i][5:]))
        elif middle > 92:
            labels.append(AxisLabel(round((i + 1) * slot, 3), "end", days[i][5:]))
        else:
            labels.append(AxisLabel(round(middle, 3), "middle", days[i][5:]))
    return labels


def day_chart(
    key: str,
    title: str,
    description: str,
    days: list[str],
    values: list[float],
    fmt: Callable[[float], str],
    *,
    stacked: list[float] | None = None,
    empty_text: str = "",
    minimum: float = 0.0,
) -> Chart:
    """Vertical bars, one per day; ``stacked`` puts a second segment on top of each."""
    upper = stacked or [0.0] * len(values)
    totals = [a + b for a, b in zip(values, upper, strict=True)]
    top = _nice_max(max([*totals, minimum]))
    plot_h = DAY_CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    base = PLOT_TOP + plot_h
    slot = 100 / max(len(days), 1)
    bars = []
    for i, day in enumerate(days):
        if not totals[i]:
            continue
        h1, h2 = values[i] / top * plot_h, upper[i] / top * plot_h
        text = f"{fmt(values[i])} in, {fmt(upper[i])} out" if stacked else fmt(values[i])
        bars.append(
            Bar(
                label=day,
                text=text,
                x=round(i * slot + slot * 0.15, 3),
                width=round(slot * 0.7, 3),
                y=round(base - h1, 2),
                height=round(h1, 2),
                y2=round(base - h1 - h2, 2),
                height2=round(h2, 2),
            )
        )
    # No scale on an empty chart: it would only label nothing.
    ticks = [(round(base - plot_h * f, 2), fmt(top * f)) for f in (0.5, 1) if any(totals)]
    busiest = max(range(len(days)), key=lambda i: totals[i]) if any(totals) else None
    said = (
        f" Total {fmt(sum(totals))}; the highest day is {days[busiest]} with "
        f"{fmt(totals[busiest])}."
        if busiest is not None
        else ""
    )
    return Chart(
        key,
        title,
        description + said,
        DAY_CHART_HEIGHT,
        bars,
        ticks,
        _axis_labels(days, slot),
        baseline=base,
        empty_text="" if any(totals) else empty_text,
    )


def model_chart(rows: list[dict[str, Any]]) -> Chart:
    """One bar per model: its name above, its tokens after it, cost and calls in the tooltip."""
    row_h = 46
    top = max((int(r["total_tokens"]) for r in rows), default=0) or 1
    bars = []
    for i, row in enumerate(rows):
        tokens = int(row["total_tokens"])
        width = max(tokens / top * 80, 0.5)  # room is left for the note after the longest
        bars.append(
            Bar(
                label=str(row["model"]),
                text=f"{format_tokens(tokens)} tokens, {format_usd(float(row['cost_usd']))}, "
                f"{row['calls']} calls",
                x=0,
                width=round(width, 3),
                y=i * row_h + 20,
                height=16,
                note=f"{format_tokens(tokens)} tokens",
            )
        )
    listed = "; ".join(f"{bar.label}: {bar.text}" for bar in bars)
    return Chart(
        "by-model",
        "Tokens per model",
        "Bars: total tokens of each model in the period." + (f" {listed}." if listed else ""),
        max(len(rows), 1) * row_h + 4,
        bars,
        horizontal=True,
        empty_text="" if rows else "No AI calls in this period",
    )


def _days(start: dt.date, end: dt.date) -> list[str]:
    return [(start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def usage_charts(summary: dict[str, Any], start: dt.date, end: dt.date) -> list[Chart]:
    days = _days(start, end)
    per_day = {str(row["day"])[:10]: row for row in summary["by_day"]}
    zero = {"input_tokens": 0, "output_tokens": 0, "cost_usd": "0"}
    rows = [per_day.get(day, zero) for day in days]
    span = f"{days[0]} to {days[-1]}"
    no_calls = "No AI calls in this period"
    cost = day_chart(
        "cost",
        "Cost per day (USD)",
        f"Bars: estimated cost in US dollars of each day from {span}.",
        days,
        [float(r["cost_usd"]) for r in rows],
        format_usd,
        empty_text="No cost: these calls were free" if summary["by_day"] else no_calls,
    )
    tokens = day_chart(
        "tokens",
        "Tokens per day",
        f"Stacked bars: input tokens (dark) and output tokens (light) of each day from {span}.",
        days,
        [float(r["input_tokens"]) for r in rows],
        format_tokens,
        stacked=[float(r["output_tokens"]) for r in rows],
        empty_text=no_calls,
        minimum=10,  # whole tokens on the scale
    )
    return [cost, tokens, model_chart(summary["by_model"])]
