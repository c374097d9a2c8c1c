"""A finding: one thing wrong (or worth a warning) in a returned audit, for a person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
#: The rule of findings about reading the form itself (not the config's validation rules):
#: errors (a field unreadable) and warnings on values read by a fallback, to confirm.
READING_RULE = "form.read"
#: The rule that flags a concern written out beside an unticked concern box.
POSSIBLE_CONCERN = "concern.possible"
#: The rule that says a return's sending time was not believed (before the audit was issued).
SENT_TIME_RULE = "return.sent_time"
#: The rule that records a practitioner discussion held after its deadline.
LATE_DISCUSSION_RULE = "discussion.late"


@dataclass(frozen=True)
class Finding:
    """``field`` is the field id the finding is about (None: the whole form); ``rule`` is
    the rule id from the validation config; ``message`` is written for the auditor."""

    field: str | None
    severity: Severity
    rule: str
    message: str
