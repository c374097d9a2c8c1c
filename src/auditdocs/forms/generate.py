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

from auditdocs.allocation.allocate import read_checked_allocation
from auditdocs.allocation.changes import IssuePlan, describe, plan_issue
from auditdocs.allocation.months import allocated_months, allocation_path
from auditdocs.allocation.record import Allocation
from auditdocs.config import Config
from auditdocs.dates import check_month, now, uk_date
from auditdocs.errors import UsageError
from auditdocs.files import display, safe_name, write_private
from auditdocs.forms.identity import Identity
from auditdocs.forms.layout import (
    DocumentKind,
    Layout,
    PreviousAudit,
    layout_for,
    moderation_note,
    reaudit_note,
    wording,
)
from auditdocs.ooxml.body import Binding, manifest_xml, render_body
from auditdocs.ooxml.properties import CoreProperties
from auditdocs.ooxml.template import PreparedDocument
from auditdocs.store.store import Store
from auditdocs.workspace import Workspace, bundled_root

DOCUMENT_KINDS: tuple[DocumentKind, ...] = ("audit", "plan")
_TEMPLATE_FOR_KIND = {"plan": "improvement_plan.docx", "moderation": "moderation.docx"}


def audit_period(month: str, months: int, case_start: date | None = None) -> tuple[date, date]:
    """The ``months`` whole months before the allocation month (2.3), starting no earlier
    than the case did when it opened within them."""
    year, mon = map(int, month.split("-"))
    first = date(year, mon, 1)
    start = first - relativedelta(months=months)
    if case_start is not None and start < case_start < first:
        start = case_start
    return start, first - relativedelta(days=1)


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
    """Prepares each (tool type, kind) once and renders cases with it.  ``previous``
    gives the audit a re-audit repeats, by its id (None if unknown), for the re-audit's
    note; without it the note names the audit's id only."""

    def __init__(
        self,
        config: Config,
        templates_dir: Path,
        key: bytes,
        previous: Callable[[str], PreviousAudit | None] | None = None,
    ) -> None:
        self.config = config
        self.templates_dir = templates_dir
        self.key = key
        self.previous = previous
        self._forms: dict[tuple[str, str], Form] = {}

    def form(self, tool_id: str, kind: DocumentKind) -> Form:
        cached = self._forms.get((tool_id, kind))
        if cached is not None:
            return cached
        tool = self.config.tool(tool_id)
        layout = layout_for(self.config, tool, kind)
        binding = Binding("{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"auditdocs:{tool_id}:{kind}")).upper() + "}")
        template = self.templates_dir / _TEMPLATE_FOR_KIND.get(kind, tool.template)
        if kind == "moderation" and not template.exists():
            # A workspace made before moderation was added: the moderation form shipped.
            template = bundled_root() / "templates" / template.name
        document = PreparedDocument(
            template,
            body=lambda first_id: render_body(layout, binding, first_id)[0],
            custom_xml=manifest_xml(layout),
            store_item_id=binding.store_item_id,
        )
        form = Form(tool_id, kind, layout, document, self.config.version(tool_id), layout.digest)
        for sample in self._check_contexts(tool_id, kind):
            document.check(sample)
        self._forms[(tool_id, kind)] = form
        return form

    def _check_contexts(self, tool_id: str, kind: DocumentKind = "audit") -> Iterable[dict[str, Any]]:
        """Sample data to render a template with before any case: an audit, then a
        re-audit, so that every placeholder is tried with and without a re-audit note (a
        moderation form: blind, then open)."""
        check = Allocation(
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
        context = self.context(check)
        if kind == "moderation":
            tool = self.config.tool(tool_id)
            yield {**context, "moderation": moderation_note(self.config, tool, check, "Moderator", None)}
            shown = {f"domain.{d.id}.grade": None for d in tool.domains}
            yield {**context, "moderation": moderation_note(self.config, tool, check, "Moderator", shown)}
            return
        yield context
        grade, domain = self.config.settings.grading.grades[0].id, self.config.tool(tool_id).domains[0].id
        previous = {"overall.grade": grade, f"domain.{domain}.grade": grade, "plan.1.action": "Action"}
        yield {**context, "reaudit": reaudit_note(self.config, "check-previous", PreviousAudit(check, previous))}

    def context(self, alloc: Allocation) -> dict[str, Any]:
        """What a template's placeholders can use (``labels``: what the tool calls the
        prefilled details; ``reaudit``: None, or the audit a re-audit repeats)."""
        settings = self.config.settings
        tool = self.config.tool(alloc.tool)
        words = wording(settings, tool)
        previous = self.previous(alloc.reaudit_of) if self.previous and alloc.reaudit_of else None
        start, end = audit_period(alloc.month, settings.deadlines.audit_period_months, alloc.case_start)
        return {
            "organisation": {"name": settings.organisation.name, "service": settings.organisation.service},
            "tool": {
                "id": tool.id,
                "title": tool.title,
                "intro": tool.intro,
                "subject": tool.subject,
                "activity": tool.activity,
            },
            "labels": {
                "details": words.details,
                "reference": words.reference,
                "child_id": words.child_id if alloc.child_id else None,  # no row for no child id
                "worker": words.worker,
                "auditor": words.auditor,
                "period": words.period,
            },
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
                "instructions": words.instructions,
            },
            "plan": {"intro": words.plan_intro, "instructions": words.plan_instructions},
            "reaudit": reaudit_note(self.config, alloc.reaudit_of, previous) if alloc.reaudit_of else None,
        }

    @staticmethod
    def previous_from(store: Store) -> Callable[[str], PreviousAudit | None]:
        """``previous`` for a factory: the audit a re-audit repeats, as ``store`` has it
        (its allocation, its current audit return and improvement plan; each month's
        returns read once)."""
        months: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}

        def values(month: str, document: str, audit_id: str) -> dict[str, Any]:
            if (month, document) not in months:
                months[(month, document)] = store.current_values(month, document=document)
            return months[(month, document)].get(audit_id, {})

        def previous(audit_id: str) -> PreviousAudit | None:
            found = store.allocation(audit_id)
            if found is None:
                return None
            before, _state = found
            return PreviousAudit(
                before, values(before.month, "audit", audit_id), values(before.month, "plan", audit_id)
            )

        return previous

    def render(self, alloc: Allocation, kind: DocumentKind) -> bytes:
        form = self.form(alloc.tool, kind)
        identity = form.identity(alloc.audit_id).properties(self.key)
        return form.document.render(self.context(alloc), identity, self.core_properties(alloc, kind))

    def render_moderation(self, alloc: Allocation, due: date, note: dict[str, Any]) -> bytes:
        """The moderation form of an audit drawn for moderation, due on ``due``; ``note``:
        what :func:`moderation_note` says above its fields."""
        form = self.form(alloc.tool, "moderation")
        identity = form.identity(alloc.audit_id).properties(self.key)
        context = self.context(alloc)
        context = {**context, "audit": {**context["audit"], "due": uk_date(due)}, "moderation": note}
        return form.document.render(context, identity, self.core_properties(alloc, "moderation"))

    def core_properties(self, alloc: Allocation, kind: DocumentKind) -> CoreProperties:
        """The document's title (what Word and a screen reader give as its name), made by
        the organisation, now."""
        title = f"{self.config.tool(alloc.tool).title} {alloc.audit_id}"
        if kind == "plan":
            title = f"Improvement plan: {title}"
        elif kind == "moderation":
            title = f"Moderation: {title}"
        return CoreProperties(title, self.config.settings.organisation.name, now())


def document_path(output_dir: Path, alloc: Allocation, kind: DocumentKind) -> Path:
    label = "audit tool" if kind == "audit" else "improvement plan"
    folder = output_dir / alloc.month / safe_name(alloc.auditor)
    return folder / f"{safe_name(alloc.audit_id)} {safe_name(alloc.case_reference)} {label}.docx"


def generate(
    ws: Workspace,
    allocations: list[Allocation],
    progress: Callable[[Allocation], None] | None = None,
    *,
    plan: IssuePlan | None = None,
) -> list[Path]:
    """Write both documents of every allocation not issued before, or issued before and
    changed since (see auditdocs.allocation.changes: ``plan`` is what
    :func:`plan_issue` made of ``allocations``); an unchanged audit is written again only
    if a document of it is missing.  Returns the paths written."""
    store = ws.store()
    factory = FormFactory(ws.config, ws.templates_dir, ws.key(create=True), previous=FormFactory.previous_from(store))
    for alloc in allocations:  # fail on a bad tool type or template before writing anything
        for kind in DOCUMENT_KINDS:
            factory.form(alloc.tool, kind)
    if plan is None:
        plan = plan_issue(store, allocations, ws.config.settings)
    store.record_allocations(plan.new, state="allocated")
    for alloc in plan.dropped:
        store.withdraw(alloc.audit_id, "allocated but not in the workbook when the month was generated")
    written = []
    for alloc in to_write(ws, plan):
        for kind in DOCUMENT_KINDS:
            path = document_path(ws.output_dir, alloc, kind)
            write_private(path, factory.render(alloc, kind))
            written.append(path)
        if progress:
            progress(alloc)
    store.record_allocations(plan.to_issue, state="issued")
    store.record_events(
        [(a.audit_id, "issued", f"to {a.auditor}") for a in plan.new]
        + [(now.audit_id, "reissued", describe(before, now)) for before, now in plan.reissued]
    )
    return written


def to_write(ws: Workspace, plan: IssuePlan) -> list[Allocation]:
    """The audits whose documents generating ``plan`` writes: those to issue, and those
    unchanged whose documents went missing."""
    missing = [
        a for a in plan.unchanged if not all(document_path(ws.output_dir, a, k).exists() for k in DOCUMENT_KINDS)
    ]
    return [*plan.to_issue, *missing]


def allocations_to_generate(
    ws: Workspace, month: str | None = None, allocation: Path | None = None, auditors: Path | None = None
) -> list[Allocation]:
    """The allocations ``auditdocs generate`` issues: from ``allocation`` if given, else the
    month's workbook made by ``allocate`` (the sample month's without a month), checked
    again (it may have been adjusted by hand) as :func:`read_checked_allocation` says."""
    return read_checked_allocation(ws, workbook_to_generate(ws, month, allocation), auditors)


def workbook_to_generate(ws: Workspace, month: str | None = None, allocation: Path | None = None) -> Path:
    """``allocation`` if given, else the month's workbook (see :func:`allocations_to_generate`)."""
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
    return allocation


@dataclass(frozen=True)
class Generated:
    """What ``auditdocs generate`` wrote: the audits of the workbook, what was done with
    each (``plan``) and the documents written."""

    allocations: list[Allocation]
    paths: list[Path]
    plan: IssuePlan

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
    :func:`allocations_to_generate` for which workbook and which checks) not issued
    before or changed since (see auditdocs.allocation.changes)."""
    allocations, plan = issue_plan(ws, month, allocation, auditors)
    return Generated(allocations, generate(ws, allocations, progress, plan=plan), plan)


def issue_plan(
    ws: Workspace, month: str | None = None, allocation: Path | None = None, auditors: Path | None = None
) -> tuple[list[Allocation], IssuePlan]:
    """The workbook's allocations, checked, and what generating them will do."""
    source = workbook_to_generate(ws, month, allocation)
    allocations = read_checked_allocation(ws, source, auditors)
    return allocations, plan_issue(ws.store(), allocations, ws.config.settings, source, whole_month=True)
