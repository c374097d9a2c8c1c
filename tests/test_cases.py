"""Importing the month's case list and auditors from .xlsx and .csv exports, with the
column mapping from config: encodings, date forms, spellings, and one clear error
(file, row, column) for every problem, with nothing half-imported."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from auditdocs.allocation.lists import Auditor, Case, read_auditors, read_cases
from auditdocs.allocation.workbook import read_allocation
from auditdocs.config.models import AuditorImport, CaseColumns, CaseImport
from auditdocs.errors import DataError
from auditdocs.sample.month import write_sheet
from auditdocs.workspace import Workspace

CASES = CaseImport()
AUDITORS = AuditorImport()
HEADER = ["case_reference", "child_id", "date_of_birth", "case_type", "team", "worker", "team_manager", "start_date"]
ROWS: list[list[Any]] = [
    ["NB-1", "C1", date(2015, 3, 4), "CIN", "North", "Wren Ashdown", "Petra Kestrel", date(2025, 1, 6)],
    ["NB-2", "C2", "2010-12-31", "Child protection", "North", "Wren Ashdown", "Petra Kestrel", "05/02/2025"],
    ["NB-3", "", "", "CP", "South", "Kit Ember", "Noor Holloway", "2025-06-01 00:00:00"],
]
# A council whose export names every column its own way.
THEIR_COLUMNS = CaseColumns(
    case_reference="Case Ref",
    child_id="Person ID",
    age="Age (years)",
    date_of_birth=None,
    case_type="Category",
    team="Team Name",
    worker="Allocated Worker",
    team_manager="Team Manager",
    start_date="Involvement Start",
)
THEIR_HEADER = ["Person ID", "Case Ref", "Category", "Age (years)", "Team Name", "Allocated Worker", "Team Manager"]
THEIR_HEADER += ["Involvement Start", "Notes"]


def csv_text(header: list[str], rows: list[list[Any]], sep: str = ",") -> str:
    def cell(value: Any) -> str:
        if isinstance(value, date):
            return value.strftime("%d/%m/%Y")
        text = str(value)
        return f'"{text}"' if sep in text or '"' in text else text

    return "\r\n".join(sep.join(cell(v) for v in line) for line in [header, *rows]) + "\r\n"


def error(call: Any, *args: Any) -> str:
    with pytest.raises(DataError) as exc:
        call(*args)
    return str(exc.value)


# --- reading ------------------------------------------------------------------------------


def test_the_sample_lists_read_with_the_default_mapping(workspace: Workspace) -> None:
    settings = workspace.config.settings
    cases = read_cases(workspace.sample_dir / "cases.xlsx", settings.imports.cases)
    auditors = read_auditors(workspace.sample_dir / "auditors.xlsx", settings.imports.auditors)
    assert len(cases) == 40
    assert {c.case_type for c in cases} == {"CIN", "CP", "CIC", "Care leaver"}
    assert sum(c.date_of_birth is None for c in cases) == 1  # an unborn child
    assert all(c.age_on(date(2026, 11, 1)) is not None for c in cases if c.date_of_birth)
    assert cases[0].team == "Child Protection South"
    assert {a.role for a in auditors} >= {"Team manager", "IRO", "CP chair", "Service manager", "Senior manager"}
    assert all(a.capacity == 2 for a in auditors)


def test_dates_come_as_excel_dates_iso_or_uk_text(tmp_path: Path) -> None:
    cases = read_cases(write_sheet(tmp_path / "cases.xlsx", HEADER, ROWS), CASES)
    assert [c.date_of_birth for c in cases] == [date(2015, 3, 4), date(2010, 12, 31), None]
    assert [c.start_date for c in cases] == [date(2025, 1, 6), date(2025, 2, 5), date(2025, 6, 1)]
    assert cases[1].case_type == "CP"  # "Child protection" is another spelling of CP
    assert cases[2].child_id == ""


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [("utf-8", ","), ("utf-8-sig", ","), ("cp1252", ","), ("utf-8-sig", ";"), ("utf-8", "\t")],
    ids=["utf-8", "utf-8 with BOM", "windows-1252", "semicolons", "tabs"],
)
def test_csv_exports_in_the_encodings_excel_writes(tmp_path: Path, encoding: str, sep: str) -> None:
    rows = [list(r) for r in ROWS]
    rows[0][5] = "Zoë O'Rourke-Finch, senior"  # an accent, an apostrophe and the separator
    path = tmp_path / "cases.csv"
    path.write_bytes(csv_text(HEADER, rows, sep).encode(encoding))
    cases = read_cases(path, CASES)
    assert [c.case_reference for c in cases] == ["NB-1", "NB-2", "NB-3"]
    assert cases[0].worker == "Zoë O'Rourke-Finch, senior"
    assert cases[0].date_of_birth == date(2015, 3, 4)


def test_each_councils_headers_come_from_the_mapping(tmp_path: Path) -> None:
    rows = [
        ["P1", "CR-9", "Looked After", "7", "Children in Care", "A Worker", "A Manager", "2024-09-01", "x"],
        ["P2", 12345, "CARE LEAVERS", 19.0, "Leaving Care", "B Worker", "B Manager", datetime(2023, 5, 2), ""],
    ]
    spec = CaseImport(columns=THEIR_COLUMNS)
    cases = read_cases(write_sheet(tmp_path / "export.xlsx", [h.upper() for h in THEIR_HEADER], rows), spec)
    assert cases == [
        Case("CR-9", "P1", "CIC", "Children in Care", "A Worker", "A Manager", date(2024, 9, 1), None, 7),
        Case("12345", "P2", "Care leaver", "Leaving Care", "B Worker", "B Manager", date(2023, 5, 2), None, 19),
    ]


def test_blank_rows_are_skipped_and_rows_keep_their_sheet_numbers(tmp_path: Path) -> None:
    rows = [ROWS[0], [None] * 8, ["NB-2", "C2", "2010-12-31", "CIN", "North", "W", "M", "31/02/2025"]]
    message = error(read_cases, write_sheet(tmp_path / "cases.xlsx", HEADER, rows), CASES)
    assert message.endswith("row 4, column 'start_date' (H): '31/02/2025' is not a date (use dd/mm/yyyy or YYYY-MM-DD)")


# --- errors: file, row, column; nothing imported -------------------------------------------


def test_a_missing_column_is_named_with_its_field(tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "team_manager"]
    rows = [[v for h, v in zip(HEADER, r, strict=True) if h != "team_manager"] for r in ROWS]
    path = write_sheet(tmp_path / "cases.xlsx", header, rows)
    assert error(read_cases, path, CASES) == (
        f"{path}: row 1: missing column(s) 'team_manager' (team_manager) in the header row "
        "(headers are set in config/organisation.yaml imports.cases.columns)"
    )


def test_either_date_of_birth_or_age_is_needed(tmp_path: Path) -> None:
    header = [h for h in HEADER if h != "date_of_birth"]
    rows = [[v for h, v in zip(HEADER, r, strict=True) if h != "date_of_birth"] for r in ROWS]
    path = write_sheet(tmp_path / "cases.xlsx", header, rows)
    assert "missing column 'date_of_birth' or 'age'" in error(read_cases, path, CASES)


def test_a_duplicate_case_reference_names_both_rows(tmp_path: Path) -> None:
    rows = [*ROWS, ["nb-2 ", "C9", "2012-01-01", "CIC", "South", "W", "M", "2025-01-01"]]
    path = write_sheet(tmp_path / "cases.xlsx", HEADER, rows)
    assert error(read_cases, path, CASES) == (
        f"{path}: row 5, column 'case_reference' (A): case reference 'nb-2' repeats row 3; each must be unique"
    )


def test_an_unreadable_date_names_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "cases.csv"
    rows = [list(r) for r in ROWS]
    rows[2][2] = "13/13/2013"
    path.write_text(csv_text(HEADER, rows), encoding="utf-8")
    assert error(read_cases, path, CASES) == (
        f"{path}: row 4, column 'date_of_birth': '13/13/2013' is not a date (use dd/mm/yyyy or YYYY-MM-DD)"
    )


def test_an_unknown_case_type_lists_the_known_ones(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][3] = "Early help"
    path = write_sheet(tmp_path / "cases.xlsx", HEADER, rows)
    assert error(read_cases, path, CASES) == (
        f"{path}: row 3, column 'case_type' (D): 'Early help' is not a known case type (one of CIN, CP, CIC, "
        "Care leaver; add other spellings in config/organisation.yaml)"
    )


def test_an_empty_required_cell_is_named(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[0][4] = "  "
    path = write_sheet(tmp_path / "cases.xlsx", HEADER, rows)
    assert error(read_cases, path, CASES) == (f"{path}: row 2, column 'team' (E): empty; fill it in or delete the row")


def test_a_repeated_header_is_refused(tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "cases.xlsx", [*HEADER, "Team"], [[*r, "x"] for r in ROWS])
    assert error(read_cases, path, CASES) == (
        f"{path}: row 1: column 'team' appears 2 times ('team' (E), 'Team' (I)); keep one"
    )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "an old .xls workbook"),
        ("cases.pdf", b"%PDF-1.7\n", "not an .xlsx workbook or a .csv file"),
        ("broken.xlsx", b"PK\x03\x04garbage", "not a readable .xlsx workbook"),
        ("empty.csv", b"\r\n\r\n", "empty; it needs a header row"),
        ("header.csv", ",".join(HEADER).encode(), "no cases (only a header row)"),
        ("binary.csv", b"case_reference\r\n\x81\x8d\x8f\r\n", "not UTF-8 or Windows-1252 text"),
    ],
)
def test_files_that_are_not_case_lists(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert message in error(read_cases, path, CASES)


def _broken_workbooks(tmp_path: Path) -> dict[str, bytes]:
    """A real workbook made damaged (a sheet cut short) and made to declare a DTD."""
    good = write_sheet(tmp_path / "good.xlsx", HEADER, ROWS).read_bytes()
    src = zipfile.ZipFile(io.BytesIO(good))
    out = {}
    for kind in ("damaged", "dtd"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for name in src.namelist():
                raw = src.read(name)
                if name == "xl/worksheets/sheet1.xml":
                    if kind == "damaged":
                        raw = raw[: len(raw) // 2]
                    else:
                        raw = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + raw
                        assert raw.startswith(b"<!DOCTYPE")  # openpyxl writes no XML declaration
                z.writestr(name, raw)
        out[kind] = buffer.getvalue()
    return out


@pytest.mark.parametrize("kind", ["damaged", "dtd"])
def test_a_damaged_or_dtd_carrying_workbook_is_one_line_naming_the_file(tmp_path: Path, kind: str) -> None:
    """Issue 13: openpyxl's own exceptions reached the user as a traceback."""
    path = tmp_path / "cases.xlsx"
    path.write_bytes(_broken_workbooks(tmp_path)[kind])
    message = error(read_cases, path, CASES)
    assert message.startswith(f"{path}: not a readable .xlsx workbook") and "\n" not in message
    if kind == "dtd":
        assert "declares a DTD" in message
    allocation = tmp_path / "allocation-2026-11.xlsx"
    allocation.write_bytes(_broken_workbooks(tmp_path)[kind])
    with pytest.raises(DataError, match=r"not a readable \.xlsx workbook"):
        read_allocation(allocation)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    assert error(read_cases, tmp_path / "nope.csv", CASES) == f"{tmp_path / 'nope.csv'}: file not found"


# --- auditors --------------------------------------------------------------------------


AUDITOR_HEADER = ["name", "email", "role", "team", "monthly_capacity"]


def test_auditors_with_other_spellings_of_roles(tmp_path: Path) -> None:
    rows = [
        ["Petra Kestrel", "petra@x.example", "TM", "North", 2],
        ["Idris Juniper", "idris@x.example", "Head of Service", "", "3"],
        ["Noor Ember", "noor@x.example", "icro", "Safeguarding", 0],
    ]
    auditors = read_auditors(write_sheet(tmp_path / "auditors.xlsx", AUDITOR_HEADER, rows), AUDITORS)
    assert auditors == [
        Auditor("Petra Kestrel", "petra@x.example", "Team manager", "North", 2),
        Auditor("Idris Juniper", "idris@x.example", "Senior manager", "", 3),
        Auditor("Noor Ember", "noor@x.example", "IRO", "Safeguarding", 0),
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (["A B", "a.b@x.example", "Wizard", "T", 2], "row 3, column 'role' (C): 'Wizard' is not a known role"),
        (["A B", "a.b at x", "IRO", "T", 2], "row 3, column 'email' (B): 'a.b at x' is not an e-mail address"),
        (["A B", "a.b@x.example", "IRO", "T", "two"], "row 3, column 'monthly_capacity' (E): 'two' is not a whole"),
        (["A B", "a.b@x.example", "IRO", "T", -1], "row 3, column 'monthly_capacity' (E): -1 is out of range"),
        (["A B", "a.b@x.example", "IRO", "T", None], "row 3, column 'monthly_capacity' (E): empty; give the number"),
        (["petra  kestrel", "p@x.example", "IRO", "T", 1], "row 3, column 'name' (A): auditor 'petra kestrel' repeats"),
    ],
    ids=["role", "email", "capacity text", "negative capacity", "no capacity", "duplicate name"],
)
def test_auditor_errors_name_row_and_column(tmp_path: Path, row: list[Any], message: str) -> None:
    rows = [["Petra Kestrel", "petra@x.example", "TM", "North", 2], row]
    path = write_sheet(tmp_path / "auditors.xlsx", AUDITOR_HEADER, rows)
    got = error(read_auditors, path, AUDITORS)
    assert got.startswith(f"{path}: {message}"), got
