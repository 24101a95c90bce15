"""Charts of the run report as inline SVG, drawn by these small functions: nothing to download.

A bureau's server and an analyst's browser may both be offline, so the report carries its charts as
SVG text (no script, no library). Each function takes plain numbers and labels and returns one
`<svg>` element sized for a 760-pixel column; every bar and point has a `<title>` (the browser's
tooltip) with its exact figure. What belongs here: drawing. What is drawn comes from
`publish/report_figures.py`.
"""

import math
from collections.abc import Sequence
from html import escape

WIDTH = 760
FONT = "font-family=\"'Noto Sans CJK SC','Noto Sans SC',sans-serif\" font-size=\"12\""
BLUE, GREEN, AMBER, RED, GREY = "#3b6ea5", "#2b7a3d", "#c98a00", "#b3261e", "#8a8f98"
# Outcomes of a scored record, in drawing order, with their colours.
OUTCOME_COLOURS = {"linked": GREEN, "review": AMBER, "unlinked": RED}


def _svg(height: float, body: str, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" role="img" {FONT}><title>{escape(title)}</title>{body}</svg>'
    )


def _figure(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _text_width(text: str) -> float:
    """About how wide a label is drawn at 12 px: Chinese characters full width, capitals and digits
    two thirds, the rest a little over half."""
    return sum(12 if ord(ch) >= 0x2E80 else 8.2 if ch.isupper() or ch.isdigit() else 6.4 for ch in text)


def bar_chart(bars: Sequence[tuple[str, float]], title: str, colour: str = BLUE) -> str:
    """Horizontal bars, one per (label, value), the value written at the bar's end."""
    label_width = min(440, 16 + max((_text_width(label) for label, _ in bars), default=0))
    row = 22
    top = max((value for _, value in bars), default=0) or 1
    span = WIDTH - label_width - 70
    body = []
    for i, (label, value) in enumerate(bars):
        y = 6 + i * row
        length = span * value / top
        body.append(
            f'<text x="{label_width - 8}" y="{y + 14}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" fill="{colour}">'
            f"<title>{escape(label)}: {_figure(value)}</title></rect>"
            f'<text x="{label_width + length + 6:.1f}" y="{y + 14}">{_figure(value)}</text>'
        )
    return _svg(12 + len(bars) * row, "".join(body), title)


def line_chart(dates: Sequence[str], series: dict[str, Sequence[float | None]], title: str) -> str:
    """One line per series over the dates (equally spaced, oldest left); a missing value breaks the line."""
    left, right, top, bottom = 60, 170, 14, 40
    height = 240
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    values = [v for points in series.values() for v in points if v is not None]
    high = max(values, default=0) or 1
    step = plot_w / max(1, len(dates) - 1)

    def x(i: int) -> float:
        return left + (i * step if len(dates) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / high)

    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{GREY}"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{_figure(high)}</text>',
        f'<text x="{left - 6}" y="{top + plot_h + 4}" text-anchor="end">0</text>',
    ]
    every = max(1, len(dates) // 8)
    for i, day in enumerate(dates):
        if i % every == 0 or i == len(dates) - 1:
            body.append(
                f'<text x="{x(i):.1f}" y="{height - 18}" text-anchor="middle">{escape(day[5:])}</text>'
            )
    palette = (BLUE, GREEN, AMBER, RED, "#6b4fa0", "#1f8a8a", GREY)
    for n, (name, points) in enumerate(series.items()):
        colour = palette[n % len(palette)]
        path, pen = [], "M"
        for i, value in enumerate(points):
            if value is None:
                pen = "M"
                continue
            path.append(f"{pen}{x(i):.1f},{y(value):.1f}")
            pen = "L"
            body.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)} {escape(dates[i])}: {_figure(value)}</title></circle>"
            )
        body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        legend_y = top + 4 + n * 18
        body.append(
            f'<rect x="{left + plot_w + 16}" y="{legend_y - 9}" width="12" height="3" fill="{colour}"/>'
            f'<text x="{left + plot_w + 34}" y="{legend_y}">{escape(name)}</text>'
        )
    return _svg(height, "".join(body), title)


def _threshold(x: float, top: float, bottom: float, label: str, colour: str) -> str:
    return (
        f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{colour}" stroke-width="2" '
        f'stroke-dasharray="5 3"/><text x="{x + 4:.1f}" y="{top + 10}" fill="{colour}">{escape(label)}</text>'
    )


def score_histogram(
    bins: Sequence[tuple[float, dict[str, int]]], bin_width: float, thresholds: dict[str, float], title: str
) -> str:
    """Records per score bin (lower bound, records per outcome), one column per outcome side by side, on a
    logarithmic scale — a city's few dozen rejects and review cases stay visible beside tens of thousands
    of links — with a dashed vertical line at each threshold (label -> score)."""
    left, top, bottom = 60, 44, 44
    height = 280
    plot_w, plot_h = WIDTH - left - 20, height - top - bottom
    edges = (
        [lower for lower, _ in bins] + [lower + bin_width for lower, _ in bins] + list(thresholds.values())
    )
    low, high = min(edges, default=0), max(edges, default=1)
    low, high = bin_width * (low // bin_width), bin_width * -(-high // bin_width)
    high = high if high > low else low + bin_width
    decades = max(1, math.ceil(math.log10(max((n for _, c in bins for n in c.values()), default=1) + 1)))

    def x(score: float) -> float:
        return left + plot_w * (score - low) / (high - low)

    def y(records: float) -> float:
        return top + plot_h * (1 - math.log10(records + 1) / decades)

    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="{GREY}"/>'
    ]
    for power in range(decades + 1):
        records = 10**power - 1 if power else 0
        body.append(
            f'<line x1="{left}" y1="{y(records):.1f}" x2="{left + plot_w}" y2="{y(records):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y(records) + 4:.1f}" text-anchor="end">{10**power if power else 0:,}</text>'
        )
    body.append(
        f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 {top + plot_h / 2})" '
        'text-anchor="middle">records (log scale)</text>'
    )
    tick = low
    while tick <= high:
        body.append(f'<text x="{x(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{tick:g}</text>')
        tick += bin_width * max(1, round((high - low) / bin_width / 12))
    body.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">score (bits)</text>')
    slot = (x(low + bin_width) - x(low) - 2) / len(OUTCOME_COLOURS)
    for lower, counts in bins:
        for i, (outcome, colour) in enumerate(OUTCOME_COLOURS.items()):
            n = counts.get(outcome, 0)
            if n:
                body.append(
                    f'<rect x="{x(lower) + 1 + i * slot:.1f}" y="{y(n):.1f}" width="{slot:.1f}" '
                    f'height="{top + plot_h - y(n):.1f}" fill="{colour}"><title>{lower:g}–{lower + bin_width:g} '
                    f"bits, {outcome}: {n:,}</title></rect>"
                )
    for label, score in thresholds.items():
        body.append(_threshold(x(score), top - 16, top + plot_h, f"{label} {score:g}", "#222"))
    legend = "".join(
        f'<rect x="{left + 10 + i * 110}" y="4" width="10" height="10" fill="{colour}"/>'
        f'<text x="{left + 24 + i * 110}" y="13">{outcome}</text>'
        for i, (outcome, colour) in enumerate(OUTCOME_COLOURS.items())
    )
    return _svg(height, legend + "".join(body), title)


def match_weights_chart(levels: Sequence[tuple[str, str, float]], title: str) -> str:
    """Splink's match-weights chart: one bar per (comparison, level, weight in bits), from zero to the
    right for evidence of a match, to the left against; comparisons separated by a rule."""
    label_width, row = 230, 20
    bound = max((abs(w) for _, _, w in levels), default=1) or 1
    span = (WIDTH - label_width - 40) / 2
    zero = label_width + span
    body, y, previous = [], 8.0, None
    for comparison, level, weight in levels:
        if previous is not None and comparison != previous:
            body.append(f'<line x1="10" y1="{y + 2}" x2="{WIDTH - 10}" y2="{y + 2}" stroke="#ddd"/>')
            y += 6
        previous = comparison
        length = span * abs(weight) / bound
        start = zero if weight >= 0 else zero - length
        colour = BLUE if weight >= 0 else RED
        anchor, text_x = ("start", zero + length + 4) if weight >= 0 else ("end", zero - length - 4)
        body.append(
            f'<text x="{label_width - 8}" y="{y + 13}" text-anchor="end">{escape(comparison)}: {escape(level)}</text>'
            f'<rect x="{start:.1f}" y="{y + 3}" width="{max(length, 1):.1f}" height="{row - 6}" fill="{colour}">'
            f"<title>{escape(comparison)} = {escape(level)}: {weight:+.2f} bits</title></rect>"
            f'<text x="{text_x:.1f}" y="{y + 13}" text-anchor="{anchor}">{weight:+.1f}</text>'
        )
        y += row
    body.append(f'<line x1="{zero}" y1="4" x2="{zero}" y2="{y + 4}" stroke="#222"/>')
    return _svg(y + 10, "".join(body), title)


def waterfall_chart(steps: Sequence[tuple[str, float]], thresholds: dict[str, float], title: str) -> str:
    """The weights behind one pair's score: each (comparison = level, weight) moves the running sum up
    or down from zero; the last bar is the total, with the thresholds as dashed horizontal lines."""
    left, top, bottom = 50, 14, 44
    height = 200
    plot_w, plot_h = WIDTH - left - 120, height - top - bottom
    running, tops = 0.0, [0.0]
    for _, weight in steps:
        running += weight
        tops.append(running)
    values = [*tops, *thresholds.values()]
    low, high = min(values + [0.0]) - 1, max(values + [0.0]) + 1
    column = plot_w / (len(steps) + 1)

    def y(v: float) -> float:
        return top + plot_h * (high - v) / (high - low)

    body = [f'<line x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}" stroke="{GREY}"/>']
    running = 0.0
    for i, (label, weight) in enumerate([*steps, ("total", 0.0)]):
        is_total = i == len(steps)
        start, end = (0.0, running) if is_total else (running, running + weight)
        colour = GREY if is_total else (BLUE if weight >= 0 else RED)
        x0 = left + i * column + 6
        figure = f"{running:+.1f}" if is_total else f"{weight:+.1f}"
        body.append(
            f'<rect x="{x0:.1f}" y="{y(max(start, end)):.1f}" width="{column - 12:.1f}" '
            f'height="{max(abs(y(start) - y(end)), 1):.1f}" fill="{colour}"><title>{escape(label)}: {figure} bits'
            f'</title></rect><text x="{x0 + (column - 12) / 2:.1f}" y="{y(max(start, end)) - 4:.1f}" '
            f'text-anchor="middle">{figure}</text>'
            f'<text x="{x0 + (column - 12) / 2:.1f}" y="{height - 24}" text-anchor="middle">'
            f"{escape(label.split('=')[0])}</text>"
            f'<text x="{x0 + (column - 12) / 2:.1f}" y="{height - 10}" text-anchor="middle" fill="#555">'
            f"{escape(label.split('=')[1] if '=' in label else '')}</text>"
        )
        if not is_total:
            running += weight
    for label, score in thresholds.items():
        body.append(
            f'<line x1="{left}" y1="{y(score):.1f}" x2="{left + plot_w}" y2="{y(score):.1f}" stroke="#222" '
            f'stroke-dasharray="5 3"/><text x="{left + plot_w + 6}" y="{y(score) + 4:.1f}">'
            f"{escape(label)} {score:g}</text>"
        )
    return _svg(height, "".join(body), title)
