"""Changing a month after it is issued (issue 14): what ``auditdocs generate`` does with
an allocation workbook that the store has seen before.

A QA officer adds audits (a re-audit found late, a case the team asks for) by adding
rows with new audit ids, and gives an audit not yet returned to another auditor (one
off sick) by changing its auditor, its address or its due date.  What an issued audit
is about (its case, tool, month, the audit it repeats) never changes, and a returned
audit does not change at all: those edits are refused with what to do instead.  An
audit to drop is withdrawn (``auditdocs withdraw``): kept in the store with the
reason, no longer accepted, reported or chased.  Every issue, reissue and withdrawal
is recorded in the store's ``allocation_events``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

from auditdocs.allocation.allocate import history_from_store
from auditdocs.allocation.record import Allocation
from auditdocs.config.models import Settings
from auditdocs.dates import uk_date
from auditdocs.errors import DataError
from auditdocs.files import display
from auditdocs.store.schema import WITHDRAWN
from auditdocs.store.store import Store
from auditdocs.text import norm

#: What an issued audit is about: never changed by a hand edit.
IDENTITY = ("month", "tool", "case_reference", "child_id", "reaudit_of")
#: What may change while an audit is not yet returned: it is then issued again.
REISSUABLE = ("auditor", "auditor_email", "due_date", "team", "worker", "team_manager")
_NOT_RETURNED = ("allocated", "issued")


@dataclass
class IssuePlan:
    """What generating a workbook will do, audit by audit."""

    new: list[Allocation] = field(default_factory=list)
    #: (as issued before, as now): issued again with the changes
    reissued: list[tuple[Allocation, Allocation]] = field(default_factory=list)
    unchanged: list[Allocation] = field(default_factory=list)
    #: rows of audits withdrawn before: skipped
    withdrawn: list[Allocation] = field(default_factory=list)
    #: allocated (never issued) and no longer in the workbook: withdrawn now
    dropped: list[Allocation] = field(default_factory=list)

    @property
    def to_issue(self) -> list[Allocation]:
        return self.new + [now for _before, now in self.reissued]

    def lines(self) -> list[str]:
        """What changed, for the person who ran it (nothing when a month is first issued)."""
        out = [f"  withdrawn (never issued, not in the workbook): {a.audit_id}" for a in self.dropped]
        if not (self.unchanged or self.reissued or self.withdrawn):
            return out
        withdrawn = f", {len(self.withdrawn)} withdrawn before" if self.withdrawn else ""
        return [
            f"{len(self.new)} new, {len(self.reissued)} issued again, {len(self.unchanged)} unchanged{withdrawn}",
            *(f"  new: {a.audit_id} (case {a.case_reference}) to {a.auditor}" for a in self.new),
            *(f"  issued again: {now.audit_id}: {describe(before, now)}" for before, now in self.reissued),
            *out,
        ]


def describe(before: Allocation, now: Allocation) -> str:
    """The changes between two versions of an allocation, as a QA officer reads them."""
    out = []
    for name in REISSUABLE:
        old, new = getattr(before, name), getattr(now, name)
        if old != new:
            shown = (uk_date(old), uk_date(new)) if name == "due_date" else (old, new)
            out.append(f"{name.replace('_', ' ')} {shown[0]} → {shown[1]}")
    return "; ".join(out)


def plan_issue(
    store: Store,
    allocations: Sequence[Allocation],
    settings: Settings,
    source: Path | None = None,
    whole_month: bool = False,
) -> IssuePlan:
    """Compare the allocations to be generated with what the store holds.  Raises
    DataError, naming the workbook and audit, for an edit an issued audit cannot take,
    a new row breaking the ``exclude_months`` rule, and (``whole_month``: the workbook
    is the month's) an issued audit missing from the workbook."""
    where = f"{display(source)}: " if source else ""
    plan = IssuePlan()
    months = sorted({a.month for a in allocations})
    stored = {a.audit_id: (a, state) for m in months for a, state in store.month_allocations(m, withdrawn=True)}
    new_rows = []
    for alloc in allocations:
        found = stored.get(alloc.audit_id)
        if found is None:
            new_rows.append(alloc)
            continue
        before, state = found
        if state == WITHDRAWN:
            plan.withdrawn.append(alloc)
            continue
        if state == "allocated":  # recorded by a generate that did not finish: never issued
            plan.new.append(alloc)
            continue
        changed = [f.name for f in fields(Allocation) if getattr(before, f.name) != getattr(alloc, f.name)]
        if not changed:
            plan.unchanged.append(alloc)
        elif state not in _NOT_RETURNED:
            raise DataError(
                f"{where}audit {alloc.audit_id}: {_was(before, alloc, changed[0])}, but the audit has been returned "
                f"({state.replace('_', ' ')}) and cannot change; put the row back as it was"
            )
        elif changed[0] in IDENTITY or changed[0] == "audit_id":
            raise DataError(
                f"{where}audit {alloc.audit_id}: {_was(before, alloc, changed[0])}; an issued audit keeps its case. "
                f"Put the row back as it was; to audit another case instead, add a row with a new audit id and "
                f"withdraw this one: auditdocs withdraw {alloc.audit_id} --reason \"...\""
            )
        else:
            plan.reissued.append((before, alloc))
    _check_new_rows(store, new_rows, allocations, stored, settings, where)
    plan.new += new_rows
    if whole_month:
        listed = {a.audit_id for a in allocations}
        missing = [(a, s) for a, s in stored.values() if a.audit_id not in listed and s != WITHDRAWN]
        issued = [a for a, s in missing if s != "allocated"]
        if issued:
            ids = ", ".join(f"{a.audit_id} (case {a.case_reference})" for a in issued)
            raise DataError(
                f"{where}{ids} {'is' if len(issued) == 1 else 'are'} issued but not in the workbook; put the "
                f"row back, or withdraw the audit: auditdocs withdraw {issued[0].audit_id} --reason \"...\""
            )
        plan.dropped = [a for a, _s in missing]
    return plan


def _was(before: Allocation, now: Allocation, name: str) -> str:
    return f"{name} was {getattr(before, name)!r} when issued, now {getattr(now, name)!r}"


def _check_new_rows(
    store: Store,
    new_rows: list[Allocation],
    allocations: Sequence[Allocation],
    stored: dict[str, tuple[Allocation, str]],
    settings: Settings,
    where: str,
) -> None:
    """Rules a row added by hand can break: the ``exclude_months`` rule (a re-audit is
    exempt, and must repeat an audit of the same case), and one audit of a case per tool
    in a month."""
    rules = settings.allocation
    histories = {m: history_from_store(store, m, settings) for m in {a.month for a in new_rows}}
    audits_of: dict[tuple[str, str, str], set[str]] = {}  # (month, tool, case) → audit ids
    for other in [*allocations, *(a for a, s in stored.values() if s != WITHDRAWN)]:
        audits_of.setdefault((other.month, other.tool, norm(other.case_reference)), set()).add(other.audit_id)
    for alloc in new_rows:
        ref = norm(alloc.case_reference)
        twin = min(audits_of[(alloc.month, alloc.tool, ref)] - {alloc.audit_id}, default=None)
        if twin is not None:
            raise DataError(
                f"{where}audit {alloc.audit_id}: case {alloc.case_reference} already has a {alloc.tool} this month "
                f"({twin}); remove one of the rows"
            )
        if alloc.reaudit_of:
            previous = store.allocation(alloc.reaudit_of)
            if previous is None or norm(previous[0].case_reference) != ref:
                about = "is not in the store" if previous is None else f"is of case {previous[0].case_reference}"
                raise DataError(
                    f"{where}audit {alloc.audit_id}: reaudit_of {alloc.reaudit_of!r} {about}; a re-audit names the "
                    "audit of the same case it repeats"
                )
            continue
        recent = histories[alloc.month].recent.get(ref)
        if alloc.tool == rules.tool and recent:
            raise DataError(
                f"{where}audit {alloc.audit_id}: case {alloc.case_reference} was audited in {recent}, and a case is "
                f"not audited again within {rules.exclude_months} months (allocation.exclude_months); remove the "
                "row, or make it a re-audit by naming the audit it repeats in reaudit_of"
            )


def withdraw(store: Store, audit_ids: Sequence[str], reason: str) -> list[Allocation]:
    """Withdraw issued audits not yet returned (``auditdocs withdraw``): all of them or,
    if one cannot be (unknown, or returned already), none, with a DataError naming it."""
    if not reason.strip():
        raise DataError("give the reason for withdrawing (--reason): it is kept with the audit")
    found = []
    for audit_id in audit_ids:
        item = store.allocation(audit_id)
        if item is None:
            raise DataError(f"audit {audit_id} is not in the store; check the audit id in the allocation workbook")
        alloc, state = item
        if state == WITHDRAWN:
            raise DataError(f"audit {audit_id} is withdrawn already")
        if state not in _NOT_RETURNED:
            raise DataError(
                f"audit {audit_id} has been returned ({state.replace('_', ' ')}): only an audit not yet returned can "
                "be withdrawn"
            )
        found.append(alloc)
    for alloc in found:
        store.withdraw(alloc.audit_id, reason.strip())
    return found
