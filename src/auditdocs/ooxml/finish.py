"""Finishing touches on a rendered Word document: alternative text on its pictures, table
columns sized by what they hold, table properties in schema order, row switches as Word
writes them."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from auditdocs.ooxml.namespaces import w

WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"


def describe_pictures(body: etree._Element, alts: Sequence[str]) -> None:
    """Alternative text for the body's pictures, in order (screen readers; Word's
    accessibility check)."""
    for pr, alt in zip(body.iter(f"{{{WP}}}docPr"), alts, strict=False):
        pr.set("descr", alt)


#: CT_TblPr's children in schema order (ISO/IEC 29500-1 §17.4.60): Word for the web opens a
#: document whose table properties are out of order as corrupt.
_TABLE_PROPERTY_ORDER = [
    w(t)
    for t in (
        "tblStyle",
        "tblpPr",
        "tblOverlap",
        "bidiVisual",
        "tblStyleRowBandSize",
        "tblStyleColBandSize",
        "tblW",
        "jc",
        "tblCellSpacing",
        "tblInd",
        "tblBorders",
        "shd",
        "tblLayout",
        "tblCellMar",
        "tblLook",
        "tblCaption",
        "tblDescription",
        "tblPrChange",
    )
]


def order_table_properties(body: etree._Element) -> None:
    """Put every table's ``w:tblPr`` children in schema order (a template restyled by
    hand, or written by an older auditdocs, may have them out of order)."""
    rank = {tag: n for n, tag in enumerate(_TABLE_PROPERTY_ORDER)}
    for pr in body.iter(w("tblPr")):
        children = list(pr)
        ordered = sorted(children, key=lambda el: rank.get(el.tag, len(rank)))
        if ordered != children:
            for el in children:
                pr.remove(el)
            pr.extend(ordered)


_ROW_SWITCHES = (w("cantSplit"), w("tblHeader"), w("hidden"))


def plain_row_switches(body: etree._Element) -> None:
    """Write table-row switches (``w:cantSplit``, ``w:tblHeader``, ``w:hidden``) as Word
    does: present means on, absent means off.  LibreOffice writes ``w:val="true"``, which
    ISO/IEC 29500 allows but the Open XML SDK (ST_OnOffOnly there) reports as invalid."""
    for row in body.iter(w("trPr")):
        for switch in [el for el in row if el.tag in _ROW_SWITCHES]:
            value = (switch.get(w("val")) or "").lower()
            if value in ("false", "off", "0"):
                row.remove(switch)
            elif value:
                del switch.attrib[w("val")]


def fit_table_columns(body: etree._Element) -> None:
    """Share each table's width among its columns by the length of what they hold
    (a template's grid gives every column the same width)."""
    for table in body.iter(w("tbl")):
        _fit_columns(table)


def _fit_columns(table: etree._Element) -> None:
    grid = table.find(w("tblGrid"))
    if grid is None:
        return
    cols = grid.findall(w("gridCol"))
    longest = [4] * len(cols)
    for r, tr in enumerate(table.iter(w("tr"))):
        for n, tc in enumerate(tr.findall(w("tc"))[: len(cols)]):
            text = "".join(t.text or "" for t in tc.iter(w("t")))
            word = max((len(w) for w in text.split()), default=0) + 1
            # a header may wrap between words; body text wraps past a few words
            longest[n] = max(longest[n], word if r == 0 else max(word, min(len(text), 28)))
    total = sum(int(float(c.get(w("w")) or 0)) for c in cols)
    if not total:
        return
    sizes = [n + 2 for n in longest]  # cell margins
    for col, size in zip(cols, sizes, strict=True):
        col.set(w("w"), str(int(total * size / sum(sizes))))
