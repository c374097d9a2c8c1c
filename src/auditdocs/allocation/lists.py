"""The month's inputs: the case list exported from the case management system, the
auditors with their role, team and monthly capacity, and (optionally) the staff list
giving a worker's status (newly qualified, needing support).

Each council's export names its columns its own way, so the headers come from config
(``imports:`` in organisation.yaml).  A list is read whole or not at all: the first
problem stops the import with one message naming the file, row and column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar, overload

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from auditdocs.allocation.record import Allocation
from auditdocs.config.models import AuditorImport, CaseImport, StaffImport
from auditdocs.errors import DataError, RejectedFile
from auditdocs.files import display
from auditdocs.ooxml.package import MB, OLE_MAGIC, Limits, Package
from auditdocs.text import norm, one_line

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DATE_HINT = "use dd/mm/yyyy or YYYY-MM-DD"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Case:
    """One open case from the export."""

    case_reference: str
    child_id: str
    case_type: str  # canonical: one of imports.cases.case_types
    team: str
    worker: str
    team_manager: str
    start_date: date  # start of involvement
    date_of_birth: date | None = None
    age: int | None = None

    def draft(self, tool: str, month: str, due: date) -> Allocation:
        """An allocation of this case, not yet numbered or given an auditor."""
        return Allocation(
            audit_id="",
            month=month,
            tool=tool,
            case_reference=self.case_reference,
            child_id=self.child_id,
            team=self.team,
            worker=self.worker,
            team_manager=self.team_manager,
            auditor="",
            auditor_email="",
            due_date=due,
            case_start=self.start_date,
        )

    def age_on(self, day: date) -> int | None:
        """Age in whole years on ``day``: from the date of birth, else as exported."""
        if self.date_of_birth is None:
            return self.age
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


@dataclass(frozen=True)
class Auditor:
    name: str
    email: str
    role: str  # canonical: one of imports.auditors.roles
    team: str
    capacity: int  # audits a month


@dataclass(frozen=True)
class StaffMember:
    """A worker of the staff list and their status (framework 6.2, 6.4)."""

    name: str
    team: str  # "": matched to the case list's workers by name alone
    status: str | None  # canonical: one of imports.staff.statuses; None: an experienced worker


# --- reading a table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """The rows of a sheet or .csv file, numbered as a spreadsheet shows them."""

    path: Path
    header_row: int
    header: list[str]
    rows: list[tuple[int, list[object]]]
    spreadsheet: bool

    def column_name(self, index: int) -> str:
        where = f" ({get_column_letter(index + 1)})" if self.spreadsheet else ""
        return f"{self.header[index]!r}{where}"


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


def read_input(path: Path, missing: str = "file not found") -> bytes:
    """A list or workbook's bytes; a file that is missing or unreadable is one error naming it."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{display(path)}: {missing}") from None
    except OSError as exc:
        raise DataError(f"{display(path)}: cannot read ({exc.strerror})") from None


def read_table(path: Path) -> Table:
    """The first sheet of an .xlsx workbook or a .csv file: a header row, then data rows
    (blank rows skipped)."""
    path = Path(path)
    data = read_input(path)
    if data.startswith(OLE_MAGIC):
        raise DataError(f"{display(path)}: an old .xls workbook (or a protected file); save it as .xlsx or .csv")
    if data.startswith(b"PK\x03\x04"):
        rows = list(_xlsx_rows(path, data))
        spreadsheet = True
    elif path.suffix.lower() in (".csv", ".txt"):
        rows = list(_csv_rows(path, data))
        spreadsheet = False
    else:
        raise DataError(f"{display(path)}: not an .xlsx workbook or a .csv file")
    rows = [(n, row) for n, row in rows if any(_text(c) for c in row)]
    if not rows:
        raise DataError(f"{display(path)}: empty; it needs a header row and a row per record")
    (header_row, header), *body = rows
    return Table(path, header_row, [_text(c) for c in header], body, spreadsheet)


#: Case and auditor lists can be large exports: far more room than a form gets, but still
#: bounded, and every part checked (damage, DTDs) before openpyxl reads anything.
_WORKBOOK_LIMITS = Limits(max_file_bytes=512 * MB, max_part_bytes=512 * MB, max_total_bytes=1024 * MB)


@overload
def workbook_rows(path: Path, data: bytes) -> list[list[object]]: ...
@overload
def workbook_rows(path: Path, data: bytes, sheet: str) -> list[list[object]] | None: ...
def workbook_rows(path: Path, data: bytes, sheet: str | None = None) -> list[list[object]] | None:
    """The rows of an .xlsx workbook's first sheet (or of the sheet named ``sheet``; None
    if there is none).  A damaged workbook, or one that declares a DTD, is one error
    naming the file, whatever openpyxl would have raised."""
    problem = f"{display(path)}: not a readable .xlsx workbook"
    try:
        Package(data, _WORKBOOK_LIMITS).verify()
    except RejectedFile as exc:
        raise DataError(f"{problem} ({exc}); save it again from Excel as .xlsx") from None
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if sheet is not None and sheet not in wb.sheetnames:
                return None
            found = wb.worksheets[0] if sheet is None else wb[sheet]
            return [list(row) for row in found.iter_rows(min_row=1, values_only=True)]
        finally:
            wb.close()
    except Exception as exc:
        raise DataError(f"{problem} ({type(exc).__name__}: {one_line(exc)}); save it again from Excel") from None


def _xlsx_rows(path: Path, data: bytes) -> Iterator[tuple[int, list[object]]]:
    yield from enumerate(workbook_rows(path, data), start=1)


def _csv_rows(path: Path, data: bytes) -> Iterator[tuple[int, list[object]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel on Windows saves "CSV" as Windows-1252
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise DataError(f"{display(path)}: not UTF-8 or Windows-1252 text; save it as CSV UTF-8") from None
    first = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first.count)
    try:
        for n, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            yield n, list(row)
    except csv.Error as exc:
        raise DataError(f"{display(path)}: not a readable .csv file ({exc})") from None


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # 12345.0 from a numeric cell is the reference 12345
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat(sep=" ")
    return " ".join(str(cell).split())


# --- mapping columns to fields --------------------------------------------------------------


class _Rows:
    """Reads mapped fields from a table's rows; every problem names file, row and column."""

    def __init__(self, table: Table, columns: dict[str, str | None], required: set[str], section: str) -> None:
        self.table = table
        where = {norm(h): i for i, h in reversed(list(enumerate(table.header))) if h}
        self.index: dict[str, int] = {}
        missing = []
        for field, header in columns.items():
            if header is None:
                continue
            if norm(header) in where:
                self.index[field] = where[norm(header)]
                repeats = [i for i, h in enumerate(table.header) if norm(h) == norm(header)]
                if len(repeats) > 1:
                    raise DataError(
                        f"{display(table.path)}: row {table.header_row}: column {header!r} appears "
                        f"{len(repeats)} times ({', '.join(table.column_name(i) for i in repeats)}); keep one"
                    )
            elif field in required:
                missing.append(f"{header!r} ({field})")
        if missing:
            raise DataError(
                f"{display(table.path)}: row {table.header_row}: missing column(s) {', '.join(missing)} "
                "in the header row "
                f"(headers are set in config/organisation.yaml {section})"
            )

    def has(self, field: str) -> bool:
        return field in self.index

    def cell(self, n: int, row: list[object], field: str) -> object:
        i = self.index.get(field)
        return row[i] if i is not None and i < len(row) else None

    def fail(self, n: int, field: str, message: str) -> DataError:
        return DataError(
            f"{display(self.table.path)}: row {n}, column {self.table.column_name(self.index[field])}: {message}"
        )

    def text(self, n: int, row: list[object], field: str, required: bool = True) -> str:
        value = _text(self.cell(n, row, field))
        if not value and required and self.has(field):
            raise self.fail(n, field, "empty; fill it in or delete the row")
        return value

    def required_date(self, n: int, row: list[object], field: str) -> date:
        day = self.date(n, row, field)
        if day is None:
            raise self.fail(n, field, f"empty; give a date ({_DATE_HINT})")
        return day

    def date(self, n: int, row: list[object], field: str) -> date | None:
        cell = self.cell(n, row, field)
        text = _text(cell)
        if not text:
            return None
        day = parse_date(cell)
        iso = _ISO_DATETIME.match(text)
        if day is None and iso:  # exports often write midnight after the date
            day = parse_date(iso.group(1))
        if day is None:
            raise self.fail(n, field, f"{text!r} is not a date ({_DATE_HINT})")
        return day

    def number(self, n: int, row: list[object], field: str, low: int, high: int, what: str) -> int | None:
        cell = self.cell(n, row, field)
        text = _text(cell)
        if not text:
            return None
        try:
            value = int(text)
        except ValueError:
            raise self.fail(n, field, f"{text!r} is not a whole number ({what})") from None
        if not low <= value <= high:
            raise self.fail(n, field, f"{value} is out of range ({what}: {low} to {high})")
        return value

    def choice(self, n: int, row: list[object], field: str, names: dict[str, list[str]], what: str) -> str:
        text = self.text(n, row, field)
        lookup = {norm(alias): name for name, aliases in names.items() for alias in (name, *aliases)}
        if norm(text) not in lookup:
            raise self.fail(
                n,
                field,
                f"{text!r} is not a known {what} (one of {', '.join(names)}; add other spellings in "
                "config/organisation.yaml)",
            )
        return lookup[norm(text)]

    def unique(self, items: list[_T], key: Callable[[_T], str], field: str, what: str) -> None:
        seen: dict[str, int] = {}
        for (n, _row), item in zip(self.table.rows, items, strict=True):
            value = key(item)
            if norm(value) in seen:
                raise self.fail(n, field, f"{what} {value!r} repeats row {seen[norm(value)]}; each must be unique")
            seen[norm(value)] = n


def read_cases(path: Path, spec: CaseImport) -> list[Case]:
    """Every case of the export, or a DataError for the first problem (nothing is kept)."""
    table = read_table(path)
    columns = spec.columns.model_dump()
    required = set(columns) - {"child_id", "age", "date_of_birth"}
    rows = _Rows(table, columns, required, "imports.cases.columns")
    if not (rows.has("age") or rows.has("date_of_birth")):
        wanted = [repr(h) for h in (spec.columns.date_of_birth, spec.columns.age) if h]
        if wanted:
            raise DataError(
                f"{display(table.path)}: row {table.header_row}: missing column {' or '.join(wanted)} "
                "in the header row "
                "(date of birth or age; headers are set in config/organisation.yaml imports.cases.columns)"
            )
    cases = []
    for n, row in table.rows:
        cases.append(
            Case(
                case_reference=rows.text(n, row, "case_reference"),
                child_id=rows.text(n, row, "child_id", required=False),
                case_type=rows.choice(n, row, "case_type", spec.case_types, "case type"),
                team=rows.text(n, row, "team"),
                worker=rows.text(n, row, "worker"),
                team_manager=rows.text(n, row, "team_manager"),
                start_date=rows.required_date(n, row, "start_date"),
                date_of_birth=rows.date(n, row, "date_of_birth"),
                age=rows.number(n, row, "age", 0, 30, "age in years"),
            )
        )
    if not cases:
        raise DataError(f"{display(table.path)}: no cases (only a header row)")
    rows.unique(cases, lambda c: c.case_reference, "case_reference", "case reference")
    return cases


def read_auditors(path: Path, spec: AuditorImport) -> list[Auditor]:
    """Every auditor of the list, or a DataError for the first problem (nothing is kept)."""
    table = read_table(path)
    columns = spec.columns.model_dump()
    rows = _Rows(table, columns, set(columns) - {"team"}, "imports.auditors.columns")
    auditors = []
    for n, row in table.rows:
        email = rows.text(n, row, "email")
        if not _EMAIL.match(email):
            raise rows.fail(n, "email", f"{email!r} is not an e-mail address")
        capacity = rows.number(n, row, "capacity", 0, 1000, "audits a month")
        if capacity is None:
            raise rows.fail(n, "capacity", "empty; give the number of audits a month (0 for none)")
        auditors.append(
            Auditor(
                name=rows.text(n, row, "name"),
                email=email,
                role=rows.choice(n, row, "role", spec.roles, "role"),
                team=rows.text(n, row, "team", required=False),
                capacity=capacity,
            )
        )
    if not auditors:
        raise DataError(f"{display(table.path)}: no auditors (only a header row)")
    rows.unique(auditors, lambda a: a.name, "name", "auditor")
    return auditors


def read_staff(path: Path, spec: StaffImport) -> list[StaffMember]:
    """Every worker of the staff list, or a DataError for the first problem (nothing is
    kept).  A blank status is an experienced worker; a blank team matches by name alone."""
    table = read_table(path)
    rows = _Rows(table, spec.columns.model_dump(), {"name", "status"}, "imports.staff.columns")
    staff = []
    for n, row in table.rows:
        has_status = bool(rows.text(n, row, "status", required=False))
        staff.append(
            StaffMember(
                name=rows.text(n, row, "name"),
                team=rows.text(n, row, "team", required=False),
                status=rows.choice(n, row, "status", spec.statuses, "status") if has_status else None,
            )
        )
    if not staff:
        raise DataError(f"{display(table.path)}: no workers (only a header row)")
    rows.unique(staff, lambda s: f"{s.name} ({s.team})" if s.team else s.name, "name", "worker")
    return staff
