"""What ingest made of each file, as data: the batch report, the summary workbook and
the feedback are all written from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from auditdocs.allocation.record import Allocation
from auditdocs.files import display
from auditdocs.returns.findings import POSSIBLE_CONCERN, READING_RULE, Finding

ACCEPTED, AMEND, REJECTED, DUPLICATE = "accepted", "needs amendment", "rejected", "already received"
IGNORED = "ignored"


@dataclass
class Outcome:
    """What happened to one input file (no evidence text: this goes into logs and summaries)."""

    name: str
    origin: str
    status: str
    reason: str | None = None
    sha256: str | None = None
    audit_id: str | None = None
    document: str | None = None
    allocation: Allocation | None = None
    version: int | None = None
    # Stored as history: a version of this return sent later was already stored, and stays current.
    earlier: bool = False
    late: bool = False
    urgent: bool = False
    converted_from: str | None = None
    resubmit_by: date | None = None
    findings: list[Finding] = field(default_factory=list)
    feedback: list[Path] = field(default_factory=list)

    @property
    def values_to_confirm(self) -> int:
        """Values read by a fallback (parse warnings kept by ingest), for the auditor to confirm."""
        return sum(f.rule == READING_RULE and f.severity == "warning" for f in self.findings)


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    summary_path: Path | None = None

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    def report(self) -> list[str]:
        """The end-of-batch summary for a person: counts, then a line per file."""
        n = len(self.outcomes)
        counts = ", ".join(f"{self.count(s)} {s}" for s in (ACCEPTED, AMEND, REJECTED, DUPLICATE))
        if self.count(IGNORED):
            counts += f", {self.count(IGNORED)} {IGNORED}"
        lines = [f"{n} file{'' if n == 1 else 's'}: {counts}"]
        for o in self.outcomes:
            notes = []
            if o.urgent and o.allocation:
                notes.append(f"URGENT: immediate safeguarding concern, notify {o.allocation.team_manager} now")
            elif any(f.rule == POSSIBLE_CONCERN for f in o.findings):
                notes.append("POSSIBLE CONCERN: a concern is described but its box is not ticked; check it now")
            if o.status == AMEND and o.resubmit_by:
                notes.append(f"{sum(f.severity == 'error' for f in o.findings)} to fix by {o.resubmit_by:%d/%m/%Y}")
            if confirm := o.values_to_confirm:
                notes.append(f"{confirm} value{'' if confirm == 1 else 's'} to confirm")
            if o.version and o.version > 1:
                notes.append(f"version {o.version}")
            if o.earlier:
                notes.append("sent before the version already stored, which stays current; kept as history")
            if o.late:
                notes.append("late")
            if o.converted_from:
                notes.append(f"converted from .{o.converted_from}")
            if o.reason:
                notes.append(o.reason)
            audit = f" {o.audit_id}" if o.audit_id else ""
            lines.append(f"  {display(o.name)}:{audit} {o.status}" + (f" ({'; '.join(notes)})" if notes else ""))
        if self.summary_path:
            lines.append(f"Summary workbook: {display(self.summary_path)}")
        return lines
