"""``auditdocs send``: one message per auditor with their forms attached.

Each message lists the auditor's audits and due dates in each tool's own words (a case
file audited, a case discussed with its practitioner, a worker's supervision audited or
practice observed; a re-audit names the audit it repeats) and says, in short, how to
fill in and return the forms.  Drafts by default; sent through SMTP when configured.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from auditdocs.allocation.record import Allocation
from auditdocs.config.models import ToolType
from auditdocs.dates import check_month, month_label, uk_date
from auditdocs.errors import DataError
from auditdocs.files import safe_name
from auditdocs.forms.generate import DOCUMENT_KINDS, document_path
from auditdocs.mail.chase import send_discussion_plans
from auditdocs.mail.messages import Planned, Postbox, Sent, Skipped, attach_docx, new_message
from auditdocs.moderation.sample import SENT_EVENT, moderation_path
from auditdocs.workspace import Workspace

INSTRUCTIONS = """\
How to complete each form:
  - Open it in Word (or LibreOffice). The details of the case or worker are filled in and locked.
  - For each domain: read the guidance, tick what you saw, choose a grade from the list
    and write your evidence in your own words - good practice and suggestions.
  - Give the overall judgement, record your discussion with the worker and team manager,
    and write a SMART improvement plan: what, who, by when, how we will know, which domain.
  - If you have an immediate safeguarding concern, tell the team manager at once and tick
    the box on the form: nothing here may delay action to keep a child safe.
  - Save it as .docx (any file name) and send it back by reply to this message."""


@dataclass
class Pack:
    auditor: str
    email: str
    audits: list[Allocation]
    attachments: list[Path]


def packs(ws: Workspace, month: str, force: bool = False) -> list[Pack]:
    """The month's issued (not yet returned) audits not sent since they were last issued
    (all of them with ``force``), grouped by auditor, with their forms."""
    store = ws.store()
    events = store.events_of(month)
    by_auditor: dict[tuple[str, str], list[Allocation]] = defaultdict(list)
    for alloc, state in store.month_allocations(month):
        if state in ("allocated", "issued") and (force or _unsent(ws, alloc, events.get(alloc.audit_id, []))):
            by_auditor[(alloc.auditor, alloc.auditor_email)].append(alloc)
    out = []
    for (auditor, email), audits in sorted(by_auditor.items()):
        files = [document_path(ws.output_dir, a, kind) for a in audits for kind in DOCUMENT_KINDS]
        missing = [f for f in files if not f.exists()]
        if missing:
            raise DataError(f"{missing[0]}: not generated yet; run `auditdocs generate` for {month} first")
        out.append(Pack(auditor, email, audits, files))
    return out


def _unsent(ws: Workspace, alloc: Allocation, events: list[tuple[datetime, str, str]]) -> bool:
    """Whether an audit's forms have not gone to its auditor since it was last issued.
    An audit issued before events were recorded was sent if its auditor's pack was."""
    if not events:
        return not _pack_file(ws, alloc.month, alloc.auditor).exists()
    last_issue = max((i for i, (_at, kind, _d) in enumerate(events) if kind in ("issued", "reissued")), default=-1)
    return not any(kind == "sent" for _at, kind, _d in events[last_issue + 1 :])


def _pack_file(ws: Workspace, month: str, auditor: str, n: int = 1) -> Path:
    """Where an auditor's n-th pack of the month is kept."""
    return ws.output_dir / month / "outbox" / f"{safe_name(auditor)} forms{f' ({n})' if n > 1 else ''}.eml"


def pack_message(ws: Workspace, pack: Pack, month: str) -> tuple[str, str]:
    """(subject, body) of an auditor's pack, in each tool's own words: an audit of a case
    file, a case discussion with the practitioner, an audit or observation of a worker;
    a re-audit names the audit it repeats, its month and its grade."""
    settings = ws.config.settings
    due = min(a.due_date for a in pack.audits)
    tools = {a.tool: ws.config.tool(a.tool) for a in pack.audits}
    n = len(pack.audits)
    single = next(iter(tools.values())) if len(tools) == 1 else None
    what = _plural(single.title, n) if single else "forms"
    listed = [line for a in pack.audits for line in _audit_lines(ws, a, tools[a.tool])]
    first_steps = dict.fromkeys(_first_step(tool) for tool in tools.values())
    lines = [
        f"Dear {pack.auditor},",
        "",
        f"Please find attached your {n} {what} for {month_label(month)}, each with its improvement plan. "
        f"Please return {'them' if n != 1 else 'it'} by {uk_date(due)}.",
        "",
        *listed,
        "",
        *first_steps,
    ]
    if any(a.reaudit_of for a in pack.audits):
        lines.append(
            "A re-audit repeats an earlier audit of the same case (framework 2.12): read the previous audit "
            "first (its form names it, with its grades and actions) and say in your evidence what has changed since."
        )
    lines += ["", INSTRUCTIONS, "", settings.email.from_name, settings.organisation.name]
    kind = _plural(single.title, n) if single else "Audit forms"
    subject = f"{kind} for {month_label(month)}: {n} to return by {uk_date(due)}"
    return subject, "\n".join(lines)


def _plural(title: str, n: int) -> str:
    """'Staff Observation' → 'Staff Observations'; 'Thematic Audit (Neglect)' → 'Thematic Audits (Neglect)'."""
    if n == 1:
        return title
    head, bracket, tail = title.partition(" (")
    return f"{head}s{bracket}{tail}"


def _audit_lines(ws: Workspace, a: Allocation, tool: ToolType) -> list[str]:
    """One audit of a pack: what is audited, discussed or observed, and by when; a re-audit's
    second line names the audit it repeats."""
    if tool.activity == "observation":
        subject = f"{a.worker} (team {a.team})" + (f", on case {a.case_reference}" if tool.subject == "case" else "")
        line = f"{tool.title} of {subject}"
    elif tool.subject == "worker":
        line = f"{tool.title} of {a.worker} (team {a.team}; team manager {a.team_manager})"
    elif tool.activity == "discussion":
        line = f"{tool.title} with {a.worker} about case {a.case_reference} (team {a.team})"
    else:
        line = f"{tool.title} of case {a.case_reference} (team {a.team}; worker {a.worker})"
    out = [f"  {a.audit_id}  {line}  due {uk_date(a.due_date)}"]
    if a.reaudit_of:
        out.append(f"      re-audit of {_previous(ws, a.reaudit_of)}")
    return out


def _previous(ws: Workspace, audit_id: str) -> str:
    """'2026-10-004 (October 2026, graded Inadequate)': the audit a re-audit repeats."""
    store = ws.store()
    found = store.allocation(audit_id)
    if found is None:
        return audit_id
    month = found[0].month
    grade = store.current_values(month, "overall.grade").get(audit_id, {}).get("overall.grade")
    labels = {g.id: g.label for g in ws.config.settings.grading.grades}
    graded = f"graded {labels[grade]}" if isinstance(grade, str) and grade in labels else "not graded"
    return f"{audit_id} ({month_label(month)}, {graded})"


def _first_step(tool: ToolType) -> str:
    """What to do before starting, in the tool's terms."""
    if tool.activity == "observation":
        return (
            "Before each observation, agree with the practitioner which piece of direct work you will observe "
            "and give them a copy of the form."
        )
    if tool.subject == "worker":
        return f"Before you start, let each worker and their team manager know about their {tool.title.lower()}."
    if tool.activity == "discussion":
        return "Arrange each case discussion with the practitioner, and read the case file before it."
    return "Before you start, let the allocated worker know their case will be audited."


def send_packs(ws: Workspace, month: str, dry_run: bool = False, force: bool = False) -> list[Sent]:
    """Send (or draft) each auditor's pack; with ``dry_run`` only say what would go."""
    out: list[Sent] = []
    postbox = Postbox(ws.config.settings.email)
    store = ws.store()
    waiting = packs(ws, month, force=force)
    pending = {pack.auditor for pack in waiting}
    sent_before = {a.auditor for a, state in store.month_allocations(month) if state in ("allocated", "issued")}
    out += [
        Skipped(auditor, "already sent their forms; use --force to send again")
        for auditor in sorted(sent_before - pending)
    ]
    try:
        for pack in waiting:
            subject, body = pack_message(ws, pack, month)
            if dry_run:
                out.append(Planned(f"{pack.auditor} <{pack.email}>", subject, len(pack.attachments)))
                continue
            keep = next(p for n in range(1, 10_000) if not (p := _pack_file(ws, month, pack.auditor, n)).exists())
            msg = new_message(ws.config.settings.email, pack.auditor, pack.email, subject, body)
            for path in pack.attachments:
                attach_docx(msg, path)
            delivery = postbox.post(msg, keep)
            out.append(delivery)
            if delivery.error is None:  # a failed sending is tried again next time
                how = f"{'sent' if delivery.sent else 'drafted'} to {pack.email} ({keep.name})"
                store.record_events((a.audit_id, "sent", how) for a in pack.audits)
    finally:
        postbox.close()
    return out


MODERATION_INSTRUCTIONS = """\
How to moderate each audit:
  - Open the form in Word (or LibreOffice). The case and the auditor are filled in and locked.
  - Read the case file and grade each domain and the audit overall yourself, as an auditor would.
  - Where your grade differs from the auditor's, say why in the rationale: the auditor learns from it.
  - Talk your grades through with the auditor and record the conversation on the form.
  - Save it as .docx (any file name) and send it back by reply to this message."""


def send_moderation(ws: Workspace, month: str, dry_run: bool = False, force: bool = False) -> list[Sent]:
    """Send (or draft) each moderator their moderation forms of ``month`` not returned yet
    and not sent since they were drawn (all not returned, with ``force``)."""
    store = ws.store()
    events = store.events_of(month)
    by_moderator: dict[tuple[str, str], list[tuple[Allocation, date, Path]]] = defaultdict(list)
    out: list[Sent] = []
    for draw in store.moderations_between(month, month):
        found = store.allocation(draw.audit_id)
        returned = any(s["document"] == "moderation" for s in store.submissions_of(draw.audit_id))
        sent = any(kind == SENT_EVENT for _at, kind, _d in events.get(draw.audit_id, []))
        if found is None or returned or (sent and not force):
            continue
        path = moderation_path(ws.output_dir, draw, found[0])
        if not path.exists():
            raise DataError(f"{path}: not written; run `auditdocs moderate --month {month}` first")
        by_moderator[(draw.moderator, draw.moderator_email)].append((found[0], draw.due_date, path))
    postbox = Postbox(ws.config.settings.email)
    try:
        for (moderator, email), items in sorted(by_moderator.items()):
            n, due = len(items), min(d for _a, d, _p in items)
            audits = f"{n} audit{'s' if n > 1 else ''}"
            subject = f"Moderation for {month_label(month)}: {audits} to return by {uk_date(due)}"
            if dry_run:
                out.append(Planned(f"{moderator} <{email}>", subject, n))
                continue
            body = [
                f"Dear {moderator},",
                "",
                f"Please find attached {n} moderation form{'s' if n > 1 else ''} for {month_label(month)} "
                f"(framework 7.2). Please return {'them' if n > 1 else 'it'} by {uk_date(due)}.",
                "",
                *(
                    f"  {a.audit_id}  {ws.config.tool(a.tool).title} of case {a.case_reference} by {a.auditor}  "
                    f"due {uk_date(d)}"
                    for a, d, _p in items
                ),
                "",
                MODERATION_INSTRUCTIONS,
                "",
                ws.config.settings.email.from_name,
                ws.config.settings.organisation.name,
            ]
            folder = ws.output_dir / month / "outbox"
            keep = next(
                p for k in range(1, 10_000)
                if not (p := folder / f"{safe_name(moderator)} moderation{f' ({k})' if k > 1 else ''}.eml").exists()
            )  # fmt: skip
            msg = new_message(ws.config.settings.email, moderator, email, subject, "\n".join(body))
            for _a, _d, path in items:
                attach_docx(msg, path)
            delivery = postbox.post(msg, keep)
            out.append(delivery)
            if delivery.error is None:
                how = f"{'sent' if delivery.sent else 'drafted'} to {email} ({keep.name})"
                store.record_events((a.audit_id, SENT_EVENT, how) for a, _d, _p in items)
    finally:
        postbox.close()
    return out


def send(ws: Workspace, month: str, *, dry_run: bool = False, force: bool = False) -> list[Sent]:
    """``auditdocs send``: each auditor's forms, then (unless a dry run) each accepted
    audit's improvement plan to its team manager for the practitioner discussion, then
    each moderator's moderation forms."""
    check_month(month)
    out = send_packs(ws, month, dry_run=dry_run, force=force)
    if not dry_run:
        out += send_discussion_plans(ws, month, force=force)
    out += send_moderation(ws, month, dry_run=dry_run, force=force)
    return out
