"""The batch summary workbook for the QA team: one row per input file."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from auditdocs.ooxml.zipout import write_private
from auditdocs.workspace import Workspace

if TYPE_CHECKING:
    from auditdocs.returns.ingest import BatchResult

HEADER = [
    "File",
    "Came from",
    "Status",
    "Reason",
    "Audit ID",
    "Document",
    "Version",
    "Case reference",
    "Team",
    "Auditor",
    "Due",
    "Late",
    "URGENT: immediate safeguarding concern",
    "Team manager to notify",
    "Converted from",
    "Resubmit by",
    "Errors",
    "Warnings",
    "Findings",
]


#: What spreadsheet programs read as the start of a formula when a cell is typed or
#: pasted (a tab or carriage return first hides it from the eye).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\ufe62", "\uff0b", "\ufe63", "\uff0d")


def text_row(ws: Worksheet, values: list[Any]) -> None:
    """Append a row; text is always stored as text, so nothing ever becomes a formula.

    openpyxl turns any string starting with "=" into a formula: the cell type is set back
    to text.  Text that looks like a formula also gets Excel's quote prefix, so that it
    stays text when someone edits the cell or copies it into another sheet."""
    # Control characters (a file name can hold them) are refused by openpyxl and by Excel.
    cleaned = [ILLEGAL_CHARACTERS_RE.sub("_", v) if isinstance(v, str) else v for v in values]
    ws.append(cleaned)
    row = ws._current_row  # the row append wrote (ws.max_row scans every cell: slow on long sheets)
    for col, value in enumerate(cleaned, 1):
        if isinstance(value, str):
            cell = ws.cell(row, col)
            cell.data_type = "s"
            if value.startswith(FORMULA_START):
                cell.quotePrefix = True


def _cells(sheet: Any, values: list[Any], **style: Any) -> list[WriteOnlyCell]:
    """A row for a write-only sheet, with text_row's rules: text stays text."""
    out = []
    for col, value in enumerate(values, 1):
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("_", value)
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
            if value.startswith(FORMULA_START):
                cell.quotePrefix = True
        if col in _DATE_COLUMNS:
            cell.number_format = "dd/mm/yyyy"
        for name, setting in style.items():
            setattr(cell, name, setting)
        out.append(cell)
    return out


_DATE_COLUMNS = (11, 16)
_WIDTHS = (40, 30, 16, 50, 14, 9, 8, 16, 24, 20, 11, 6, 12, 20, 10, 11, 7, 9, 80)


def write_summary(ws: Workspace, result: BatchResult, when: datetime) -> Path:
    """One row per input file.  Written row by row (openpyxl's write-only mode), so a
    batch of 100,000 files costs no more memory than a batch of ten."""
    wb = Workbook(write_only=True)
    sheet = wb.create_sheet("Returns")
    for n, width in enumerate(_WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADER))}{len(result.outcomes) + 1}"
    sheet.append(_cells(sheet, HEADER, font=Font(bold=True)))
    urgent_fill = PatternFill("solid", fgColor="FFC7CE")
    for o in result.outcomes:
        a = o.allocation
        errors = [f for f in o.findings if f.severity == "error"]
        warnings = [f for f in o.findings if f.severity == "warning"]
        row = [
            o.name,
            o.origin,
            o.status,
            o.reason or "",
            o.audit_id or "",
            o.document or "",
            o.version,
            a.case_reference if a else "",
            a.team if a else "",
            a.auditor if a else "",
            a.due_date if a else None,
            "late" if o.late else "",
            "URGENT" if o.urgent else "",
            a.team_manager if (a and o.urgent) else "",
            o.converted_from or "",
            o.resubmit_by,
            len(errors),
            len(warnings),
            "\n".join(f"{f.severity}: {f.field or 'form'}: {f.message}" for f in o.findings),
        ]
        sheet.append(_cells(sheet, row, fill=urgent_fill) if o.urgent else _cells(sheet, row))
    folder = ws.output_dir / "returns"
    path = folder / f"{when:%Y-%m-%d %H%M%S} returns summary.xlsx"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"{when:%Y-%m-%d %H%M%S} returns summary ({n}).xlsx"
    buffer = io.BytesIO()
    wb.save(buffer)
    write_private(path, buffer.getvalue())  # owner-only from the start, never readable by others
    return path
