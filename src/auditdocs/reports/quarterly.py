"""The quarterly audit report for the leadership team: trends across the quarter's
months, overall, per domain and per team, with the quarter's Inadequate cases and
concerns (framework section 8).  Trends are the case file audits'; each other tool
used in the quarter has a section of its own."""

from __future__ import annotations

from collections import Counter

from auditdocs.config import Config
from auditdocs.dates import month_label
from auditdocs.reports.bulletin import themes_table
from auditdocs.reports.content import Block, Document, Heading, Para, Table, uk
from auditdocs.reports.data import ReportData
from auditdocs.reports.excel import trend_rows
from auditdocs.reports.sections import (
    awaiting_note,
    by_month_chart,
    concerns_section,
    distribution,
    domain_concern_rows,
    grade_columns,
    grade_definitions,
    overdue_section,
    reaudit_section,
    stacked_chart,
    trend_chart,
)
from auditdocs.reports.stats import RETURN_FIGURES, MonthStats, good_or_better, quarter_stats, share


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{round(100 * value)}%"


def _trend_blocks(
    data: ReportData, stats: list[MonthStats], title: str, what: str, rows: dict[str, list[float | None]]
) -> list[Block]:
    months = [month_label(s.month, short=True) for s in stats]
    series = [(name, [None if v is None else 100 * v for v in values]) for name, values in rows.items()]
    return [
        Heading(title, 2),
        trend_chart(title, months, series, title),
        Table([what, *months], [[name, *[_pct(v) for v in values]] for name, values in rows.items()], caption=title),
    ]


def _tool_blocks(data: ReportData, tool_id: str, stats: list[MonthStats]) -> list[Block]:
    """Another tool's quarter: returns and overall grades by month, its domains' grades
    over the quarter."""
    tool = data.tool(tool_id)
    months = [month_label(s.month, short=True) for s in stats]
    ids = grade_columns(data, [s.overall for s in stats])
    domains: dict[str, Counter[str | None]] = {}
    for d in tool.domains:
        domains[d.title] = Counter()
        for s in stats:
            domains[d.title].update(s.domains[d.id])
    waiting = sum(s.awaiting_amendment for s in stats)
    return [
        Heading(tool.title),
        Table(
            ["Month", "Allocated", "Returned", *[data.label(g) for g in ids], "Good or better"],
            [
                [
                    m,
                    str(s.allocated),
                    str(s.returned),
                    *[str(s.overall.get(g, 0)) for g in ids],
                    share(*good_or_better(s.overall, data)),
                ]
                for m, s in zip(months, stats, strict=True)
            ],
            caption=f"{tool.title}: audits and overall grades by month",
        ),
        *([Para(awaiting_note(waiting), "note")] if waiting else []),
        *distribution(data, f"Grades by domain: {tool.title}", "Domain", domains),
    ]


def quarterly_document(data: ReportData, config: Config, quarter: str) -> Document:
    quarter_figures = quarter_stats(data)
    stats, period, total = quarter_figures.months, quarter_figures.period, quarter_figures.overall
    months = [month_label(s.month, short=True) for s in stats]
    doc = Document(
        kind="quarterly",
        title=f"Quarterly Audit Report: {quarter}",
        subtitle=f"Audits allocated {period}; figures as at {uk(data.as_of)}",
        period=period,
        organisation=data.organisation,
        service=data.service,
    )
    good, graded = good_or_better(total, data)
    allocated, returned = sum(s.allocated for s in stats), sum(s.returned for s in stats)
    firsts = [good_or_better(s.overall, data) for s in stats]
    trend = " → ".join(share(*g) for g in firsts)
    others = {t.id: quarter_stats(data, t.id) for t in data.other_tools(data.audits)}
    noun = "case file audits" if others else "audits"
    concerns = sum(s.concerns for q in [quarter_figures, *others.values()] for s in q.months)
    doc.add(
        Heading("Highlights"),
        Para(f"{allocated} {noun} allocated and {returned} returned ({share(returned, allocated)}).", "bullet"),
        Para(f"{good} of {graded} graded {noun} ({share(good, graded)}) were Good or better overall.", "bullet"),
        Para(f"Good or better by month: {trend}.", "bullet"),
        Para(
            f"{total.get(data.worst.id, 0)} {noun} judged {data.worst.label}; {concerns} immediate safeguarding "
            "concerns.",
            "bullet",
        ),
    )
    if others:
        doc.add(
            Para(
                "Also this quarter: "
                + "; ".join(
                    f"{data.tool(t).title}: {sum(s.allocated for s in q.months)} allocated, "
                    f"{sum(s.returned for s in q.months)} returned"
                    for t, q in others.items()
                )
                + ". Each has its own section; grades of different tools are never added together.",
                "bullet",
            )
        )
    title = "Audits allocated and returned by month"
    doc.add(
        Heading(title),
        by_month_chart(
            title,
            [label for _, label in RETURN_FIGURES],
            [(m, [s.figure(k) for k, _ in RETURN_FIGURES]) for m, s in zip(months, stats, strict=True)],
            title,
        ),
        Table(
            ["Month", *[label for _, label in RETURN_FIGURES]],
            [[m, *[str(s.figure(k)) for k, _ in RETURN_FIGURES]] for m, s in zip(months, stats, strict=True)],
            caption=title,
        ),
    )
    ids = grade_columns(data, [s.overall for s in stats])
    title = "Overall grades by month"
    doc.add(
        Heading(title),
        *grade_definitions(data),
        stacked_chart(data, title, "month", {m: s.overall for m, s in zip(months, stats, strict=True)}, ids, title),
        Table(
            ["Month", *[data.label(g) for g in ids], "Good or better"],
            [
                [m, *[str(s.overall.get(g, 0)) for g in ids], share(*good_or_better(s.overall, data))]
                for m, s in zip(months, stats, strict=True)
            ],
            caption=title,
        ),
    )
    waiting = sum(s.awaiting_amendment for s in stats)
    if waiting:
        doc.add(Para(awaiting_note(waiting), "note"))
    doc.add(Heading("Trends"))
    doc.add(*_trend_blocks(data, stats, "Good or better by domain", "Domain", trend_rows(data, stats, "domain")))
    doc.add(*_trend_blocks(data, stats, "Good or better by team", "Team", trend_rows(data, stats, "team")))
    doc.add(
        Heading("Domains most often below Good", 2),
        Table(
            ["Domain", "Below Good", "Graded", "Share"],
            [[t, str(n), str(g), share(n, g)] for t, n, g in domain_concern_rows(data, stats)],
            caption="Domains graded Requires Improvement or Inadequate in the quarter",
        ),
    )
    for tool_id, q in others.items():
        doc.add(*_tool_blocks(data, tool_id, q.months))
    doc.add(*reaudit_section(data, data.audits))
    doc.add(*concerns_section(data, data.audits))
    doc.add(*overdue_section(data, data.audits))
    doc.add(
        Heading("Learning themes"),
        Para(
            "The phrases auditors used most often, counted once per audit; the learning bulletin shares them "
            "with staff, with quotes.",
            "text",
        ),
        *themes_table(data, "good"),
        *themes_table(data, "development"),
    )
    return doc
