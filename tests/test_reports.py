"""Reports from a realistic synthetic quarter: every number checked against counts
taken from the store with plain SQL (not through the report code), and every file
checked the way its reader sees it (Word through LibreOffice, HTML through Chromium)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import zipfile
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from PIL import Image

from auditdocs.dates import check_month, parse_quarter
from auditdocs.errors import UsageError
from auditdocs.reports import charts, monthly_report, quarterly_report
from auditdocs.reports.content import Document as ReportDocument
from auditdocs.reports.content import Para, Table, anonymise, clean
from auditdocs.reports.data import load_report_data
from auditdocs.reports.excel import HEADER, Book
from auditdocs.reports.monthly import monthly_document
from auditdocs.reports.word import render_word
from auditdocs.sample.month import init_workspace
from auditdocs.sheets import FORMULA_START, text_row
from auditdocs.workspace import Workspace
from tests.axe_check import check_pages, pages
from tests.conftest import REQUIRE_LO, libreoffice_convert
from tests.ooxml_check import check_office_files, office_files
from tests.quarter import AS_OF, FORMULA, NASTY, Quarter, build_quarter

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def quarter(tmp_path_factory) -> Quarter:
    return build_quarter(init_workspace(tmp_path_factory.mktemp("reports") / "qa"))


@pytest.fixture(scope="module")
def reports(quarter: Quarter) -> dict[str, list[Path]]:
    ws = quarter.ws
    return {
        "2026-11": monthly_report(ws, "2026-11", as_of=AS_OF),
        "2026-12": monthly_report(ws, "2026-12", as_of=AS_OF),
        "2026Q4": quarterly_report(ws, "2026Q4", as_of=AS_OF),
    }


def db(ws: Workspace) -> sqlite3.Connection:
    return sqlite3.connect(ws.state_dir / "store.sqlite")


def sql_counts(ws: Workspace, month: str) -> dict[str, int]:
    """The month's figures, counted straight from the tables."""
    with db(ws) as c:

        def one(query: str, *args: object) -> int:
            return c.execute(query, (month, *args)).fetchone()[0]

        joined = (
            "FROM submissions s JOIN allocations a ON a.audit_id = s.audit_id "
            "WHERE a.month = ? AND s.document = 'audit'"
        )
        return {
            "Allocated": one("SELECT count(*) FROM allocations WHERE month = ?"),
            "Returned": one(f"SELECT count(DISTINCT s.audit_id) {joined}"),
            "On time": one(f"SELECT count(*) {joined} AND s.version = 1 AND s.late = 0"),
            "Late": one(f"SELECT count(*) {joined} AND s.version = 1 AND s.late = 1"),
            "Needed amendment": one(f"SELECT count(DISTINCT s.audit_id) {joined} AND s.status = 'needs_amendment'"),
            "Awaiting amendment": one(
                f"SELECT count(*) {joined} AND s.is_current = 1 AND s.status = 'needs_amendment'"
            ),
            "Overdue": one(
                "SELECT count(*) FROM allocations "
                "WHERE month = ? AND state IN ('allocated', 'issued') AND due_date < ?",
                AS_OF.isoformat(),
            ),
        }


def sql_grades(ws: Workspace, month: str, field: str) -> Counter:
    """The grades of the month's current audit returns, but those sent back and still
    awaiting their amended copy (not graded until it is accepted)."""
    with db(ws) as c:
        rows = c.execute(
            "SELECT f.value FROM field_values f JOIN submissions s ON s.id = f.submission_id "
            "JOIN allocations a ON a.audit_id = s.audit_id "
            "WHERE a.month = ? AND s.is_current = 1 AND s.document = 'audit' AND s.status != 'needs_amendment' "
            "AND f.field_id = ?",
            (month, field),
        ).fetchall()
    return Counter(json.loads(v) for (v,) in rows)


def word_tables(path: Path) -> dict[str, list[list[str]]]:
    """Tables of a Word report by their first header cell + column count, as text."""
    out = {}
    for table in Document(str(path)).tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        out[" | ".join(rows[0])] = rows
    return out


def word_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        xml = z.read("word/document.xml").decode()
    return re.sub(r"<[^>]+>", "", xml.replace("</w:p>", "\n"))


LABELS = {"outstanding": "Outstanding", "good": "Good", "requires_improvement": "Requires Improvement",
          "inadequate": "Inadequate", None: "Not graded"}  # fmt: skip


# --- numbers ------------------------------------------------------------------------


@pytest.mark.parametrize("month", ["2026-11", "2026-12"])
def test_monthly_returns_match_the_store(quarter, reports, month):
    expected = sql_counts(quarter.ws, month)
    tables = word_tables(reports[month][0])
    returns = {r[0]: int(r[1]) for r in tables["Audits | Number | Share of allocated"][1:]}
    overdue = next(v for k, v in returns.items() if k.startswith("Overdue"))
    assert {**{k: returns[k] for k in expected if k != "Overdue"}, "Overdue": overdue} == expected
    summary = load_workbook(reports[month][1])["Summary"]
    cells: dict = {}
    for r in summary.iter_rows(values_only=True):
        if r and r[0]:
            cells.setdefault(r[0], r[1])  # the returns table; "change since last month" repeats labels
    for key in ("Allocated", "Returned", "On time", "Late", "Needed amendment", "Awaiting amendment", "Overdue"):
        assert cells[key] == expected[key], key


def test_the_synthetic_november_is_what_the_scenario_says(quarter, reports):
    """A sanity check of the fixture itself, so the SQL comparisons above compare something."""
    assert sql_counts(quarter.ws, "2026-11") == {
        "Allocated": 10, "Returned": 9, "On time": 8, "Late": 1, "Needed amendment": 2,
        "Awaiting amendment": 1, "Overdue": 1,
    }  # fmt: skip


@pytest.mark.parametrize("month", ["2026-11", "2026-12"])
def test_grade_distributions_match_the_store(quarter, reports, month):
    ws = quarter.ws
    tables = word_tables(reports[month][0])
    overall = {r[0]: int(r[1]) for r in tables["Overall grade | Audits | Share"][1:]}
    expected = {LABELS[g]: n for g, n in sql_grades(ws, month, "overall.grade").items()}
    assert {k: v for k, v in overall.items() if v} == expected
    domains = next(rows for head, rows in tables.items() if head.startswith("Domain | Outstanding"))
    header = domains[0]
    titles = {d.title: d.id for d in ws.config.tool("case_file_audit").domains}
    for row in domains[1:]:
        got = {header[i]: int(row[i]) for i in range(1, len(header) - 1) if int(row[i])}
        want = {LABELS[g]: n for g, n in sql_grades(ws, month, f"domain.{titles[row[0]]}.grade").items()}
        assert got == want, row[0]
    # per team, from the workbook
    with db(ws) as c:
        rows = c.execute(
            "SELECT a.team, f.value FROM field_values f JOIN submissions s ON s.id = f.submission_id "
            "JOIN allocations a ON a.audit_id = s.audit_id WHERE a.month = ? AND s.is_current = 1 "
            "AND s.document = 'audit' AND s.status != 'needs_amendment' AND f.field_id = 'overall.grade'",
            (month,),
        ).fetchall()
    want_teams = Counter((team, LABELS[json.loads(v)]) for team, v in rows)
    sheet = list(load_workbook(reports[month][1])["Teams"].iter_rows(values_only=True))
    got_teams = Counter()
    for row in sheet[1:]:
        for label, n in zip(sheet[0][1:-1], row[1:-1], strict=True):
            if n:
                got_teams[(row[0], label)] = n
    assert got_teams == want_teams


def test_inadequate_cases_show_their_reaudit_chain(quarter, reports):
    tables = word_tables(reports["2026-12"][0])
    chain = next(rows for head, rows in tables.items() if head.startswith("Case | Month | Audit | Overall"))
    by_case: dict[str, list[tuple[str, str]]] = {}
    for row in chain[1:]:
        by_case.setdefault(row[0], []).append((row[1], row[3]))
    first, second = quarter.chains
    with db(quarter.ws) as c:

        def grade(audit_id: str) -> str:
            (v,) = c.execute(
                "SELECT f.value FROM field_values f JOIN submissions s ON s.id = f.submission_id "
                "WHERE s.audit_id = ? AND s.is_current = 1 AND s.document = 'audit' AND f.field_id = 'overall.grade'",
                (audit_id,),
            ).fetchone()
            return {"inadequate": "I", "requires_improvement": "RI", "good": "G"}[json.loads(v)]

        assert by_case[first] == [(m, grade(a)) for m, a in zip(["Oct 2026", "Nov 2026", "Dec 2026"],
                                                                 quarter.chains[first], strict=True)]  # fmt: skip
        assert by_case[second] == [(m, grade(a)) for m, a in zip(["Nov 2026", "Dec 2026"],
                                                                  quarter.chains[second], strict=True)]  # fmt: skip
    assert [g for _, g in by_case[first]] == ["I", "I", "RI"]  # improved at the second re-audit
    # every domain's grade is shown per month
    assert len(chain[0]) == 4 + len(quarter.ws.config.tool("case_file_audit").domains)


def test_only_audits_that_are_re_audited_are_listed_as_inadequate_cases(quarter):
    """A supervision audit (or any tool but the case file audit) graded Inadequate is not
    re-audited by a senior manager (2.12), so it is not listed among the cases that are."""
    from dataclasses import replace

    from auditdocs.reports.sections import inadequate_cases

    data = load_report_data(quarter.ws.store(), quarter.ws.config, ["2026-10"], AS_OF)
    first = next(a for a in data.audits if a.overall == "inadequate" and not a.reaudit_of)
    supervision = replace(first, audit_id="2026-10-901", tool="supervision_audit")
    assert inadequate_cases(data, [first, supervision]) == [first]
    followed = replace(supervision, reaudit_of=first.audit_id)  # a re-audit is listed whatever its tool
    assert inadequate_cases(data, [followed]) == [followed]


def test_without_reaudit_links_only_the_current_month_is_shown(quarter, reports, tmp_path):
    """A store whose allocations table has no reaudit_of column (checked at run time)."""
    copy = tmp_path / "old.sqlite"
    with db(quarter.ws) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
        dst.execute("ALTER TABLE allocations DROP COLUMN reaudit_of")
    from sqlalchemy import create_engine

    old = SimpleNamespace(reading=create_engine(f"sqlite:///{copy}").connect)  # no migrations run on it
    data = load_report_data(old, quarter.ws.config, ["2026-11", "2026-12"], AS_OF)  # type: ignore[arg-type]
    assert not data.reaudit_links and not data.earlier
    doc = monthly_document(data, quarter.ws.config, "2026-12")
    table = next(b for b in doc.blocks if isinstance(b, Table) and b.caption.startswith("Inadequate cases"))
    assert {r[1] for r in table.rows} == {"Dec 2026"}
    assert any(isinstance(b, Para) and "does not yet link re-audits" in b.text for b in doc.blocks)


def test_immediate_concerns_are_listed_with_their_follow_up(quarter, reports):
    tables = word_tables(reports["2026-11"][0])
    rows = next(rows for head, rows in tables.items() if head.startswith("Case | Month | Team | Team manager"))
    with db(quarter.ws) as c:
        want = c.execute(
            "SELECT a.case_reference, a.team_manager FROM field_values f JOIN submissions s ON s.id = f.submission_id "
            "JOIN allocations a ON a.audit_id = s.audit_id WHERE a.month = '2026-11' AND s.is_current = 1 "
            "AND f.field_id = 'concern.immediate' AND f.value = 'true'"
        ).fetchall()
    assert [(r[0], r[3]) for r in rows[1:]] == want == [(quarter.concern_case, want[0][1])]
    assert rows[1][5] == "Yes" and rows[1][6] != "not recorded" and rows[1][7] == "Team manager notified"


def test_overdue_audits_and_missing_discussions(quarter, reports):
    tables = word_tables(reports["2026-11"][0])
    overdue = next(rows for head, rows in tables.items() if head.startswith("Audit | Case | Team | Auditor | Due"))
    with db(quarter.ws) as c:
        want = {
            r[0]
            for r in c.execute(
                "SELECT audit_id FROM allocations WHERE month = '2026-11' AND state IN ('allocated', 'issued') "
                "AND due_date < ?",
                (AS_OF.isoformat(),),
            )
        }
        # accepted audits with no improvement plan returned with its discussion date
        no_talk = {
            r[0]
            for r in c.execute(
                "SELECT a.case_reference FROM allocations a JOIN submissions s ON s.audit_id = a.audit_id "
                "WHERE a.month = '2026-11' AND s.is_current = 1 AND s.document = 'audit' AND s.status = 'accepted' "
                "AND NOT EXISTS (SELECT 1 FROM submissions p JOIN field_values f ON f.submission_id = p.id "
                "WHERE p.audit_id = a.audit_id AND p.document = 'plan' AND p.is_current = 1 "
                "AND f.field_id = 'discussion.date' AND f.value != 'null')"
            )
        }
        discussed = c.execute(
            "SELECT state FROM allocations WHERE month = '2026-11' AND case_reference = ?", (quarter.discussed_case,)
        ).fetchone()
    assert {r[0] for r in overdue[1:]} == want == {"2026-11-008"}
    discussions = next(rows for head, rows in tables.items() if head.startswith("Case | Team | Team manager | Overall"))
    assert {r[0] for r in discussions[1:]} == no_talk and no_talk
    # accepted, but not listed: its improvement plan came back with the discussion date
    assert discussed == ("accepted",) and quarter.discussed_case not in no_talk
    assert {r[5] for r in discussions[1:]} == {"overdue"}  # all due before AS_OF


def test_quarterly_trends_match_the_store(quarter, reports):
    tables = word_tables(reports["2026Q4"][0])
    by_month = next(rows for head, rows in tables.items() if head.startswith("Month | Outstanding"))
    for row, month in zip(by_month[1:], ["2026-10", "2026-11", "2026-12"], strict=True):
        want = {LABELS[g]: n for g, n in sql_grades(quarter.ws, month, "overall.grade").items()}
        got = {h: int(v) for h, v in zip(by_month[0][1:-1], row[1:-1], strict=True) if int(v)}
        assert got == want, month
    trends = next(rows for head, rows in tables.items() if head.startswith("Domain | Oct 2026"))
    ws = quarter.ws
    titles = {d.title: d.id for d in ws.config.tool("case_file_audit").domains}
    for row in trends[1:]:
        for month, cell in zip(["2026-10", "2026-11", "2026-12"], row[1:], strict=True):
            grades = sql_grades(ws, month, f"domain.{titles[row[0]]}.grade")
            graded = sum(n for g, n in grades.items() if g in ("outstanding", "good", "requires_improvement",
                                                                  "inadequate"))  # fmt: skip
            good = grades["outstanding"] + grades["good"]
            assert cell == f"{round(100 * good / graded)}%", (row[0], month)


# --- safety of text -----------------------------------------------------------------


def test_evidence_comes_out_literally_and_nothing_names_a_child_or_worker(quarter, reports):
    text = word_text(reports["2026-11"][0])
    assert clean(NASTY) in text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&quot;", '"')
    alloc = {a.audit_id: a for m in quarter.allocations.values() for a in m}
    worker = alloc["2026-11-010"].worker
    children = {a.child_id for a in alloc.values()}
    for path in [*reports["2026-11"], *reports["2026Q4"]]:
        if path.suffix == ".xlsx":
            continue  # the QA workbook holds the evidence as written
        body = word_text(path) if path.suffix == ".docx" else path.read_text()
        assert not any(child in body for child in children), path.name
        if "bulletin" in path.name or "highlights" in path.name:
            assert worker not in body, path.name
    assert "[worker] built a trusting relationship" in word_text(reports["2026-11"][0])
    html = reports["2026-11"][2].read_text()
    assert "<script" not in html.lower() and "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html and 'src="data:image/png;base64,' in html


def test_anonymise_replaces_known_people_and_titled_names(quarter):
    a = next(iter(quarter.allocations["2026-11"]))
    from auditdocs.reports.data import Audit

    audit = Audit(a.audit_id, a.month, a.tool, a.case_reference, a.team, a.worker, a.team_manager, a.auditor,
                  a.due_date, "accepted")  # fmt: skip
    first = a.worker.split()[0]
    text = f"{a.worker} and {first} met Mrs Holloway; {a.team_manager} agreed."
    assert anonymise(text, audit) == "[worker] and [worker] met [name]; [team manager] agreed."


def test_workbook_text_is_never_a_formula_and_charts_are_native(reports):
    path = reports["2026-11"][1]
    wb = load_workbook(path)
    data = wb["Data"]
    # the header frozen; the rows a defined table (its own filter, none of the sheet's)
    assert data.freeze_panes == "A2" and not data.auto_filter.ref
    assert [t.ref for t in data.tables.values()] == [f"A1:J{data.max_row}"]
    starts = [c for row in data.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert any(c.value.startswith(FORMULA.strip()[:10]) for c in starts)
    assert all(c.data_type == "s" and c.quotePrefix for c in starts)  # text, and stays text when edited
    audits = wb["Audits"]
    assert any(str(c.value).startswith(("+", "-", "@")) for row in audits.iter_rows() for c in row if c.value)
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any(b"<f>" in z.read(n) for n in sheets)  # not a single formula
        charts_xml = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts_xml) >= 4

    def kind(x: str, chart: str) -> bool:  # DrawingML charts, with or without the c: prefix
        return re.search(rf"<(c:)?{chart}>", x) is not None

    assert any(kind(x, "barChart") and "'Summary'!$B$3" in x for x in charts_xml)
    assert any(kind(x, "pieChart") for x in charts_xml)
    assert any("'Domains'!" in x for x in charts_xml) and any("'Teams'!" in x for x in charts_xml)
    rows = list(data.iter_rows(values_only=True))
    assert len(rows) - 1 == 10 * 7  # one row per audit and domain
    quarterly = load_workbook(reports["2026Q4"][2])
    with zipfile.ZipFile(reports["2026Q4"][2]) as z:
        assert any(re.search(rb"<(c:)?lineChart>", z.read(n)) for n in z.namelist() if n.startswith("xl/charts/"))
    assert len(list(quarterly["Data"].iter_rows())) - 1 == 30 * 7


def test_every_office_file_of_the_quarter_validates_and_binds(quarter, reports):
    """A quarter's forms, returns, feedback copies, summaries and reports (monthly and
    quarterly, Word and Excel) pass Microsoft's Open XML SDK validator, bound nodes agree."""
    files = office_files(quarter.ws.root)
    assert {p for paths in reports.values() for p in paths if p.suffix in (".docx", ".xlsx")} <= set(files)
    assert any("feedback" in p.parts for p in files)
    check_office_files(files)


def test_every_page_of_the_quarter_is_accessible(quarter, reports):
    """The monthly dashboards, the quarter's page with its bulletin and an empty month's page
    (issue 17, WCAG 2.2 AA): their structure, then axe-core in Chromium at 1280 and 320 px
    and printed, no sideways scrolling at 320 px, charts at a readable size."""
    empty = monthly_report(quarter.ws, "2027-03", as_of=AS_OF)[2]
    files = pages(quarter.ws.root)
    assert {p for paths in reports.values() for p in paths if p.suffix == ".html"} | {empty} <= set(files)
    check_pages(files)


@pytest.mark.parametrize("control", ["\u202e", "\u202b", "\u2067", "\u200f", "\u061c"])
def test_bidirectional_controls_never_reach_a_report_or_a_workbook(control, tmp_path):
    """A U+202E inside a quote reversed the attribution after it (issue 13): report text and
    every workbook cell drop bidirectional controls."""
    quote = f"Plan reviewed {control}monthly by the team{control} (case NB-1)"
    assert clean(quote) == "Plan reviewed monthly by the team (case NB-1)"
    wb = Workbook()
    text_row(wb.active, [quote])
    path = tmp_path / "cells.xlsx"
    wb.save(path)
    assert load_workbook(path).active["A1"].value == "Plan reviewed monthly by the team (case NB-1)"
    book = Book()  # the report workbooks' writer
    book.row(book.sheet("Data"), [quote])
    path.write_bytes(book.close())
    assert load_workbook(path).active["A1"].value == "Plan reviewed monthly by the team (case NB-1)"


def _written(tmp_path: Path, rows: list[tuple[list[object], dict | None]]) -> Path:
    book = Book()
    sheet = book.sheet("Data")
    for values, style in rows:
        book.row(sheet, values, style)
    path = tmp_path / "cells.xlsx"
    path.write_bytes(book.close())
    return path


@pytest.mark.parametrize("start", [s for s in FORMULA_START if s.strip()])
def test_report_workbook_cells_that_look_like_formulas_stay_text(start, tmp_path):
    """Each way a spreadsheet program starts a formula, in a plain cell and a styled
    (header) cell: stored as text with Excel's quote prefix, never as a formula; numbers
    and dates stay numbers and dates."""
    text = f"{start}HYPERLINK(\"http://x.invalid\",\"click\")"
    path = _written(tmp_path, [([text, 3, date(2026, 11, 30), "plain"], None), ([text, "Header"], HEADER)])
    sheet = load_workbook(path)["Data"]
    for row in (1, 2):
        cell = sheet.cell(row, 1)
        assert cell.value == text and cell.data_type == "s" and cell.quotePrefix, (start, row)
        assert not sheet.cell(row, 2).quotePrefix
    assert sheet["B1"].value == 3 and sheet["C1"].value == datetime(2026, 11, 30)
    assert sheet["C1"].number_format == "dd/mm/yyyy" and sheet["D1"].value == "plain"
    with zipfile.ZipFile(path) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=40), st.sampled_from(FORMULA_START))
def test_any_text_is_stored_as_its_cleaned_self(tmp_path, text, start):
    """Whatever a return holds, its cell reads back as the cleaned text, and as text."""
    path = _written(tmp_path, [([start + text, text], None)])
    sheet = load_workbook(path)["Data"]
    for n, value in enumerate((start + text, text), 1):
        want = clean(value)
        cell = sheet.cell(1, n)
        assert cell.value == (want or None)
        if want:
            assert cell.data_type == "s" and cell.quotePrefix == want.startswith(FORMULA_START)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=40), st.sampled_from(FORMULA_START))
def test_rows_written_as_xml_read_back_as_xlsxwriter_writes_them(tmp_path, text, start):
    """The data sheets' rows, written as XML (``Book.rows``), hold what ``Book.row`` would:
    text as its cleaned self with the quote prefix where a formula could start, numbers,
    true/false and dates as such, "_x0041_" and "<&>" as typed, nothing for None."""
    values = [start + text, text, 3, 2.5, True, None, date(2026, 11, 30), "_x0041_ kept", "<&> ok", ""]
    read = []
    for raw in (False, True):
        book = Book()
        sheet = book.sheet("Data")
        book.row(sheet, [f"Column {n}" for n in range(len(values))], HEADER)
        if raw:
            book.rows(sheet, [values, values])
        else:
            book.row(sheet, values)
            book.row(sheet, values)
        path = tmp_path / f"rows{raw}.xlsx"
        path.write_bytes(book.close())
        with zipfile.ZipFile(path) as z:
            assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")
        ws = load_workbook(path)["Data"]
        read.append((ws.dimensions, [[(c.value, c.data_type, c.quotePrefix, c.number_format) for c in row]
                                     for row in ws.iter_rows()]))  # fmt: skip
    assert read[1] == read[0]
    with pytest.raises(ValueError, match="must be its last"):
        book.row(sheet, ["after"])


def test_a_table_of_rows_written_as_xml_is_as_wide_as_its_header(tmp_path):
    """An empty list (one row saying so) under a six-column header, written as XML like the
    data and re-audit sheets: the sheet's dimension covers the header, so a reader that
    trusts it (openpyxl read-only, as Power Query and pandas read) loses no column."""
    book = Book()
    sheet = book.sheet("Inadequate and re-audits")
    sheet.row = 1
    book.rows(sheet, [["No case was judged Inadequate and no re-audit was returned."]])
    header = ["Case", "Month", "Audit ID", "Overall", "Visits", "Plans"]
    book.define(sheet, 0, header, "Inadequate cases and re-audits")
    path = tmp_path / "empty.xlsx"
    path.write_bytes(book.close())
    with zipfile.ZipFile(path) as z:
        assert b'<dimension ref="A1:F2"/>' in z.read("xl/worksheets/sheet1.xml")
    rows = list(load_workbook(path, read_only=True)["Inadequate and re-audits"].iter_rows(values_only=True))
    assert rows[0] == tuple(header)
    assert rows[1][0] == "No case was judged Inadequate and no re-audit was returned."


def test_files_are_owner_only(reports):
    for paths in reports.values():
        for path in paths:
            assert path.stat().st_mode & 0o777 == 0o600, path
        assert paths[0].parent.stat().st_mode & 0o777 == 0o700


def test_charts_are_deterministic_pngs():
    one = charts.bars(["A $5 team", "B"], [3, 4], "Title with $math$")
    assert one == charts.bars(["A $5 team", "B"], [3, 4], "Title with $math$")
    assert one.startswith(b"\x89PNG") and b"Software" not in one and b"matplotlib" not in one.lower()


def test_bad_month_or_quarter_is_a_usage_error():
    for bad in ("2026-13", "Nov 2026", "2026-1"):
        with pytest.raises(UsageError, match="YYYY-MM"):
            check_month(bad)
    with pytest.raises(UsageError, match="YYYYQn"):
        parse_quarter("2026Q5")
    assert parse_quarter("2026q4") == ("2026Q4", ["2026-10", "2026-11", "2026-12"])


def test_a_restyled_template_still_renders(quarter, tmp_path):
    template = tmp_path / "report.docx"
    doc = Document(str(quarter.ws.templates_dir / "report.docx"))
    doc.styles["Heading 1"].font.size = doc.styles["Heading 1"].font.size  # touched in Word
    doc.paragraphs[0].insert_paragraph_before("Northbrook QA team – restyled")
    doc.save(str(template))
    report = ReportDocument("monthly", "T & <T>", "S", "P", "O", "Svc", [Para("{{ x }} & <y>"), Table(["a"], [["1"]])])
    out = tmp_path / "out.docx"
    out.write_bytes(render_word(report, template))
    text = word_text(out)
    assert "Northbrook QA team – restyled" in text and "{{ x }} &amp; &lt;y&gt;" in text and "T &amp; &lt;T&gt;" in text


# --- rendering ----------------------------------------------------------------------


def _not_blank(png: Path) -> None:
    image = Image.open(png).convert("L")
    dark = sum(image.histogram()[:200])
    assert dark > image.width * image.height * 0.005, f"{png.name} looks blank"


@pytest.mark.libreoffice
def test_word_reports_render_in_libreoffice(reports, lo_profile, tmp_path):
    docs = [reports["2026-11"][0], reports["2026Q4"][0], reports["2026Q4"][1]]
    pdfs = libreoffice_convert(docs, "pdf", tmp_path / "pdf", lo_profile)
    if shutil.which("pdftoppm") is None:
        if REQUIRE_LO:
            pytest.fail("pdftoppm (poppler) is not installed but AUDITDOCS_REQUIRE_LIBREOFFICE=1")
        pytest.skip("pdftoppm is not installed")
    for n, pdf in enumerate(pdfs.values()):
        assert pdf.stat().st_size > 10_000
        subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "2", str(pdf), str(tmp_path / f"p{n}")],
                       check=True, timeout=120)  # fmt: skip
        pages = sorted(tmp_path.glob(f"p{n}-*.png"))
        assert len(pages) == 2
        for page in pages:
            _not_blank(page)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", *args],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


def test_dashboard_renders_in_chromium_and_runs_nothing(reports, tmp_path):
    if CHROMIUM is None:
        if os.environ.get("AUDITDOCS_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("chromium is not installed but AUDITDOCS_REQUIRE_LIBREOFFICE=1")
        pytest.skip("chromium is not installed")
    html = reports["2026-11"][2]
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", html.as_uri())
    _not_blank(shot)
    colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20  # charts and text, not a plain page
    dom = _chromium(tmp_path, "--dump-dom", html.as_uri()).stdout.decode()
    assert "<script" not in dom.lower() and "&lt;script&gt;" in dom
    assert "<b>thanks</b>" not in dom and "&lt;b&gt;thanks&lt;/b&gt;" in dom


def test_quarterly_bulletin_has_themes_and_quotes_by_case(reports, quarter):
    text = word_text(reports["2026Q4"][1])
    assert "Where we need to improve" in text and "Good practice we saw" in text
    refs = {a.case_reference for m in quarter.allocations.values() for a in m}
    quotes = re.findall(r"”\s*\(([^)]+)\)", text)
    assert quotes and all(q in refs for q in quotes)
    assert "Recording and chronology" in text.split("Where we need to improve")[1][:400]


def test_report_of_a_month_with_nothing_is_still_a_report(quarter):
    paths = monthly_report(quarter.ws, "2027-03", as_of=AS_OF)
    assert [p.suffix for p in paths] == [".docx", ".xlsx", ".html"]
    assert "0 audits allocated" in word_text(paths[0])
