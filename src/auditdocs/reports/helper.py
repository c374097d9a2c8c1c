"""A big report's helper process (issue 15): it draws the charts, and works out the
learning themes of one kind, while this process lays out the documents.

matplotlib takes most of a second to draw a month's charts, and a report asks for them one
by one as it lays out its sections.  Each chart function of ``charts`` is ``@deferrable``:
called inside ``Helper.drawing()``, it sends its name and arguments (plain data) to the
helper and returns a placeholder at once; ``Helper.finished(doc)`` then puts the PNG the
helper drew in the place of each placeholder.  The helper calls the very same function
with the same arguments, so the bytes are those drawn here.

A helper started by fork shares the report's data as it was read, so it can also do jobs
over it (``jobs``: the quarter's themes of one kind, a second each, while this process
works out the other); one started by spawn would need the data sent to it, and leaves
such jobs to this process.  Without a helper (a small report, no processes here) a chart
is drawn where it is asked for; if the helper dies, what it did not send is done here.
"""

from __future__ import annotations

import functools
import gc
import importlib
import logging
import multiprocessing.connection
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, TypeVar

from auditdocs.processes import pool_context
from auditdocs.reports.content import Chart, Document
from auditdocs.reports.data import ReportData

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., bytes])
_HELPER: ContextVar[Helper | None] = ContextVar("auditdocs_report_helper", default=None)
_PLACEHOLDER = b"\x00auditdocs chart %d\x00"
#: A job over the report's data: (data, key) → its result (sent back: plain data).
Job = Callable[[ReportData, str], Any]


def deferrable(chart: F) -> F:
    """A chart function that a ``Helper`` may draw (its arguments must be plain data)."""

    @functools.wraps(chart)
    def draw(*args: Any, **kwargs: Any) -> bytes:
        helper = _HELPER.get()
        if helper is None:
            return chart(*args, **kwargs)
        return helper.ask(chart.__module__, chart.__name__, args, kwargs)

    return draw  # type: ignore[return-value]


def _chart(module: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    return bytes(getattr(importlib.import_module(module), name).__wrapped__(*args, **kwargs))


def _help(conn: multiprocessing.connection.Connection, data: ReportData | None, jobs: dict[str, Job]) -> None:
    """In the helper: do what is asked, in order, until told to stop."""
    gc.freeze()  # the report's data left out of collections (``publish._frozen``)
    while (asked := conn.recv()) is not None:
        what, key, *rest = asked
        try:
            if what == "chart":
                answer: tuple[Any, ...] = (what, key, True, _chart(*rest))
            elif data is not None and what in jobs:
                answer = (what, key, True, jobs[what](data, key))
            else:
                raise ValueError(f"the report's helper cannot do {what!r}")
        except BaseException as exc:  # sent back, raised there as if done there
            answer = (what, key, False, exc)
        conn.send(answer)
    conn.close()


class Helper:
    """A helper process (see the module's docstring); ``data`` and ``jobs`` are its under
    fork only."""

    def __init__(self, data: ReportData, jobs: dict[str, Job]) -> None:
        context = pool_context()
        shared = context.get_start_method() == "fork"
        self.data: ReportData | None = data if shared else None
        self.jobs: dict[str, Job] = jobs if shared else {}
        self.conn, theirs = context.Pipe(duplex=True)
        self.process = context.Process(  # type: ignore[attr-defined]
            target=_help, args=(theirs, self.data, self.jobs), name="auditdocs-report-helper", daemon=True
        )
        self.process.start()
        theirs.close()
        self.asked: dict[int, tuple[str, str, tuple[Any, ...], dict[str, Any]]] = {}
        self.drawn: dict[int, bytes] = {}
        self.jobs_asked: set[tuple[str, str]] = set()
        self.done: dict[tuple[str, str], Any] = {}
        self.gone = False

    @contextmanager
    def drawing(self) -> Iterator[None]:
        """Charts asked for inside this block are drawn by the helper."""
        token = _HELPER.set(self)
        try:
            yield
        finally:
            _HELPER.reset(token)

    def _send(self, message: tuple[Any, ...]) -> None:
        if self.gone:
            return
        try:
            while self.conn.poll():  # what is done, taken as it comes: the helper never waits to send
                self._take()
            self.conn.send(message)
        except (OSError, EOFError):  # the helper is gone: done here when wanted
            self.gone = True

    def ask(self, module: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
        number = len(self.asked)
        self.asked[number] = (module, name, args, kwargs)
        self._send(("chart", number, module, name, args, kwargs))
        return _PLACEHOLDER % number

    def ask_job(self, name: str, key: str) -> bool:
        """Ask for job ``name`` on ``key`` (``result`` gives it); False if this helper
        cannot do it (it has not the data: done here then)."""
        if name not in self.jobs:
            return False
        self.jobs_asked.add((name, key))
        self._send((name, key))
        return True

    def _take(self) -> None:
        what, key, done, result = self.conn.recv()
        if not done:
            raise result
        if what == "chart":
            self.drawn[key] = result
        else:
            self.done[(what, key)] = result

    def _wait(self, ready: Callable[[], bool]) -> None:
        while not ready():
            try:
                if self.gone:
                    raise EOFError
                self._take()
            except (OSError, EOFError):  # the helper died: the rest done here
                log.warning("the report's helper stopped (exit code %s); doing its work here", self.process.exitcode)
                self.gone = True
                for number, asked in self.asked.items():
                    if number not in self.drawn:
                        self.drawn[number] = _chart(*asked)
                for name, key in self.jobs_asked - set(self.done):
                    self.done[(name, key)] = self.jobs[name](data, key) if (data := self.data) is not None else None
                return

    def result(self, name: str, key: str) -> Any:
        """The result of job ``name`` on ``key`` (asked for with ``ask_job``)."""
        self._wait(lambda: (name, key) in self.done)
        return self.done[(name, key)]

    def finished(self, doc: Document) -> Document:
        """``doc`` with the helper's PNG in each chart it drew."""
        self._wait(lambda: len(self.drawn) == len(self.asked))
        pngs = {_PLACEHOLDER % n: png for n, png in self.drawn.items()}
        doc.blocks = [
            replace(b, png=pngs[b.png]) if isinstance(b, Chart) and b.png in pngs else b for b in doc.blocks
        ]
        return doc

    def close(self) -> None:
        with suppress(OSError, EOFError):
            self.conn.send(None)
        self.conn.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()

    def stop(self) -> None:
        """Stop the helper now (an error elsewhere: its work is not wanted)."""
        self.conn.close()
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()


class NoHelper:
    """No helper: each chart drawn where it is asked for, every job done here."""

    @contextmanager
    def drawing(self) -> Iterator[None]:
        yield

    def ask_job(self, name: str, key: str) -> bool:
        return False

    def result(self, name: str, key: str) -> Any:
        raise LookupError((name, key))

    def finished(self, doc: Document) -> Document:
        return doc


@contextmanager
def helper_beside(data: ReportData, wanted: bool, jobs: dict[str, Job] | None = None) -> Iterator[Helper | NoHelper]:
    """A helper if ``wanted`` and one can be started, else ``NoHelper``; the helper is
    stopped at the end of the block, at once if the block fails."""
    if not wanted:
        yield NoHelper()
        return
    try:
        helper = Helper(data, jobs or {})
    except (OSError, NotImplementedError) as exc:  # no processes here (some sandboxes)
        log.warning("no helper process for the report: cannot start one (%s)", type(exc).__name__)
        yield NoHelper()
        return
    try:
        yield helper
    except BaseException:
        helper.stop()
        raise
    helper.close()
