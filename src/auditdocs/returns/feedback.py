"""Feedback for an audit that needs amending: the auditor's own document with a Word
comment at each field to fix, and an e-mail-ready message listing the findings and
the resubmission deadline."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING

from auditdocs.allocation.record import Allocation
from auditdocs.dates import now, uk_date
from auditdocs.errors import InternalError
from auditdocs.files import safe_name, write_private
from auditdocs.forms.layout import layout_for
from auditdocs.forms.parse import ParsedForm
from auditdocs.ooxml.binding import bind_shown_values
from auditdocs.ooxml.comments import add_comments
from auditdocs.ooxml.finish import plain_row_switches
from auditdocs.workspace import Workspace

if TYPE_CHECKING:
    from auditdocs.returns.outcome import Outcome

DOCX_TYPE = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


def field_labels(ws: Workspace, tool: str, document: str) -> dict[str, str]:
    layout = layout_for(ws.config, ws.config.tool(tool), "plan" if document == "plan" else "audit")
    return {f.id: f.label for f in layout.fields}


def write_feedback(
    ws: Workspace, parsed: ParsedForm, alloc: Allocation, outcome: Outcome, version: int | None = None
) -> list[Path]:
    """Write the commented copy and the message; returns their paths.

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
    # The copy opens in Word showing what the auditor wrote: bound nodes follow the body
    # (LibreOffice never updates them, and may have emptied the part).
    commented = bind_shown_values(add_comments(parsed.package, parsed.main_part, root, comments), parsed.manifest)
    document = outcome.document or "audit"
    if version is None:
        version = len(_existing(ws, alloc, document)) + 1
    # A plan comes back from the team manager, after the practitioner discussion: its
    # amendments go to them, not to the auditor.
    to_name, to_email = (
        (alloc.team_manager, ws.store().email_of(alloc.team_manager))
        if document == "plan"
        else (alloc.auditor, alloc.auditor_email)
    )
    folder = ws.output_dir / alloc.month / "feedback" / safe_name(to_name)
    kind = "plan amendments" if document == "plan" else "amendments"
    stem = f"{safe_name(alloc.audit_id)} {safe_name(alloc.case_reference)} {kind} {version}"
    doc_path = folder / f"{stem}.docx"
    write_private(doc_path, commented)

    deadline = uk_date(outcome.resubmit_by) if outcome.resubmit_by else "within 3 working days"
    lines = [
        f"Dear {to_name},",
        "",
        f"Thank you for returning audit {alloc.audit_id} (case {alloc.case_reference}). Before the Quality "
        f"Assurance team can accept it, please amend the points below and send it back by {deadline}.",
        "The attached copy of your document has a comment at each field to fix.",
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
    msg = EmailMessage()
    msg["To"] = f"{to_name} <{to_email}>" if to_email else to_name
    msg["Subject"] = f"Audit {alloc.audit_id} ({alloc.case_reference}): amendments needed by {deadline}"
    msg["X-Unsent"] = "1"  # Outlook opens it as a draft to send

    msg["Date"] = format_datetime(now())
    msg.set_content("\n".join(lines))
    msg.add_attachment(commented, maintype=DOCX_TYPE[0], subtype=DOCX_TYPE[1], filename=doc_path.name)
    eml_path = folder / f"{stem}.eml"
    write_private(eml_path, bytes(msg))
    return [doc_path, eml_path]


def _existing(ws: Workspace, alloc: Allocation, document: str) -> list[Path]:
    who = alloc.team_manager if document == "plan" else alloc.auditor
    folder = ws.output_dir / alloc.month / "feedback" / safe_name(who)
    if not folder.exists():
        return []
    found = folder.glob(f"{safe_name(alloc.audit_id)} * amendments *.docx")
    return sorted(p for p in found if (" plan amendments " in p.name) == (document == "plan"))
