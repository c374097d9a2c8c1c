"""The numbers in a report, computed from the audits of a month (pure functions).

Figures are of one tool's audits: the headline figures of the main tool (the case file
audit), another tool's in its own section.  Grades of different tools are never added
together, and an audit sent back and still awaiting its amended copy is returned but
not graded: its grades count once the amended copy is accepted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from auditdocs.dates import month_label
from auditdocs.reports.data import OPEN_STATES, Audit, ReportData

#: The returns figures, in the order they are charted and tabled.
RETURN_FIGURES = (
    ("allocated", "Allocated"),
    ("returned", "Returned"),
    ("on_time", "On time"),
    ("late", "Late"),
    ("amended", "Needed amendment"),
)


@dataclass
class MonthStats:
    month: str
    tool: str = ""
    allocated: int = 0
    returned: int = 0
    on_time: int = 0
    late: int = 0  # first return after the due date
    amended: int = 0  # sent back for amendment at least once
    awaiting_amendment: int = 0  # the current return still needs amendment
    accepted: int = 0
    overdue: int = 0
    concerns: int = 0
    #: overall grade id (or None: not graded) → number of graded audits (returned, not
    #: awaiting amendment)
    overall: Counter[str | None] = field(default_factory=Counter)
    #: domain id (of this tool) → grade id → number of graded audits
    domains: dict[str, Counter[str | None]] = field(default_factory=dict)
    #: team → overall grade id → number of graded audits
    teams: dict[str, Counter[str | None]] = field(default_factory=dict)

    def figure(self, key: str) -> int:
        return int(getattr(self, key))

    @property
    def graded(self) -> int:
        return sum(n for g, n in self.overall.items() if g is not None)

    @property
    def counted(self) -> int:
        """Returned audits whose grades count (not awaiting amendment)."""
        return self.returned - self.awaiting_amendment


def month_stats(data: ReportData, month: str, tool: str | None = None) -> MonthStats:
    """The figures of ``tool``'s audits allocated in ``month`` (default: the main tool's,
    the case file audits)."""
    tool = tool or data.reaudit_tool
    audits = [a for a in data.of_month(month) if a.tool == tool]
    domains = data.domains_of(tool)
    s = MonthStats(month, tool)
    s.domains = {d.id: Counter() for d in domains}
    for team in sorted({a.team for a in audits}):
        s.teams[team] = Counter()
    for a in audits:
        s.allocated += 1
        s.overdue += is_overdue(a, data)
        if not a.returned:
            continue
        s.returned += 1
        s.on_time += a.on_time
        s.late += not a.on_time
        s.amended += a.amended
        s.awaiting_amendment += a.current_status == "needs_amendment"
        s.accepted += a.accepted
        s.concerns += a.concern
        if not a.graded:
            continue
        s.overall[a.overall] += 1
        s.teams[a.team][a.overall] += 1
        for d in domains:
            if f"domain.{d.id}.grade" in a.values or a.grade(d.id):
                s.domains[d.id][a.grade(d.id)] += 1
    return s


def is_overdue(audit: Audit, data: ReportData) -> bool:
    """Not returned (still allocated or issued) and past its due date."""
    return audit.state in OPEN_STATES and audit.due_date < data.as_of


def amendment_overdue(audit: Audit, data: ReportData) -> bool:
    return (
        audit.current_status == "needs_amendment" and audit.resubmit_by is not None and audit.resubmit_by < data.as_of
    )


def good_or_better(counts: Counter[str | None], data: ReportData) -> tuple[int, int]:
    """(Good or better, graded) over graded audits (not applicable and ungraded left out)."""
    graded = sum(n for g, n in counts.items() if data.rank(g) is not None)
    good = sum(n for g, n in counts.items() if (data.rank(g) or 0) >= data.good_rank)
    return good, graded


def share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def below_good(counts: Counter[str | None], data: ReportData) -> int:
    return sum(n for g, n in counts.items() if (rank := data.rank(g)) is not None and rank < data.good_rank)


@dataclass(frozen=True)
class QuarterStats:
    """A quarter's months, their period in words, and its overall grades together."""

    months: list[MonthStats]
    period: str
    overall: Counter[str | None]


def quarter_stats(data: ReportData, tool: str | None = None) -> QuarterStats:
    """The quarter's figures of ``tool``'s audits (default: the main tool's)."""
    months = [month_stats(data, m, tool) for m in data.months]
    period = f"{month_label(data.months[0]).split()[0]} to {month_label(data.months[-1])}"
    overall: Counter[str | None] = Counter()
    for s in months:
        overall.update(s.overall)
    return QuarterStats(months, period, overall)
