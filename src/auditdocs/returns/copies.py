"""Each month's evidence, indexed once per batch and kept in step with the store.

A return's evidence is compared with the evidence of every other audit of its month
("evidence.copied").  Reading the whole month from the store for every return, and
comparing with each text, made a batch's cost grow with the square of the month: an
index of the month (:class:`~auditdocs.returns.validate.CopyIndex`) is built from the
store on the month's first return and, before each later one, takes in only the returns
stored since (by this process or any other ingest on the same store).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditdocs.returns.validate import CopyIndex
from auditdocs.store.store import Store

EVIDENCE_SUFFIX = ".evidence"


@dataclass
class _Month:
    index: CopyIndex
    held: dict[str, int] = field(default_factory=dict)  # audit id -> the submission id indexed
    total: int = 0  # the sum of the submission ids indexed
    last: int = 0  # the highest submission id seen

    def take(self, store: Store, returns: list[tuple[int, str]]) -> None:
        if not returns:
            return
        values = store.values_of((sub_id for sub_id, _ in returns), EVIDENCE_SUFFIX)
        for sub_id, audit_id in returns:
            texts = [v for k, v in sorted(values[sub_id].items()) if k.startswith("domain.") and isinstance(v, str)]
            self.index.replace(audit_id, texts)
            self.total += sub_id - self.held.get(audit_id, 0)
            self.held[audit_id] = sub_id
            self.last = max(self.last, sub_id)


class MonthEvidence:
    """The current audit evidence of each month met in a batch, as a :class:`CopyIndex`
    compared at ``threshold`` (the rules' ``duplicate_similarity``)."""

    def __init__(self, store: Store, threshold: float) -> None:
        self.store = store
        self.threshold = threshold
        self._months: dict[str, _Month] = {}

    def index(self, month: str) -> CopyIndex:
        """The month's index, up to date with the store."""
        held = self._months.get(month)
        if held is None:
            held = self._months[month] = _Month(CopyIndex(self.threshold))
        held.take(self.store, self.store.current_returns(month, after=held.last))
        if self.store.current_tally(month) != (len(held.held), held.total):
            # A return committed after one with a higher id (PostgreSQL hands out ids
            # before commit), or a version superseded unseen: read the month again.
            held = self._months[month] = _Month(CopyIndex(self.threshold))
            held.take(self.store, self.store.current_returns(month))
        return held.index
