"""A finding: one thing wrong (or worth a warning) in a returned audit, for a person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """``field`` is the field id the finding is about (None: the whole form); ``rule`` is
    the rule id from the validation config; ``message`` is written for the auditor."""

    field: str | None
    severity: Severity
    rule: str
    message: str
