"""The quarterly audit report for the leadership team: trends across the quarter's
months, overall, per domain and per team, with the quarter's Inadequate cases and
concerns (framework section 8)."""

from __future__ import annotations

from auditdocs.config import Config
from auditdocs.dates import month_label
from auditdocs.reports import charts
from auditdocs.reports.bulletin import themes_table
from auditdocs.reports.content import Block, Chart, Document, Heading, Para, Table, uk
from auditdocs.reports.data import ReportData
from auditdocs.reports.excel import trend_rows
from auditdocs.reports.sections import (
    concerns_section,
    domain_concern_rows,
    grade_columns,
    overdue_section,
    reaudit_section,
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
        Chart(title, charts.lines(months, series, title, "Good or better (%)", percent=True), title),
        Table([what, *months], [[name, *[_pct(v) for v in values]] for name, values in rows.items()], caption=title),
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
    doc.add(
        Heading("Highlights"),
        Para(f"{allocated} audits allocated and {returned} returned ({share(returned, allocated)}).", "bullet"),
        Para(f"{good} of {graded} graded audits ({share(good, graded)}) were Good or better overall.", "bullet"),
        Para(f"Good or better by month: {trend}.", "bullet"),
        Para(
            f"{total.get(data.worst.id, 0)} audits judged {data.worst.label}; "
            f"{sum(s.concerns for s in stats)} immediate safeguarding concerns.",
            "bullet",
        ),
    )
    title = "Audits allocated and returned by month"
    doc.add(
        Heading(title),
        Chart(
            title,
            charts.grouped(
                [label for _, label in RETURN_FIGURES],
                [(m, [s.figure(k) for k, _ in RETURN_FIGURES]) for m, s in zip(months, stats, strict=True)],
                title,
            ),
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
        Chart(
            title,
            charts.stacked(months, [(data.label(g), [s.overall.get(g, 0) for s in stats]) for g in ids], title),
            title,
        ),
        Table(
            ["Month", *[data.label(g) for g in ids], "Good or better"],
            [
                [m, *[str(s.overall.get(g, 0)) for g in ids], share(*good_or_better(s.overall, data))]
                for m, s in zip(months, stats, strict=True)
            ],
            caption=title,
        ),
    )
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
