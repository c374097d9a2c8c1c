"""How wide a text is in Arial, the report template's font, for column widths that
never break a word or a date (issue 17: "Mont h", "Days overd ue", "30/11/202 6").

The advance widths (thousandths of an em) are Liberation Sans', which LibreOffice shows
for Arial and whose widths are Arial's, Regular and Bold, for ASCII, Latin-1 and the
punctuation reports use; kerning is left out (a little wider, never narrower) and any
other character counts as a whole em.
"""

from __future__ import annotations

from functools import lru_cache

#: ASCII, Latin-1 and the punctuation reports use, in the order of the widths below.
_CHARS = "".join(map(chr, [*range(32, 127), *range(160, 256)])) + (
    "\u2010\u2011\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2026\u00b7\u2022\u20ac\u2122\u2192\u2212"
)
_REGULAR = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667,
    556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556,
    556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
    500, 500, 500, 334, 260, 334, 584, 278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 0, 737, 552,
    400, 549, 333, 333, 333, 576, 537, 333, 333, 333, 365, 556, 834, 834, 834, 611, 667, 667, 667, 667, 667, 667,
    1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722,
    722, 667, 667, 611, 556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, 556, 556,
    556, 556, 556, 556, 556, 549, 611, 556, 556, 556, 556, 500, 556, 500, 333, 333, 556, 1000, 222, 222, 222, 333,
    333, 333, 1000, 333, 350, 556, 1000, 1000, 584
)  # fmt: skip
_BOLD = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722,
    611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556,
    611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778,
    556, 556, 500, 389, 280, 389, 584, 278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 0, 737, 552,
    400, 549, 333, 333, 333, 576, 556, 333, 333, 333, 365, 556, 834, 834, 834, 611, 722, 722, 722, 722, 722, 722,
    1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, 722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722,
    722, 667, 667, 611, 556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, 611, 611,
    611, 611, 611, 611, 611, 549, 611, 611, 611, 611, 611, 556, 611, 556, 333, 333, 556, 1000, 278, 278, 278, 500,
    500, 500, 1000, 333, 350, 556, 1000, 1000, 584
)  # fmt: skip
_EM = 1000
_TWIPS_PER_POINT = 20


@lru_cache(maxsize=2)
def _widths(bold: bool) -> dict[str, int]:
    return dict(zip(_CHARS, _BOLD if bold else _REGULAR, strict=True))


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width of ``text`` on one line at ``size`` points, in twips (1/20 point)."""
    widths = _widths(bold)
    units = sum(widths.get(c, _EM) for c in text)
    return units * size * _TWIPS_PER_POINT / _EM


def longest_word(text: str, size: float, bold: bool = False) -> float:
    """The width in twips of the widest word of ``text`` (what a line can never break:
    a date, a case reference, a hyphenated word), 0 for no word."""
    return max((text_width(word, size, bold) for word in text.split()), default=0.0)
