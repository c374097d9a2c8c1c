"""Every spreadsheet auditdocs writes: text stays text.

Evidence, names and file names come from people and files we do not control; a cell
that a spreadsheet program could read as a formula (``=HYPERLINK(...)``, ``+SUM(...)``,
``@...``) must never become one, in the cell or when someone edits or copies it.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from auditdocs.text import without_bidi

#: What spreadsheet programs read as the start of a formula when a cell is typed or
#: pasted (a tab or carriage return first hides it from the eye).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\ufe62", "\uff0b", "\ufe63", "\uff0d")
DATE_FORMAT = "dd/mm/yyyy"
#: Every workbook's language (its core properties), as every document's.
LANGUAGE = "en-GB"
#: Defined tables' style: a plain grid with a bold header row.
TABLE_STYLE = "TableStyleLight1"


def _clean(value: Any) -> Any:
    # Control characters (a file name can hold them) are refused by openpyxl and by Excel;
    # bidirectional controls could make a cell read backwards.
    return ILLEGAL_CHARACTERS_RE.sub("_", without_bidi(value)) if isinstance(value, str) else value


def _as_text(cell: Any) -> None:
    """openpyxl turns any string starting with "=" into a formula: the cell type is set
    back to text.  Text that looks like a formula also gets Excel's quote prefix, so that
    it stays text when someone edits the cell or copies it into another sheet."""
    cell.data_type = "s"
    if cell.value.startswith(FORMULA_START):
        cell.quotePrefix = True


def first_sheet(wb: Workbook, title: str) -> Worksheet:
    """A new workbook's first sheet, titled."""
    sheet = wb.active
    if not isinstance(sheet, Worksheet):  # a new workbook always has one; be sure without assert
        sheet = wb.create_sheet()
    sheet.title = title
    return sheet


def text_row(ws: Worksheet, values: Sequence[Any]) -> None:
    """Append a row to a normal sheet; text is always stored as text, never a formula."""
    cleaned = [_clean(v) for v in values]
    ws.append(cleaned)
    row = ws._current_row  # the row append wrote (ws.max_row scans every cell: slow on long sheets)
    for col, value in enumerate(cleaned, 1):
        if isinstance(value, str):
            _as_text(ws.cell(row, col))


def text_cells(
    sheet: Any, values: Sequence[Any], date_columns: Collection[int] = (), **style: Any
) -> list[WriteOnlyCell]:
    """A row for a write-only sheet, with :func:`text_row`'s rules; ``date_columns``
    (1-based) are shown dd/mm/yyyy; ``style`` is set on every cell (font, fill...)."""
    out = []
    for col, value in enumerate(values, 1):
        cell = WriteOnlyCell(sheet, value=_clean(value))
        if isinstance(cell.value, str):
            _as_text(cell)
        if col in date_columns:
            cell.number_format = DATE_FORMAT
        for name, setting in style.items():
            setattr(cell, name, setting)
        out.append(cell)
    return out


def titled(wb: Workbook, title: str, organisation: str = "") -> None:
    """A workbook's title, author (the organisation) and language: what Excel's
    accessibility check and a screen reader announce (issue 17)."""
    props = wb.properties
    props.title = title
    props.creator = organisation or "auditdocs"
    props.lastModifiedBy = "auditdocs"
    props.language = LANGUAGE


def define_table(ws: Any, name: str, header: Sequence[str], top: int, last: int) -> None:
    """Make rows ``top`` (the header row, 1-based) to ``last`` of the first
    ``len(header)`` columns a defined table named ``name``: what Excel and a screen
    reader treat as a table, its header read with each cell, filterable (in place of a
    sheet's own filter).  ``header`` is the header row's text as written."""
    ref = f"A{top}:{get_column_letter(len(header))}{max(last, top + 1)}"
    table = Table(
        displayName=name,
        ref=ref,
        autoFilter=AutoFilter(ref=ref),
        tableStyleInfo=TableStyleInfo(name=TABLE_STYLE, showRowStripes=True),
    )
    # named here, not from the cells: a write-only sheet cannot be read back
    table.tableColumns = [TableColumn(id=n, name=_clean(str(h))) for n, h in enumerate(header, 1)]
    with warnings.catch_warnings():  # openpyxl warns of a write-only sheet's columns, which are given above
        warnings.filterwarnings("ignore", "In write-only mode you must add table columns manually")
        ws.add_table(table)
