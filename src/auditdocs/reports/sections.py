"""Sections shared by the monthly and quarterly reports: tables and charts of returns,
grades (the case file audits' as the headline, each other tool's in a section of its
own), what the grades mean, Inadequate cases and their re-audits, concerns, overdue
work, quotes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from auditdocs import dates
from auditdocs.config.models import Settings
from auditdocs.dates import month_label, uk_day
from auditdocs.reports import charts
from auditdocs.reports.content import Block, Chart, Heading, Para, Table, clean, quote_of, uk
from auditdocs.reports.data import Audit, ReportData
from auditdocs.reports.stats import (
    RETURN_FIGURES,
    MonthStats,
    amendment_overdue,
    below_good,
    good_or_better,
    is_overdue,
    month_stats,
    share,
)

MAX_QUOTES = 12


def abbreviation(data: ReportData, grade_id: str | None) -> str:
    """A short code for a grade ('Requires Improvement' → 'RI'), for wide tables."""
    if grade_id is None:
        return "–"
    key = ("abbreviation", grade_id)
    found = data.cache.get(key)
    if found is None:
        label = data.label(grade_id)
        found = data.cache[key] = "".join(w[0] for w in label.split() if w[0].isalnum()).upper() or label
    return str(found)


def grade_key(data: ReportData) -> str:
    return (
        "Key: "
        + ", ".join(f"{abbreviation(data, g.id)} {g.label}" for g in [*data.grades, data.not_applicable])
        + ", – not graded."
    )


def grade_definitions(data: ReportData) -> list[Block]:
    """The key to the grades: each grade's short code and what it means (framework 2.7,
    config ``grading.grades[].definition``)."""
    rows = [[g.label, abbreviation(data, g.id), clean(g.definition)] for g in [*data.grades, data.not_applicable]]
    return [Table(["Grade", "Short", "What it means"], rows, caption="What the grades mean")]


def grade_columns(data: ReportData, counts: Sequence[Counter[str | None]]) -> list[str | None]:
    """Grades in scale order, then Not applicable and 'not graded' if any audit has them."""
    ids: list[str | None] = [g.id for g in data.grades]
    if any(c.get(data.not_applicable.id) for c in counts):
        ids.append(data.not_applicable.id)
    if any(c.get(None) for c in counts):
        ids.append(None)
    return ids


def grade_fills(data: ReportData, ids: Sequence[str | None]) -> tuple[list[str], list[str]]:
    """The chart colour and hatch of each grade of ``ids`` (grades by their place in the
    scale, then Not applicable and not graded), the same in every chart and workbook."""
    palette = charts.grade_palette(len(data.grades))
    place = {g.id: n for n, g in enumerate(data.grades)}
    colours, hatches = [], []
    for g in ids:
        if g in place:
            colour, hatch = palette[place[g]]
        else:
            colour, hatch = (charts.NOT_GRADED_COLOUR if g is None else charts.NOT_APPLICABLE_COLOUR), ""
        colours.append(colour)
        hatches.append(hatch)
    return colours, hatches


# --- what each chart shows, in words (its alternative text) ------------------------------
# A chart's alternative text states its main figures, or the figures a reader looks for
# and where the rest are: never its title alone, which the caption repeats (issue 17).


def counts_alt(title: str, pairs: Sequence[tuple[str, int]], noun: str = "audits") -> str:
    """'Overall grades, November 2026, 9 audits: Outstanding 1, Good 4, Requires
    Improvement 3, Inadequate 1.'"""
    total = sum(n for _, n in pairs)
    return f"{title}, {total} {noun}: " + ", ".join(f"{label} {n}" for label, n in pairs) + "."


def figures_alt(title: str, pairs: Sequence[tuple[str, int]]) -> str:
    """'Audits allocated and returned, November 2026: Allocated 10, Returned 9, ...'"""
    return f"{title}: " + ", ".join(f"{label} {n}" for label, n in pairs) + "."


def grades_alt(data: ReportData, title: str, what: str, rows: dict[str, Counter[str | None]], caption: str) -> str:
    """A stacked bar chart of grades: each bar's share Good or better, and where every
    count is."""
    parts = []
    for name, counts in rows.items():
        good, graded = good_or_better(counts, data)
        parts.append(f"{name} {good} of {graded}" if graded else f"{name} none graded")
    return (
        f"{title}: a bar per {what.lower()}, split by grade. Good or better: " + "; ".join(parts)
        + f". Every count is in the table “{caption}”."
    )  # fmt: skip


def trend_alt(title: str, months: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
              caption: str) -> str:  # fmt: skip
    """A line chart of shares by month: each line from its first month to its last."""

    def pct(v: float | None) -> str:
        return "–" if v is None else f"{round(v)}%"

    span = f"{months[0]} to {months[-1]}" if months else ""
    lines = "; ".join(f"{name} {pct(values[0])} to {pct(values[-1])}" for name, values in series if values)
    return f"{title}, {span}, a line each: {lines or 'no data'}. Each month's share is in the table “{caption}”."


def by_month_alt(title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
                 caption: str) -> str:  # fmt: skip
    """A grouped bar chart of figures by month: each month's first two figures."""
    shown = categories[:2]
    parts = [
        f"{month}: " + ", ".join(f"{label.lower()} {v}" for label, v in zip(shown, values, strict=False))
        for month, values in series
    ]
    return f"{title}. " + "; ".join(parts) + f". Every figure is in the table “{caption}”."


def pie_chart(data: ReportData, title: str, counts: Counter[str | None], ids: Sequence[str | None]) -> Chart:
    """The overall grades as a pie chart, with its figures as its alternative text."""
    pairs = [(data.label(g), counts.get(g, 0)) for g in ids]
    colours, hatches = grade_fills(data, ids)
    png = charts.pie([p[0] for p in pairs], [p[1] for p in pairs], title, colours, hatches)
    return Chart(title, png, counts_alt(title, pairs))


def stacked_chart(data: ReportData, title: str, what: str, rows: dict[str, Counter[str | None]],
                  ids: Sequence[str | None], caption: str) -> Chart:  # fmt: skip
    """Grade counts as stacked bars, a bar per row (a domain, team or month)."""
    series = [(data.label(g), [c.get(g, 0) for c in rows.values()]) for g in ids]
    colours, hatches = grade_fills(data, ids)
    png = charts.stacked(list(rows), series, title, colours, hatches)
    return Chart(title, png, grades_alt(data, title, what, rows, caption))


def trend_chart(title: str, months: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]],
                caption: str) -> Chart:  # fmt: skip
    """Shares Good or better (0–100) by month, a line per domain or team."""
    png = charts.lines(months, series, title, "Good or better (%)", percent=True)
    return Chart(title, png, trend_alt(title, months, series, caption))


def by_month_chart(title: str, categories: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
                   caption: str) -> Chart:  # fmt: skip
    """Figures (allocated, returned...) as grouped bars, a group per figure, a bar per month."""
    return Chart(title, charts.grouped(categories, series, title), by_month_alt(title, categories, series, caption))


def tools_section(data: ReportData, month: str, audits: Sequence[Audit]) -> list[Block]:
    """The month's audits by tool, when more than one tool was used (none otherwise)."""
    others = data.other_tools(audits)
    if not others:
        return []
    rows = []
    for tool in [data.main_tool, *others]:
        s = month_stats(data, month, tool.id)
        rows.append(
            [tool.title, str(s.allocated), str(s.returned), str(s.awaiting_amendment), str(s.counted),
             str(s.overdue)]
        )  # fmt: skip
    return [
        Heading("Audits by tool"),
        Para(
            f"The headline figures and grades are those of the {data.main_tool.title}; each other tool has "
            "its own section, and grades of different tools are never added together."
        ),
        Table(
            ["Tool", "Allocated", "Returned", "Awaiting amendment", "Graded", f"Overdue at {uk(data.as_of)}"],
            rows,
            caption="Audits by tool",
        ),
    ]


def returns_section(data: ReportData, s: MonthStats) -> list[Block]:
    values = [s.figure(key) for key, _ in RETURN_FIGURES]
    rows = [[label, str(s.figure(key)), share(s.figure(key), s.allocated)] for key, label in RETURN_FIGURES]
    rows += [
        ["Not returned", str(s.allocated - s.returned), share(s.allocated - s.returned, s.allocated)],
        ["Awaiting amendment", str(s.awaiting_amendment), share(s.awaiting_amendment, s.allocated)],
        [f"Overdue at {uk(data.as_of)}", str(s.overdue), share(s.overdue, s.allocated)],
    ]
    title = f"Audits allocated and returned, {month_label(s.month)}"
    return [
        Heading("Audits allocated and returned"),
        Para(
            "On time: the first return came by the due date. Late: it came after. Needed amendment: "
            "sent back to the auditor at least once. Overdue: not yet returned and past the due date."
        ),
        Chart(
            title,
            charts.bars([label for _, label in RETURN_FIGURES], values, title),
            figures_alt(title, [(label, v) for (_, label), v in zip(RETURN_FIGURES, values, strict=True)]),
        ),
        Table(["Audits", "Number", "Share of allocated"], rows, caption="Returns"),
    ]


def awaiting_note(waiting: int) -> str:
    """Why audits sent back for amendment are missing from the grades ('' if none are)."""
    if not waiting:
        return ""
    are = "is" if waiting == 1 else "are"
    return (
        f"{waiting} returned audit{'' if waiting == 1 else 's'} {are} awaiting amendment and not counted "
        "until the amended copy is accepted."
    )


def grades_section(data: ReportData, s: MonthStats) -> list[Block]:
    """The grades of one tool's audits in a month: overall (chart and table), by domain
    (its own domains, those graded) and, for the main tool, by team."""
    main = s.tool == data.reaudit_tool
    tool = data.tool(s.tool)
    blocks: list[Block] = [Heading("Grades")] if main else []
    good, graded = good_or_better(s.overall, data)
    blocks.append(
        Para(
            f"{good} of {graded} graded audits ({share(good, graded)}) were judged Good or better overall; "
            f"{s.overall.get(data.worst.id, 0)} were {data.worst.label}. {awaiting_note(s.awaiting_amendment)}".rstrip()
        )
    )
    if main:
        blocks.extend(grade_definitions(data))
    ids = grade_columns(data, [s.overall])
    title = f"Overall grades, {month_label(s.month)}" + ("" if main else f": {tool.title}")
    if main or s.counted:
        blocks.append(pie_chart(data, title, s.overall, ids))
    blocks.append(
        Table(
            ["Overall grade", "Audits", "Share"],
            [[data.label(g), str(s.overall.get(g, 0)), share(s.overall.get(g, 0), s.counted)] for g in ids],
            caption="Overall grades of returned audits" + ("" if main else f": {tool.title}"),
        )
    )
    by_domain = {d.title: s.domains[d.id] for d in tool.domains}
    suffix = "" if main else f": {tool.title}"
    blocks.extend(distribution(data, f"Grades by domain{suffix}", "Domain", by_domain))
    if main:
        blocks.extend(distribution(data, "Overall grades by team", "Team", s.teams))
    return blocks


def tool_section(data: ReportData, s: MonthStats) -> list[Block]:
    """Another tool's audits of the month (a thematic audit, a case discussion, a
    supervision audit, a staff observation): its returns and its own grades."""
    tool = data.tool(s.tool)
    return [
        Heading(tool.title),
        Para(
            f"{s.allocated} allocated; {s.returned} returned ({share(s.returned, s.allocated)}): {s.on_time} on "
            f"time and {s.late} late; {s.amended} needed amendment; {s.overdue} overdue at {uk(data.as_of)}."
        ),
        *grades_section(data, s),
    ]


def distribution(data: ReportData, title: str, what: str, rows: dict[str, Counter[str | None]]) -> list[Block]:
    """A stacked bar chart and a table of grade counts, one row per domain or team with
    any grade counted (a domain nobody graded has no row)."""
    rows = {name: counts for name, counts in rows.items() if sum(counts.values())}
    if not rows:
        return [Heading(title, 2), Para("No audit graded yet.", "note")]
    ids = grade_columns(data, list(rows.values()))
    table_rows = []
    for name, counts in rows.items():
        good, graded = good_or_better(counts, data)
        table_rows.append([name, *[str(counts.get(g, 0)) for g in ids], share(good, graded)])
    return [
        Heading(title, 2),
        stacked_chart(data, title, what, rows, ids, title),
        Table([what, *[data.label(g) for g in ids], "Good or better"], table_rows, caption=title),
    ]


def inadequate_cases(data: ReportData, audits: Sequence[Audit]) -> list[Audit]:
    """Audits that call for a re-audit (case file audits judged Inadequate overall: a
    supervision audit or a thematic audit is not re-audited), and every re-audit whatever
    its grade."""
    return [
        a
        for a in audits
        if a.returned and (a.reaudit_of or (a.tool == data.reaudit_tool and a.overall in data.reaudit_grades))
    ]


def reaudit_section(data: ReportData, audits: Sequence[Audit]) -> list[Block]:
    cases = inadequate_cases(data, audits)
    blocks: list[Block] = [
        Heading(f"{data.worst.label} cases and their re-audits"),
        Para(
            f"Cases judged {data.worst.label} are re-audited the following month by a senior manager, "
            "and again each month until the grade improves. Each row is one audit of the case."
        ),
    ]
    if not data.reaudit_links:
        blocks.append(
            Para(
                "The store does not yet link re-audits to the audits they follow, so only this "
                "period's grades are shown.",
                "note",
            )
        )
    rows = []
    chains = [data.chain(audit) for audit in cases]
    # a chain that a later re-audit continues is shown once, as part of the longer chain
    continued = {link.audit_id for chain in chains for link in chain[:-1]}
    for chain in chains:
        if chain[-1].audit_id in continued:
            continue
        audit = chain[-1]
        for step, link in enumerate(chain, 1):
            rows.append(
                [
                    clean(audit.case_reference),
                    month_label(link.month, short=True),
                    "first audit" if step == 1 else f"re-audit {step - 1}",
                    abbreviation(data, link.overall),
                    *[abbreviation(data, link.grade(d.id)) for d in data.domains],
                ]
            )
    blocks.append(
        Table(
            ["Case", "Month", "Audit", "Overall", *[d.title for d in data.domains]],
            rows,
            caption=f"{data.worst.label} cases and re-audits: grade per domain per month",
            empty=f"No case was judged {data.worst.label} and no re-audit was returned.",
        )
    )
    blocks.append(Para(grade_key(data), "note"))
    return blocks


def concerns_section(data: ReportData, audits: Sequence[Audit]) -> list[Block]:
    rows = []
    for a in audits:
        if not a.concern:
            continue
        notified = a.values.get("concern.notified")
        details = a.text("concern.details") is not None
        follow_up = (
            "Team manager notified"
            if notified and details
            else "Follow up: " + ("concern not described" if not details else "no date the team manager was told")
        )
        rows.append(
            [
                clean(a.case_reference),
                month_label(a.month, short=True),
                clean(a.team),
                clean(a.team_manager),
                clean(a.auditor),
                "Yes" if details else "No",
                uk(_date(notified), "not recorded"),
                follow_up,
            ]
        )
    return [
        Heading("Immediate safeguarding concerns"),
        Para(
            "Concerns flagged by auditors during the audit. The team manager must act at once and record "
            "the corrective action on the child's file under Management Oversight."
        ),
        Table(
            ["Case", "Month", "Team", "Team manager", "Auditor", "Concern described", "Manager notified", "Follow-up"],
            rows,
            caption="Immediate safeguarding concerns",
            empty="No immediate safeguarding concern was raised.",
        ),
    ]


def overdue_section(data: ReportData, audits: Sequence[Audit]) -> list[Block]:
    late = [a for a in audits if is_overdue(a, data)]
    amend = [a for a in audits if amendment_overdue(a, data)]
    rows = [
        [a.audit_id, clean(a.case_reference), clean(a.team), clean(a.auditor), uk(a.due_date),
         str((data.as_of - a.due_date).days), a.state]
        for a in sorted(late, key=lambda a: (a.due_date, a.audit_id))
    ]  # fmt: skip
    amend_rows = [
        [a.audit_id, clean(a.case_reference), clean(a.team), clean(a.auditor), uk(a.resubmit_by)]
        for a in sorted(amend, key=lambda a: (a.resubmit_by or a.due_date, a.audit_id))
    ]
    return [
        Heading("Overdue audits"),
        Para(f"Audits not returned by their due date, as at {uk(data.as_of)}."),
        Table(
            ["Audit", "Case", "Team", "Auditor", "Due", "Days overdue", "State"],
            rows,
            caption="Overdue audits",
            empty="No audit is overdue.",
        ),
        Heading("Amendments overdue", 2),
        Table(
            ["Audit", "Case", "Team", "Auditor", "Amended copy due"],
            amend_rows,
            caption="Amendments overdue",
            empty="No amended audit is overdue.",
        ),
    ]


def _date(value: object) -> date | None:
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def discussion_due(a: Audit, settings: Settings) -> date | None:
    """When the practitioner discussion of an accepted audit is due: the one rule
    (``dates.discussion_due``, from the day it was accepted) send and chase use."""
    return dates.discussion_due(settings, a.overall, uk_day(a.accepted_at)) if a.accepted_at else None


def discussions_section(data: ReportData, audits: Sequence[Audit], settings: Settings) -> list[Block]:
    """Accepted audits whose practitioner discussion is not yet recorded (the team manager
    returns the improvement plan with the date of the discussion)."""
    working_days = dict(settings.deadlines.discussion_working_days)
    rows = []
    for a in audits:
        if not a.accepted or a.discussed:
            continue
        due = discussion_due(a, settings)
        overdue = "overdue" if due is not None and due < data.as_of else "not yet due"
        rows.append(
            [clean(a.case_reference), clean(a.team), clean(a.team_manager), data.label(a.overall), uk(due), overdue]
        )
    return [
        Heading("Practitioner discussions"),
        Para(
            "Once an audit is accepted, the team manager discusses the findings and the improvement plan with "
            "the worker within "
            + ", ".join(f"{n} working days ({data.label(g)})" for g, n in working_days.items())
            + ", and returns the plan with the date of the discussion. Accepted audits without one recorded:"
        ),
        Table(
            ["Case", "Team", "Team manager", "Overall", "Due by", f"At {uk(data.as_of)}"],
            rows,
            caption="Practitioner discussions not recorded",
            empty="Every accepted audit's practitioner discussion is recorded.",
        ),
    ]


def quotes(data: ReportData, audits: Sequence[Audit], kind: str, limit: int = MAX_QUOTES) -> list[Block]:
    """Good practice (kind 'good') or areas for development ('development'): short quotes
    from the overall texts and from the evidence of the best or worst graded domains."""
    best, worst = data.grades[0].id, data.worst.id
    picked: list[tuple[int, str, Audit, str]] = []  # (0 overall text / 1 domain evidence, ...)
    for a in audits:
        if not a.graded:
            continue
        domains = data.domains_of(a.tool)
        if kind == "good":
            texts = [("Overall", a.text("overall.good_practice"))]
            texts += [(d.title, a.text(f"domain.{d.id}.evidence")) for d in domains if a.grade(d.id) == best]
        else:
            texts = [("Overall", a.text("overall.development"))]
            texts += [(d.title, a.text(f"domain.{d.id}.evidence")) for d in domains if a.grade(d.id) == worst]
        for n, (where, text) in enumerate(texts):
            if text and len(text.split()) >= 3:
                picked.append((0 if n == 0 else 1, where, a, text))
                break
    picked.sort(key=lambda p: (p[0], p[2].month, p[2].audit_id))
    # The same words from several audits are quoted once, with every case they came from.
    grouped: dict[str, list[tuple[str, Audit]]] = {}
    for _, where, a, text in picked:
        grouped.setdefault(quote_of(a, text), []).append((where, a))
    blocks: list[Block] = []
    for quote, sources in list(grouped.items())[:limit]:
        refs = "; ".join(f"{clean(a.case_reference)}, {clean(a.team)}, {where}" for where, a in sources[:4])
        more = f"; and {len(sources) - 4} more" if len(sources) > 4 else ""
        blocks.append(Para(f"{quote} ({refs}{more})", "quote"))
    if not blocks:
        blocks.append(Para("None recorded.", "note"))
    elif len(grouped) > limit:
        blocks.append(Para(f"{limit} of {len(grouped)} shown; the workbook lists them all.", "note"))
    return blocks


def domain_concern_rows(data: ReportData, stats: Sequence[MonthStats]) -> list[tuple[str, int, int]]:
    """(domain title, audits graded below Good, graded audits) over the months of one
    tool's figures, worst first; a domain nobody graded has no row."""
    out = []
    for d in data.domains_of(stats[0].tool) if stats else ():
        total: Counter[str | None] = Counter()
        for s in stats:
            total.update(s.domains[d.id])
        _, graded = good_or_better(total, data)
        if sum(total.values()):
            out.append((d.title, below_good(total, data), graded))
    return sorted(out, key=lambda r: (-r[1], r[0]))
