"""The month at a glance: each audit's review state, deadline, returns and flags, as data
(``MonthStatus``); ``lines()`` lays it out as the table ``auditdocs status`` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from auditdocs.dates import check_month, uk_date, uk_day, uk_today
from auditdocs.workspace import Workspace

#: States in the order the month's counts are given.
_COUNTED = ("issued", "needs_amendment", "accepted", "allocated")


@dataclass(frozen=True)
class AuditStatus:
    """One audit of the month: where it stands on ``today``."""

    audit_id: str
    case_reference: str
    auditor: str
    state: str  # allocated | issued | needs_amendment | accepted
    due: date
    returned: date | None  # UK day the current version came in
    version: int | None
    # URGENT, late, OVERDUE, resubmit by, values to confirm (read by a fallback: see the summary)
    flags: list[str] = field(default_factory=list)


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
        lines = [f"{'audit':<13}{'case':<14}{'auditor':<24}{'state':<17}{'due':<12}{'returned':<12}{'v':<3}flags"]
        for r in self.rows:
            returned = uk_date(r.returned) if r.returned else "-"
            lines.append(
                f"{r.audit_id:<13}{r.case_reference[:13]:<14}{r.auditor[:23]:<24}"
                f"{r.state.replace('_', ' '):<17}{uk_date(r.due):<12}{returned:<12}"
                f"{r.version or '-'!s:<3}{'; '.join(r.flags)}"
            )
        lines.append(", ".join(f"{self.count(s)} {s.replace('_', ' ')}" for s in _COUNTED if self.count(s)))
        return lines


def month_status(ws: Workspace, month: str, today: date | None = None) -> MonthStatus:
    """Each audit of ``month`` and its flags on ``today`` (default: today in the UK)."""
    check_month(month)
    today = today or uk_today()
    rows = []
    for r in ws.store().month_status(month):
        flags = []
        if r["urgent"]:
            flags.append(f"URGENT: notify {r['team_manager']}")
        if r["late"]:
            flags.append("late")
        if r["state"] in ("allocated", "issued") and today > r["due_date"]:
            flags.append("OVERDUE")
        if r["state"] == "needs_amendment" and r["resubmit_by"]:
            flags.append(f"resubmit by {uk_date(r['resubmit_by'])}")
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
            )
        )
    return MonthStatus(month, rows)
