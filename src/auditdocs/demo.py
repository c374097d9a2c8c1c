"""``auditdocs demo``: the sample month end to end, on real documents.

Generates every form for the sample allocation, fills some as different auditors
would (complete, careless, with tracked changes, with an immediate safeguarding
concern), ingests them, then ingests the careless auditor's amendment, and shows
the month's status.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from auditdocs.allocation import read_allocation
from auditdocs.answers import complete_values
from auditdocs.generate import generate
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.ooxml.zipout import write_private
from auditdocs.paths import display
from auditdocs.returns.ingest import BatchResult, ingest
from auditdocs.returns.status import month_status
from auditdocs.sample import sample_allocation_path, write_sample
from auditdocs.workspace import Workspace

AUDIT_DATE = date(2026, 11, 20)


def careless(values: dict[str, Any]) -> dict[str, Any]:
    """What a hurried auditor leaves: a domain ungraded, one-line evidence, a vague plan."""
    out = dict(values)
    out["domain.plans.grade"] = None
    out["domain.plans.evidence"] = None
    out["domain.recording.evidence"] = "Recording is late."
    out["plan.3.owner"] = "TBC"
    out["plan.3.action"] = "Improve recording"
    return out


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


def run_demo(ws: Workspace, echo: Callable[[str], None] = print) -> list[Path]:
    if not sample_allocation_path(ws).exists():
        write_sample(ws)
        echo(f"Wrote the sample month to {display(ws.sample_dir)}/")
    allocations = read_allocation(sample_allocation_path(ws))
    paths = generate(ws, allocations)
    month = allocations[0].month
    echo(f"Generated {len(paths)} documents ({len(allocations)} audits) in {display(ws.output_dir / month)}/")

    audit_tools = {
        a.audit_id: p
        for a, p in zip(allocations, (p for p in paths if p.name.endswith("audit tool.docx")), strict=True)
    }
    ids = list(audit_tools)
    good = complete_values(AUDIT_DATE)
    returns = [
        (ids[0], "complete, Word", good, WordStyle(seed=1)),
        (ids[1], "careless, Word", careless(good), WordStyle(seed=2, checkbox_val="true")),
        (ids[2], "complete, tracked changes", good, WordStyle(seed=3, tracked=True)),
        (ids[3], "immediate concern", urgent(good), WordStyle(seed=4)),
    ]
    returned_dir = ws.output_dir / month / "returned (demo)"
    first = []
    for audit_id, label, values, style in returns:
        out = returned_dir / f"{audit_id} returned ({label}).docx"
        write_private(out, fill_form(audit_tools[audit_id].read_bytes(), values, style))
        first.append(out)
    echo(f"Filled {len(first)} forms as auditors would, in {display(returned_dir)}/; ingesting them:")
    _echo_batch(ingest(ws, first), echo)

    amended = returned_dir / f"{ids[1]} returned (amended).docx"
    write_private(amended, fill_form(audit_tools[ids[1]].read_bytes(), good, WordStyle(seed=5)))
    echo(f"The careless auditor sends an amended copy; ingesting {display(amended)}:")
    _echo_batch(ingest(ws, [amended]), echo)

    echo(f"Status of {month}:")
    for line in month_status(ws, month):
        echo("  " + line)
    echo(f'Parse any return yourself: auditdocs parse "{display(first[0])}" --json')
    return [*first, amended]
