"""Write the reports: the Word, Excel and HTML files of a month or a quarter.

``monthly_report(ws, "2026-11")`` writes the month's Audit Highlights Report (Word),
its data workbook (Excel, with native charts) and a self-contained HTML dashboard
under ``output/reports/2026-11/``; ``quarterly_report(ws, "2026Q4")`` writes the
quarterly report with trends, the learning bulletin, a workbook and a dashboard
under ``output/reports/2026Q4/``.  Every file is readable by its owner only.

A big report's workbook is built in a worker process, started (as
``AUDITDOCS_START_METHOD`` says: see ``auditdocs.processes``) with the data once it is read,
while this process lays out and writes the documents: on two cores the workbook, a
report's biggest part, costs little time of its own.  A quarter's documents take longer
than its workbook (two kinds of learning themes, more charts): a helper process
(``helper``) then draws the charts and works out the themes for development.  The files
are the same bytes, written in the same order; an error in the documents stops the
workers.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing.connection
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from auditdocs.config import Config
from auditdocs.dates import check_month, parse_quarter, shift_month, uk_today
from auditdocs.files import write_private
from auditdocs.processes import pool_context
from auditdocs.reports.bulletin import Theme, bulletin_document, known_themes, themes
from auditdocs.reports.data import ReportData, load_report_data
from auditdocs.reports.excel import ModerationSection, monthly_workbook, quarterly_workbook
from auditdocs.reports.helper import Job, helper_beside
from auditdocs.reports.html import render_html
from auditdocs.reports.moderation import moderation_blocks
from auditdocs.reports.moderation_data import moderation_section_data
from auditdocs.reports.monthly import monthly_document
from auditdocs.reports.quarterly import quarterly_document
from auditdocs.reports.word import render_word
from auditdocs.workspace import Workspace, bundled_root


def report_template(ws: Workspace) -> Path:
    """The workspace's templates/report.docx, or the shipped one for older workspaces."""
    own = ws.templates_dir / "report.docx"
    return own if own.exists() else bundled_root() / "templates" / "report.docx"


def _folder(ws: Workspace, name: str) -> Path:
    folder = ws.output_dir / "reports" / name
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":  # Windows's chmod only sets the read-only flag: the folder's ACL protects it
        folder.chmod(0o700)
        folder.parent.chmod(0o700)
    return folder


log = logging.getLogger(__name__)
T = TypeVar("T")

#: Reports over fewer audits (the months' and the earlier ones re-audits follow) build
#: their workbook in this process: starting a worker, a new interpreter where processes
#: are spawned, would cost more than it saves.
WORKER_AUDITS = 2500


def _big(data: ReportData) -> bool:
    """Whether a report is big enough for worker processes."""
    return len(data.audits) + len(data.earlier) >= WORKER_AUDITS


def _workbook(
    data: ReportData, config: Config, kind: str, period: str, moderation: ModerationSection | None = None
) -> bytes:
    make = monthly_workbook if kind == "monthly" else quarterly_workbook
    return make(data, config, period, moderation)


def _workbook_worker(
    out: multiprocessing.connection.Connection,
    data: ReportData,
    config: Config,
    kind: str,
    period: str,
    moderation: ModerationSection | None = None,
) -> None:
    """In the worker: build the workbook and send back its bytes, or the error that stopped it."""
    gc.freeze()  # the data (received, under spawn) left out of collections, as in the report's process
    try:
        result: tuple[bool, Any] = (True, _workbook(data, config, kind, period, moderation))
    except BaseException as exc:  # sent back, raised there as if here
        result = (False, exc)
    out.send(result)
    out.close()


@contextmanager
def _workbook_beside(
    data: ReportData, config: Config, kind: str, period: str, moderation: ModerationSection | None = None
) -> Iterator[Callable[[], bytes]]:
    """A function giving the report's workbook: built meanwhile by a worker process (under
    fork it shares the data read; under spawn the data is sent to it), or, for a small
    report, where no process can be started or if the worker dies, built here when asked
    for.  Leaving the block early (an error) stops the worker."""

    def here() -> bytes:
        return _workbook(data, config, kind, period, moderation)

    if not _big(data):
        yield here
        return
    context = pool_context()
    try:
        receive, send = context.Pipe(duplex=False)
        worker = context.Process(  # type: ignore[attr-defined]
            target=_workbook_worker,
            args=(send, data, config, kind, period, moderation),
            name="auditdocs-workbook",
            daemon=True,
        )
        worker.start()
    except (OSError, NotImplementedError) as exc:  # no processes here (some sandboxes): build it in this process
        log.warning("building the workbook in this process: cannot start a worker (%s)", type(exc).__name__)
        yield here
        return
    send.close()

    def there() -> bytes:
        try:
            done, result = receive.recv()
        except EOFError:  # the worker died without a word (killed, out of memory)
            log.warning("the workbook's worker stopped (exit code %s); building it in this process", worker.exitcode)
            return here()
        if not done:
            raise result
        return bytes(result)

    try:
        yield there
    finally:
        receive.close()
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _read(read: Callable[[], T]) -> T:
    """``read()`` with Python's cycle collector off: a big report's data is tens of
    thousands of objects with no cycles among them, and each full collection while they
    pile up would walk them all again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return read()
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _frozen() -> Iterator[None]:
    """Every object made so far (the report's data, once read) left out of the cycle
    collector's passes while the report is built (``gc.freeze``), in this process and in
    the workers forked from it: otherwise each full collection walks all the data again
    (0.5-1 s of a 10,000-audit report's CPU) and, in a forked worker, copies the pages it
    touches.  As before at the end: a process that froze objects itself (or a report built
    within another) keeps them frozen."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _sent_themes(data: ReportData, kind: str) -> list[tuple[str, list[str], str, str]]:
    """In the helper: the themes of ``kind``, with their audits by id."""
    return [(t.phrase, [a.audit_id for a in t.audits], t.quote, t.case_reference) for t in themes(data, kind)]


def _received_themes(data: ReportData, sent: list[tuple[str, list[str], str, str]]) -> list[Theme]:
    by_id = data.by_id()
    return [Theme(phrase, [by_id[i] for i in ids], quote, case) for phrase, ids, quote, case in sent]


def monthly_report(ws: Workspace, month: str, *, as_of: date | None = None) -> list[Path]:
    """The month's highlights report (.docx), workbook (.xlsx) and dashboard (.html).

    ``as_of`` (default today) is the date overdue audits and discussions are judged at.
    """

    month = check_month(month)
    config = ws.config
    ws.with_bank_holidays()  # from the config's cache: no `holidays` to import and work through (0.15 s)
    months, today = [shift_month(month, -1), month], as_of or uk_today()
    data = _read(lambda: load_report_data(ws.store(), config, months, today, texts=[month], beside_from=WORKER_AUDITS))
    moderation = moderation_section_data(ws.store(), config, [month])
    # The month's charts are drawn here: on two cores the workbook's worker and this
    # process keep both busy, and a helper drawing them would only share the same cores.
    with _frozen(), _workbook_beside(data, config, "monthly", month, moderation) as workbook:
        doc = monthly_document(data, config, month)
        doc.add(*moderation_blocks(*moderation))
        folder = _folder(ws, month)
        paths = [
            folder / f"{month} audit highlights report.docx",
            folder / f"{month} audit data.xlsx",
            folder / f"{month} dashboard.html",
        ]
        write_private(paths[0], render_word(doc, report_template(ws)))
        write_private(paths[1], workbook())
    write_private(paths[2], render_html(doc).encode("utf-8"))
    return paths


def quarterly_report(ws: Workspace, quarter: str, *, as_of: date | None = None) -> list[Path]:
    """The quarter's report (.docx), learning bulletin (.docx), workbook and dashboard."""

    name, months = parse_quarter(quarter)
    config = ws.config
    ws.with_bank_holidays()
    data = _read(lambda: load_report_data(ws.store(), config, months, as_of or uk_today(), beside_from=WORKER_AUDITS))
    moderation = moderation_section_data(ws.store(), config, months)
    jobs: dict[str, Job] = {"themes": _sent_themes}
    with (
        _frozen(),
        _workbook_beside(data, config, "quarterly", name, moderation) as workbook,
        helper_beside(data, _big(data), jobs) as helper,
    ):
        if helper.ask_job("themes", "development"):  # the two kinds of themes at once
            themes(data, "good")
            known_themes(data, "development", _received_themes(data, helper.result("themes", "development")))
        with helper.drawing():
            doc = quarterly_document(data, config, name)
            doc.add(*moderation_blocks(*moderation))
            bulletin = bulletin_document(data, name)
        doc, bulletin = helper.finished(doc), helper.finished(bulletin)
        folder = _folder(ws, name)
        template = report_template(ws)
        paths = [
            folder / f"{name} quarterly audit report.docx",
            folder / f"{name} learning bulletin.docx",
            folder / f"{name} audit data.xlsx",
            folder / f"{name} dashboard.html",
        ]
        write_private(paths[0], render_word(doc, template))
        write_private(paths[1], render_word(bulletin, template))
        write_private(paths[2], workbook())
    write_private(paths[3], render_html(doc, bulletin).encode("utf-8"))
    return paths
