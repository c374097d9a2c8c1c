"""The batch summary workbook for the QA team: one row per input file."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from auditdocs.files import write_private
from auditdocs.sheets import define_table, text_cells, titled
from auditdocs.workspace import Workspace

if TYPE_CHECKING:
    from auditdocs.returns.outcome import BatchResult

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
    "Values to confirm (read by a fallback)",
    "Findings",
]


_DATE_COLUMNS = (11, 16)
_WIDTHS = (40, 30, 16, 50, 14, 9, 8, 16, 24, 20, 11, 6, 12, 20, 10, 11, 7, 9, 12, 80)


def write_summary(ws: Workspace, result: BatchResult, when: datetime) -> Path:
    """One row per input file.  Written row by row (openpyxl's write-only mode), so a
    batch of 100,000 files costs no more memory than a batch of ten."""
    wb = Workbook(write_only=True)
    titled(wb, f"Returns summary, {when:%d/%m/%Y %H:%M}", ws.config.settings.organisation.name)
    sheet = wb.create_sheet("Returns")
    for n, width in enumerate(_WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    sheet.freeze_panes = "A2"
    # a defined table (filterable, its header read with each cell); an empty batch says so
    define_table(sheet, "Returns", HEADER, 1, len(result.outcomes) + 1)
    sheet.append(text_cells(sheet, HEADER, font=Font(bold=True)))
    if not result.outcomes:
        sheet.append(text_cells(sheet, ["No files in this batch."]))
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
            o.values_to_confirm,
            "\n".join(f"{f.severity}: {f.field or 'form'}: {f.message}" for f in o.findings),
        ]
        style = {"fill": urgent_fill} if o.urgent else {}
        sheet.append(text_cells(sheet, row, date_columns=_DATE_COLUMNS, **style))
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
