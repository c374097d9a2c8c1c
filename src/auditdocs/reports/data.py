"""What reports are built from: the store's audits of some months, as plain dataclasses.

Set-based: three SELECTs per set of audits (allocations, audit returns, the reported
fields of current returns), however many audits there are, so a report over 10,000
audits reads in well under a second or two.  Only the fields a report shows are read
(the configured domains' grades and evidence, overall texts, concern, discussion dates,
and the practitioner discussion date from the returned improvement plan): not criteria,
not plan rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from auditdocs.config import Config
from auditdocs.processes import forked
from auditdocs.store.reporting import (
    AuditRows,
    FieldsByTool,
    count_audits,
    moderated_grades,
    months_values,
    report_rows,
)
from auditdocs.store.store import Store

#: Single fields a report reads besides each domain's grade and evidence.
REPORT_FIELDS = (
    "overall.grade",
    "overall.good_practice",
    "overall.development",
    "concern.immediate",
    "concern.details",
    "concern.notified",
    "discussion.worker_date",
    "discussion.manager_date",
)
OPEN_STATES = ("allocated", "issued")
#: The practitioner discussion date, as the team manager records it on the returned plan,
#: and where an audit's values hold it.
PLAN_DISCUSSION = "discussion.date"
PRACTITIONER_DISCUSSION = "practitioner.discussion_date"


@dataclass(frozen=True)
class GradeInfo:
    id: str
    label: str
    rank: int
    #: What the grade means (framework 2.7; config ``grading.grades[].definition``).
    definition: str = ""


@dataclass(frozen=True)
class DomainInfo:
    id: str
    title: str


@dataclass(frozen=True)
class ToolInfo:
    """An audit tool as reports show it: its title and its own domains (two tools may
    both have a domain called ``relationship``: each is counted under its own tool)."""

    id: str
    title: str
    domains: tuple[DomainInfo, ...]


@dataclass
class Audit:
    """One allocated audit with what came back for it (the current audit return)."""

    audit_id: str
    month: str
    tool: str
    case_reference: str
    team: str
    worker: str
    team_manager: str
    auditor: str
    due_date: date
    state: str
    reaudit_of: str | None = None
    first_received: datetime | None = None
    accepted_at: datetime | None = None  # when the current return, accepted, came back
    first_late: bool = False
    versions: int = 0
    amended: bool = False  # sent back for amendment at least once
    current_status: str | None = None
    resubmit_by: date | None = None
    urgent: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    child_id: str = ""  # empty for an audit about a worker

    @property
    def returned(self) -> bool:
        return self.versions > 0

    @property
    def on_time(self) -> bool:
        """Its first return came by the due date."""
        return self.returned and not self.first_late

    @property
    def accepted(self) -> bool:
        return self.current_status == "accepted"

    @property
    def graded(self) -> bool:
        """Returned, and its grades count: not sent back and still awaiting its amended copy."""
        return self.returned and self.current_status != "needs_amendment"

    def grade(self, domain_id: str) -> str | None:
        value = self.values.get(f"domain.{domain_id}.grade")
        return value if isinstance(value, str) and value else None

    @property
    def overall(self) -> str | None:
        value = self.values.get("overall.grade")
        return value if isinstance(value, str) and value else None

    def text(self, field_id: str) -> str | None:
        value = self.values.get(field_id)
        return value.strip() or None if isinstance(value, str) else None

    @property
    def discussed(self) -> bool:
        """The practitioner discussion after acceptance is recorded (on the returned plan)."""
        return bool(self.values.get(PRACTITIONER_DISCUSSION))

    @property
    def concern(self) -> bool:
        """An immediate safeguarding concern was flagged on the current return."""
        return self.values.get("concern.immediate") is True or (self.urgent and self.returned)


@dataclass
class ReportData:
    """The audits of the reported months, and how to read their grades."""

    months: list[str]
    audits: list[Audit]
    grades: list[GradeInfo]  # best first
    not_applicable: GradeInfo
    #: The domains of the main tool (``reaudit_tool``: the monthly case file audit).
    domains: list[DomainInfo]
    good_rank: int
    as_of: date
    organisation: str
    service: str
    #: Whether the store links re-audits to the audit they follow (allocations.reaudit_of).
    reaudit_links: bool = False
    #: Audits of earlier months reached through re-audit links, by audit id.
    earlier: dict[str, Audit] = field(default_factory=dict)
    #: The tool whose audits are re-audited, and the overall grades that call for it (2.12;
    #: config ``allocation.tool`` and ``allocation.reaudit_grades``).
    reaudit_tool: str = "case_file_audit"
    reaudit_grades: frozenset[str] = frozenset({"inadequate"})
    #: Every configured tool, in config order; the main tool is ``reaudit_tool``.
    tools: dict[str, ToolInfo] = field(default_factory=dict)
    #: Results worked out once per report build (themes are read by two documents).
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def of_month(self, month: str) -> list[Audit]:
        return [a for a in self.audits if a.month == month]

    @property
    def main_tool(self) -> ToolInfo:
        """The tool of the monthly case file audits (config ``allocation.tool``): the
        headline grades are its grades."""
        return self.tool(self.reaudit_tool)

    def tool(self, tool_id: str) -> ToolInfo:
        """A tool by id (one no longer configured: its id as title, no domains)."""
        return self.tools.get(tool_id) or ToolInfo(tool_id, tool_id, ())

    def other_tools(self, audits: Iterable[Audit]) -> list[ToolInfo]:
        """The tools besides the main one that ``audits`` use, in config order."""
        used = {a.tool for a in audits} - {self.reaudit_tool}
        known = [t for t in self.tools.values() if t.id in used]
        return known + [self.tool(t) for t in sorted(used - set(self.tools))]

    def domains_of(self, tool_id: str) -> tuple[DomainInfo, ...]:
        return self.tool(tool_id).domains

    def label(self, grade_id: str | None) -> str:
        if grade_id is None:
            return "Not graded"
        labels = self.cache.get("labels")
        if labels is None:  # asked for hundreds of thousands of times by a big report
            labels = self.cache["labels"] = {g.id: g.label for g in reversed([*self.grades, self.not_applicable])}
        return str(labels.get(grade_id, grade_id))

    def rank(self, grade_id: str | None) -> int | None:
        ranks = self.cache.get("ranks")
        if ranks is None:
            ranks = self.cache["ranks"] = {g.id: g.rank for g in reversed(self.grades)}
        return ranks.get(grade_id) if grade_id is not None else None

    @property
    def worst(self) -> GradeInfo:
        return self.grades[-1]

    def by_id(self) -> dict[str, Audit]:
        known = self.cache.get("by_id")
        if known is None:
            known = self.cache["by_id"] = {**self.earlier, **{a.audit_id: a for a in self.audits}}
        return known

    def chain(self, audit: Audit) -> list[Audit]:
        """The audit and those it re-audits, oldest first (itself only without links)."""
        known = self.by_id()
        out = [audit]
        seen = {audit.audit_id}
        while out[0].reaudit_of and out[0].reaudit_of in known and out[0].reaudit_of not in seen:
            seen.add(out[0].reaudit_of)
            out.insert(0, known[out[0].reaudit_of])
        return out


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _grades_of_record(store: Store, audits: Sequence[Audit]) -> None:
    """A moderated audit's grades as the grades of record: its accepted moderation's
    (framework 7.2; the auditor's own stay in the store and in the moderation section),
    so the figures, the re-audits due and the allocation that follows agree."""
    months = sorted({a.month for a in audits})
    if not months:
        return
    with store.reading() as conn:
        moderated = moderated_grades(conn, months[0], months[-1])
    for audit in audits:
        grades = moderated.get(audit.audit_id)
        if grades and audit.returned:
            audit.values.update(grades)


def _audits(rows: AuditRows) -> list[Audit]:
    """Audits built from the store's rows: allocation, audit returns, reported fields."""
    audits: dict[str, Audit] = {}
    for row in rows.allocations:
        audits[row.audit_id] = Audit(
            audit_id=row.audit_id,
            month=row.month,
            tool=row.tool,
            case_reference=row.case_reference,
            team=row.team,
            worker=row.worker,
            team_manager=row.team_manager,
            auditor=row.auditor,
            due_date=_as_date(row.due_date),
            state=row.state,
            reaudit_of=row.reaudit_of,
            child_id=row.child_id or "",
        )
    for row in rows.returns:
        audit = audits[row.audit_id]
        audit.versions += 1
        if row.version == 1 or audit.first_received is None:
            audit.first_received, audit.first_late = row.received_at, bool(row.late)
        audit.amended = audit.amended or row.status == "needs_amendment"
        if row.is_current:
            audit.current_status, audit.urgent = row.status, bool(row.urgent)
            audit.accepted_at = row.received_at if row.status == "accepted" else None
            audit.resubmit_by = _as_date(row.resubmit_by) if row.resubmit_by is not None else None
    for audit_id, document, field_id, value in rows.values:
        valued = audits.get(audit_id)
        if valued is None:  # withdrawn after its values were read (another process read them): not reported
            continue
        valued.values[PRACTITIONER_DISCUSSION if document == "plan" else field_id] = value
    return list(audits.values())


def _tools(config: Config) -> dict[str, ToolInfo]:
    return {
        tool_id: ToolInfo(tool_id, tool.title, tuple(DomainInfo(d.id, d.title) for d in tool.domains))
        for tool_id, tool in config.tools.items()
    }


#: The fields of the texts auditors write, besides each domain's evidence: quoted and
#: listed for the months a report is about only.
TEXT_FIELDS = ("overall.good_practice", "overall.development")


def report_fields(tools: Iterable[ToolInfo]) -> tuple[FieldsByTool, FieldsByTool]:
    """The audit fields a report reads, as (fields, texts), by tool (None: a tool no longer
    configured): its domains' grades and evidence (a report only ever asks for the domains
    of an audit's own tool) and ``REPORT_FIELDS``, the evidence and ``TEXT_FIELDS`` among
    the texts."""
    single = [f for f in REPORT_FIELDS if f not in TEXT_FIELDS]
    fields: dict[str | None, list[str]] = {None: single}
    texts: dict[str | None, list[str]] = {None: list(TEXT_FIELDS)}
    for tool in tools:
        fields[tool.id] = [*(f"domain.{d.id}.grade" for d in tool.domains), *single]
        texts[tool.id] = [*(f"domain.{d.id}.evidence" for d in tool.domains), *TEXT_FIELDS]
    return fields, texts


def load_report_data(
    store: Store,
    config: Config,
    months: Sequence[str],
    as_of: date,
    *,
    texts: Sequence[str] | None = None,
    beside_from: int | None = None,
) -> ReportData:
    """The audits of ``months`` and, where the store links re-audits, every audit they
    re-audit (followed back through earlier months).  The texts auditors wrote (evidence,
    good practice, development) are read for the audits of the months in ``texts`` only
    (default: every one of ``months``; never for the earlier audits of re-audit chains):
    the month before a monthly report's is only counted.

    Months of ``beside_from`` audits or more are read by two processes at once: the
    values of the first half of them (most of the reading is the database's work and
    decoding the values) by a forked process (``processes.forked``), started before this
    process takes a connection, while this one reads the rest."""
    tools = _tools(config)
    fields, text_fields = report_fields(tools.values())
    text_months = months if texts is None else texts
    split = 0
    if beside_from is not None and len(months) > 1:
        with store.reading() as conn:
            split = len(months) // 2 if count_audits(conn, months) >= beside_from else 0
    first = list(months[:split])

    def theirs() -> list[tuple[str, str, str, Any]]:
        return months_values(store.engine, first, fields, (PLAN_DISCUSSION,), text_fields, text_months)

    with forked(theirs) if split else nullcontext(theirs) as their_values, store.reading() as conn:
        found = report_rows(conn, months, fields, (PLAN_DISCUSSION,), text_fields, text_months, split, their_values)
    audits, earlier_audits, links = _audits(found.audits), _audits(found.earlier), found.reaudit_links
    earlier = {a.audit_id: a for a in earlier_audits}
    settings = config.settings
    if settings.moderation.grade_of_record == "moderator":
        _grades_of_record(store, [*audits, *earlier_audits])
    grades = sorted(
        (GradeInfo(g.id, g.label, g.rank, g.definition) for g in settings.grading.grades),
        key=lambda g: g.rank,
        reverse=True,
    )
    na = settings.grading.not_applicable
    main = tools.get(settings.allocation.tool)
    return ReportData(
        months=list(months),
        audits=audits,
        grades=grades,
        not_applicable=GradeInfo(na.id, na.label, na.rank, na.definition),
        domains=list(main.domains) if main else [],
        good_rank=settings.validation.good_rank,
        as_of=as_of,
        organisation=settings.organisation.name,
        service=settings.organisation.service,
        reaudit_links=links,
        earlier=earlier,
        reaudit_tool=settings.allocation.tool,
        reaudit_grades=frozenset(settings.allocation.reaudit_grades),
        tools=tools,
    )
