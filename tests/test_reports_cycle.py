"""Reports over a month holding every kind of audit (issue 14): case file audits beside
supervision audits and case discussions, one case file audit still awaiting its amended
copy, and texts that name cases, children and people.  Built through the real path
(allocations → generate → forms filled as Word does → ingest); every number is checked
against counts taken from the store with plain SQL, not through the report code."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook

from auditdocs.allocation.record import Allocation, worker_reference
from auditdocs.dates import last_working_day
from auditdocs.forms.generate import document_path, generate
from auditdocs.forms.layout import layout_for
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.reports import monthly_report, quarterly_report
from auditdocs.reports.bulletin import bulletin_document, themes
from auditdocs.reports.content import Heading, Para, Table, anonymise
from auditdocs.reports.data import Audit, ReportData, load_report_data
from auditdocs.reports.monthly import monthly_document
from auditdocs.returns.ingest import ingest
from auditdocs.sample.answers import careless
from auditdocs.sample.month import init_workspace, sample_month
from auditdocs.workspace import Workspace
from tests.axe_check import check_pages
from tests.ooxml_check import check_office_files
from tests.quarter import values_for
from tests.test_reports import word_text

MONTH = "2026-11"
AS_OF = date(2026, 12, 10)
MAIN = "case_file_audit"
#: case file audits: number → (overall, how it comes back)
CASE_AUDITS = {1: ("good", "accepted"), 2: ("requires_improvement", "accepted"), 3: ("inadequate", "accepted"),
               4: ("good", "accepted"), 5: ("requires_improvement", "awaiting"), 6: ("good", "none")}  # fmt: skip
#: other tools: tool → how many (all graded Good, returned and accepted)
OTHERS = {"supervision_audit": 3, "case_discussion": 2}
GRADED = ("outstanding", "good", "requires_improvement", "inadequate")


@dataclass
class Cycle:
    ws: Workspace
    allocations: list[Allocation]
    reports: dict[str, list[Path]]


def _tool_values(ws: Workspace, tool_id: str, n: int, audit_date: date, alloc: Allocation) -> dict[str, Any]:
    """A complete return of another tool, graded Good throughout, in its own words."""
    tool = ws.config.tool(tool_id)
    values: dict[str, Any] = {}
    for d, domain in enumerate(tool.domains):
        values[f"domain.{domain.id}.grade"] = "good"
        values[f"domain.{domain.id}.evidence"] = (
            f"Record {d} of audit {n} was read with care for {domain.title.lower()}: sessions were held on time, "
            f"the discussion was reflective and strong, decisions were recorded with reasons and the practice was "
            f"well evidenced in each of the {d + 4} notes sampled this period by the auditor."
        )
        values.update({f"domain.{domain.id}.criteria.{c.id}": True for c in domain.what_good_looks_like})
    values.update(
        {
            "overall.grade": "good",
            "overall.summary": "Regular, reflective and well recorded practice throughout the period.",
            "overall.good_practice": f"Reflective supervision with {alloc.worker} kept the work purposeful.",
            "discussion.worker_date": audit_date - timedelta(days=4),
            "discussion.manager_date": audit_date - timedelta(days=3),
            "discussion.notes": "Findings shared with the practitioner and their manager, who agreed them.",
            "completion.date": audit_date,
        }
    )
    fields = {f.id for f in layout_for(ws.config, tool, "audit").fields}
    return {k: v for k, v in values.items() if k in fields}


def _case_values(kind: str, audit_date: date, alloc: Allocation) -> dict[str, Any]:
    """A case file audit whose overall texts name the case, the child and the team manager
    (as auditors write them), so a careless theme would be built of them."""
    values = values_for(kind, audit_date)
    values["overall.good_practice"] = (
        f"Oversight by {alloc.team_manager} was strong. Purposeful direct work with the young person."
    )
    values["overall.development"] = (
        f"The plan for {alloc.case_reference} needs dates. Child {alloc.child_id} needs direct work before the review."
    )
    return values


def _allocations() -> list[Allocation]:
    cases, auditors, _ = sample_month()
    year, mon = map(int, MONTH.split("-"))
    due = last_working_day(year, mon)
    rows: list[Allocation] = []
    team = cases[0]["team"]
    same_team = [c for c in cases if c["team"] == team]  # one team manager named in several texts
    for n, case in enumerate(same_team[: len(CASE_AUDITS)], 1):
        auditor = next(a for a in auditors if a.team != case["team"])
        rows.append(
            Allocation(audit_id=f"{MONTH}-{n:03d}", month=MONTH, tool=MAIN, case_reference=case["case_reference"],
                       child_id=case["child_id"], team=case["team"], worker=case["worker"],
                       team_manager=case["team_manager"], auditor=auditor.name, auditor_email=auditor.email,
                       due_date=due)
        )  # fmt: skip
    workers = list(dict.fromkeys((c["worker"], c["team"], c["team_manager"]) for c in cases))
    number = len(rows)
    for tool, count in OTHERS.items():
        for worker, worker_team, manager in workers[:count]:
            number += 1
            auditor = next(a for a in auditors if a.team != worker_team)
            case = next(c for c in cases if c["worker"] == worker)
            about_case = tool == "case_discussion"
            rows.append(
                Allocation(audit_id=f"{MONTH}-{number:03d}", month=MONTH, tool=tool,
                           case_reference=case["case_reference"] if about_case else worker_reference(worker),
                           child_id=case["child_id"] if about_case else "", team=worker_team, worker=worker,
                           team_manager=manager, auditor=auditor.name, auditor_email=auditor.email, due_date=due)
            )  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> Cycle:
    return build_cycle(tmp_path_factory.mktemp("cycle") / "qa")


def build_cycle(root: Path) -> Cycle:
    ws = init_workspace(root)
    allocations = _allocations()
    generate(ws, allocations)
    due = allocations[0].due_date
    audit_date = due - timedelta(days=6)
    inbox = ws.root / "inbox"
    inbox.mkdir()
    paths = []
    for n, alloc in enumerate(allocations, 1):
        if alloc.tool == MAIN:
            kind, how = CASE_AUDITS[n]
            if how == "none":
                continue
            values = _case_values(kind, audit_date, alloc)
            values = careless(values) if how == "awaiting" else values
        else:
            values = _tool_values(ws, alloc.tool, n, audit_date, alloc)
        path = inbox / f"{alloc.audit_id}.docx"
        path.write_bytes(fill_form(document_path(ws.output_dir, alloc, "audit").read_bytes(), values, WordStyle(n)))
        paths.append(path)
    result = ingest(ws, paths, received_at=datetime.combine(due - timedelta(days=3), datetime.min.time(), UTC))
    statuses = {o.audit_id: o.status for o in result.outcomes}
    awaiting = {a.audit_id for n, a in enumerate(allocations, 1) if a.tool == MAIN and CASE_AUDITS[n][1] == "awaiting"}
    assert {k for k, v in statuses.items() if v != "accepted"} == awaiting, result.outcomes
    reports = {
        MONTH: monthly_report(ws, MONTH, as_of=AS_OF),
        "2026Q4": quarterly_report(ws, "2026Q4", as_of=AS_OF),
    }
    return Cycle(ws, allocations, reports)


def db(ws: Workspace) -> sqlite3.Connection:
    return sqlite3.connect(ws.state_dir / "store.sqlite")


def sql_grades(ws: Workspace, tool: str, field: str) -> Counter[str]:
    """A field's values over the tool's current audit returns that count (not awaiting amendment)."""
    with db(ws) as c:
        rows = c.execute(
            "SELECT f.value FROM field_values f JOIN submissions s ON s.id = f.submission_id "
            "JOIN allocations a ON a.audit_id = s.audit_id WHERE a.month = ? AND a.tool = ? AND s.is_current = 1 "
            "AND s.document = 'audit' AND s.status != 'needs_amendment' AND f.field_id = ?",
            (MONTH, tool, field),
        ).fetchall()
    return Counter(json.loads(v) for (v,) in rows)


def sql_returned(ws: Workspace) -> Counter[str]:
    with db(ws) as c:
        rows = c.execute(
            "SELECT a.tool, count(DISTINCT s.audit_id) FROM submissions s JOIN allocations a "
            "ON a.audit_id = s.audit_id WHERE s.document = 'audit' GROUP BY a.tool"
        ).fetchall()
    return Counter(dict(rows))


def first_table(path: Path, header: str) -> list[list[str]]:
    """The first table of a Word report whose header row reads ``header`` (cells joined by ' | ')."""
    for table in Document(str(path)).tables:
        rows = [[cell.text for cell in row.cells] for row in table.rows]
        if " | ".join(rows[0]).startswith(header):
            return rows
    raise AssertionError(f"no table {header!r} in {path.name}")


def labels(ws: Workspace) -> dict[str, str]:
    grading = ws.config.settings.grading
    return {g.id: g.label for g in [*grading.grades, grading.not_applicable]}


def domain_titles(ws: Workspace, tool: str) -> dict[str, str]:
    return {d.title: d.id for d in ws.config.tool(tool).domains}


def report_data(ws: Workspace) -> ReportData:
    return load_report_data(ws.store(), ws.config, ["2026-10", MONTH, "2026-12"], AS_OF)


def test_the_cycle_month_is_what_the_scenario_says(cycle):
    """The fixture itself: every tool returned, one case file audit awaiting amendment."""
    assert sql_returned(cycle.ws) == {MAIN: 5, "supervision_audit": 3, "case_discussion": 2}
    with db(cycle.ws) as c:
        (waiting,) = c.execute("SELECT count(*) FROM allocations WHERE state = 'needs_amendment'").fetchone()
    assert waiting == 1


# --- reports per tool type ------------------------------------------------------------


def test_headline_grades_are_the_case_file_audits_only(cycle):
    """The overall grades counted every tool's audits together, and the audit awaiting
    amendment as graded: 9 graded audits where 4 case file audits were."""
    ws, name = cycle.ws, labels(cycle.ws)
    table = first_table(cycle.reports[MONTH][0], "Overall grade | Audits | Share")
    overall = {r[0]: int(r[1]) for r in table[1:] if int(r[1])}
    want = {name[g]: n for g, n in sql_grades(ws, MAIN, "overall.grade").items()}
    assert overall == want and sum(want.values()) == 4
    # the workbook's overall grades sheet says the same
    summary = list(load_workbook(cycle.reports[MONTH][1])["Overall grades"].iter_rows(values_only=True))
    top = next(i for i, r in enumerate(summary) if r[0] == "Overall grade")
    got = {}
    for row in summary[top + 1 :]:
        if not row[0]:
            break
        if row[1]:
            got[row[0]] = row[1]
    assert got == want
    text = word_text(cycle.reports[MONTH][0])
    assert "1 returned audit is awaiting amendment and not counted" in text


def test_the_domain_chart_rows_are_the_case_file_audit_domains_with_data(cycle):
    """Domains of every tool used were rows of the one domain table (and chart), most of
    them empty for most audits; now only the case file audit's domains, each with data."""
    ws, name = cycle.ws, labels(cycle.ws)
    main = first_table(cycle.reports[MONTH][0], "Domain | Outstanding")
    titles = domain_titles(ws, MAIN)
    assert [r[0] for r in main[1:]] == list(titles)
    for row in main[1:]:
        got = {main[0][i]: int(row[i]) for i in range(1, len(main[0]) - 1) if int(row[i])}
        assert got == {name[g]: n for g, n in sql_grades(ws, MAIN, f"domain.{titles[row[0]]}.grade").items()}
    sheet = list(load_workbook(cycle.reports[MONTH][1])["Domains"].iter_rows(values_only=True))
    assert [r[0] for r in sheet[1:]] == list(titles)


def test_other_tools_have_their_own_sections(cycle):
    """Each other tool's returns and grades under its own heading, its own domains only."""
    ws, name = cycle.ws, labels(cycle.ws)
    doc = monthly_document(report_data(ws), ws.config, MONTH)
    tables = {b.caption: b for b in doc.blocks if isinstance(b, Table)}
    headings = [b.text for b in doc.blocks if isinstance(b, Heading) and b.level == 1]
    text = word_text(cycle.reports[MONTH][0])
    for tool in OTHERS:
        title = ws.config.tool(tool).title
        assert title in headings and f"\n{title}\n" in text, title
        overall = tables[f"Overall grades of returned audits: {title}"]
        assert {r[0]: int(r[1]) for r in overall.rows if int(r[1])} == {
            name[g]: n for g, n in sql_grades(ws, tool, "overall.grade").items()
        }
        domains = tables[f"Grades by domain: {title}"]
        titles = domain_titles(ws, tool)
        assert [r[0] for r in domains.rows] == list(titles)
        for row in domains.rows:
            got = {domains.header[i]: int(row[i]) for i in range(1, len(row) - 1) if int(row[i])}
            assert got == {name[g]: n for g, n in sql_grades(ws, tool, f"domain.{titles[row[0]]}.grade").items()}
    by_tool = tables["Audits by tool"]  # the main tool first, then the others in config order
    order = [MAIN, *[t for t in ws.config.tools if t in OTHERS]]
    assert [r[0] for r in by_tool.rows] == [ws.config.tool(t).title for t in order]
    assert [int(r[2]) for r in by_tool.rows] == [sql_returned(ws)[t] for t in order]


def test_quarterly_trends_are_the_case_file_audits_and_other_tools_stand_apart(cycle):
    ws = cycle.ws
    trends = first_table(cycle.reports["2026Q4"][0], "Domain | Oct 2026")
    assert [r[0] for r in trends[1:]] == list(domain_titles(ws, MAIN))
    text = word_text(cycle.reports["2026Q4"][0])
    for tool in OTHERS:
        title = ws.config.tool(tool).title
        assert f"{title}: audits and overall grades by month" in text or f"\n{title}\n" in text
    book = load_workbook(cycle.reports["2026Q4"][2])  # each other tool a sheet of its own, named after it
    for tool in OTHERS:
        title = ws.config.tool(tool).title
        assert book[title[:31]]["A1"].value == f"{title}: audits and overall grades by month"


def test_the_data_sheet_has_each_audits_own_domains_only(cycle):
    """Every audit had a row for every domain of every tool in use (15 domain rows an
    audit here, most of them empty)."""
    ws = cycle.ws
    rows = list(load_workbook(cycle.reports[MONTH][1])["Data"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    audit, domain = header.index("Audit ID"), header.index("Domain")
    want: Counter[tuple[str, str]] = Counter()
    for alloc in cycle.allocations:
        want.update((alloc.audit_id, d) for d in domain_titles(ws, alloc.tool))
    assert Counter((r[audit], r[domain]) for r in body) == want
    tools = {ws.config.tool(t).title for t in [MAIN, *OTHERS]}
    assert {r[header.index("Tool")] for r in body} == tools  # and each row says its tool


# --- grade definitions ----------------------------------------------------------------


def test_grade_definitions_are_in_the_key_of_every_report(cycle):
    """Framework 2.7: what each grade means, from config, in the Word reports, the
    dashboards and the workbooks."""
    grading = cycle.ws.config.settings.grading
    definitions = {g.label: g.definition for g in [*grading.grades, grading.not_applicable]}
    assert definitions["Outstanding"] == "A service that significantly exceeds minimum expectations."
    for paths in cycle.reports.values():
        report, workbook, html = paths[0], next(p for p in paths if p.suffix == ".xlsx"), paths[-1]
        key = first_table(report, "Grade | Short")
        assert {r[0]: r[2] for r in key[1:]} == definitions, report.name
        page = html.read_text()
        assert all(d.replace("'", "&#x27;") in page for d in definitions.values()), html.name
        sheet = list(load_workbook(workbook)["Key"].iter_rows(values_only=True))
        assert {r[0]: r[2] for r in sheet if r[0] in definitions} == definitions, workbook.name


# --- the learning bulletin (framework 8.1) --------------------------------------------


def test_the_bulletin_counts_each_tool_as_itself(cycle):
    """'31 case file audits' counted case discussions and supervision audits too."""
    ws = cycle.ws
    data = report_data(ws)
    doc = bulletin_document(data, "2026Q4")
    first = next(b.text for b in doc.blocks if isinstance(b, Para))
    returned = sql_returned(ws)
    assert f"{returned[MAIN]} case file audits were returned" in first
    for tool in OTHERS:
        assert f"{ws.config.tool(tool).title} ({returned[tool]})" in first
    good = sql_grades(ws, MAIN, "overall.grade")
    graded = sum(good[g] for g in GRADED)
    assert f"{good['outstanding'] + good['good']} of {graded} graded" in first


def _identifier_words(cycle: Cycle) -> set[str]:
    words = set()
    for a in cycle.allocations:
        for value in (a.case_reference, a.child_id, a.worker, a.team_manager, a.auditor):
            words.update(w for w in re.findall(r"[a-z]+", value.lower()) if len(w) >= 2)
    return words


@pytest.mark.parametrize("kind", ["good", "development"])
def test_themes_hold_no_case_reference_child_id_or_name(cycle, kind):
    """'plan for nb' was a theme: a case reference's letters (NB-26007) kept, its digits
    dropped; a team manager's name named in two audits became one too."""
    data = report_data(cycle.ws)
    found = themes(data, kind, limit=1000)
    assert found
    banned = _identifier_words(cycle)
    assert not [t.phrase for t in found if set(t.phrase.split()) & banned]
    # the texts that name them still give their other phrases
    phrases = {t.phrase for t in found}
    assert ("purposeful direct work" in phrases) if kind == "good" else ("needs direct work" in phrases)


@pytest.mark.parametrize("kind", ["good", "development"])
def test_each_quote_is_under_one_theme_only(cycle, kind):
    """One quote was listed under six themes (each theme quoted the first audit's
    sentence holding it, the same sentence for every phrase in it)."""
    data = report_data(cycle.ws)
    found = themes(data, kind)
    assert len(found) >= 3
    quotes = [t.quote for t in found]
    assert len(set(quotes)) == len(quotes), quotes
    for t in found:  # the quote says the theme
        assert t.phrase in re.sub(r"[^a-z' ]+", " ", t.quote.lower().replace("’", "'")), (t.phrase, t.quote)
    doc = bulletin_document(data, "2026Q4")
    shown = [b.text.rsplit(" (", 1)[0] for b in doc.blocks if isinstance(b, Para) and b.style == "quote"]
    assert len(shown) == len(set(shown))


def test_quotes_never_show_a_child_id(cycle):
    """A child id typed in the evidence was quoted as written in the bulletin."""
    for path in cycle.reports["2026Q4"]:
        if path.suffix != ".xlsx":
            body = word_text(path) if path.suffix == ".docx" else path.read_text()
            assert not [x.child_id for x in cycle.allocations if x.child_id and x.child_id in body], path.name
    a = next(x for x in cycle.allocations if x.child_id)
    audit = Audit(a.audit_id, a.month, a.tool, a.case_reference, a.team, a.worker, a.team_manager, a.auditor,
                  a.due_date, "accepted", child_id=a.child_id)  # fmt: skip
    assert anonymise(f"Child {a.child_id} was seen; {a.child_id.lower()} too.", audit) == (
        "Child [child id] was seen; [child id] too."
    )


def test_the_reports_of_every_tool_validate(cycle):
    """The Word reports and workbooks with other tools' sections and sheets (their charts
    and the key) pass Microsoft's Open XML SDK validator."""
    check_office_files([p for paths in cycle.reports.values() for p in paths if p.suffix in (".docx", ".xlsx")])


def test_the_pages_of_every_tool_are_accessible(cycle):
    """The pages with other tools' sections pass the page check (issue 17: structure, axe-core
    at 1280 and 320 px and printed)."""
    check_pages([p for paths in cycle.reports.values() for p in paths if p.suffix == ".html"])
