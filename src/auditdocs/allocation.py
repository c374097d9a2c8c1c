"""The month's allocation: which case each auditor audits, with which tool, by when.

An allocation workbook is what the QA team can read and adjust by hand; it is read
back here and checked row by row (one clear error naming the file, row and column).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from auditdocs.errors import DataError

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Allocation:
    audit_id: str
    month: str  # YYYY-MM
    tool: str
    case_reference: str
    child_id: str
    team: str
    worker: str
    team_manager: str
    auditor: str
    auditor_email: str
    due_date: date


COLUMNS = [f.name for f in fields(Allocation)]
_OPTIONAL = {"child_id"}


def parse_date(value: object) -> date | None:
    """A date cell: a real date, ISO text or UK dd/mm/yyyy text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    return None


def read_allocation(path: Path) -> list[Allocation]:
    """Read an allocation workbook; nothing is returned unless every row is valid."""
    path = Path(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: allocation file not found") from None
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        raise DataError(f"{path}: the first sheet is empty; it needs a header row: {', '.join(COLUMNS)}")
    header = [str(c).strip().lower() if c is not None else "" for c in rows[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)} in the header row")
    index = {c: header.index(c) for c in COLUMNS}
    out: list[Allocation] = []
    seen: dict[str, int] = {}
    for r, row in enumerate(rows[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in row):
            continue
        values: dict[str, object] = {}
        for col in COLUMNS:
            cell = row[index[col]] if index[col] < len(row) else None
            text = "" if cell is None else str(cell).strip()
            if not text and col not in _OPTIONAL:
                raise DataError(f"{path}: row {r}, column {col}: empty; fill it in or delete the row")
            if col == "due_date":
                due = parse_date(cell)
                if due is None:
                    raise DataError(f"{path}: row {r}, column due_date: {text!r} is not a date (use dd/mm/yyyy)")
                values[col] = due
            elif col == "month" and not _MONTH.match(text):
                raise DataError(f"{path}: row {r}, column month: {text!r} is not a month (use YYYY-MM)")
            else:
                values[col] = str(cell) if isinstance(cell, str) else text
        alloc = Allocation(**values)  # type: ignore[arg-type]
        if alloc.audit_id in seen:
            raise DataError(
                f"{path}: row {r}, column audit_id: {alloc.audit_id!r} repeats row {seen[alloc.audit_id]}; "
                "audit ids must be unique"
            )
        seen[alloc.audit_id] = r
        out.append(alloc)
    if not out:
        raise DataError(f"{path}: no allocations (only a header row)")
    return out


def write_allocation(path: Path, allocations: list[Allocation]) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Allocation"
    ws.append(COLUMNS)
    for alloc in allocations:
        row = asdict(alloc)
        ws.append([row[c] for c in COLUMNS])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text: never a formula
        ws.cell(ws.max_row, COLUMNS.index("due_date") + 1).number_format = "dd/mm/yyyy"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
