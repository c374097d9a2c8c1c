"""``auditdocs demo``: the sample month end to end, on real documents.

Generates every form for the sample allocation, fills a few as different auditors
would (complete, careless, with tracked changes), saves them as returned files and
parses them back, printing what came out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from auditdocs.allocation import read_allocation
from auditdocs.generate import generate
from auditdocs.ooxml.fill import Value, WordStyle, fill_form
from auditdocs.ooxml.zipout import write_private
from auditdocs.paths import display
from auditdocs.sample import sample_allocation_path, write_sample
from auditdocs.workspace import Workspace


def sample_answers(domain_ids: list[str], complete: bool) -> dict[str, Value]:
    """What an auditor might write: a complete audit, or one with gaps."""
    grades = ["good", "requires_improvement", "good", "outstanding", "inadequate", "good", "good"]
    values: dict[str, Value] = {}
    for n, d in enumerate(domain_ids):
        if not complete and n == 2:
            continue  # a domain left ungraded and without evidence
        values[f"domain.{d}.grade"] = grades[n % len(grades)]
        values[f"domain.{d}.evidence"] = (
            f"Records for this domain show purposeful work with the child & family.\n"
            f"Good practice: the worker's analysis is clear. Suggestion: update the plan "
            f"within 10 working days (item {n + 1})."
        )
    values["overall.grade"] = "requires_improvement"
    values["overall.summary"] = "The child's journey is clear; plans need sharper outcomes."
    values["concern.immediate"] = False
    values["discussion.worker_date"] = date(2026, 11, 18)
    values["plan.1.action"] = "Update the child's plan with measurable outcomes"
    values["plan.1.owner"] = "Allocated social worker"
    values["plan.1.due"] = date(2026, 12, 18)
    values["plan.1.outcome"] = "Plan reviewed at the next review shows measurable outcomes"
    values["plan.1.domain"] = domain_ids[2 % len(domain_ids)]
    return values


def run_demo(ws: Workspace, echo: Callable[[str], None] = print) -> list[Path]:
    if not sample_allocation_path(ws).exists():
        write_sample(ws)
        echo(f"Wrote the sample month to {display(ws.sample_dir)}/")
    allocations = read_allocation(sample_allocation_path(ws))
    paths = generate(ws, allocations)
    month = allocations[0].month
    echo(f"Generated {len(paths)} documents ({len(allocations)} audits) in {display(ws.output_dir / month)}/")
    returned_dir = ws.output_dir / month / "returned (demo)"
    styles = [
        ("complete, Word", WordStyle(seed=1), True),
        ("gaps left, Word", WordStyle(seed=2, checkbox_val="true"), False),
        ("complete, tracked changes", WordStyle(seed=3, tracked=True), True),
    ]
    returned = []
    audit_tools = [p for p in paths if p.name.endswith("audit tool.docx")]
    for (label, style, complete), (path, alloc) in zip(
        styles, zip(audit_tools, allocations, strict=True), strict=False
    ):
        domains = [d.id for d in ws.config.tool(alloc.tool).domains]
        data = fill_form(path.read_bytes(), sample_answers(domains, complete), style)
        out = returned_dir / f"{alloc.audit_id} returned ({label}).docx"
        write_private(out, data)
        returned.append(out)
    echo(f"Filled {len(returned)} forms as auditors would, in {display(returned_dir)}/")
    for path, result in zip(returned, ws.parse(returned), strict=True):
        filled = sum(v is not None and v is not False for v in result.fields.values())
        errors = sum(i.severity == "error" for i in result.issues)
        warnings = len(result.issues) - errors
        echo(
            f"  {path.name}: {result.status}, {filled} of {len(result.fields)} fields filled, "
            f"{errors} errors, {warnings} warnings"
        )
    echo(f'Parse any of them yourself: auditdocs parse "{display(returned[0])}" --json')
    return returned
