"""After the audit: the practitioner discussion, and chasing what is overdue.

Once an audit is accepted, its improvement plan, prefilled with the auditor's actions,
goes to the team manager, who discusses it with the worker within 5 working days
(Inadequate) or 10 (Good, Requires Improvement) and returns it with the discussion
date and the agreed actions (ingested and checked as SMART like any return).

``auditdocs chase`` writes (or sends) chasers for overdue audits, overdue amendments,
practitioner discussions not yet recorded and overdue moderation forms.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from auditdocs import dates
from auditdocs.dates import check_month, month_label, uk_date, uk_today
from auditdocs.files import safe_name, write_private
from auditdocs.forms.generate import document_path
from auditdocs.mail.messages import Planned, Postbox, Sent, Skipped, attach_docx, new_message
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.returns.status import accepted_audits
from auditdocs.workspace import Workspace


def discussion_due(ws: Workspace, accepted_on: date, overall: str | None) -> date:
    """The practitioner discussion deadline for an audit accepted on ``accepted_on``."""
    return dates.discussion_due(ws.config.settings, overall, accepted_on)


def send_discussion_plans(ws: Workspace, month: str, force: bool = False) -> list[Sent]:
    """For each accepted audit, its improvement plan prefilled with the auditor's actions,
    to the team manager with the discussion deadline."""
    postbox = Postbox(ws.config.settings.email)
    out: list[Sent] = []
    try:
        for acc in accepted_audits(ws, month):
            alloc = acc.allocation
            keep = ws.output_dir / month / "outbox" / f"discussion {safe_name(alloc.audit_id)}.eml"
            if keep.exists() and not force:
                continue
            plan = {k: v for k, v in acc.values.items() if k.startswith("plan.") and v is not None}
            blank = document_path(ws.output_dir, alloc, "plan")
            if not blank.exists():
                out.append(Skipped(alloc.audit_id, "improvement plan not generated; run `auditdocs generate`"))
                continue
            prefilled = fill_form(blank.read_bytes(), _as_fill_values(plan), WordStyle(split_runs=False))
            doc = (
                ws.output_dir
                / month
                / "discussion"
                / safe_name(alloc.team_manager)
                / f"{safe_name(alloc.audit_id)} {safe_name(alloc.case_reference)} improvement plan.docx"
            )
            write_private(doc, prefilled)
            due = acc.discussion_due(ws.config.settings)
            grade = acc.values.get("overall.grade")
            label = ws.config.settings.grading.label_of(grade) if isinstance(grade, str) else "not given"
            concern = concern_lines(acc.values, alloc.worker)
            body = "\n".join(
                [
                    f"Dear {alloc.team_manager},",
                    "",
                    *concern,
                    f"The audit of case {alloc.case_reference} (audit {alloc.audit_id}, worker {alloc.worker}) "
                    f"has been accepted. Overall judgement: {label}.",
                    f"Please discuss the findings and the attached improvement plan with {alloc.worker} "
                    f"by {uk_date(due)}, then return the plan with the date of the discussion and the actions, "
                    "owners and dates you agreed.",
                    "Record the agreed actions on the child's file under Management Oversight.",
                    "",
                    ws.config.settings.email.from_name,
                ]
            )
            msg = new_message(
                ws.config.settings.email,
                alloc.team_manager,
                ws.store().email_of(alloc.team_manager),
                f"Audit {alloc.audit_id} ({alloc.case_reference}): practitioner discussion by {uk_date(due)}"
                + ("; immediate safeguarding concern" if concern else ""),
                body,
            )
            attach_docx(msg, doc)
            out.append(postbox.post(msg, keep))
    finally:
        postbox.close()
    return out


def concern_lines(values: dict[str, Any], worker: str) -> list[str]:
    """The immediate safeguarding concern an audit recorded (2.6), repeated first in the
    team manager's discussion message (the notice at ingest went before); none if none."""
    if values.get("concern.immediate") is not True:
        return []
    details = values.get("concern.details")
    described = details if isinstance(details, str) and details.strip() else "(not described)"
    notified = values.get("concern.notified")
    said = []
    if isinstance(notified, str):
        with contextlib.suppress(ValueError):
            said.append(f"The auditor recorded telling you on {uk_date(date.fromisoformat(notified))}.")
    said.append(
        f"Please make sure the corrective actions agreed are in hand with {worker} and recorded on the child's "
        "file under Management Oversight, and include them in the discussion."
    )
    return [
        "IMMEDIATE SAFEGUARDING CONCERN: the auditor recorded an immediate concern about the child's safety:",
        "",
        *(f"    {line}" for line in described.splitlines()),
        "",
        " ".join(said),
        "",
    ]


def _as_fill_values(plan: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in plan.items():
        if key.endswith(".due") and isinstance(value, str):
            try:
                out[key] = date.fromisoformat(value)
                continue
            except ValueError:
                pass
        out[key] = value
    return out


@dataclass
class Chaser:
    to_name: str
    to_address: str
    reason: str  # overdue audit | overdue amendment | discussion | overdue moderation (amendment)
    lines: list[str]


def chasers(ws: Workspace, month: str, today: date) -> list[Chaser]:
    """Everything overdue on ``today``, grouped into one chaser per person and reason."""
    store = ws.store()
    grouped: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for row in store.month_status(month):
        if row["state"] in ("allocated", "issued") and today > row["due_date"]:
            grouped[(row["auditor"], row["auditor_email"], "overdue audit")].append(
                f"{row['audit_id']} (case {row['case_reference']}) was due {uk_date(row['due_date'])}"
            )
        elif row["state"] == "needs_amendment" and row["resubmit_by"] and today > row["resubmit_by"]:
            grouped[(row["auditor"], row["auditor_email"], "overdue amendment")].append(
                f"{row['audit_id']} (case {row['case_reference']}): amendments were due {uk_date(row['resubmit_by'])}"
            )
    for acc in accepted_audits(ws, month):
        due = acc.discussion_due(ws.config.settings)
        if acc.discussed_on is None and today > due:
            a = acc.allocation
            grouped[(a.team_manager, ws.store().email_of(a.team_manager), "discussion")].append(
                f"{a.audit_id} (case {a.case_reference}, worker {a.worker}): discussion was due {uk_date(due)}"
            )
    for draw in store.moderations_between(month, month):
        found = store.allocation(draw.audit_id)
        current = [s for s in store.submissions_of(draw.audit_id) if s["document"] == "moderation" and s["is_current"]]
        if found is None:  # pragma: no cover - a moderation row needs its allocation (foreign key)
            continue
        back_by = current[0]["resubmit_by"] if current and current[0]["status"] == "needs_amendment" else None
        what = f"{draw.audit_id} (case {found[0].case_reference}, audited by {found[0].auditor})"
        who = (draw.moderator, draw.moderator_email)
        if not current and today > draw.due_date:
            grouped[(*who, "overdue moderation")].append(f"{what} was due {uk_date(draw.due_date)}")
        elif back_by and today > back_by:
            grouped[(*who, "overdue moderation amendment")].append(f"{what}: amendments were due {uk_date(back_by)}")
    return [Chaser(name, address, reason, lines) for (name, address, reason), lines in sorted(grouped.items())]


_ASK = {
    "overdue audit": "These audits are overdue. Please return them as soon as you can, or tell the Quality "
    "Assurance team if you cannot complete them.",
    "overdue amendment": "These audits were returned to you for amendment and are now overdue. Please send the "
    "amended copies back.",
    "discussion": "The practitioner discussion of these audits has not been recorded. Please hold it and return "
    "the improvement plan with the discussion date and the agreed actions.",
    "overdue moderation": "The moderation of these audits is overdue. Please return the moderation forms as soon "
    "as you can, or tell the Quality Assurance team if you cannot.",
    "overdue moderation amendment": "These moderation forms were returned to you for amendment and are now "
    "overdue. Please send the amended copies back.",
}


def send_chasers(ws: Workspace, month: str, today: date | None = None, dry_run: bool = False) -> list[Sent]:
    """``auditdocs chase``: one chaser per person and reason for what is overdue on
    ``today`` (default: today in the UK)."""
    check_month(month)
    today = today or uk_today()
    out: list[Sent] = []
    postbox = Postbox(ws.config.settings.email)
    try:
        for chaser in chasers(ws, month, today):
            subject = f"Reminder: {chaser.reason} ({len(chaser.lines)}) for {month_label(month)}"
            if dry_run:
                out.append(Planned(chaser.to_name, subject))
                continue
            body = "\n".join(
                [
                    f"Dear {chaser.to_name},",
                    "",
                    _ASK[chaser.reason],
                    "",
                    *[f"  - {line}" for line in chaser.lines],
                    "",
                    ws.config.settings.email.from_name,
                ]
            )
            msg = new_message(ws.config.settings.email, chaser.to_name, chaser.to_address, subject, body)
            keep = (
                ws.output_dir
                / month
                / "chasers"
                / today.isoformat()
                / f"{safe_name(chaser.to_name)} {chaser.reason}.eml"
            )
            out.append(postbox.post(msg, keep))
    finally:
        postbox.close()
    return out
