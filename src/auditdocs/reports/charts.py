"""Charts as PNG images (matplotlib, Agg backend): the same bytes for the same data.

Figures are made with ``matplotlib.figure.Figure`` (no pyplot, no global state), at a
fixed size and resolution, with the fonts matplotlib ships, and saved without a
"Software" or date entry, so a report rebuilt from the same store is byte-identical.
Labels are never read as mathtext: a team called "A $5 team" stays as written.

Readable by everyone (issue 17, WCAG 2.2 1.4.1 and 1.4.11): grades are a blue–orange
diverging scale, each fill at least 3:1 against white and adjacent grades apart in
lightness or hue for deuteranopes and protanopes too (``tests/test_charts.py`` simulates
them); a value written on a fill is black or white, whichever contrasts more (at least
4.5:1 on any fill); lines differ in marker and dash as well as colour; grade names are
in the legend.
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

from auditdocs.reports.helper import deferrable

WIDTH, HEIGHT, DPI = 8.0, 4.0, 110
#: The better half of a grading scale, best (darkest) first, and the worse half, worst
#: (darkest) last: blue to orange, as most forms of colour blindness still tell apart.
BETTER = ("#08306b", "#1a5796", "#2c7fb8")
WORSE = ("#c55a11", "#a0410a", "#7f2704")
#: Not applicable, and not graded: greys, apart from each other and from every grade.
NOT_APPLICABLE_COLOUR, NOT_GRADED_COLOUR = "#4d4d4d", "#8c8c8c"
#: Hatches for scales of more than four grades, whose shades of one hue are too alike.
HATCHES = ("", "//", "..", "xx", "\\\\", "++", "--", "oo")
#: The usual four grades (Outstanding, Good, Requires Improvement, Inadequate), then Not
#: applicable and not graded.
GRADE_COLOURS = ("#08306b", "#2c7fb8", "#c55a11", "#7f2704", NOT_APPLICABLE_COLOUR, NOT_GRADED_COLOUR)
BAR_COLOUR = "#2b6cb0"
LINE_COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#9b2c2c", "#6b46c1", "#b7791f", "#2c7a7b", "#702459")
#: Lines are told apart by marker and dash, not colour alone: 12 markers and 4 dashes
#: with the 8 colours give 24 lines before a combination repeats.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
LINE_STYLES = ("-", "--", "-.", ":")
WHITE, BLACK = "#ffffff", "#000000"
_RC: Any = {
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "auditdocs",
    "hatch.color": WHITE,
    "hatch.linewidth": 1.0,
}


def luminance(colour: str) -> float:
    """WCAG 2.2's relative luminance of a ``#rrggbb`` colour."""

    def linear(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG 2.2's contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colour(fill: str) -> str:
    """Black or white, whichever contrasts more with ``fill`` (never less than 4.58:1)."""
    return BLACK if contrast(fill, BLACK) >= contrast(fill, WHITE) else WHITE


def _spread(colours: Sequence[str], count: int, single: str) -> list[str]:
    if count <= 0:
        return []
    if count == 1:
        return [single]
    return [colours[round(n * (len(colours) - 1) / (count - 1)) % len(colours)] for n in range(count)]


def grade_palette(count: int) -> list[tuple[str, str]]:
    """(colour, hatch) of each grade of a scale of ``count``, best first: its better half
    blue, its worse half orange, darker at each end; hatched past four grades."""
    better = (count + 1) // 2
    colours = _spread(BETTER, better, BETTER[-1]) + _spread(WORSE, count - better, WORSE[-1])
    hatched = count > 4
    return [(c, HATCHES[n % len(HATCHES)] if hatched else "") for n, c in enumerate(colours)]


def _wrap(label: str, width: int = 18) -> str:
    return "\n".join(textwrap.wrap(label, width)[:3]) or label


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _figure(height: float = HEIGHT) -> Figure:
    return Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")


def _label_on(fill: str, hatch: str) -> dict[str, Any]:
    """Text options for a value written on a fill: black or white by contrast, on a patch
    of the plain fill where the fill is hatched."""
    options: dict[str, Any] = {"color": text_colour(fill)}
    if hatch:
        options["bbox"] = {"facecolor": fill, "edgecolor": "none", "pad": 1.0}
    return options


@deferrable  # drawn in a helper process while a big report is laid out (reports/helper.py)
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


@deferrable  # drawn in a helper process while a big report is laid out (reports/helper.py)
def stacked(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    title: str,
    colours: Sequence[str] = GRADE_COLOURS,
    hatches: Sequence[str] = (),
) -> bytes:
    """Horizontal stacked bars: one bar per category, one segment per series (a grade),
    each segment's count written on it."""
    with rc_context(_RC):
        fig = _figure(max(HEIGHT, 1.2 + 0.45 * len(categories)))
        ax = fig.add_subplot()
        positions = list(range(len(categories)))
        left = [0] * len(categories)
        for n, (name, values) in enumerate(series):
            fill = colours[n % len(colours)]
            hatch = hatches[n] if n < len(hatches) else ""
            ax.barh(positions, values, left=left, color=fill, hatch=hatch or None, label=name, edgecolor=WHITE,
                    linewidth=0.8)  # fmt: skip
            # each count in its segment's middle: what bar_label(label_type="center") draws, to the
            # pixel, as plain text (its annotations cost a 10,000-audit report 0.08 s more)
            on = _label_on(fill, hatch)
            for y, (x, v) in enumerate(zip(left, values, strict=True)):
                if v:
                    ax.text(x + v / 2, y, str(v), ha="center", va="center", fontsize=8, **on)
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


@deferrable  # drawn in a helper process while a big report is laid out (reports/helper.py)
def pie(
    labels: Sequence[str],
    values: Sequence[int],
    title: str,
    colours: Sequence[str] = GRADE_COLOURS,
    hatches: Sequence[str] = (),
) -> bytes:
    """Shares of a whole (the overall grades), with each grade and its count in the legend."""
    with rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        shown = [
            (label, v, colours[n % len(colours)], hatches[n] if n < len(hatches) else "")
            for n, (label, v) in enumerate(zip(labels, values, strict=True))
        ]
        shown = [s for s in shown if s[1] > 0]
        if shown:
            wedges, _texts, shares = ax.pie(
                [s[1] for s in shown], colors=[s[2] for s in shown], startangle=90, counterclock=False,
                autopct=lambda p: f"{p:.0f}%" if p >= 4 else "", wedgeprops={"linewidth": 1, "edgecolor": WHITE},
            )  # fmt: skip
            for wedge, share, (_, _, fill, hatch) in zip(wedges, shares, shown, strict=True):
                if hatch:
                    wedge.set_hatch(hatch)
                share.update(_label_on(fill, hatch))
            ax.legend(wedges, [f"{s[0]}: {s[1]}" for s in shown], loc="center left", bbox_to_anchor=(1, 0.5),
                      frameon=False)  # fmt: skip
        else:
            ax.text(0.5, 0.5, "No graded audits", ha="center", va="center")
            ax.set_axis_off()
        ax.set_title(title, loc="left", fontweight="bold")
        ax.set_aspect("equal")
        return _png(fig)


def line_style(n: int) -> tuple[str, str, str]:
    """The colour, marker and dash of the ``n``-th line (from 0) of a line chart."""
    return LINE_COLOURS[n % len(LINE_COLOURS)], MARKERS[n % len(MARKERS)], LINE_STYLES[n % len(LINE_STYLES)]


@deferrable  # drawn in a helper process while a big report is laid out (reports/helper.py)
def lines(
    x: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], title: str, ylabel: str, percent: bool
) -> bytes:
    """One line per series across the x labels (months); a gap where a value is None.
    Each line has a marker and a dash of its own, named in the legend."""
    with rc_context(_RC):
        fig = _figure(4.4)
        ax = fig.add_subplot()
        positions = list(range(len(x)))
        for n, (name, values) in enumerate(series):
            ys = [float("nan") if v is None else v for v in values]
            colour, marker, dash = line_style(n)
            ax.plot(positions, ys, marker=marker, markersize=6, color=colour, linestyle=dash, linewidth=1.6,
                    label=_wrap(name, 32))  # fmt: skip
        ax.set_xticks(positions, list(x))
        ax.set_ylabel(ylabel)
        if percent:
            ax.set_ylim(0, 105)
        ax.grid(axis="y", color="#e2e8f0")
        ax.set_title(title, loc="left", fontweight="bold")
        _legend(ax, loc="center left", bbox_to_anchor=(1, 0.5), frameon=False, fontsize=8, handlelength=3)
        return _png(fig)


@deferrable  # drawn in a helper process while a big report is laid out (reports/helper.py)
def grouped(
    categories: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], title: str, ylabel: str = "Audits"
) -> bytes:
    """Vertical grouped bars: per category (a figure), one bar per series (a month), each
    series in a colour and hatch of its own, named in the legend."""
    with rc_context(_RC):
        fig = _figure()
        ax = fig.add_subplot()
        count = max(1, len(series))
        width = 0.8 / count
        for n, (name, values) in enumerate(series):
            positions = [i - 0.4 + width * (n + 0.5) for i in range(len(categories))]
            hatch = HATCHES[n % len(HATCHES)]
            drawn = ax.bar(positions, values, width=width, label=name, color=LINE_COLOURS[n % len(LINE_COLOURS)],
                           hatch=hatch or None, edgecolor=WHITE, linewidth=0.5)  # fmt: skip
            ax.bar_label(drawn, labels=[str(v) for v in values], padding=1, fontsize=7)
        ax.set_xticks(list(range(len(categories))), [_wrap(c) for c in categories])
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title, loc="left", fontweight="bold")
        _legend(ax, frameon=False, fontsize=8)
        return _png(fig)


@deferrable  # drawn in a helper process while a big report is laid out (reports/helper.py)
def diverging(
    labels: Sequence[str], values: Sequence[float], texts: Sequence[str], title: str, xlabel: str, band: float = 0.0
) -> bytes:
    """Horizontal bars either side of zero, one per label (first at the top), each with
    its text (its value, as the caller writes it) beyond its end; a shaded band from
    -band to +band marks what counts as in line (moderation: each auditor's mean
    difference from the moderator)."""
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
