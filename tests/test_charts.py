"""The report charts read by everyone (issue 17, WCAG 2.2 1.4.1 Use of colour and 1.4.11
Non-text contrast): grade fills at least 3:1 against white, adjacent grades still apart
for deuteranopes and protanopes, values on a fill at least 4.5:1, lines told apart by
marker and dash.  Contrast and colour-blindness simulation are computed here, not taken
from the code under test."""

from __future__ import annotations

import io
import itertools
from typing import Any

import matplotlib.axes
import pytest
from PIL import Image

from auditdocs.reports import charts

WHITE, BLACK = "#ffffff", "#000000"
#: Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of
#: color vision deficiency", severity 1.0, applied to linear RGB.
DEUTERANOPIA = ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881))
PROTANOPIA = ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998))
NORMAL = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
VISION = {"normal": NORMAL, "deuteranopia": DEUTERANOPIA, "protanopia": PROTANOPIA}
#: CIE76 colour difference two fills side by side must keep (about 2.3 is just noticeable;
#: the old Good and Requires Improvement were 9.5 apart for a deuteranope).
DISTINCT = 20.0


def linear(colour: str) -> tuple[float, float, float]:
    def one(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (one(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return r, g, b


def luminance(colour: str) -> float:
    r, g, b = linear(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: str, b: str) -> float:
    """WCAG 2.2's contrast ratio."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def seen(colour: str, matrix: tuple[tuple[float, ...], ...]) -> tuple[float, float, float]:
    """The linear RGB a viewer with the given vision sees (clipped to the gamut)."""
    rgb = linear(colour)
    out = [min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True)))) for row in matrix]
    return out[0], out[1], out[2]


def lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """CIELAB (D65) of linear sRGB."""
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def difference(a: str, b: str, vision: str) -> float:
    """CIE76 ΔE between two colours as seen with ``vision``."""
    la, lb = lab(seen(a, VISION[vision])), lab(seen(b, VISION[vision]))
    return sum((p - q) ** 2 for p, q in zip(la, lb, strict=True)) ** 0.5


def scale(count: int) -> list[tuple[str, str]]:
    """A scale's fills as charts draw them: its grades, then Not applicable and not graded."""
    return [*charts.grade_palette(count), (charts.NOT_APPLICABLE_COLOUR, ""), (charts.NOT_GRADED_COLOUR, "")]


def test_the_old_palette_fails_these_checks() -> None:
    """The measures below catch what the issue found: Good (#7fbf7b) and Requires
    Improvement (#f4a582) at about 2:1 on white, 1.1:1 with each other, alike for
    deuteranopes."""
    good, ri = "#7fbf7b", "#f4a582"
    assert ratio(good, WHITE) < 3 and ratio(ri, WHITE) < 3 and ratio(good, ri) < 1.2
    assert difference(good, ri, "deuteranopia") < DISTINCT and difference(good, ri, "protanopia") < DISTINCT


@pytest.mark.parametrize("count", [2, 3, 4, 5, 6])
def test_every_fill_has_3_to_1_contrast_with_white(count: int) -> None:
    for colour, _hatch in scale(count):
        assert ratio(colour, WHITE) >= 3, (count, colour, round(ratio(colour, WHITE), 2))


def test_the_four_grades_measured() -> None:
    """The usual scale (Outstanding, Good, Requires Improvement, Inadequate), as the
    README reports it: contrast with white and between neighbours."""
    fills = [c for c, _h in scale(4)]
    assert [round(ratio(c, WHITE), 2) for c in fills] == [12.76, 4.34, 4.33, 9.57, 8.45, 3.36]
    assert [round(ratio(a, b), 2) for a, b in itertools.pairwise(fills)] == [2.94, 1.0, 2.21, 1.13, 2.51]


@pytest.mark.parametrize("count", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("vision", list(VISION))
def test_adjacent_fills_stay_apart_with_colour_blindness(count: int, vision: str) -> None:
    """Side by side in a stacked bar or a pie, two grades differ by at least DISTINCT to a
    deuteranope and a protanope (simulated), or by their hatch where a scale of more than
    four grades has shades too close to tell."""
    fills = scale(count)
    for (a, hatch_a), (b, hatch_b) in itertools.pairwise([*fills, fills[0]]):  # a pie closes the circle
        if hatch_a != hatch_b:
            continue
        assert difference(a, b, vision) >= DISTINCT, (count, vision, a, b, round(difference(a, b, vision), 1))


@pytest.mark.parametrize("vision", list(VISION))
def test_best_and_worst_grades_are_not_alike(vision: str) -> None:
    """Every two of the usual four grades are apart, not only neighbours (the issue: to a
    deuteranope Outstanding and Inadequate looked the same)."""
    for a, b in itertools.combinations([c for c, _h in charts.grade_palette(4)], 2):
        assert difference(a, b, vision) >= DISTINCT, (vision, a, b)


def test_values_written_on_a_fill_have_4_5_to_1_contrast() -> None:
    fills = {c for n in range(2, 9) for c, _h in scale(n)} | set(charts.LINE_COLOURS) | {charts.BAR_COLOUR}
    for fill in fills:
        text = charts.text_colour(fill)
        assert text in (WHITE, BLACK) and ratio(text, fill) >= 4.5, (fill, text, round(ratio(text, fill), 2))


def test_lines_and_bars_contrast_3_to_1_with_white() -> None:
    for colour in [*charts.LINE_COLOURS, charts.BAR_COLOUR]:
        assert ratio(colour, WHITE) >= 3, colour


def _colours_in(png: bytes) -> set[str]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return {"#{:02x}{:02x}{:02x}".format(*rgb) for _n, rgb in image.getcolors(image.width * image.height) or []}


def test_stacked_bars_and_pies_draw_each_grade_in_its_colour_with_readable_counts(monkeypatch) -> None:
    """The PNG holds each grade's fill (not the old greens and pinks), and every count on
    a segment is written in the colour that contrasts with that segment."""
    labels: list[tuple[str, str]] = []  # (text, colour) of each count written, a grade's after another's
    real = matplotlib.axes.Axes.text

    def spy(self: Any, x: float, y: float, s: str, *args: Any, **kwargs: Any) -> Any:
        labels.append((s, kwargs.get("color", "")))
        return real(self, x, y, s, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "text", spy)
    fills = [c for c, _h in charts.grade_palette(4)]
    names = ["Outstanding", "Good", "Requires Improvement", "Inadequate"]
    png = charts.stacked(["Assessments", "Plans"], [(n, [3, 2]) for n in names], "Grades by domain", fills)
    shown = _colours_in(png)
    assert set(fills) <= shown and not {"#7fbf7b", "#f4a582", "#1b7837", "#c51b27"} & shown
    counts = [label for label in labels if label[0] in ("3", "2")]
    assert [s for s, _c in counts] == ["3", "2"] * 4
    for n, fill in enumerate(fills):
        for _s, colour in counts[2 * n : 2 * n + 2]:
            assert ratio(colour, fill) >= 4.5, (fill, colour)
    assert set(fills) <= _colours_in(charts.pie(names, [1, 4, 3, 1], "Overall grades", fills))


def test_many_lines_differ_in_marker_and_dash(monkeypatch) -> None:
    """Eleven teams' lines: each with a marker and a dash of its own, not the same circle
    on every line with colours reused."""
    drawn: list[tuple[str, str, str]] = []
    real = matplotlib.axes.Axes.plot

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        drawn.append((kwargs["color"], kwargs["marker"], kwargs["linestyle"]))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "plot", spy)
    series = [(f"Team {n}", [50.0, 60.0 + n, None]) for n in range(11)]
    charts.lines(["Oct 2026", "Nov 2026", "Dec 2026"], series, "Good or better by team", "%", percent=True)
    assert len(drawn) == 11
    assert len({marker for _c, marker, _d in drawn}) == 11
    assert len({dash for _c, _m, dash in drawn}) == 4
    assert len(set(drawn)) == 11  # no two lines alike in colour, marker and dash
