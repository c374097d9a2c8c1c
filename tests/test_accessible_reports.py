"""Reports and workbooks as a screen reader, Excel's and Word's accessibility checkers and
a reader of the printed page meet them (issue 17): charts that say their figures in
words, titled documents and workbooks, every list a defined table with no blank layout
rows and a "None" row when empty, and table columns that never break a word or a date."""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
import subprocess
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import Workbook, load_workbook

from auditdocs.ooxml.report import TableMetrics, column_widths
from auditdocs.ooxml.textwidth import longest_word
from auditdocs.reports import monthly_report, quarterly_report
from auditdocs.reports.content import Document, Table
from auditdocs.reports.data import load_report_data
from auditdocs.reports.monthly import monthly_document
from auditdocs.reports.publish import report_template
from auditdocs.reports.quarterly import quarterly_document
from auditdocs.reports.word import render_word
from auditdocs.returns.outcome import BatchResult
from auditdocs.returns.summary import write_summary
from auditdocs.sample.month import init_workspace
from tests.conftest import libreoffice_convert, needs_libreoffice
from tests.ooxml_check import workbook_problems
from tests.quarter import AS_OF, MONTHS, Quarter, build_quarter

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
DC = "{http://purl.org/dc/elements/1.1/}"
LABELS = {"outstanding": "Outstanding", "good": "Good", "requires_improvement": "Requires Improvement",
          "inadequate": "Inadequate"}  # fmt: skip
DATE = re.compile(r"\b\d\d/\d\d/\d{4}\b")


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> Quarter:
    return build_quarter(init_workspace(tmp_path_factory.mktemp("accessible-reports") / "qa"))


@pytest.fixture(scope="module")
def reports(quarter: Quarter) -> dict[str, list[Path]]:
    ws = quarter.ws
    return {
        "2026-11": monthly_report(ws, "2026-11", as_of=AS_OF),
        "2026Q4": quarterly_report(ws, "2026Q4", as_of=AS_OF),
    }


def documents(quarter: Quarter) -> list[Document]:
    ws = quarter.ws
    monthly = load_report_data(ws.store(), ws.config, ["2026-10", "2026-11"], AS_OF)
    whole = load_report_data(ws.store(), ws.config, list(MONTHS), AS_OF)
    return [monthly_document(monthly, ws.config, "2026-11"), quarterly_document(whole, ws.config, "2026Q4")]


def overall_counts(quarter: Quarter, month: str) -> Counter[str]:
    """The month's overall grades counted from the store's tables, not through the reports
    (those sent back and awaiting their amended copy not counted)."""
    with sqlite3.connect(quarter.ws.state_dir / "store.sqlite") as db:
        rows = db.execute(
            "SELECT f.value FROM field_values f JOIN submissions s ON s.id = f.submission_id "
            "JOIN allocations a ON a.audit_id = s.audit_id WHERE a.month = ? AND s.is_current = 1 "
            "AND s.document = 'audit' AND s.status != 'needs_amendment' AND f.field_id = 'overall.grade'",
            (month,),
        ).fetchall()
    return Counter(LABELS[json.loads(v)] for (v,) in rows)


# --- charts' alternative text ---------------------------------------------------------


def word_pictures(path: Path) -> list[tuple[str, str]]:
    """(title, alternative text) of every picture of a .docx."""
    body = etree.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    return [(p.get("title", ""), p.get("descr", "")) for p in body.iter(f"{WP}docPr")]


def workbook_charts(path: Path) -> list[str]:
    """The alternative text of every chart of an .xlsx."""
    with zipfile.ZipFile(path) as z:
        drawings = [etree.fromstring(z.read(n)) for n in z.namelist() if n.startswith("xl/drawings/drawing")]
    return [c.get("descr", "") for d in drawings for c in d.iter(f"{XDR}cNvPr")]


def test_every_chart_says_more_than_its_title(quarter: Quarter) -> None:
    """Its alternative text starts with what the caption says and goes on with figures."""
    charts = [c for doc in documents(quarter) for c in doc.charts()]
    assert len(charts) >= 8
    for chart in charts:
        assert chart.alt.startswith(chart.title) and len(chart.alt) > len(chart.title) + 20, chart.alt
        assert re.search(r"\d", chart.alt[len(chart.title) :]), chart.alt  # figures, not words alone


def test_the_overall_grades_chart_states_the_counts_in_word_excel_and_html(quarter: Quarter, reports) -> None:
    """The issue's example: "Overall grades, 40 audits: Outstanding 5, Good 20, ...", the
    same words on the Word picture, the Excel chart and the dashboard's image."""
    counts = overall_counts(quarter, "2026-11")
    order = ["Outstanding", "Good", "Requires Improvement", "Inadequate"]
    want = (
        f"Overall grades, November 2026, {sum(counts.values())} audits: "
        + ", ".join(f"{label} {counts[label]}" for label in order)
        + "."
    )
    docx, xlsx, html = reports["2026-11"]
    assert ("Overall grades, November 2026", want) in word_pictures(docx)
    assert want in workbook_charts(xlsx)
    assert f'alt="{want}"' in html.read_text()
    returns = next(alt for title, alt in word_pictures(docx) if title.startswith("Audits allocated and returned"))
    assert "Allocated 10, Returned 9, On time 8, Late 1, Needed amendment 2" in returns


def test_stacked_and_line_charts_give_each_rows_figure_and_point_to_their_table(quarter: Quarter, reports) -> None:
    pictures = dict(word_pictures(reports["2026Q4"][0]))
    domains = pictures.get("Grades by domain", "")
    trend = pictures["Good or better by domain"]
    for d in quarter.ws.config.tool("case_file_audit").domains:
        assert f"{d.title} " in trend
    assert "Every count is in the table" in pictures["Overall grades by month"]
    assert "Oct 2026 " in pictures["Overall grades by month"] and " of " in pictures["Overall grades by month"]
    assert trend.endswith("Each month's share is in the table “Good or better by domain”.")
    assert domains == ""  # the quarter shows domains as trends
    for alt in workbook_charts(reports["2026Q4"][2]):
        assert len(alt) > 60, alt


# --- titles ---------------------------------------------------------------------------


def core(data: bytes) -> dict[str, str]:
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("docProps/core.xml"))
    return {etree.QName(el).localname: el.text or "" for el in root}


def test_reports_and_workbooks_have_their_own_title_author_and_language(quarter: Quarter, reports) -> None:
    organisation = quarter.ws.config.settings.organisation.name
    titles = {
        reports["2026-11"][0]: "Audit Highlights Report: November 2026",
        reports["2026Q4"][0]: "Quarterly Audit Report: 2026Q4",
        reports["2026-11"][1]: "Audit data: November 2026",
        reports["2026Q4"][2]: "Quarterly audit data: 2026Q4",
    }
    for path, title in titles.items():
        props = core(path.read_bytes())
        assert (props["title"], props["creator"], props["language"]) == (title, organisation, "en-GB"), path.name
    assert core(reports["2026Q4"][1].read_bytes())["title"] == "Learning from audits: 2026Q4"


# --- workbooks ------------------------------------------------------------------------


def test_the_workbook_check_finds_what_the_old_workbooks_lacked() -> None:
    """A sheet of stacked blocks as the old Summary was (a title, a table, a blank row, a
    table, no defined table), a chart titled but undescribed, no title: each reported."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in (["Audits in November"], ["Audits", "Number"], ["Allocated", 10], [], ["Overall grade", "Audits"],
                ["Good", 4]):  # fmt: skip
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    problems = workbook_problems(out.getvalue())
    assert any("no title" in p for p in problems)
    assert any("outside every defined table" in p for p in problems)
    assert any("blank layout row" in p for p in problems)


def test_the_workbook_check_wants_chart_alt_text_beyond_the_title(reports, tmp_path: Path) -> None:
    data = reports["2026-11"][1].read_bytes()
    assert workbook_problems(data) == []
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.startswith("xl/drawings/drawing"):
                body = re.sub(rb' descr="[^"]*"', b"", body)
            z.writestr(info, body)
    assert any("alternative text is no more than its title" in p for p in workbook_problems(out.getvalue()))


def test_the_monthly_workbook_is_defined_tables_one_block_to_a_sheet(reports) -> None:
    wb = load_workbook(reports["2026-11"][1])
    assert wb.sheetnames[:3] == ["Summary", "Overall grades", "Change since last month"]
    tables = {name: [t.ref for t in wb[name].tables.values()] for name in wb.sheetnames}
    assert tables["Summary"] == ["A2:B11"] and tables["Overall grades"] == ["A2:B6"]
    assert tables["Change since last month"] == ["A2:D8"]
    assert all(refs for refs in tables.values()), tables
    assert wb.properties.title == "Audit data: November 2026"


def test_an_empty_month_shows_none_rows_not_bare_headers(quarter: Quarter) -> None:
    paths = monthly_report(quarter.ws, "2027-03", as_of=AS_OF)
    data = paths[1].read_bytes()
    assert workbook_problems(data) == []
    wb = load_workbook(io.BytesIO(data))
    assert wb["Domains"]["A2"].value == "No audit graded yet."
    assert wb["Inadequate and re-audits"]["A2"].value == "No case was judged Inadequate and no re-audit was returned."
    assert wb["Audits"]["A2"].value == "No audits." and wb["Data"]["A2"].value == "No audits."


def test_a_returns_summary_is_a_titled_table_and_an_empty_batch_says_so(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "qa")
    path = write_summary(ws, BatchResult([]), datetime(2026, 11, 24, 10, tzinfo=UTC))
    assert workbook_problems(path.read_bytes()) == []
    wb = load_workbook(path)
    assert wb.properties.title == "Returns summary, 24/11/2026 10:00" and wb.properties.language == "en-GB"
    assert wb["Returns"]["A2"].value == "No files in this batch."


# --- column widths --------------------------------------------------------------------


def _words(data: bytes) -> set[str]:
    """Every word the body, headers and footers show (a tab or break separates words)."""
    z = zipfile.ZipFile(io.BytesIO(data))
    words: set[str] = set()
    for name in z.namelist():
        if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", name):
            for p in etree.fromstring(z.read(name)).iter(f"{W}p"):
                parts = p.iter(f"{W}t", f"{W}tab", f"{W}br")
                words |= set("".join((e.text or "") if e.tag == f"{W}t" else " " for e in parts).split())
    return words


def _pdf_text(pdf: Path) -> str:
    """The PDF's text, its footers' page numbers left out (the document holds a field)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"· page \d+", "· page", text)


#: The re-audit table's eleven columns (the sample's domain titles), with a date and the
#: longest audit name: too wide for the report's size, as the wide table it fits.
ELEVEN = Table(
    ["Case", "Month", "Audit", "Overall", "Home visits and seeing the child", "Assessments", "Plans", "Reviews",
     "Voice and lived experience of the child", "Management oversight and supervision", "Recording and chronology"],
    [["NB-26007", "30/11/2026", "re-audit 12", "RI", "O", "I", "G", "–", "NA", "RI", "G"]],
    caption="Eleven columns",
)  # fmt: skip


def test_columns_are_as_wide_as_their_widest_word_or_date() -> None:
    """Worked out from the text's width in the table's font: the words of the issue's
    broken headers fit, and a table with more columns than fit at 10.5 pt says so."""
    normal = TableMetrics(9638)
    header = ["Audit", "Case", "Team", "Auditor", "Due", "Days overdue", "State"]
    row = ["2026-11-008", "NB-26119", "Child Protection South", "Elowen Juniper", "30/11/2026", "39", "issued"]
    widths = column_widths(normal, header, [row])
    assert widths is not None and sum(widths) <= normal.total
    for n, width in enumerate(widths):
        need = max(longest_word(header[n], 10.5, True), longest_word(row[n], 10.5)) + normal.margins
        assert width >= need, (header[n], width, need)
    assert column_widths(normal, ELEVEN.header, ELEVEN.rows) is None  # as the wide table (8 pt) it fits
    assert column_widths(TableMetrics(9638, 8, 8, True, 114), ELEVEN.header, ELEVEN.rows) is not None


@pytest.mark.libreoffice
def test_no_word_or_date_of_a_report_table_is_broken_when_rendered(quarter: Quarter, reports, tmp_path, lo_profile):
    """Rendered by LibreOffice: every table of the monthly and quarterly reports (and one
    of long words, dates and eleven columns) shows only words of the document, none split
    over two lines ("Mont h", "Days overd ue", "30/11/202 6"); and in the reports as
    issued every table header's word and every date is shown whole."""
    needs_libreoffice()
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils not installed")
    tables = [t for doc in documents(quarter) for t in doc.tables() if t.rows]
    only = Document("monthly", "Tables", "S", "P", "O", "Svc", [*tables, ELEVEN])
    docs = {"tables": render_word(only, report_template(quarter.ws))}
    docs |= {"monthly": reports["2026-11"][0].read_bytes(), "quarterly": reports["2026Q4"][0].read_bytes()}
    for name, data in docs.items():
        (tmp_path / f"{name}.docx").write_bytes(data)
    pdfs = libreoffice_convert([tmp_path / f"{n}.docx" for n in docs], "pdf", tmp_path / "pdf", lo_profile)
    shown = {name: _pdf_text(pdf) for name, pdf in pdfs.items()}
    strays = sorted(w for w in shown["tables"].split() if w not in _words(docs["tables"]))
    assert not strays, strays
    for name in ("monthly", "quarterly"):
        body = etree.fromstring(zipfile.ZipFile(io.BytesIO(docs[name])).read("word/document.xml"))
        headers = {
            word
            for table in body.iter(f"{W}tbl")
            for cell in table.find(f"{W}tr").iter(f"{W}t")  # type: ignore[union-attr]
            for word in (cell.text or "").split()
        }
        words = Counter(shown[name].split())
        assert not [w for w in headers if not words[w]], name
        dates = Counter(DATE.findall("".join(t.text or "" for t in body.iter(f"{W}t"))))
        assert dates and all(Counter(DATE.findall(shown[name]))[d] >= n for d, n in dates.items()), name


def test_header_rows_are_bold_and_frozen_in_the_workbook(reports) -> None:
    sheet = load_workbook(reports["2026-11"][1])["Data"]
    assert sheet.freeze_panes == "A2"
    assert all(c.font.b for c in sheet[1] if c.value)
