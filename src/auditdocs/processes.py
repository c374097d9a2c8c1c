"""Worker processes: how they start, one setting for every command that uses them (ingest
``--jobs``, the reports' worker, helper and reader); and ``forked``, work done meanwhile
by a forked process where processes are forked.

``AUDITDOCS_START_METHOD`` (spawn, fork, forkserver) chooses; unset, the platform's
default is used (spawn on Windows and macOS, where nothing is inherited: a worker's work
and what it needs are sent to it, and it imports what it uses itself).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from auditdocs.errors import UsageError

START_METHOD_VARIABLE = "AUDITDOCS_START_METHOD"
T = TypeVar("T")
#: Seconds ``forked`` waits for its process before doing the work itself.
FORKED_WAIT = 600.0
log = logging.getLogger(__name__)


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


def _send_result(out: multiprocessing.connection.Connection, work: Callable[[], Any]) -> None:
    """In a forked process: do ``work`` and send back its result (nothing if it failed)."""
    with suppress(BaseException):  # the parent does the work itself then, and raises as it would
        out.send(work())
    out.close()


@contextmanager
def forked(work: Callable[[], T]) -> Iterator[Callable[[], T]]:
    """A function giving ``work()``, done meanwhile by a forked process: it starts with
    everything this process has (``work`` need not be picklable; its result must be).
    Where processes are not forked (``pool_context``: spawn on Windows and macOS) or
    cannot be started, or if the process fails or dies, ``work`` is done here when its
    result is asked for, raising here what it raises.  The process is stopped at the end
    of the block."""
    context = pool_context()
    if context.get_start_method() != "fork":
        yield work
        return
    try:
        receive, send = context.Pipe(duplex=False)
        process = context.Process(  # type: ignore[attr-defined]
            target=_send_result, args=(send, work), name="auditdocs-beside", daemon=True
        )
        process.start()
    except (OSError, NotImplementedError, AssertionError):  # no processes here (a sandbox, a daemonic process)
        yield work
        return
    send.close()

    def result() -> T:
        try:
            if not receive.poll(FORKED_WAIT):  # stuck (a lock another thread held at the fork): stopped below
                log.warning("a forked process gave nothing in %s s: its work done here", FORKED_WAIT)
                return work()
            got: T = receive.recv()
        except (EOFError, OSError):  # it failed or died: done here, raising here what it raises
            return work()
        return got

    try:
        yield result
    finally:
        receive.close()
        if process.is_alive():
            process.terminate()
        process.join()
