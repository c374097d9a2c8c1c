"""Each month's evidence, indexed once per batch and kept in step with the store.

A return's evidence is compared with the evidence of every other audit of its month
("evidence.copied").  Reading the whole month from the store for every return, and
comparing with each text, made a batch's cost grow with the square of the month: an
index of the month (:class:`~auditdocs.returns.validate.CopyIndex`) is built from the
store on the month's first return and, before each later one, takes in only what was
stored since, by this process or by any other ingest on the same store.

"Since" is by submission number.  On PostgreSQL a number is handed out before its
transaction commits, so a return may become visible after higher-numbered ones: the
numbers found missing are asked for again until they appear (a rolled-back insert's
number never does; it is dropped once ``WINDOW`` numbers behind).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from auditdocs.returns.validate import CopyIndex
from auditdocs.store.store import Store

#: Numbers this far behind the highest seen are never waited for: a transaction is not
#: open while ten thousand others are stored.
WINDOW = 10_000


@dataclass
class _Month:
    index: CopyIndex
    held: dict[str, int] = field(default_factory=dict)  # audit id -> the submission id indexed

    def take(self, store: Store, returns: list[tuple[int, str]]) -> None:
        fresh = [(sub_id, audit_id) for sub_id, audit_id in returns if self.held.get(audit_id) != sub_id]
        if not fresh:
            return
        values = store.values_of((sub_id for sub_id, _ in fresh), ".evidence")
        for sub_id, audit_id in fresh:
            texts = [v for k, v in sorted(values[sub_id].items()) if k.startswith("domain.") and isinstance(v, str)]
            self.index.replace(audit_id, texts)
            self.held[audit_id] = sub_id


class MonthEvidence:
    """The current audit evidence of each month met in a batch, as a :class:`CopyIndex`
    compared at ``threshold`` (the rules' ``duplicate_similarity``)."""

    def __init__(self, store: Store, threshold: float) -> None:
        self.store = store
        self.threshold = threshold
        self._months: dict[str, _Month] = {}
        self._last: int | None = None  # the highest submission number seen
        self._missing: set[int] = set()  # numbers below it not seen yet

    def index(self, month: str) -> CopyIndex:
        """The month's index, up to date with the store."""
        self._catch_up()
        held = self._months.get(month)
        if held is None:
            held = self._months[month] = _Month(CopyIndex(self.threshold))
            held.take(self.store, self.store.current_returns(month))
        return held.index

    def _catch_up(self) -> None:
        if self._last is None:
            # The first look: the numbers missing among the latest may still commit.
            ids = self.store.submission_ids(WINDOW)
            self._last = ids[-1] if ids else 0
            self._missing = set(range(max(1, self._last - WINDOW + 1), self._last + 1)) - set(ids)
            return
        rows = self.store.submissions_after(self._last, self._missing)
        taken: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for sub_id, audit_id, month, document, current in rows:
            self._missing.discard(sub_id)
            if sub_id > self._last:
                self._missing.update(range(self._last + 1, sub_id))
                self._last = sub_id
            if current and document == "audit" and month in self._months:
                taken[month].append((sub_id, audit_id))
        self._missing = {n for n in self._missing if n > self._last - WINDOW}
        for month, returns in taken.items():
            self._months[month].take(self.store, returns)
