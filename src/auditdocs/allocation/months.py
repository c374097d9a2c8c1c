"""Which months a workspace has allocated, and the month a command works on when none is
given: the light part of allocation, kept apart so that ``status`` or ``send`` finding
their default month does not load the workbook code (openpyxl)."""

from __future__ import annotations

import re
from pathlib import Path

from auditdocs.dates import shift_month, uk_today
from auditdocs.errors import UsageError
from auditdocs.workspace import Workspace


def allocation_path(ws: Workspace, month: str) -> Path:
    return ws.output_dir / month / f"allocation-{month}.xlsx"


def allocated_months(ws: Workspace) -> list[str]:
    """The months ``auditdocs allocate`` made a workbook for, in order."""
    return sorted(
        p.parent.name
        for p in ws.output_dir.glob("*/allocation-*.xlsx")
        if re.fullmatch(r"\d{4}-\d{2}", p.parent.name) and p.name == f"allocation-{p.parent.name}.xlsx"
    )


def _known_months(ws: Workspace) -> list[str]:
    """The months allocated, by ``allocate`` or issued and stored."""
    return [*allocated_months(ws), *filter(None, [ws.reader().latest_month()])]


def latest_month(ws: Workspace) -> str:
    """The month a command works on when none is given: the latest allocated; a usage
    error if there is none yet."""
    months = _known_months(ws)
    if not months:
        raise UsageError("no month has been allocated yet: run `auditdocs allocate --month YYYY-MM` first")
    return max(months)


def next_month(ws: Workspace) -> str:
    """The month ``allocate`` works on when none is given: the one after the latest
    allocated, or next month if none is."""
    months = _known_months(ws)
    return shift_month(max(months) if months else uk_today().strftime("%Y-%m"), 1)
