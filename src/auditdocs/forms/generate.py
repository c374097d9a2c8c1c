"""Generate the month's documents: per allocation, a prefilled audit tool and an
improvement plan, under ``output/<month>/<auditor>/``.

Per-template work (layout, guidance, controls, deflating static parts) happens once
per tool type and document kind; each case then costs one small Jinja render.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta

from auditdocs.allocation.allocate import allocated_months, allocation_path, read_checked_allocation
from auditdocs.allocation.record import Allocation
from auditdocs.allocation.workbook import read_allocation
from auditdocs.config import Config
from auditdocs.dates import check_month, uk_date
from auditdocs.errors import UsageError
from auditdocs.files import display, safe_name, write_private
from auditdocs.forms.identity import Identity
from auditdocs.forms.layout import DocumentKind, Layout, layout_for
from auditdocs.ooxml.body import Binding, manifest_xml, render_body
from auditdocs.ooxml.template import PreparedDocument
from auditdocs.workspace import Workspace

DOCUMENT_KINDS: tuple[DocumentKind, ...] = ("audit", "plan")
_TEMPLATE_FOR_KIND = {"plan": "improvement_plan.docx"}


def audit_period(month: str, months: int) -> tuple[date, date]:
    """The ``months`` whole months before the allocation month."""
    year, mon = map(int, month.split("-"))
    first = date(year, mon, 1)
    return first - relativedelta(months=months), first - relativedelta(days=1)


@dataclass(frozen=True)
class Form:
    """A prepared document for one tool type and kind, with its identity parts."""

    tool: str
    kind: DocumentKind
    layout: Layout
    document: PreparedDocument
    config_version: str
    manifest: str

    def identity(self, audit_id: str) -> Identity:
        return Identity(audit_id, self.tool, self.kind, self.config_version, self.document.version, self.manifest)


class FormFactory:
    """Prepares each (tool type, kind) once and renders cases with it."""

    def __init__(self, config: Config, templates_dir: Path, key: bytes) -> None:
        self.config = config
        self.templates_dir = templates_dir
        self.key = key
        self._forms: dict[tuple[str, str], Form] = {}

    def form(self, tool_id: str, kind: DocumentKind) -> Form:
        cached = self._forms.get((tool_id, kind))
        if cached is not None:
            return cached
        tool = self.config.tool(tool_id)
        layout = layout_for(self.config, tool, kind)
        binding = Binding("{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"auditdocs:{tool_id}:{kind}")).upper() + "}")
        template = self.templates_dir / _TEMPLATE_FOR_KIND.get(kind, tool.template)
        document = PreparedDocument(
            template,
            body=lambda first_id: render_body(layout, binding, first_id)[0],
            custom_xml=manifest_xml(layout),
            store_item_id=binding.store_item_id,
        )
        form = Form(tool_id, kind, layout, document, self.config.version(tool_id), layout.digest)
        sample = next(iter(self._check_contexts(tool_id)))
        document.check(sample)
        self._forms[(tool_id, kind)] = form
        return form

    def _check_contexts(self, tool_id: str) -> Iterable[dict[str, Any]]:
        yield self.context(
            Allocation(
                "check",
                "2000-01",
                tool_id,
                "REF",
                "ID",
                "Team",
                "Worker",
                "Manager",
                "Auditor",
                "auditor@example.org",
                date(2000, 1, 31),
            )
        )

    def context(self, alloc: Allocation) -> dict[str, Any]:
        """What a template's placeholders can use."""
        settings = self.config.settings
        tool = self.config.tool(alloc.tool)
        start, end = audit_period(alloc.month, settings.deadlines.audit_period_months)
        return {
            "organisation": {"name": settings.organisation.name, "service": settings.organisation.service},
            "tool": {"id": tool.id, "title": tool.title, "intro": tool.intro},
            "case": {
                "reference": alloc.case_reference,
                "child_id": alloc.child_id,
                "team": alloc.team,
                "worker": alloc.worker,
                "team_manager": alloc.team_manager,
            },
            "auditor": {"name": alloc.auditor, "email": alloc.auditor_email},
            "audit": {
                "id": alloc.audit_id,
                "month": alloc.month,
                "period": f"{uk_date(start)} to {uk_date(end)}",
                "due": uk_date(alloc.due_date),
            },
        }

    def render(self, alloc: Allocation, kind: DocumentKind) -> bytes:
        form = self.form(alloc.tool, kind)
        return form.document.render(self.context(alloc), form.identity(alloc.audit_id).properties(self.key))


def document_path(output_dir: Path, alloc: Allocation, kind: DocumentKind) -> Path:
    label = "audit tool" if kind == "audit" else "improvement plan"
    folder = output_dir / alloc.month / safe_name(alloc.auditor)
    return folder / f"{safe_name(alloc.audit_id)} {safe_name(alloc.case_reference)} {label}.docx"


def generate(
    ws: Workspace,
    allocations: list[Allocation],
    progress: Callable[[Allocation], None] | None = None,
) -> list[Path]:
    """Write both documents for every allocation; returns the paths written."""
    factory = FormFactory(ws.config, ws.templates_dir, ws.key(create=True))
    for alloc in allocations:  # fail on a bad tool type or template before writing anything
        for kind in DOCUMENT_KINDS:
            factory.form(alloc.tool, kind)
    store = ws.store()
    store.record_allocations(allocations, state="allocated")
    written = []
    for alloc in allocations:
        for kind in DOCUMENT_KINDS:
            path = document_path(ws.output_dir, alloc, kind)
            write_private(path, factory.render(alloc, kind))
            written.append(path)
        if progress:
            progress(alloc)
    store.record_allocations(allocations, state="issued")
    return written


def allocations_to_generate(
    ws: Workspace, month: str | None = None, allocation: Path | None = None, auditors: Path | None = None
) -> list[Allocation]:
    """The allocations ``auditdocs generate`` issues: from ``allocation`` if given, else the
    month's workbook made by ``allocate`` (the sample month's without a month).  A workbook
    (perhaps adjusted by hand) is checked again against the auditors when there is a list
    to check against: ``auditors``, or the one named in config if it exists."""
    if allocation is None:
        if month is None:
            # The latest month allocated; before any, the sample month made by `init`.
            months = allocated_months(ws)
            month = months[-1] if months else None
        allocation = allocation_path(ws, check_month(month)) if month else ws.sample_allocation
        if month and not allocation.exists():
            raise UsageError(
                f"{display(allocation)}: no allocation for {month}; run `auditdocs allocate --month {month}` first, "
                "or pass --allocation FILE"
            )
    default_auditors = ws.root / ws.config.settings.imports.auditors.file
    if auditors is not None or default_auditors.exists():
        return read_checked_allocation(ws, allocation, auditors)
    return read_allocation(allocation)


@dataclass(frozen=True)
class Generated:
    """What ``auditdocs generate`` wrote: the audits issued and their documents."""

    allocations: list[Allocation]
    paths: list[Path]

    @property
    def months(self) -> list[str]:
        return sorted({a.month for a in self.allocations})


def generate_month(
    ws: Workspace,
    month: str | None = None,
    *,
    allocation: Path | None = None,
    auditors: Path | None = None,
    progress: Callable[[Allocation], None] | None = None,
) -> Generated:
    """Issue a month: both documents for every allocation of the month's workbook (see
    :func:`allocations_to_generate` for which workbook and which checks)."""
    allocations = allocations_to_generate(ws, month, allocation, auditors)
    return Generated(allocations, generate(ws, allocations, progress))
