"""Charts as PNG images (matplotlib, Agg backend): the same bytes for the same data.

Figures are made with ``matplotlib.figure.Figure`` (no pyplot, no global state), at a
fixed size and resolution, with the fonts matplotlib ships, and saved without a
"Software" or date entry, so a report rebuilt from the same store is byte-identical.
Labels are never read as mathtext: a team called "A $5 team" stays as written.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

WIDTH, HEIGHT, DPI = 8.0, 4.0, 110
#: Colours by grade rank, best first (green → red), then Not applicable / not graded.
GRADE_COLOURS = ("#1b7837", "#7fbf7b", "#f4a582", "#c51b27", "#bdbdbd", "#e0e0e0")
BAR_COLOUR = "#2b6cb0"
LINE_COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#9b2c2c", "#6b46c1", "#b7791f", "#2c7a7b", "#702459")
_RC: Any = {
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "auditdocs",
}


def _wrap(label: str, width: int = 18) -> str:
    return "\n".join(textwrap.wrap(label, width)[:3]) or label


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _figure(height: float = HEIGHT) -> Figure:
    return Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")


def bars(labels: Sequence[str], values: Sequence[int], title: str, ylabel: str = "Audits") -> bytes:
    """One bar per label, each with its value written on top."""
    with rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        positions = range(len(labels))
        drawn = ax.bar(positions, values, color=BAR_COLOUR)
        ax.bar_label(drawn, labels=[str(v) for v in values], padding=2)
        ax.set_xticks(list(positions), [_wrap(x) for x in labels])
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left", fontweight="bold")
        ax.set_ylim(0, max([*values, 1]) * 1.15)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        return _png(fig)


def stacked(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    title: str,
    colours: Sequence[str] = GRADE_COLOURS,
) -> bytes:
    """Horizontal stacked bars: one bar per category, one segment per series (a grade)."""
    with rc_context(_RC):
        fig = _figure(max(HEIGHT, 1.2 + 0.45 * len(categories)))
        ax = fig.add_subplot()
        positions = list(range(len(categories)))
        left = [0] * len(categories)
        for n, (name, values) in enumerate(series):
            drawn = ax.barh(positions, values, left=left, color=colours[n % len(colours)], label=name)
            ax.bar_label(drawn, labels=[str(v) if v else "" for v in values], label_type="center", fontsize=8)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(positions, [_wrap(c, 30) for c in categories])
        ax.invert_yaxis()
        ax.set_xlabel("Audits")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _legend(ax, loc="lower center", bbox_to_anchor=(0.5, 1.02), ncols=max(1, len(series)), frameon=False,
                fontsize=8, title=None)  # fmt: skip
        ax.set_title(title, loc="left", fontweight="bold", pad=24)
        return _png(fig)


def _legend(ax: Any, **options: Any) -> None:
    """The legend of what was drawn; a chart with nothing to draw says so instead."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**options)
    else:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", transform=ax.transAxes)


def pie(labels: Sequence[str], values: Sequence[int], title: str, colours: Sequence[str] = GRADE_COLOURS) -> bytes:
    """Shares of a whole (the overall grades), with counts in the legend."""
    with rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        shown = [(label, v, colours[n % len(colours)]) for n, (label, v) in enumerate(zip(labels, values, strict=True))]
        shown = [s for s in shown if s[1] > 0]
        if shown:
            ax.pie([s[1] for s in shown], colors=[s[2] for s in shown], startangle=90, counterclock=False,
                   autopct=lambda p: f"{p:.0f}%", wedgeprops={"linewidth": 1, "edgecolor": "white"})  # fmt: skip
            ax.legend([f"{s[0]}: {s[1]}" for s in shown], loc="center left", bbox_to_anchor=(1, 0.5), frameon=False)
        else:
            ax.text(0.5, 0.5, "No graded audits", ha="center", va="center")
            ax.set_axis_off()
        ax.set_title(title, loc="left", fontweight="bold")
        ax.set_aspect("equal")
        return _png(fig)


def lines(
    x: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], title: str, ylabel: str, percent: bool
) -> bytes:
    """One line per series across the x labels (months); a gap where a value is None."""
    with rc_context(_RC):
        fig = _figure(4.4)
        ax = fig.add_subplot()
        positions = list(range(len(x)))
        for n, (name, values) in enumerate(series):
            ys = [float("nan") if v is None else v for v in values]
            ax.plot(positions, ys, marker="o", color=LINE_COLOURS[n % len(LINE_COLOURS)],
                    linestyle="-" if n < len(LINE_COLOURS) else "--", label=_wrap(name, 32))  # fmt: skip
        ax.set_xticks(positions, list(x))
        ax.set_ylabel(ylabel)
        if percent:
            ax.set_ylim(0, 105)
        ax.grid(axis="y", color="#e2e8f0")
        ax.set_title(title, loc="left", fontweight="bold")
        _legend(ax, loc="center left", bbox_to_anchor=(1, 0.5), frameon=False, fontsize=8)
        return _png(fig)


def grouped(
    categories: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], title: str, ylabel: str = "Audits"
) -> bytes:
    """Vertical grouped bars: per category (a figure), one bar per series (a month)."""
    with rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        count = max(1, len(series))
        width = 0.8 / count
        for n, (name, values) in enumerate(series):
            positions = [i - 0.4 + width * (n + 0.5) for i in range(len(categories))]
            drawn = ax.bar(positions, values, width=width, label=name, color=LINE_COLOURS[n % len(LINE_COLOURS)])
            ax.bar_label(drawn, labels=[str(v) for v in values], padding=1, fontsize=7)
        ax.set_xticks(list(range(len(categories))), [_wrap(c) for c in categories])
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title, loc="left", fontweight="bold")
        _legend(ax, frameon=False, fontsize=8)
        return _png(fig)


def diverging(
    labels: Sequence[str], values: Sequence[float], texts: Sequence[str], title: str, xlabel: str, band: float = 0.0
) -> bytes:
    """Horizontal bars either side of zero, one per label (first at the top), each with
    its text (its value, written as the caller wants) beyond its end; a shaded band from -band to +band marks
    what counts as in line (the moderation chart: each auditor's mean difference)."""
    with rc_context(_RC):
        fig = _figure(max(2.4, 1.2 + 0.45 * len(labels)))
        ax = fig.add_subplot()
        positions = list(range(len(labels)))
        # the side tells the direction; the colour (blue right, orange left, both 3:1 on white) only repeats it
        colours = [BAR_COLOUR if v >= 0 else "#c05621" for v in values]
        reach = max([1.0, *[abs(v) for v in values]]) * 1.45
        if band:
            ax.axvspan(-band, band, color="#edf2f7", zorder=0)
            ax.text(0, 1.0, "in line", ha="center", va="bottom", fontsize=8, color="#4a5568",
                    transform=ax.get_xaxis_transform())  # fmt: skip
        ax.axvline(0, color="#4a5568", linewidth=0.8)
        drawn = ax.barh(positions, values, color=colours, height=0.6, zorder=2)
        ax.bar_label(drawn, labels=list(texts), padding=3, fontsize=8)
        ax.set_yticks(positions, [_wrap(x, 30) for x in labels])
        ax.set_ylim(max(len(labels), 3) - 0.5, -0.5)  # first at the top; one or two bars no thicker than three
        ax.set_xlim(-reach, reach)
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left", fontweight="bold", pad=14)
        if not labels:
            ax.text(0.5, 0.5, "No data", ha="center", va="center", transform=ax.transAxes)
        return _png(fig)
