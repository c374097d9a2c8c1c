"""The month at a glance: each audit's tool, review state, deadline, returns and flags, as
data (``MonthStatus``); ``lines()`` lays it out as the table ``auditdocs status`` prints.

``month_status`` reads the config's summary and the store through ``Workspace.reader``:
neither pydantic, SQLAlchemy nor the bank-holiday library is imported for it when the
config's summary is cached and the store is SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from auditdocs import dates
from auditdocs.allocation.record import Allocation
from auditdocs.dates import check_month, uk_date, uk_day, uk_today
from auditdocs.errors import InternalError
from auditdocs.workspace import Workspace

if TYPE_CHECKING:
    from auditdocs.config.models import Settings

#: States in the order the month's counts are given; a state not named here (one a later
#: version of the store adds) is counted after them, never dropped.
_COUNTED = ("issued", "needs_amendment", "accepted", "allocated")


@dataclass(frozen=True)
class AuditStatus:
    """One audit of the month: where it stands on ``today``."""

    audit_id: str
    case_reference: str
    auditor: str
    state: str  # allocated | issued | needs_amendment | accepted (or a state added since)
    due: date
    returned: date | None  # UK day the current version came in
    version: int | None
    # URGENT, re-audit of, late, OVERDUE, resubmit by / amendment OVERDUE, discussion by /
    # discussion OVERDUE, values to confirm (read by a fallback: see the summary)
    flags: list[str] = field(default_factory=list)
    tool: str = ""  # the tool type id
    reaudit_of: str | None = None  # the audit this one repeats (2.12)
    discussion_due: date | None = None  # accepted, discussion not yet recorded: its deadline (2.10)


@dataclass(frozen=True)
class MonthStatus:
    month: str
    rows: list[AuditStatus]

    def count(self, state: str) -> int:
        return sum(r.state == state for r in self.rows)

    def lines(self) -> list[str]:
        """The status as a table of text, one line per audit, then the counts."""
        if not self.rows:
            return [f"No audits allocated for {self.month} in this workspace."]
        lines = [
            f"{'audit':<13}{'case':<14}{'tool':<18}{'auditor':<24}{'state':<17}{'due':<12}{'returned':<12}{'v':<3}flags"
        ]
        for r in self.rows:
            returned = uk_date(r.returned) if r.returned else "-"
            lines.append(
                f"{r.audit_id:<13}{r.case_reference[:13]:<14}{r.tool.replace('_', ' ')[:17]:<18}{r.auditor[:23]:<24}"
                f"{r.state.replace('_', ' '):<17}{uk_date(r.due):<12}{returned:<12}"
                f"{r.version or '-'!s:<3}{'; '.join(r.flags)}"
            )
        others = sorted({r.state for r in self.rows} - set(_COUNTED))
        lines.append(", ".join(f"{self.count(s)} {s.replace('_', ' ')}" for s in (*_COUNTED, *others) if self.count(s)))
        return lines


@dataclass(frozen=True)
class Accepted:
    """An accepted audit awaiting, or past, its practitioner discussion."""

    allocation: Allocation
    accepted_on: date  # UK day its accepted version came in: its plan then goes to the team manager
    values: dict[str, Any]  # its current values
    discussed_on: str | None  # from the improvement plan returned after the discussion

    def discussion_due(self, settings: Settings) -> date:
        """The discussion deadline: the one rule (``dates.discussion_due``)."""
        grade = self.values.get("overall.grade")
        return dates.discussion_due(settings, grade if isinstance(grade, str) else None, self.accepted_on)


def accepted_audits(ws: Workspace, month: str) -> list[Accepted]:
    """The month's accepted audits, each with the day it was accepted, its values and the
    date of its practitioner discussion if the plan is back with one."""
    store = ws.store()
    audit_values = store.current_values(month)
    plan_values = store.current_values(month, "discussion.", document="plan")
    out = []
    for row in store.month_status(month):
        if row["state"] != "accepted" or row["received_at"] is None:
            continue
        alloc = store.allocation(row["audit_id"])
        if alloc is None:
            raise InternalError(f"{row['audit_id']}: in the month's status but not in the store's allocations")
        discussed = plan_values.get(row["audit_id"], {}).get("discussion.date")
        out.append(Accepted(alloc[0], uk_day(row["received_at"]), audit_values.get(row["audit_id"], {}), discussed))
    return out


def month_status(ws: Workspace, month: str, today: date | None = None) -> MonthStatus:
    """Each audit of ``month`` and its flags on ``today`` (default: today in the UK)."""
    check_month(month)
    today = today or uk_today()
    summary = ws.with_bank_holidays()
    store = ws.reader()
    month_rows = store.month_status(month)
    # Each accepted audit whose practitioner discussion is not yet recorded (on the plan
    # returned after it): its deadline, by its overall grade, from the day it was accepted.
    grades = store.current_values(month, "overall.grade")
    plans = store.current_values(month, "discussion.", document="plan")
    discussions = {}
    for row in month_rows:
        if row["state"] != "accepted" or row["received_at"] is None:
            continue
        if plans.get(row["audit_id"], {}).get("discussion.date") is not None:
            continue
        grade = grades.get(row["audit_id"], {}).get("overall.grade")
        days = summary.discussion_working_days(grade if isinstance(grade, str) else None)
        discussions[row["audit_id"]] = dates.add_working_days(uk_day(row["received_at"]), days, summary.region)
    rows = []
    for r in month_rows:
        flags = []
        if r["urgent"]:
            flags.append(f"URGENT: notify {r['team_manager']}")
        if r["reaudit_of"]:
            flags.append(f"re-audit of {r['reaudit_of']}")
        if r["late"]:
            flags.append("late")
        if r["state"] in ("allocated", "issued") and today > r["due_date"]:
            flags.append("OVERDUE")
        if r["state"] == "needs_amendment" and r["resubmit_by"]:
            if today > r["resubmit_by"]:
                flags.append(f"amendment OVERDUE since {uk_date(r['resubmit_by'])}")
            else:
                flags.append(f"resubmit by {uk_date(r['resubmit_by'])}")
        discussion = discussions.get(r["audit_id"])
        if discussion is not None:
            overdue = today > discussion
            flags.append(f"discussion {'OVERDUE since' if overdue else 'by'} {uk_date(discussion)}")
        if r["to_confirm"]:
            n = r["to_confirm"]
            flags.append(f"{n} value{'' if n == 1 else 's'} to confirm")
        rows.append(
            AuditStatus(
                audit_id=r["audit_id"],
                case_reference=r["case_reference"],
                auditor=r["auditor"],
                state=r["state"],
                due=r["due_date"],
                returned=uk_day(r["received_at"]) if r["received_at"] else None,
                version=r["version"],
                flags=flags,
                tool=r["tool"],
                reaudit_of=r["reaudit_of"],
                discussion_due=discussion,
            )
        )
    return MonthStatus(month, rows)
