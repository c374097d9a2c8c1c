"""One allocated audit: which case (or worker) an auditor audits, with which tool, by when.

The record every layer passes around: the allocation workbook is a list of them, the
store keeps them, generation prefills forms from them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import date

from auditdocs.text import norm


@dataclass(frozen=True)
class Allocation:
    audit_id: str
    month: str  # YYYY-MM
    tool: str
    case_reference: str
    child_id: str
    team: str
    worker: str
    team_manager: str
    auditor: str
    auditor_email: str
    due_date: date
    reaudit_of: str | None = None  # the audit this one repeats (an Inadequate case, 2.12)
    case_start: date | None = None  # start of involvement: the audit period begins no earlier (2.3)


#: The allocation workbook's columns, in order.
COLUMNS = [f.name for f in fields(Allocation)]


def worker_reference(name: str) -> str:
    """The reference of an audit about a worker (supervision audit, staff observation):
    a short code of the name, the same every month, holding no child's data."""
    return "W-" + hashlib.sha256(norm(name).encode()).hexdigest()[:8].upper()
