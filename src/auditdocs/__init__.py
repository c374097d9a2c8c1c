"""auditdocs: case file audits for children's social care QA teams, in Word.

Library first, CLI second: each command is a thin shell over one function here, and each
returns data (the CLI only lays it out)::

    import auditdocs

    ws = auditdocs.init("qa-team")                       # or auditdocs.Workspace.open("qa-team")
    allocated = auditdocs.allocate(ws, "2026-12", seed=7)  # AllocationResult
    issued = auditdocs.generate(ws, "2026-12")           # Generated: allocations and paths
    sent = auditdocs.send(ws, "2026-12")                 # Delivery | Planned | Skipped per message
    batch = auditdocs.ingest(ws, ["inbox/"])             # BatchResult: an Outcome per file
    forms = auditdocs.parse(ws, ["return.docx"])         # ParsedForm per file
    month = auditdocs.status(ws, "2026-12")              # MonthStatus: an AuditStatus per audit
    chased = auditdocs.chase(ws, "2026-12")
    auditdocs.monthly_report(ws, "2026-12")              # paths of the Word, Excel, HTML files

Names are loaded on first use, so ``import auditdocs`` stays cheap for a command that
needs one of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from auditdocs.errors import AuditDocsError

if TYPE_CHECKING:
    from auditdocs.allocation.allocate import AllocationResult as AllocationResult
    from auditdocs.allocation.allocate import allocate as allocate
    from auditdocs.forms.generate import Generated as Generated
    from auditdocs.forms.generate import generate_month as generate
    from auditdocs.forms.parse import ParsedForm as ParsedForm
    from auditdocs.forms.parse import read_forms as parse
    from auditdocs.mail.chase import send_chasers as chase
    from auditdocs.mail.messages import Delivery as Delivery
    from auditdocs.mail.messages import Planned as Planned
    from auditdocs.mail.messages import Skipped as Skipped
    from auditdocs.mail.send import send as send
    from auditdocs.reports import monthly_report as monthly_report
    from auditdocs.reports import quarterly_report as quarterly_report
    from auditdocs.returns.ingest import ingest as ingest
    from auditdocs.returns.outcome import BatchResult as BatchResult
    from auditdocs.returns.outcome import Outcome as Outcome
    from auditdocs.returns.status import AuditStatus as AuditStatus
    from auditdocs.returns.status import MonthStatus as MonthStatus
    from auditdocs.returns.status import month_status as status
    from auditdocs.sample.month import init_workspace as init
    from auditdocs.workspace import Workspace as Workspace

__version__ = "0.1.0"

#: name → (module, attribute): the month's cycle in the order a QA team runs it, and the
#: types its functions return.
_EXPORTS = {
    "Workspace": ("auditdocs.workspace", "Workspace"),
    "init": ("auditdocs.sample.month", "init_workspace"),
    "allocate": ("auditdocs.allocation.allocate", "allocate"),
    "generate": ("auditdocs.forms.generate", "generate_month"),
    "send": ("auditdocs.mail.send", "send"),
    "ingest": ("auditdocs.returns.ingest", "ingest"),
    "parse": ("auditdocs.forms.parse", "read_forms"),
    "status": ("auditdocs.returns.status", "month_status"),
    "chase": ("auditdocs.mail.chase", "send_chasers"),
    "monthly_report": ("auditdocs.reports", "monthly_report"),
    "quarterly_report": ("auditdocs.reports", "quarterly_report"),
    "AllocationResult": ("auditdocs.allocation.allocate", "AllocationResult"),
    "Generated": ("auditdocs.forms.generate", "Generated"),
    "Delivery": ("auditdocs.mail.messages", "Delivery"),
    "Planned": ("auditdocs.mail.messages", "Planned"),
    "Skipped": ("auditdocs.mail.messages", "Skipped"),
    "BatchResult": ("auditdocs.returns.outcome", "BatchResult"),
    "Outcome": ("auditdocs.returns.outcome", "Outcome"),
    "ParsedForm": ("auditdocs.forms.parse", "ParsedForm"),
    "MonthStatus": ("auditdocs.returns.status", "MonthStatus"),
    "AuditStatus": ("auditdocs.returns.status", "AuditStatus"),
}

__all__ = [
    "AllocationResult",
    "AuditDocsError",
    "AuditStatus",
    "BatchResult",
    "Delivery",
    "Generated",
    "MonthStatus",
    "Outcome",
    "ParsedForm",
    "Planned",
    "Skipped",
    "Workspace",
    "__version__",
    "allocate",
    "chase",
    "generate",
    "ingest",
    "init",
    "monthly_report",
    "parse",
    "quarterly_report",
    "send",
    "status",
]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'auditdocs' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
