"""Windows and macOS desktops: nothing POSIX-only at import, and the store works in a
worker started by ``spawn`` (their default), which inherits no connection pool."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from datetime import date
from pathlib import Path

from auditdocs.allocation.record import Allocation
from auditdocs.store.store import Store

ALLOCATION = Allocation(
    "2026-11-001", "2026-11", "case_file_audit", "NB-90001", "C-90001", "Team A", "Ash Worker", "Bo Manager",
    "Cy Auditor", "cy.auditor@example.org", date(2026, 11, 30),
)  # fmt: skip

#: As on Windows: no os.register_at_fork.  The store module imports, opens a store, and
#: records and reads an allocation.
WITHOUT_FORK_HOOKS = f"""
import os, sys
del os.register_at_fork
import datetime
from auditdocs.allocation.record import Allocation
from auditdocs.store.store import Store
store = Store("sqlite:///" + sys.argv[1])
store.record_allocations([Allocation(*{tuple(vars(ALLOCATION).values())!r})])
alloc, state = store.allocation("2026-11-001")
print(alloc.auditor, state, store.latest_month())
"""


def test_the_store_works_where_there_is_no_fork(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_FORK_HOOKS, str(tmp_path / "store.sqlite")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Cy Auditor issued 2026-11\n"


def _state_in_worker(url: str) -> str | None:
    found = Store(url).allocation(ALLOCATION.audit_id)
    return found[1] if found else None


def test_a_spawned_worker_opens_its_own_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = Store(url)
    store.record_allocations([ALLOCATION])
    assert store.allocation(ALLOCATION.audit_id) is not None  # the parent's pool holds a connection
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_state_in_worker, (url,)) == "issued"
    assert store.allocation(ALLOCATION.audit_id) is not None


def test_work_beside_is_done_here_when_its_process_is_stuck_fails_or_cannot_fork(monkeypatch) -> None:
    """``processes.forked``: a forked process's result when it gives one; the work done
    here, as if there were no process, when it is stuck past the wait, when it fails, and
    where processes are spawned (Windows, macOS)."""
    import os
    import time

    from auditdocs import processes

    here = os.getpid()
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "fork")

    def whose() -> int:
        return os.getpid()

    with processes.forked(whose) as result:
        assert result() != here, "done by the forked process"

    def stuck_there() -> int:
        if os.getpid() != here:
            time.sleep(60)
        return os.getpid()

    monkeypatch.setattr(processes, "FORKED_WAIT", 0.5)
    started = time.monotonic()
    with processes.forked(stuck_there) as result:
        assert result() == here
    assert time.monotonic() - started < 10, "the stuck process was stopped, not waited for"
    assert multiprocessing.active_children() == []

    def fails_there() -> int:
        if os.getpid() != here:
            raise RuntimeError("only there")
        return os.getpid()

    with processes.forked(fails_there) as result:
        assert result() == here
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "spawn")
    with processes.forked(whose) as result:
        assert result() == here
