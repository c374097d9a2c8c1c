"""What reports are built from: the store's audits of some months, as plain dataclasses.

Set-based: three SELECTs per set of audits (allocations, audit returns, the reported
fields of current returns), however many audits there are, so a report over 10,000
audits reads in well under a second or two.  Only the fields a report shows are read
(grades, evidence, overall texts, concern, discussion dates, and the practitioner discussion
date from the returned improvement plan): not criteria, not plan rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import ColumnElement, Connection, and_, inspect, literal_column, or_, select

from auditdocs.config import Config
from auditdocs.errors import UsageError
from auditdocs.returns.store import Store, allocations, field_values, submissions

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.IGNORECASE)
_CHUNK = 500  # ids per IN (...) list: well under every database's parameter limit

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
#: Where an audit's values hold the practitioner discussion date from its returned plan.
PRACTITIONER_DISCUSSION = "practitioner.discussion_date"


def parse_month(text: str) -> str:
    """'2026-11' → '2026-11'; anything else is a usage error."""
    if not _MONTH.match(text.strip()):
        raise UsageError(f"month {text!r}: use YYYY-MM, e.g. 2026-11")
    return text.strip()


def parse_quarter(text: str) -> tuple[str, list[str]]:
    """'2026Q4' → ('2026Q4', ['2026-10', '2026-11', '2026-12'])."""
    m = _QUARTER.match(text.strip())
    if not m:
        raise UsageError(f"quarter {text!r}: use YYYYQn, e.g. 2026Q4")
    year, q = int(m.group(1)), int(m.group(2))
    return f"{year}Q{q}", [f"{year}-{3 * (q - 1) + n:02d}" for n in (1, 2, 3)]


def previous_month(month: str) -> str:
    year, mon = map(int, month.split("-"))
    return (date(year, mon, 1) - relativedelta(months=1)).strftime("%Y-%m")


def month_label(month: str, short: bool = False) -> str:
    """'2026-11' → 'November 2026' (short: 'Nov 2026')."""
    year, mon = map(int, month.split("-"))
    return date(year, mon, 1).strftime("%b %Y" if short else "%B %Y")


@dataclass(frozen=True)
class GradeInfo:
    id: str
    label: str
    rank: int


@dataclass(frozen=True)
class DomainInfo:
    id: str
    title: str


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
    first_late: bool = False
    versions: int = 0
    amended: bool = False  # sent back for amendment at least once
    current_status: str | None = None
    resubmit_by: date | None = None
    urgent: bool = False
    values: dict[str, Any] = field(default_factory=dict)

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
    domains: list[DomainInfo]
    good_rank: int
    as_of: date
    organisation: str
    service: str
    #: Whether the store links re-audits to the audit they follow (allocations.reaudit_of).
    reaudit_links: bool = False
    #: Audits of earlier months reached through re-audit links, by audit id.
    earlier: dict[str, Audit] = field(default_factory=dict)
    #: Results worked out once per report build (themes are read by two documents).
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    def of_month(self, month: str) -> list[Audit]:
        return [a for a in self.audits if a.month == month]

    def label(self, grade_id: str | None) -> str:
        if grade_id is None:
            return "Not graded"
        for g in [*self.grades, self.not_applicable]:
            if g.id == grade_id:
                return g.label
        return grade_id

    def rank(self, grade_id: str | None) -> int | None:
        for g in self.grades:
            if g.id == grade_id:
                return g.rank
        return None

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


def has_reaudit_column(conn: Connection) -> bool:
    """Whether this store's allocations table has ``reaudit_of`` (added by a later schema)."""
    return any(c["name"] == "reaudit_of" for c in inspect(conn).get_columns(allocations.name))


def _reaudit_column() -> ColumnElement[Any]:
    column = allocations.c.get("reaudit_of")
    return column if column is not None else literal_column(f"{allocations.name}.reaudit_of")


def _decode(value: str | None) -> Any:
    return json.loads(value) if value is not None else None


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _load(conn: Connection, *, months: Sequence[str] = (), audit_ids: Sequence[str] = ()) -> list[Audit]:
    """Audits of ``months`` or with ``audit_ids``, with their returns and reported fields."""
    links = has_reaudit_column(conn)
    columns: list[Any] = [c for c in allocations.c if c.name != "reaudit_of"]
    if links:
        columns.append(_reaudit_column().label("reaudit_of"))
    wheres = (
        [allocations.c.month.in_(list(months))]
        if months
        else [allocations.c.audit_id.in_(list(chunk)) for chunk in _chunks(list(audit_ids))]
    )
    audits: dict[str, Audit] = {}
    for where in wheres:
        for row in conn.execute(select(*columns).where(where).order_by(allocations.c.audit_id)):
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
                reaudit_of=row.reaudit_of if links else None,
            )
        returns = (
            select(
                submissions.c.audit_id,
                submissions.c.version,
                submissions.c.received_at,
                submissions.c.status,
                submissions.c.is_current,
                submissions.c.late,
                submissions.c.urgent,
                submissions.c.resubmit_by,
            )
            .join(allocations, allocations.c.audit_id == submissions.c.audit_id)
            .where(where, submissions.c.document == "audit")
            .order_by(submissions.c.audit_id, submissions.c.version)
        )
        for row in conn.execute(returns):
            audit = audits[row.audit_id]
            audit.versions += 1
            if row.version == 1 or audit.first_received is None:
                audit.first_received, audit.first_late = row.received_at, bool(row.late)
            audit.amended = audit.amended or row.status == "needs_amendment"
            if row.is_current:
                audit.current_status, audit.urgent = row.status, bool(row.urgent)
                audit.resubmit_by = _as_date(row.resubmit_by) if row.resubmit_by is not None else None
        fields = (
            select(submissions.c.audit_id, submissions.c.document, field_values.c.field_id, field_values.c.value)
            .join(field_values, field_values.c.submission_id == submissions.c.id)
            .join(allocations, allocations.c.audit_id == submissions.c.audit_id)
            .where(
                where,
                submissions.c.is_current.is_(True),
                or_(
                    and_(
                        submissions.c.document == "audit",
                        or_(
                            field_values.c.field_id.like("domain.%.grade"),
                            field_values.c.field_id.like("domain.%.evidence"),
                            field_values.c.field_id.in_(REPORT_FIELDS),
                        ),
                    ),
                    # the practitioner discussion, recorded on the improvement plan returned after it
                    and_(submissions.c.document == "plan", field_values.c.field_id == "discussion.date"),
                ),
            )
        )
        for audit_id, document, field_id, value in conn.execute(fields):
            key = PRACTITIONER_DISCUSSION if document == "plan" else field_id
            audits[audit_id].values[key] = _decode(value)
    return list(audits.values())


def _domains(config: Config, tools: Iterable[str]) -> list[DomainInfo]:
    """Domains of the tools in use, in config order (a domain id shared by two tools is one)."""
    used = set(tools)
    out: dict[str, DomainInfo] = {}
    for tool_id, tool in config.tools.items():
        if tool_id in used:
            for d in tool.domains:
                out.setdefault(d.id, DomainInfo(d.id, d.title))
    return list(out.values())


def load_report_data(store: Store, config: Config, months: Sequence[str], as_of: date) -> ReportData:
    """The audits of ``months`` and, where the store links re-audits, every audit they
    re-audit (followed back through earlier months)."""
    with store.reading() as conn:
        audits = _load(conn, months=months)
        links = has_reaudit_column(conn)
        earlier: dict[str, Audit] = {}
        if links:
            known = {a.audit_id for a in audits}
            wanted = sorted({a.reaudit_of for a in audits if a.reaudit_of} - known)
            while wanted:  # one round of queries per step back in time, not per audit
                found = _load(conn, audit_ids=wanted)
                earlier.update({a.audit_id: a for a in found})
                known |= {a.audit_id for a in found}
                wanted = sorted({a.reaudit_of for a in found if a.reaudit_of} - known)
    settings = config.settings
    grades = sorted(
        (GradeInfo(g.id, g.label, g.rank) for g in settings.grading.grades), key=lambda g: g.rank, reverse=True
    )
    na = settings.grading.not_applicable
    return ReportData(
        months=list(months),
        audits=audits,
        grades=grades,
        not_applicable=GradeInfo(na.id, na.label, na.rank),
        domains=_domains(config, {a.tool for a in [*audits, *earlier.values()]}),
        good_rank=settings.validation.good_rank,
        as_of=as_of,
        organisation=settings.organisation.name,
        service=settings.organisation.service,
        reaudit_links=links,
        earlier=earlier,
    )
