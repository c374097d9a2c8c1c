"""The moderated audits of a period as the store has them: each audit's current return
beside its accepted moderation, and their grades as the pairs the agreement figures
compare (:mod:`auditdocs.moderation.agreement`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditdocs.allocation.record import Allocation
from auditdocs.config import Config
from auditdocs.moderation.agreement import Pair
from auditdocs.moderation.record import graded_items
from auditdocs.store.store import Store


@dataclass(frozen=True)
class Moderated:
    """A moderated audit: its allocation, the auditor's current return and the moderator's
    accepted return (field id → value)."""

    allocation: Allocation
    auditor: dict[str, Any]
    moderator: dict[str, Any]


def moderated_between(store: Store, first: str, last: str) -> list[Moderated]:
    """The audits of months ``first`` to ``last`` with an accepted moderation, by audit id.
    A moderation sent back for amendment is not counted until it is accepted."""
    moderator = store.current_values_between(first, last, document="moderation", status="accepted")
    if not moderator:
        return []
    auditor = store.current_values_between(first, last, field_suffix=".grade")
    allocations = {a.audit_id: a for a, _state in store.allocations_between(first, last)}
    return [
        Moderated(allocations[audit_id], auditor.get(audit_id, {}), values)
        for audit_id, values in sorted(moderator.items())
        if audit_id in allocations
    ]


def pairs_of(config: Config, moderated: list[Moderated]) -> list[Pair]:
    """The grades both gave, as pairs of ranks (1 = the lowest grade); a grade Not
    applicable or missing on either side is not compared."""
    ranks = {g.id: g.rank for g in config.settings.grading.grades}
    low = min(ranks.values())
    out = []
    for m in moderated:
        tool = config.tools.get(m.allocation.tool)
        if tool is None:
            continue
        for item, field, _title in graded_items(tool):
            a, b = ranks.get(str(m.auditor.get(field))), ranks.get(str(m.moderator.get(field)))
            if a is not None and b is not None:
                alloc = m.allocation
                out.append(Pair(alloc.audit_id, alloc.month, alloc.auditor, item, a - low + 1, b - low + 1))
    return out
