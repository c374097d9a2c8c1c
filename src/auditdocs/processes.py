"""Worker processes: how they start, one setting for every command that uses them (ingest
``--jobs``, the reports' worker).

``AUDITDOCS_START_METHOD`` (spawn, fork, forkserver) chooses; unset, the platform's
default is used (spawn on Windows and macOS, where nothing is inherited: a worker's work
and what it needs are sent to it, and it imports what it uses itself).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os

from auditdocs.errors import UsageError

START_METHOD_VARIABLE = "AUDITDOCS_START_METHOD"


def pool_context() -> multiprocessing.context.BaseContext:
    """How worker processes start: ``AUDITDOCS_START_METHOD`` (spawn, fork, forkserver),
    else the platform's default (spawn on Windows and macOS)."""
    method = os.environ.get(START_METHOD_VARIABLE, "").strip() or None
    if method is not None and method not in multiprocessing.get_all_start_methods():
        raise UsageError(
            f"{START_METHOD_VARIABLE} is {method!r}, which this system cannot start processes with; "
            f"set it to one of {', '.join(multiprocessing.get_all_start_methods())}, or unset it"
        )
    return multiprocessing.get_context(method)
