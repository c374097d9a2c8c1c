"""``auditdocs demo``: the sample month end to end, on real documents.

Generates every form for the sample allocation, fills some as different auditors
would (complete, careless, with tracked changes, with an immediate safeguarding
concern), ingests them, then ingests the careless auditor's amendment, draws the
month's moderation sample and ingests a moderator's return, and shows the month's status.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from auditdocs.allocation.allocate import allocate, allocation_path
from auditdocs.dates import month_label
from auditdocs.files import display, write_private
from auditdocs.forms.generate import allocations_to_generate, document_path, generate
from auditdocs.mail.chase import send_chasers, send_discussion_plans
from auditdocs.mail.messages import Delivery
from auditdocs.mail.send import send_packs
from auditdocs.moderation.sample import describe, moderate_month, moderation_path
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.reports import monthly_report
from auditdocs.returns.ingest import ingest
from auditdocs.returns.outcome import BatchResult
from auditdocs.returns.status import month_status
from auditdocs.sample.answers import careless, complete_values
from auditdocs.sample.month import SAMPLE_MONTH, SAMPLE_SEED, sample_allocation_path, write_sample
from auditdocs.workspace import Workspace

AUDIT_DATE = date(2026, 11, 20)
RECEIVED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CHASE_DAY = date(2026, 12, 9)  # after the due date and the first discussion deadlines
MODERATION_DAY = date(2026, 11, 25)  # the sample is drawn once audits are accepted
MODERATED = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


def moderated(auditor: dict[str, Any]) -> dict[str, Any]:
    """A moderator's return: the auditor's grades, but harsher on plans and overall, with why."""
    values: dict[str, Any] = {k: v for k, v in auditor.items() if k.endswith(".grade")}
    values.update(
        {
            "domain.plans.grade": "inadequate",
            "domain.plans.rationale": (
                "Eleven undated actions for the parents with no owner: nobody could say whether the plan is "
                "working, so it does not meet minimum requirements."
            ),
            "overall.grade": "inadequate",
            "overall.rationale": (
                "With the plan inadequate as well as the recording, the child's progress cannot be known; the "
                "audit should have said so overall."
            ),
            "conversation.date": date(2026, 12, 3),
            "conversation.notes": "Talked through the plan's grade; the auditor agreed to weigh plans more heavily.",
            "completion.date": date(2026, 12, 3),
        }
    )
    return values


def hurried(values: dict[str, Any]) -> dict[str, Any]:
    """A careless return, with one-line evidence and a vague action besides."""
    return {**careless(values), "domain.recording.evidence": "Recording is late.", "plan.3.action": "Improve recording"}


def urgent(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    out["concern.immediate"] = True
    out["concern.details"] = (
        "Unexplained bruising recorded at the last visit with no strategy discussion; "
        "raised with the team manager the same day."
    )
    out["concern.notified"] = AUDIT_DATE
    return out


def _echo_batch(result: BatchResult, echo: Callable[[str], None]) -> None:
    for line in result.report():
        echo("  " + line)


def _allocation(ws: Workspace, month: str, echo: Callable[[str], None]) -> Path:
    """The month's allocation: made by `allocate` (seeded as the sample is) unless the
    month was already allocated or issued in this workspace."""
    path = allocation_path(ws, month)
    if path.exists():
        echo(f"Using the allocation already made: {display(path)}")
        return path
    if any(state != "allocated" for _a, state in ws.store().month_allocations(month)):
        echo(f"{month} was issued before; using the sample allocation")
        return sample_allocation_path(ws)
    result = allocate(ws, month, seed=SAMPLE_SEED)
    echo(result.summary())
    return result.path or path


def run_demo(ws: Workspace, echo: Callable[[str], None] = print) -> list[Path]:
    """Run the sample month in order: allocate, generate, send, returns, amendment,
    practitioner discussion, moderation, chasers, report."""
    if not sample_allocation_path(ws).exists():
        write_sample(ws)
        echo(f"Wrote the sample month (cases, auditors) to {display(ws.sample_dir)}/")
    month = SAMPLE_MONTH
    echo(f"1. Allocate {month_label(month)}")
    allocations = allocations_to_generate(ws, allocation=_allocation(ws, month, echo))
    paths = generate(ws, allocations)
    echo(f"2. Generated {len(paths)} documents ({len(allocations)} audits) in {display(ws.output_dir / month)}/")
    packs = [d for d in send_packs(ws, month, force=True) if isinstance(d, Delivery)]
    echo(f"3. Drafted {len(packs)} e-mails, one per auditor with their forms, in {display(packs[0].path.parent)}/")

    audit_tools = {a.audit_id: document_path(ws.output_dir, a, "audit") for a in allocations}
    allocations_by_id = {a.audit_id: a for a in allocations}
    ids = list(audit_tools)
    good = complete_values(AUDIT_DATE)
    returns = [
        (ids[0], "complete, Word", good, WordStyle(seed=1)),
        (ids[1], "careless, Word", hurried(good), WordStyle(seed=2, checkbox_val="true")),
        (ids[2], "complete, tracked changes", good, WordStyle(seed=3, tracked=True)),
        (ids[3], "immediate concern", urgent(good), WordStyle(seed=4)),
    ]
    returned_dir = ws.output_dir / month / "returned (demo)"
    first = []
    for audit_id, label, values, style in returns:
        out = returned_dir / f"{audit_id} returned ({label}).docx"
        write_private(out, fill_form(audit_tools[audit_id].read_bytes(), values, style))
        first.append(out)
    echo(f"4. {len(first)} auditors return their forms ({display(returned_dir)}/); ingesting them:")
    _echo_batch(ingest(ws, first, received_at=RECEIVED), echo)

    amended = returned_dir / f"{ids[1]} returned (amended).docx"
    write_private(amended, fill_form(audit_tools[ids[1]].read_bytes(), good, WordStyle(seed=5)))
    echo("5. The careless auditor sends an amended copy:")
    _echo_batch(ingest(ws, [amended], received_at=RECEIVED), echo)

    plans = [d for d in send_discussion_plans(ws, month, force=True) if isinstance(d, Delivery)]
    echo(f"6. Drafted {len(plans)} improvement plans for the practitioner discussions, to the team managers")
    sample = moderate_month(ws, month, today=MODERATION_DAY)
    echo(f"7. Moderation (auditdocs moderate --month {month}): " + describe(sample)[0])
    for line in describe(sample)[1:]:
        echo("  " + line)
    moderation = []
    for draw in sample.drawn:
        alloc = allocations_by_id[draw.audit_id]
        auditor = ws.store().current_values(month).get(draw.audit_id, {})
        out = returned_dir / f"{draw.audit_id} moderated.docx"
        form = moderation_path(ws.output_dir, draw, alloc).read_bytes()
        write_private(out, fill_form(form, moderated(auditor), WordStyle(seed=6)))
        moderation.append(out)
    echo("  The moderator grades it more harshly and returns the form:")
    _echo_batch(ingest(ws, moderation, received_at=MODERATED), echo)
    chased = [d for d in send_chasers(ws, month, CHASE_DAY) if isinstance(d, Delivery)]
    echo(
        f"8. On {CHASE_DAY:%d/%m/%Y}: {len(chased)} chasers (overdue audits, discussions) in "
        f"{display(chased[0].path.parent) if chased else '-'}/"
    )
    reports = monthly_report(ws, month, as_of=CHASE_DAY)
    echo(f"9. The month's Audit Highlights report, workbook and dashboard in {display(reports[0].parent)}/:")
    for path in reports:
        echo(f"     {path.name}")

    echo(f"Status of {month} (auditdocs status --month {month}):")
    for line in month_status(ws, month, today=CHASE_DAY).lines():
        echo("  " + line)
    echo(f'Parse any return yourself: auditdocs parse "{display(first[0])}" --json')
    return [*first, amended, *moderation]
