"""The month's allocation: which case each auditor audits, with which tool, by when.

An allocation workbook is what the QA team can read and adjust by hand; it is read
back here and checked row by row (one clear error naming the file, row and column),
including the rules a hand edit can break: nobody audits their own team's cases or
cases they manage or work, and nobody gets more than their monthly capacity.

Its headers are words ("Case reference"), bold, frozen, each sheet a defined table
(issue 17); workbooks written before, with the fields' own names as headers
("case_reference"), are read as well.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from dataclasses import asdict
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from auditdocs.allocation.lists import Auditor, parse_date, read_input, workbook_rows
from auditdocs.allocation.record import COLUMNS, Allocation
from auditdocs.dates import is_month, month_label
from auditdocs.errors import DataError
from auditdocs.files import write_private
from auditdocs.ooxml.package import ZIP_MAGIC
from auditdocs.sheets import DATE_FORMAT, define_table, first_sheet, text_row, titled
from auditdocs.text import norm, same

_OPTIONAL = {"child_id", "reaudit_of", "case_start"}
_OPTIONAL_COLUMNS = {"reaudit_of", "case_start"}  # workbooks written before re-audits (or start dates) lack them
#: Each column's header, as the workbook shows it (workbooks written before show the field's name).
HEADERS = {
    "audit_id": "Audit ID",
    "month": "Month",
    "tool": "Tool",
    "case_reference": "Case reference",
    "child_id": "Child ID",
    "team": "Team",
    "worker": "Worker",
    "team_manager": "Team manager",
    "auditor": "Auditor",
    "auditor_email": "Auditor email",
    "due_date": "Due date",
    "reaudit_of": "Re-audit of",
    "case_start": "Case start",
}
#: The row an empty list shows instead of nothing under its header.
NONE_ROW = "None this month."
_ABOUT_HEADER = ("About this allocation", "Value")


def _column(header: object, names: dict[str, str]) -> str:
    """The field a header cell names: its words ("Case reference") or, in a workbook
    written before, the field's own name ("case_reference"); "" for neither."""
    text = " ".join(str(header).split()).lower() if header is not None else ""
    return names.get(text, "")


def _none_row(row: Sequence[object]) -> bool:
    """The row saying a list is empty (nothing else in it)."""
    cells = ["" if c is None else str(c).strip() for c in row]
    return bool(cells) and cells[0] == NONE_ROW and not any(cells[1:])


def read_allocation(
    path: Path, auditors: Sequence[Auditor] | None = None, own_manager_tools: Collection[str] = ()
) -> list[Allocation]:
    """Read an allocation workbook; nothing is returned unless every row is valid.

    With the month's ``auditors``, each row is also checked against them: a known
    auditor with that e-mail address, not of the case's team, within capacity.  Rows of
    ``own_manager_tools`` (case discussions, staff observations) are held by the
    worker's own team manager instead."""
    path = Path(path)
    data = read_input(path, missing="allocation file not found")
    if not data.startswith(ZIP_MAGIC):
        raise DataError(f"{path}: not a readable .xlsx workbook; save it from Excel as .xlsx")
    rows = workbook_rows(path, data)
    if not rows:
        raise DataError(
            f"{path}: the first sheet is empty; it needs a header row: {', '.join(HEADERS[c] for c in COLUMNS)}"
        )
    names = {**{c: c for c in COLUMNS}, **{label.lower(): c for c, label in HEADERS.items()}}
    header = [_column(c, names) for c in rows[0]]
    # errors name a column as the header row does: in words, or as a workbook written before has it
    old = any(c is not None and str(c).strip() in COLUMNS for c in rows[0])  # "month", not "Month"
    label = {c: c if old else HEADERS[c] for c in COLUMNS}
    missing = [label[c] for c in COLUMNS if c not in header and c not in _OPTIONAL_COLUMNS]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)} in the header row")
    index = {c: header.index(c) for c in COLUMNS if c in header}
    out: list[Allocation] = []
    seen: dict[str, int] = {}
    for r, row in enumerate(rows[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in row) or _none_row(row):
            continue
        values: dict[str, object] = {}
        for col in COLUMNS:
            cell = row[index[col]] if col in index and index[col] < len(row) else None
            text = "" if cell is None else str(cell).strip()
            where = f"{path}: row {r}, column {label[col]}"
            if not text and col not in _OPTIONAL:
                raise DataError(f"{where}: empty; fill it in or delete the row")
            if col == "due_date":
                due = parse_date(cell)
                if due is None:
                    raise DataError(f"{where}: {text!r} is not a date (use dd/mm/yyyy)")
                values[col] = due
            elif col == "month" and not is_month(text):
                raise DataError(f"{where}: {text!r} is not a month (use YYYY-MM)")
            elif col == "reaudit_of":
                values[col] = text or None
            elif col == "case_start":
                start = parse_date(cell) if text else None
                if text and start is None:
                    raise DataError(f"{where}: {text!r} is not a date (use dd/mm/yyyy)")
                values[col] = start
            else:
                values[col] = str(cell) if isinstance(cell, str) else text
        alloc = Allocation(**values)  # type: ignore[arg-type]
        if alloc.audit_id in seen:
            raise DataError(
                f"{path}: row {r}, column {label['audit_id']}: {alloc.audit_id!r} repeats row "
                f"{seen[alloc.audit_id]}; audit ids must be unique"
            )
        seen[alloc.audit_id] = r
        _check_conflicts(path, r, alloc, alloc.tool in own_manager_tools, label)
        out.append(alloc)
    if not out:
        raise DataError(f"{path}: no allocations (only a header row)")
    if auditors is not None:
        _check_auditors(path, out, list(seen.values()), auditors, own_manager_tools, label)
    return out


def allocation_about(path: Path) -> list[list[object]]:
    """The rows of a workbook's "About" sheet, without its header row (none if it has none)."""
    path = Path(path)
    rows = workbook_rows(path, read_input(path, missing="allocation file not found"), sheet="About") or []
    if rows and tuple(rows[0][:2]) == _ABOUT_HEADER:
        rows = rows[1:]
    return [row for row in rows if not _none_row(row)]


def allocation_auditors(path: Path) -> list[Auditor] | None:
    """The auditors an allocation workbook was made for (its "Auditors" sheet, as
    ``allocate`` wrote it and perhaps adjusted by hand), or None for a workbook without
    one (made before the sheet existed, or by hand)."""
    path = Path(path)
    rows = workbook_rows(path, read_input(path, missing="allocation file not found"), sheet="Auditors")
    if rows is None:
        return None
    header = [" ".join(str(c).split()).lower() if c is not None else "" for c in rows[0]] if rows else []
    found = header[: len(AUDITOR_COLUMNS)]
    if found not in (list(AUDITOR_COLUMNS), [h.lower() for h in AUDITOR_HEADERS]):
        raise DataError(
            f"{path}: sheet Auditors: the header row must be {', '.join(AUDITOR_HEADERS)}; put it back as "
            "allocate wrote it"
        )
    columns = AUDITOR_COLUMNS if found == list(AUDITOR_COLUMNS) else AUDITOR_HEADERS
    out = []
    for r, row in enumerate(rows[1:], start=2):
        cells = ["" if c is None else str(c).strip() for c in (list(row) + [None] * 5)[:5]]
        if not any(cells) or _none_row(cells):
            continue
        name, email, role, team, capacity = cells
        if not name or not email or not role:
            missing = next(c for c, v in zip(columns, cells, strict=False) if not v)
            raise DataError(f"{path}: sheet Auditors, row {r}, column {missing}: empty; fill it in or delete the row")
        try:
            number = int(float(capacity))
        except ValueError:
            raise DataError(
                f"{path}: sheet Auditors, row {r}, column {columns[4]}: {capacity!r} is not a number of audits"
            ) from None
        out.append(Auditor(name, email, role, team, number))
    return out


def conflict(alloc: Allocation, auditor_team: str | None = None, own_manager: bool = False) -> str | None:
    """Why the auditor may not audit this case, if they may not.  ``own_manager``: the
    tool is held by the worker's own team manager (a team manager as the subject, with
    no manager of their own in the list, is audited from outside the team as usual)."""
    if own_manager and not same(alloc.worker, alloc.team_manager):
        if same(alloc.auditor, alloc.team_manager):
            return None
        return (
            f"{alloc.auditor!r} is not {alloc.worker}'s team manager ({alloc.team_manager}), who holds a {alloc.tool}"
        )
    if same(alloc.auditor, alloc.team_manager):
        return f"{alloc.auditor!r} is the case's team manager; nobody audits a case they manage"
    if same(alloc.auditor, alloc.worker):
        return f"{alloc.auditor!r} is the case's allocated worker; nobody audits their own case"
    if auditor_team is not None and same(auditor_team, alloc.team):
        return f"{alloc.auditor!r} is in the case's team ({alloc.team}); nobody audits their own team's cases"
    return None


def _check_conflicts(path: Path, r: int, alloc: Allocation, own_manager: bool, label: dict[str, str]) -> None:
    problem = conflict(alloc, own_manager=own_manager)
    if problem:
        raise DataError(f"{path}: row {r}, column {label['auditor']}: {problem}")


def _check_auditors(
    path: Path,
    allocs: list[Allocation],
    rows: list[int],
    auditors: Sequence[Auditor],
    own_manager_tools: Collection[str],
    label: dict[str, str],
) -> None:
    by_name = {norm(a.name): a for a in auditors}
    taken: dict[str, list[int]] = {}
    for r, alloc in zip(rows, allocs, strict=True):
        auditor = by_name.get(norm(alloc.auditor))
        if auditor is None:
            raise DataError(
                f"{path}: row {r}, column {label['auditor']}: {alloc.auditor!r} is not in the list of auditors"
            )
        if not same(auditor.email, alloc.auditor_email):
            raise DataError(
                f"{path}: row {r}, column {label['auditor_email']}: {alloc.auditor_email!r} is not {auditor.name}'s "
                f"address in the list of auditors ({auditor.email})"
            )
        problem = conflict(alloc, auditor.team, alloc.tool in own_manager_tools)
        if problem:
            raise DataError(f"{path}: row {r}, column {label['auditor']}: {problem}")
        taken.setdefault(norm(auditor.name), []).append(r)
        if len(taken[norm(auditor.name)]) > auditor.capacity:
            listed = ", ".join(map(str, taken[norm(auditor.name)]))
            raise DataError(
                f"{path}: row {r}, column {label['auditor']}: {auditor.name!r} would have "
                f"{len(taken[norm(auditor.name)])} "
                f"audits (rows {listed}), over their monthly capacity of {auditor.capacity}"
            )


#: The "Auditors" sheet: the list of auditors ``allocate`` used, which ``generate``
#: checks a hand-edited allocation against: its fields, and their headers.
AUDITOR_COLUMNS = ("name", "email", "role", "team", "monthly_capacity")
AUDITOR_HEADERS = ("Name", "Email", "Role", "Team", "Monthly capacity")


def _header(ws: Worksheet, header: Sequence[str], widths: Sequence[float] = ()) -> None:
    """A sheet's header row: bold, frozen, its columns wide enough to read."""
    text_row(ws, header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for n, width in enumerate(widths):
        ws.column_dimensions[chr(65 + n)].width = width


def write_allocation(
    path: Path,
    allocations: list[Allocation],
    about: Sequence[tuple[str, object]] = (),
    auditors: Sequence[Auditor] = (),
    organisation: str = "",
) -> None:
    """Write the allocation sheet (an "About" sheet saying how it was made, and an
    "Auditors" sheet with the auditors it was made for), readable by its owner only.
    Each sheet is a defined table under a bold, frozen header row; an empty list shows
    a row saying so."""
    wb = Workbook()
    months = sorted({a.month for a in allocations})
    titled(wb, "Allocation" + (f", {month_label(months[0])}" if len(months) == 1 else ""), organisation)
    ws = first_sheet(wb, "Allocation")
    _header(ws, [HEADERS[c] for c in COLUMNS], [13, 9, 18, 15, 10, 26, 22, 22, 22, 32, 11, 13, 11])
    dates = [COLUMNS.index(c) + 1 for c in ("due_date", "case_start")]
    for alloc in allocations:
        row = asdict(alloc)
        text_row(ws, [row[c] for c in COLUMNS])
        for column in dates:
            ws.cell(ws._current_row, column).number_format = DATE_FORMAT
    if not allocations:
        text_row(ws, [NONE_ROW])
    define_table(ws, "Allocation", [HEADERS[c] for c in COLUMNS], 1, ws._current_row)
    if about:
        sheet = wb.create_sheet("About")
        _header(sheet, _ABOUT_HEADER, [28, 100])
        for label, value in about:
            if label in ("", None) and value in ("", None):
                continue  # a blank row between parts: a table has none
            text_row(sheet, [label, value])
            sheet.cell(sheet._current_row, 1).font = Font(bold=True)
        define_table(sheet, "About", _ABOUT_HEADER, 1, sheet._current_row)
    if auditors:
        sheet = wb.create_sheet("Auditors")
        _header(sheet, AUDITOR_HEADERS, [26, 32, 20, 26, 10])
        for a in auditors:
            text_row(sheet, [a.name, a.email, a.role, a.team, a.capacity])
        define_table(sheet, "Auditors", AUDITOR_HEADERS, 1, sheet._current_row)
    buffer = io.BytesIO()
    wb.save(buffer)
    write_private(Path(path), buffer.getvalue())
