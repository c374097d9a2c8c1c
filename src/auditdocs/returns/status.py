"""The month at a glance: each audit's review state, deadline, returns and flags."""

from __future__ import annotations

from datetime import date

from auditdocs.allocation import check_month
from auditdocs.generate import uk_date
from auditdocs.workdays import uk_day, uk_today
from auditdocs.workspace import Workspace


def month_status(ws: Workspace, month: str, today: date | None = None) -> list[str]:
    check_month(month)
    rows = ws.store().month_status(month)
    if not rows:
        return [f"No audits allocated for {month} in this workspace."]
    today = today or uk_today()
    lines = [f"{'audit':<13}{'case':<14}{'auditor':<24}{'state':<17}{'due':<12}{'returned':<12}{'v':<3}flags"]
    for r in rows:
        flags = []
        if r["urgent"]:
            flags.append(f"URGENT: notify {r['team_manager']}")
        if r["late"]:
            flags.append("late")
        if r["state"] in ("allocated", "issued") and today > r["due_date"]:
            flags.append("OVERDUE")
        if r["state"] == "needs_amendment" and r["resubmit_by"]:
            flags.append(f"resubmit by {uk_date(r['resubmit_by'])}")
        returned = uk_date(uk_day(r["received_at"])) if r["received_at"] else "-"
        lines.append(
            f"{r['audit_id']:<13}{r['case_reference'][:13]:<14}{r['auditor'][:23]:<24}"
            f"{r['state'].replace('_', ' '):<17}{uk_date(r['due_date']):<12}{returned:<12}"
            f"{r['version'] or '-'!s:<3}{'; '.join(flags)}"
        )
    states = [r["state"] for r in rows]
    lines.append(
        ", ".join(
            f"{states.count(s)} {s.replace('_', ' ')}"
            for s in ("issued", "needs_amendment", "accepted", "allocated")
            if states.count(s)
        )
    )
    return lines
