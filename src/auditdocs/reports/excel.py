"""The report's data as an Excel workbook: summary sheets with native Excel charts
(drawn by Excel from the summary cells, so they follow any edit), a data sheet of one
row per audit and domain of its own tool, one row per audit with its overall texts, and
a key to the grades.  Summaries are the case file audits'; other tools' grades are on
their own sheet ("Other tools"), never added to them.

Every text is written as text (``text_row``): evidence starting with ``=``, ``+``,
``-`` or ``@`` never becomes a formula.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from auditdocs.config import Config
from auditdocs.dates import month_label, shift_month, uk_day
from auditdocs.reports.content import clean
from auditdocs.reports.data import Audit, ReportData
from auditdocs.reports.sections import abbreviation, grade_columns, inadequate_cases
from auditdocs.reports.stats import RETURN_FIGURES, MonthStats, good_or_better, is_overdue, month_stats
from auditdocs.sheets import first_sheet, text_row

HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
DATE = "dd/mm/yyyy"
#: Excel refuses longer cell text; evidence is never that long, but a pasted file might be.
MAX_CELL = 32_000


def _text(value: Any) -> Any:
    return clean(value)[:MAX_CELL] if isinstance(value, str) else value


def _header(ws: Worksheet, values: Sequence[str], widths: Sequence[float] = ()) -> None:
    text_row(ws, [_text(v) for v in values])
    for cell in ws[ws._current_row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for n, width in enumerate(widths, 1):
        ws.column_dimensions[ws.cell(1, n).column_letter].width = width


def _row(ws: Worksheet, values: Sequence[Any]) -> None:
    text_row(ws, [_text(v) for v in values])


def _title(ws: Worksheet, text: str) -> None:
    _row(ws, [text])
    ws.cell(ws._current_row, 1).font = Font(bold=True, size=13)


def _table(ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[int, int]:
    """Write a table; returns (header row, last row)."""
    _header(ws, header)
    top = ws._current_row
    for r in rows:
        _row(ws, r)
    return top, ws._current_row


def _bar(ws: Worksheet, title: str, top: int, last: int, cols: int, anchor: str, stacked: bool = False) -> None:
    chart = BarChart()
    chart.type = "bar" if stacked else "col"
    chart.title = title
    chart.y_axis.title = "Audits"
    if stacked:
        chart.grouping = "stacked"
        chart.overlap = 100
    data = Reference(ws, min_col=2, max_col=1 + cols, min_row=top, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=top + 1, max_row=last))
    chart.width, chart.height = 18, 9
    ws.add_chart(chart, anchor)


def _grade_matrix(
    ws: Worksheet, data: ReportData, what: str, rows: dict[str, Counter[str | None]], title: str, anchor: str
) -> None:
    """A table of grade counts (a row per domain or team with any grade counted) and its
    stacked bar chart at ``anchor``."""
    rows = {name: counts for name, counts in rows.items() if sum(counts.values())}
    ids = grade_columns(data, list(rows.values()))
    table_rows = []
    for name, counts in rows.items():
        good, graded = good_or_better(counts, data)
        table_rows.append([name, *[counts.get(g, 0) for g in ids], good / graded if graded else None])
    top, last = _table(ws, [what, *[data.label(g) for g in ids], "Good or better"], table_rows)
    for r in range(top + 1, last + 1):
        ws.cell(r, len(ids) + 2).number_format = "0%"
    if table_rows:
        _bar(ws, title, top, last, len(ids), anchor, stacked=True)


def _summary_sheet(wb: Workbook, data: ReportData, s: MonthStats, before: MonthStats) -> None:
    ws = first_sheet(wb, "Summary")
    _title(ws, f"Audits allocated in {month_label(s.month)}, as at {data.as_of:%d/%m/%Y}")
    top, last = _table(ws, ["Audits", "Number"], [[label, s.figure(key)] for key, label in RETURN_FIGURES])
    _bar(ws, "Audits allocated and returned", top, last, 1, "E2")
    for label, value in (
        ("Not returned", s.allocated - s.returned),
        ("Awaiting amendment", s.awaiting_amendment),
        ("Overdue", s.overdue),
        ("Immediate safeguarding concerns", s.concerns),
    ):
        _row(ws, [label, value])
    _row(ws, [])
    ids = grade_columns(data, [s.overall])
    top, last = _table(ws, ["Overall grade", "Audits"], [[data.label(g), s.overall.get(g, 0)] for g in ids])
    pie = PieChart()
    pie.title = "Overall grades"
    pie.add_data(Reference(ws, min_col=2, min_row=top, max_row=last), titles_from_data=True)
    pie.set_categories(Reference(ws, min_col=1, min_row=top + 1, max_row=last))
    pie.width, pie.height = 12, 8
    ws.add_chart(pie, "E22")
    _row(ws, [])
    rows: list[list[Any]] = [
        [label, before.figure(key), s.figure(key), s.figure(key) - before.figure(key)] for key, label in RETURN_FIGURES
    ]
    g_now, g_before = good_or_better(s.overall, data), good_or_better(before.overall, data)
    rows.append(
        [
            "Good or better overall",
            g_before[0] / g_before[1] if g_before[1] else None,
            g_now[0] / g_now[1] if g_now[1] else None,
            None,
        ]
    )
    top, last = _table(ws, ["Change since last month", month_label(before.month), month_label(s.month), "Change"], rows)
    for c in (2, 3):
        ws.cell(last, c).number_format = "0%"
    if rows[-1][1] is not None and rows[-1][2] is not None:
        ws.cell(last, 4).value = rows[-1][2] - rows[-1][1]
        ws.cell(last, 4).number_format = "+0%;-0%;0%"
    ws.column_dimensions["A"].width = 34
    for col in "BCD":
        ws.column_dimensions[col].width = 16


def _audit_values(a: Audit, data: ReportData) -> list[Any]:
    return [
        a.month,
        a.audit_id,
        data.tool(a.tool).title,
        a.case_reference,
        a.team,
        a.auditor,
        a.team_manager,
        a.due_date,
        a.state,
        uk_day(a.first_received) if a.first_received else None,
        ("yes" if a.on_time else "no") if a.returned else "",
        a.versions,
        "yes" if a.amended else "",
        a.current_status or ("overdue" if is_overdue(a, data) else "not returned"),
        _overall(a, data),
        "URGENT" if a.concern else "",
    ]


def _overall(a: Audit, data: ReportData) -> str:
    """The overall grade as the workbook shows it: blank or 'awaiting amendment' when
    there is none to count yet."""
    if not a.returned:
        return ""
    return data.label(a.overall) if a.graded else "awaiting amendment"


AUDIT_COLUMNS = [
    "Month", "Audit ID", "Tool", "Case reference", "Team", "Auditor", "Team manager", "Due", "State", "First returned",
    "On time", "Versions", "Needed amendment", "Current return", "Overall grade", "Immediate concern",
]  # fmt: skip


def _data_sheet(wb: Workbook, data: ReportData, audits: Sequence[Audit]) -> None:
    """One row per audit and domain of its own tool, filterable, with the evidence (the
    audit's other details are on the Audits sheet, one row per audit: the same audit id
    joins them)."""
    ws = wb.create_sheet("Data")
    _header(ws, ["Month", "Audit ID", "Tool", "Case reference", "Team", "Auditor", "Overall grade", "Domain",
                 "Grade", "Evidence"], [9, 13, 22, 14, 26, 20, 20, 34, 20, 100])  # fmt: skip
    for a in audits:
        overall = _overall(a, data) or "not returned"
        base = [a.month, a.audit_id, data.tool(a.tool).title, a.case_reference, a.team, a.auditor, overall]
        for d in data.domains_of(a.tool):
            grade = data.label(a.grade(d.id)) if a.graded else ""
            _row(ws, [*base, d.title, grade, a.text(f"domain.{d.id}.evidence") or ""])
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions


def _audits_sheet(wb: Workbook, data: ReportData, audits: Sequence[Audit]) -> None:
    """One row per audit with its overall texts, concern and discussion."""
    ws = wb.create_sheet("Audits")
    _header(ws, [*AUDIT_COLUMNS, "Good practice", "Areas for development", "Concern described",
                 "Team manager notified", "Discussed with worker", "Discussed with manager"],
            [9, 13, 22, 14, 26, 20, 20, 11, 16, 11, 8, 8, 10, 16, 20, 10, 60, 60, 10, 12, 12, 12])  # fmt: skip
    for a in audits:
        _row(
            ws,
            [
                *_audit_values(a, data),
                a.text("overall.good_practice") or "",
                a.text("overall.development") or "",
                ("yes" if a.text("concern.details") else "no") if a.concern else "",
                a.text("concern.notified") or "",
                a.text("discussion.worker_date") or "",
                a.text("discussion.manager_date") or "",
            ],
        )
        for col in (AUDIT_COLUMNS.index("Due") + 1, AUDIT_COLUMNS.index("First returned") + 1):
            ws.cell(ws._current_row, col).number_format = DATE
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions


def _reaudit_sheet(wb: Workbook, data: ReportData, audits: Sequence[Audit]) -> None:
    ws = wb.create_sheet("Inadequate and re-audits")
    rows = []
    for audit in inadequate_cases(data, audits):
        for link in data.chain(audit):
            rows.append([audit.case_reference, link.month, link.audit_id, abbreviation(data, link.overall),
                         *[abbreviation(data, link.grade(d.id)) for d in data.domains]])  # fmt: skip
    _table(ws, ["Case", "Month", "Audit ID", "Overall", *[d.title for d in data.domains]], rows)
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["C"].width = 13


def _key_sheet(wb: Workbook, data: ReportData) -> None:
    """What the grades mean (framework 2.7), with the short codes the tables use."""
    ws = wb.create_sheet("Key")
    _title(ws, "What the grades mean")
    _table(
        ws,
        ["Grade", "Short", "What it means"],
        [[g.label, abbreviation(data, g.id), g.definition] for g in [*data.grades, data.not_applicable]],
    )
    _row(ws, ["Not graded", "–", "No grade given, or the audit is not returned or is awaiting amendment."])
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 8
    ws.column_dimensions["C"].width = 90
    for row in ws.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")


def _other_tools_sheet(wb: Workbook, data: ReportData, stats: Sequence[MonthStats]) -> None:
    """Each other tool's overall grades by month and grades by domain (its own domains,
    those graded), one block under another, each with its chart."""
    if not stats:
        return
    ws = wb.create_sheet("Other tools")
    for tool_id in dict.fromkeys(s.tool for s in stats):
        tool, months = data.tool(tool_id), [s for s in stats if s.tool == tool_id]
        if ws._current_row:
            _row(ws, [])
        _title(ws, tool.title)
        ids = grade_columns(data, [s.overall for s in months])
        top, _ = _table(
            ws,
            ["Month", "Allocated", "Returned", "Awaiting amendment", *[data.label(g) for g in ids]],
            [[month_label(s.month, short=True), s.allocated, s.returned, s.awaiting_amendment,
              *[s.overall.get(g, 0) for g in ids]] for s in months],
        )  # fmt: skip
        _row(ws, [])
        domains: dict[str, Counter[str | None]] = {d.title: Counter() for d in tool.domains}
        for d in tool.domains:
            for s in months:
                domains[d.title].update(s.domains[d.id])
        _grade_matrix(ws, data, "Domain", domains, f"Grades by domain: {tool.title}", f"J{top}")
    ws.column_dimensions["A"].width = 40


def _finish(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def monthly_workbook(data: ReportData, config: Config, month: str) -> bytes:
    s, before = month_stats(data, month), month_stats(data, shift_month(month, -1))
    audits = data.of_month(month)
    wb = Workbook()
    _summary_sheet(wb, data, s, before)
    ws = wb.create_sheet("Domains")
    _grade_matrix(ws, data, "Domain", {d.title: s.domains[d.id] for d in data.domains}, "Grades by domain", "J2")
    ws.column_dimensions["A"].width = 40
    ws = wb.create_sheet("Teams")
    _grade_matrix(ws, data, "Team", s.teams, "Overall grades by team", "J2")
    ws.column_dimensions["A"].width = 34
    _other_tools_sheet(wb, data, [month_stats(data, month, t.id) for t in data.other_tools(audits)])
    _reaudit_sheet(wb, data, audits)
    _audits_sheet(wb, data, audits)
    _data_sheet(wb, data, audits)
    _key_sheet(wb, data)
    return _finish(wb)


def _trend(ws: Worksheet, title: str, what: str, months: Sequence[str], rows: dict[str, list[float | None]],
           anchor: str) -> None:  # fmt: skip
    """Rows × months of shares (0–1), and a line chart with one line per row."""
    _title(ws, title)
    top, last = _table(ws, [what, *[month_label(m, short=True) for m in months]], [[k, *v] for k, v in rows.items()])
    for r in range(top + 1, last + 1):
        for c in range(2, 2 + len(months)):
            ws.cell(r, c).number_format = "0%"
    if not rows:
        return
    chart = LineChart()
    chart.title = title
    chart.y_axis.title = "Good or better"
    chart.y_axis.number_format = "0%"
    # one series per row: the data runs along rows
    chart.add_data(Reference(ws, min_col=1, max_col=1 + len(months), min_row=top + 1, max_row=last),
                   from_rows=True, titles_from_data=True)  # fmt: skip
    chart.set_categories(Reference(ws, min_col=2, max_col=1 + len(months), min_row=top, max_row=top))
    chart.width, chart.height = 20, 10
    ws.add_chart(chart, anchor)


def trend_rows(data: ReportData, stats: Sequence[MonthStats], of: str) -> dict[str, list[float | None]]:
    """Share Good or better per month, per domain (``of`` 'domain') or team ('team')."""

    def pct(c: Counter[str | None]) -> float | None:
        good, graded = good_or_better(c, data)
        return good / graded if graded else None

    if of == "domain":
        rows = {d.title: [pct(s.domains[d.id]) for s in stats] for d in data.domains_of(stats[0].tool)} if stats else {}
    else:
        teams = sorted({t for s in stats for t in s.teams})
        rows = {t: [pct(s.teams.get(t, Counter())) for s in stats] for t in teams}
    return {name: values for name, values in rows.items() if any(v is not None for v in values)}


def quarterly_workbook(data: ReportData, config: Config, quarter: str) -> bytes:
    stats = [month_stats(data, m) for m in data.months]
    wb = Workbook()
    ws = first_sheet(wb, "Returns by month")
    _title(ws, f"Audits by month, {quarter}")
    top, last = _table(
        ws,
        ["Month", *[label for _, label in RETURN_FIGURES]],
        [[month_label(s.month, short=True), *[s.figure(k) for k, _ in RETURN_FIGURES]] for s in stats],
    )
    _bar(ws, "Audits allocated and returned by month", top, last, len(RETURN_FIGURES), "H2")
    _row(ws, [])
    ids = grade_columns(data, [s.overall for s in stats])
    top, last = _table(
        ws,
        ["Month", *[data.label(g) for g in ids]],
        [[month_label(s.month, short=True), *[s.overall.get(g, 0) for g in ids]] for s in stats],
    )
    _bar(ws, "Overall grades by month", top, last, len(ids), "H22")
    ws.column_dimensions["A"].width = 14
    ws = wb.create_sheet("Domain trends")
    _trend(ws, "Good or better by domain", "Domain", data.months, trend_rows(data, stats, "domain"), "F2")
    ws.column_dimensions["A"].width = 40
    ws = wb.create_sheet("Team trends")
    _trend(ws, "Good or better by team", "Team", data.months, trend_rows(data, stats, "team"), "F2")
    ws.column_dimensions["A"].width = 34
    _other_tools_sheet(
        wb, data, [month_stats(data, m, t.id) for t in data.other_tools(data.audits) for m in data.months]
    )
    _reaudit_sheet(wb, data, data.audits)
    _audits_sheet(wb, data, data.audits)
    _data_sheet(wb, data, data.audits)
    _key_sheet(wb, data)
    return _finish(wb)
