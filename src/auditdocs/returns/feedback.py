"""What ingest writes for people: for an audit that needs amending, the auditor's own
document with a Word comment at each field to fix and an e-mail-ready message listing the
findings and the resubmission deadline; for an immediate safeguarding concern, a notice
to the team manager (2.6)."""

from __future__ import annotations

import contextlib
import glob
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from auditdocs.allocation.record import Allocation
from auditdocs.dates import now, uk_date
from auditdocs.errors import InternalError
from auditdocs.files import display, safe_name, write_private
from auditdocs.forms.layout import DocumentKind, layout_for
from auditdocs.forms.parse import ParsedForm
from auditdocs.moderation.record import Difference
from auditdocs.ooxml.binding import bind_shown_values
from auditdocs.ooxml.comments import add_comments
from auditdocs.ooxml.finish import plain_row_switches
from auditdocs.ooxml.notes import prepend_section
from auditdocs.ooxml.properties import CoreProperties, with_core_properties
from auditdocs.store.store import Moderation
from auditdocs.workspace import Workspace

if TYPE_CHECKING:
    from auditdocs.returns.outcome import Outcome

DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


def field_labels(ws: Workspace, tool: str, document: str) -> dict[str, str]:
    kind: DocumentKind = "plan" if document == "plan" else "moderation" if document == "moderation" else "audit"
    layout = layout_for(ws.config, ws.config.tool(tool), kind)
    return {f.id: f.label for f in layout.fields}


def write_feedback(
    ws: Workspace,
    parsed: ParsedForm,
    alloc: Allocation,
    outcome: Outcome,
    version: int | None = None,
    to: tuple[str, str] | None = None,
) -> list[Path]:
    """Write the commented copy and the message; returns their paths.  They go to the
    auditor (a plan's to the team manager), or to ``to`` (name, e-mail): a moderation
    form's to its moderator.

    They are named by the version of the return they answer (an improvement plan's apart
    from its audit's), so writing them again for the same return, as a re-run does after
    a crash before the return was recorded, replaces them rather than adding a second pair.
    Without ``version``, the next number after the feedback already written is used."""
    if parsed.package is None or parsed.main_part is None:
        raise InternalError(f"{parsed.file}: feedback asked for a file that was not read as a package")
    errors = [f for f in outcome.findings if f.severity == "error"]
    warnings = [f for f in outcome.findings if f.severity == "warning"]
    labels = field_labels(ws, alloc.tool, outcome.document or "audit")
    comments = [
        (
            parsed.locations.get(f.field) if f.field else None,
            ("To fix: " if f.severity == "error" else "Please check: ") + f.message,
        )
        for f in [*errors, *warnings]
    ]
    root = parsed.package.xml(parsed.main_part)
    plain_row_switches(root)  # a LibreOffice file's rows, as Word writes them
    deadline = uk_date(outcome.resubmit_by) if outcome.resubmit_by else "within 3 working days"
    # The list of amendments inside the document too, at the top: not every reader meets
    # the comments (a screen reader reads them one by one, a print may leave them out).
    prepend_section(
        root,
        "Amendments needed",
        [
            f"Before the Quality Assurance team can accept this document, please make the amendments below and "
            f"send it back by {deadline}. Each one also has a comment at its field. This list is not part of the "
            "form: leave it or delete it.",
        ],
        [
            ("To fix: " if f.severity == "error" else "Please check: ")
            + f"{labels.get(f.field or '', 'The form as a whole')}: {f.message}"
            for f in [*errors, *warnings]
        ],
    )
    # The copy opens in Word showing what the auditor wrote: bound nodes follow the body
    # (LibreOffice never updates them, and may have emptied the part).
    commented = bind_shown_values(add_comments(parsed.package, parsed.main_part, root, comments), parsed.manifest)
    document = outcome.document or "audit"
    title = f"Amendments needed: {ws.config.tool(alloc.tool).title} {alloc.audit_id}"
    if document in ("plan", "moderation"):
        what = "improvement plan" if document == "plan" else "moderation"
        title = f"Amendments needed: {what}, {ws.config.tool(alloc.tool).title} {alloc.audit_id}"
    commented = with_core_properties(commented, CoreProperties(title, ws.config.settings.organisation.name, now()))
    if version is None:
        version = len(_existing(ws, alloc, document)) + 1
    # A plan comes back from the team manager, after the practitioner discussion: its
    # amendments go to them, not to the auditor.
    to_name, to_email = to or (
        (alloc.team_manager, ws.store().email_of(alloc.team_manager))
        if document == "plan"
        else (alloc.auditor, alloc.auditor_email)
    )
    folder = ws.output_dir / alloc.month / "feedback" / safe_name(to_name)
    kind = {"plan": "plan amendments", "moderation": "moderation amendments"}.get(document, "amendments")
    stem = f"{safe_name(alloc.audit_id)} {safe_name(alloc.case_reference)} {kind} {version}"
    lines = [
        f"Dear {to_name},",
        "",
        f"Thank you for returning {'the moderation of ' if document == 'moderation' else ''}audit "
        f"{alloc.audit_id} (case {alloc.case_reference}). Before the Quality "
        f"Assurance team can accept it, please amend the points below and send it back by {deadline}.",
        "The attached copy of your document lists them at the top and has a comment at each field to fix.",
        "",
        "To fix:",
        *[f"  - {labels.get(f.field or '', 'The form')}: {f.message}" for f in errors],
    ]
    if warnings:
        lines += [
            "",
            "Please also check:",
            *[f"  - {labels.get(f.field or '', 'The form')}: {f.message}" for f in warnings],
        ]
    lines += ["", "Quality Assurance team", ws.config.settings.organisation.name]
    address = f"{to_name} <{to_email}>" if to_email else to_name
    subject = f"Audit {alloc.audit_id} ({alloc.case_reference}): amendments needed by {deadline}"
    return _copy_and_draft(folder / stem, commented, address, subject, lines)


def _copy_and_draft(stem: Path, document: bytes, to: str, subject: str, lines: list[str]) -> list[Path]:
    """Write a commented copy (``stem``.docx) and a draft message to ``to`` with it attached
    (``stem``.eml, which Outlook opens as a draft to send); returns their paths."""
    doc_path, eml_path = stem.with_name(stem.name + ".docx"), stem.with_name(stem.name + ".eml")
    write_private(doc_path, document)
    msg = EmailMessage()
    msg["To"] = to
    msg["Subject"] = subject
    msg["X-Unsent"] = "1"
    msg["Date"] = format_datetime(now())
    msg.set_content("\n".join(lines))
    msg.add_attachment(document, maintype=DOCX_TYPE[0], subtype=DOCX_TYPE[1], filename=doc_path.name)
    write_private(eml_path, bytes(msg))
    return [doc_path, eml_path]


def write_moderation_feedback(
    ws: Workspace,
    original: ParsedForm,
    alloc: Allocation,
    draw: Moderation,
    diffs: list[Difference],
    version: int,
) -> list[Path]:
    """Feedback to the auditor when the moderator's overall grade differs from theirs: their
    own audit document (``original``: its current return, read again) with a comment at each
    grade the moderator gave otherwise (the moderator's grade and rationale), the list of
    them at the top, and a message.  Named by the moderation's version; returns the paths."""
    if original.package is None or original.main_part is None:
        raise InternalError(f"audit {alloc.audit_id}: the auditor's document was not read as a package")
    scale = ws.config.settings.grading
    names = {g.id: g.label for g in [*scale.grades, scale.not_applicable]}
    record = ws.config.settings.moderation.grade_of_record

    def said(d: Difference) -> str:
        theirs, ours = names.get(str(d.auditor), "not graded"), names.get(str(d.moderator), "not graded")
        return f"{d.title}: you graded {theirs}; the moderator graded {ours}. {d.rationale}".strip()

    comments = [(original.locations.get(d.field), f"Moderation: {said(d)}") for d in diffs]
    root = original.package.xml(original.main_part)
    plain_row_switches(root)
    stands = "the moderator's grades stand" if record == "moderator" else "your grades stand"
    prepend_section(
        root,
        "Moderation",
        [
            f"{draw.moderator} moderated this audit (framework 7.2) and graded it otherwise where listed below; "
            f"where the grades differ, {stands} as the grade of record. Each difference also has a comment at its "
            "grade. Nothing needs sending back: talk it through with the moderator.",
        ],
        [said(d) for d in diffs],
    )
    commented = bind_shown_values(add_comments(original.package, original.main_part, root, comments), original.manifest)
    title = f"Moderation feedback: {ws.config.tool(alloc.tool).title} {alloc.audit_id}"
    commented = with_core_properties(commented, CoreProperties(title, ws.config.settings.organisation.name, now()))
    folder = ws.output_dir / alloc.month / "feedback" / safe_name(alloc.auditor)
    stem = f"{safe_name(alloc.audit_id)} {safe_name(alloc.case_reference)} moderation {version}"
    lines = [
        f"Dear {alloc.auditor},",
        "",
        f"{draw.moderator} has moderated your audit {alloc.audit_id} (case {alloc.case_reference}) and graded it "
        f"otherwise than you did, overall too; where the grades differ, {stands}.",
        "",
        *[f"  - {said(d)}" for d in diffs],
        "",
        "The attached copy of your document has a comment at each of these grades. Please talk them through with "
        f"{draw.moderator} ({draw.moderator_email}).",
        "",
        "Quality Assurance team",
        ws.config.settings.organisation.name,
    ]
    to = formataddr((alloc.auditor, alloc.auditor_email)) if alloc.auditor_email else alloc.auditor
    subject = f"Audit {alloc.audit_id} ({alloc.case_reference}): moderation feedback"
    return _copy_and_draft(folder / stem, commented, to, subject, lines)


def _existing(ws: Workspace, alloc: Allocation, document: str) -> list[Path]:
    who = alloc.team_manager if document == "plan" else alloc.auditor
    folder = ws.output_dir / alloc.month / "feedback" / safe_name(who)
    if not folder.exists():
        return []
    found = folder.glob(f"{safe_name(alloc.audit_id)} * amendments *.docx")
    return sorted(p for p in found if (" plan amendments " in p.name) == (document == "plan"))


# --- immediate safeguarding concern -----------------------------------------------------


class Posted(Protocol):
    """What sending one message came to (``auditdocs.mail.messages.Delivery``)."""

    sent: bool
    error: str | None


#: Sends (or drafts) a message and keeps a copy at the path given: the mail layer's
#: ``post_one``, given to ingest by its caller (this layer sends nothing itself).
Post = Callable[[EmailMessage, Path], Posted]


@dataclass(frozen=True)
class ConcernNotice:
    """The notice of a return's immediate concern: where it is kept, what the ingest
    report says of it, and whether this return made it (False: this concern, word for
    word, was notified for an earlier version)."""

    path: Path
    note: str
    new: bool


def notify_concern(
    ws: Workspace, alloc: Allocation, fields: dict[str, Any], address: str, post: Post | None = None
) -> ConcernNotice:
    """Tell the team manager of an immediate safeguarding concern at once (2.6): a notice
    naming the case, the concern and the auditor, sent with ``post`` (when the caller gives
    one) or drafted under output/<month>/concerns/.  Once per audit and concern: an amended
    version with the same concern adds nothing; a changed concern is notified again.  With
    no ``address`` for the team manager, the notice goes to the QA team to forward."""
    details = fields.get("concern.details")
    details = details.strip() if isinstance(details, str) and details.strip() else None
    # Named by the concern's words (spacing ignored), so the file itself says it was notified.
    digest = hashlib.sha256(" ".join((details or "").split()).encode()).hexdigest()[:10]
    folder = ws.output_dir / alloc.month / "concerns"
    stem = f"{safe_name(alloc.audit_id)} {safe_name(alloc.case_reference)} concern"
    path = folder / f"{stem} {digest}.eml"
    manager = alloc.team_manager
    if path.exists():
        return ConcernNotice(path, f"concern already notified to {manager} ({path.name})", new=False)
    earlier = [p for p in folder.glob(f"{glob.escape(stem)} *.eml") if p != path] if folder.exists() else []
    msg = _concern_message(ws, alloc, details, fields.get("concern.notified"), address, changed=bool(earlier))
    whom = manager if address else f"the QA team to forward (no e-mail address known for {manager})"
    if post is None:
        msg["X-Unsent"] = "1"  # Outlook and Thunderbird open it as a draft to send
        write_private(path, bytes(msg))
        return ConcernNotice(path, f"concern notice drafted to {whom}: {display(path)}", new=True)
    delivery = post(msg, path)
    if delivery.sent:
        note = f"concern notice sent to {whom}"
    elif delivery.error:
        note = f"concern notice to {whom} NOT SENT ({delivery.error}); send the draft now: {display(path)}"
    else:
        note = f"concern notice drafted to {whom}: {display(path)}"
    return ConcernNotice(path, note, new=True)


def _concern_message(
    ws: Workspace, alloc: Allocation, details: str | None, notified: object, address: str, changed: bool
) -> EmailMessage:
    settings = ws.config.settings
    tool = ws.config.tool(alloc.tool)
    what = (
        f"{tool.title} of case {alloc.case_reference}"
        if tool.subject == "case"
        else f"{tool.title} of {alloc.worker} (reference {alloc.case_reference})"
    )
    manager, auditor = alloc.team_manager, alloc.auditor
    told = None
    if isinstance(notified, str):
        with contextlib.suppress(ValueError):
            told = date.fromisoformat(notified)
    described = details or (
        "(The box is ticked but the concern is not described: the auditor is asked to describe it. Contact them now.)"
    )
    contact = f"{auditor} ({alloc.auditor_email})" if alloc.auditor_email else auditor
    lines = []
    if not address:
        lines += [
            f"FOR THE QUALITY ASSURANCE TEAM: no e-mail address is known for {manager}, the team manager "
            "(addresses come from the auditor list). Forward this notice to them at once, or tell them by "
            "phone, and record that you did.",
            "",
        ]
    lines += [
        f"Dear {manager},",
        "",
        f"IMMEDIATE SAFEGUARDING CONCERN: {auditor} recorded an immediate concern about a child's safety in the "
        f"{what} (audit {alloc.audit_id}; team {alloc.team}; worker {alloc.worker}).",
    ]
    if changed:
        lines.append("The concern recorded has changed since the earlier notice of this audit; it now reads:")
    lines += [
        "",
        *(f"    {line}" for line in described.splitlines()),
        "",
        f"{auditor} recorded telling you on {uk_date(told)}." if told else f"{auditor} has not recorded telling you.",
        f"Please address the corrective actions with {alloc.worker} at once and record them on the child's file "
        "under Management Oversight. The audit must never delay action to keep a child safe.",
        f"To discuss the concern, contact {contact}.",
        "",
        settings.email.from_name,
        settings.organisation.name,
    ]
    subject = f"IMMEDIATE SAFEGUARDING CONCERN: {what} (audit {alloc.audit_id})"
    qa_team = formataddr((settings.email.from_name, settings.email.from_address))
    msg = EmailMessage()
    msg["From"] = qa_team
    msg["To"] = formataddr((manager, address)) if address else qa_team
    if settings.email.reply_to:
        msg["Reply-To"] = settings.email.reply_to
    msg["Subject"] = subject if address else f"FORWARD TO {manager}: {subject}"
    msg["Date"] = format_datetime(now())
    msg["Message-ID"] = make_msgid(domain=settings.email.from_address.rpartition("@")[2] or None)
    msg["Importance"] = "High"
    msg["X-Priority"] = "1"
    msg.set_content("\n".join(lines))
    return msg
