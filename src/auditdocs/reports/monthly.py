"""The monthly Audit Highlights Report: what it says, as blocks (see ``content.py``).

The headline figures and grades are the case file audits' (the tool named in config
``allocation.tool``); thematic audits, case discussions, supervision audits and staff
observations of the month each have a section of their own.
"""

from __future__ import annotations

from auditdocs.config import Config, Settings
from auditdocs.dates import month_label, shift_month
from auditdocs.reports.content import Block, Document, Heading, Para, Table, uk
from auditdocs.reports.data import ReportData
from auditdocs.reports.sections import (
    concerns_section,
    discussion_due,
    discussions_section,
    grades_section,
    inadequate_cases,
    overdue_section,
    quotes,
    reaudit_section,
    returns_section,
    tool_section,
    tools_section,
)
from auditdocs.reports.stats import MonthStats, good_or_better, month_stats, share


def n(count: int, noun: str) -> str:
    """'1 audit', '2 audits'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def headline(data: ReportData, s: MonthStats, settings: Settings) -> list[Block]:
    """The month in a few lines: the case file audits' figures and grades, then every
    tool's concerns and overdue work."""
    good, graded = good_or_better(s.overall, data)
    audits = data.of_month(s.month)
    cases = inadequate_cases(data, audits)
    others = [month_stats(data, s.month, t.id) for t in data.other_tools(audits)]
    overdue = s.overdue + sum(o.overdue for o in others)
    concerns = s.concerns + sum(o.concerns for o in others)
    missing = sum(
        1
        for a in audits
        if a.accepted and not a.discussed and (due := discussion_due(a, settings)) and due < data.as_of
    )
    reaudits = sum(1 for a in cases if a.reaudit_of)
    noun = "case file audit" if others else "audit"
    lines = [
        f"{n(s.allocated, noun)} allocated; {s.returned} returned ({share(s.returned, s.allocated)}): "
        f"{s.on_time} on time and {s.late} late; {s.amended} needed amendment.",
        f"{good} of {n(graded, 'graded ' + noun)} ({share(good, graded)}) were Good or better overall.",
        f"{s.overall.get(data.worst.id, 0)} judged {data.worst.label}; {n(reaudits, 're-audit')} returned.",
    ]
    if others:
        lines.append(
            "Also this month: "
            + "; ".join(f"{data.tool(o.tool).title}: {o.allocated} allocated, {o.returned} returned" for o in others)
            + "."
        )
    lines += [
        f"{n(concerns, 'immediate safeguarding concern')} raised.",
        f"{n(overdue, 'audit')} and {n(missing, 'practitioner discussion')} overdue at {uk(data.as_of)}.",
    ]
    return [Heading("Highlights"), *[Para(line, "bullet") for line in lines]]


def change_section(data: ReportData, now: MonthStats, before: MonthStats) -> list[Block]:
    def pct(s: MonthStats, part: int, whole: int) -> str:
        return share(part, whole)

    def row(label: str, a: int | str, b: int | str, delta: str) -> list[str]:
        return [label, str(b), str(a), delta]

    def diff(a: int, b: int) -> str:
        return f"{a - b:+d}" if before.allocated else "–"

    def pdiff(a: tuple[int, int], b: tuple[int, int]) -> str:
        if not a[1] or not b[1]:
            return "–"
        return f"{round(100 * a[0] / a[1]) - round(100 * b[0] / b[1]):+d} points"

    rows = []
    for key, label in (
        ("allocated", "Allocated"),
        ("returned", "Returned"),
        ("on_time", "On time"),
        ("late", "Late"),
        ("amended", "Needed amendment"),
        ("concerns", "Immediate safeguarding concerns"),
    ):
        rows.append(row(label, now.figure(key), before.figure(key), diff(now.figure(key), before.figure(key))))
    worst_now, worst_before = now.overall.get(data.worst.id, 0), before.overall.get(data.worst.id, 0)
    rows.append(row(f"Judged {data.worst.label}", worst_now, worst_before, diff(worst_now, worst_before)))
    g_now, g_before = good_or_better(now.overall, data), good_or_better(before.overall, data)
    rows.append(row("Good or better overall", pct(now, *g_now), pct(before, *g_before), pdiff(g_now, g_before)))
    for d in data.domains:
        a, b = good_or_better(now.domains[d.id], data), good_or_better(before.domains[d.id], data)
        rows.append(row(f"Good or better: {d.title}", share(*a), share(*b), pdiff(a, b)))
    return [
        Heading("Change since last month"),
        Table(
            ["Measure", month_label(before.month), month_label(now.month), "Change"],
            rows,
            caption="Change since last month",
        ),
    ]


def monthly_document(data: ReportData, config: Config, month: str) -> Document:
    s = month_stats(data, month)
    before = month_stats(data, shift_month(month, -1))
    audits = data.of_month(month)
    settings = config.settings
    doc = Document(
        kind="monthly",
        title=f"Audit Highlights Report: {month_label(month)}",
        subtitle=f"Audits allocated in {month_label(month)}; figures as at {uk(data.as_of)}",
        period=month_label(month),
        organisation=data.organisation,
        service=data.service,
    )
    doc.add(*headline(data, s, settings))
    doc.add(*tools_section(data, month, audits))
    doc.add(*returns_section(data, s))
    doc.add(*grades_section(data, s))
    for tool in data.other_tools(audits):
        doc.add(*tool_section(data, month_stats(data, month, tool.id)))
    doc.add(*reaudit_section(data, audits))
    doc.add(*concerns_section(data, audits))
    doc.add(*overdue_section(data, audits))
    doc.add(*discussions_section(data, audits, settings))
    doc.add(Heading("Good practice"), *quotes(data, audits, "good"))
    doc.add(Heading("Areas for development"), *quotes(data, audits, "development"))
    doc.add(*change_section(data, s, before))
    return doc
