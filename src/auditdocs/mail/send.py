"""``auditdocs send``: one message per auditor with their forms attached.

Each message lists the auditor's cases and due dates and says, in short, how to
fill in and return the forms.  Drafts by default; sent through SMTP when configured.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from auditdocs.allocation.record import Allocation
from auditdocs.dates import check_month, month_label, uk_date
from auditdocs.errors import DataError
from auditdocs.files import safe_name
from auditdocs.forms.generate import DOCUMENT_KINDS, document_path
from auditdocs.mail.chase import send_discussion_plans
from auditdocs.mail.messages import Planned, Postbox, Sent, Skipped, attach_docx, new_message
from auditdocs.workspace import Workspace

INSTRUCTIONS = """\
How to complete each audit:
  - Open the audit tool in Word (or LibreOffice). The case details are filled in and locked.
  - For each domain: read the guidance, tick what you saw on the file, choose a grade from
    the list and write your evidence in your own words - good practice and suggestions.
  - Give the overall judgement, record your discussion with the worker and team manager,
    and write a SMART improvement plan: what, who, by when, how we will know, which domain.
  - If you have an immediate safeguarding concern, tell the team manager at once and tick
    the box on the form: the audit must never delay action to keep a child safe.
  - Save it as .docx (any file name) and send it back by reply to this message."""


@dataclass
class Pack:
    auditor: str
    email: str
    audits: list[Allocation]
    attachments: list[Path]


def packs(ws: Workspace, month: str) -> list[Pack]:
    """The month's issued (not yet returned) audits, grouped by auditor, with their forms."""
    by_auditor: dict[tuple[str, str], list[Allocation]] = defaultdict(list)
    for alloc, state in ws.store().month_allocations(month):
        if state in ("allocated", "issued"):
            by_auditor[(alloc.auditor, alloc.auditor_email)].append(alloc)
    out = []
    for (auditor, email), audits in sorted(by_auditor.items()):
        files = [document_path(ws.output_dir, a, kind) for a in audits for kind in DOCUMENT_KINDS]
        missing = [f for f in files if not f.exists()]
        if missing:
            raise DataError(f"{missing[0]}: not generated yet; run `auditdocs generate` for {month} first")
        out.append(Pack(auditor, email, audits, files))
    return out


def pack_message(ws: Workspace, pack: Pack, month: str) -> tuple[str, str]:
    """(subject, body) of an auditor's pack."""
    settings = ws.config.settings
    due = min(a.due_date for a in pack.audits)
    tools = {a.tool: ws.config.tool(a.tool).title for a in pack.audits}
    lines = [
        f"Dear {pack.auditor},",
        "",
        f"Please find attached your {len(pack.audits)} audit{'s' if len(pack.audits) != 1 else ''} for "
        f"{month_label(month)}, "
        f"each with its improvement plan. Please return the audit tools by {uk_date(due)}.",
        "",
        *[
            f"  {a.audit_id}  case {a.case_reference}  {tools[a.tool]}  (team: {a.team}; worker: {a.worker})  "
            f"due {uk_date(a.due_date)}"
            for a in pack.audits
        ],
        "",
        "Before you start, let the allocated worker know their case will be audited.",
        "",
        INSTRUCTIONS,
        "",
        settings.email.from_name,
        settings.organisation.name,
    ]
    subject = f"Case file audits for {month_label(month)}: {len(pack.audits)} to return by {uk_date(due)}"
    return subject, "\n".join(lines)


def send_packs(ws: Workspace, month: str, dry_run: bool = False, force: bool = False) -> list[Sent]:
    """Send (or draft) each auditor's pack; with ``dry_run`` only say what would go."""
    out: list[Sent] = []
    postbox = Postbox(ws.config.settings.email)
    outbox = ws.output_dir / month / "outbox"
    try:
        for pack in packs(ws, month):
            keep = outbox / f"{safe_name(pack.auditor)} forms.eml"
            subject, body = pack_message(ws, pack, month)
            if dry_run:
                out.append(Planned(f"{pack.auditor} <{pack.email}>", subject, len(pack.attachments)))
                continue
            if keep.exists() and not force:
                out.append(Skipped(pack.auditor, f"already sent ({keep.name}); use --force to send again"))
                continue
            msg = new_message(ws.config.settings.email, pack.auditor, pack.email, subject, body)
            for path in pack.attachments:
                attach_docx(msg, path)
            out.append(postbox.post(msg, keep))
    finally:
        postbox.close()
    return out


def send(ws: Workspace, month: str, *, dry_run: bool = False, force: bool = False) -> list[Sent]:
    """``auditdocs send``: each auditor's forms, then (unless a dry run) each accepted
    audit's improvement plan to its team manager for the practitioner discussion."""
    check_month(month)
    out = send_packs(ws, month, dry_run=dry_run, force=force)
    if not dry_run:
        out += send_discussion_plans(ws, month, force=force)
    return out
