"""Ingest returned files: archive, identify, parse, validate, store, feed back.

Each file is handled on its own: one bad file never stops or spoils the batch.  The
raw bytes are archived first; the store records each file in one transaction; the
same bytes ingested again change nothing; a different file for an audit already
returned is a new version (an amendment), and the latest is current.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import multiprocessing
import multiprocessing.context
import multiprocessing.util
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from auditdocs.allocation.record import Allocation
from auditdocs.config.models import LimitSettings
from auditdocs.dates import add_working_days, discussion_due, now, uk_day
from auditdocs.errors import AuditDocsError, InternalError, RejectedFile, StoreError
from auditdocs.forms.layout import layout_source
from auditdocs.forms.parse import ParsedForm, code_trace, read_return
from auditdocs.moderation.record import check_moderation, differences
from auditdocs.ooxml.convert import Converter
from auditdocs.ooxml.package import Limits
from auditdocs.processes import pool_context
from auditdocs.returns.archive import Archive
from auditdocs.returns.copies import MonthEvidence
from auditdocs.returns.feedback import Post, notify_concern, write_feedback, write_moderation_feedback
from auditdocs.returns.findings import LATE_DISCUSSION_RULE, READING_RULE, SENT_TIME_RULE, Finding
from auditdocs.returns.outcome import ACCEPTED, AMEND, DUPLICATE, IGNORED, REJECTED, BatchResult, Outcome
from auditdocs.returns.sources import Incoming, SourceLimits, Unreadable, expand
from auditdocs.returns.summary import write_summary
from auditdocs.returns.validate import CopyIndex, validate
from auditdocs.store.schema import WITHDRAWN
from auditdocs.store.store import Moderation, Store, worth_redoing
from auditdocs.workspace import Workspace

log = logging.getLogger(__name__)

_ATTEMPTS = 5
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8")


class Ingester:
    """Ingests with the limits given (safe defaults): ``limits`` for each Word package,
    ``source_limits`` for folders, archives and e-mails, ``convert_timeout`` in seconds
    for one LibreOffice conversion of a .doc or .odt; ``post`` sends an immediate
    concern's notice (without it, the notice is drafted)."""

    def __init__(
        self,
        ws: Workspace,
        store: Store | None = None,
        *,
        limits: Limits | None = None,
        source_limits: SourceLimits | None = None,
        convert_timeout: float | None = None,
        post: Post | None = None,
    ) -> None:
        self.ws = ws
        self.config = ws.config
        configured = configured_limits(self.config.settings.limits)
        self.limits = limits or configured[0]
        self.source_limits = source_limits or configured[1]
        self.convert_timeout = convert_timeout or configured[2]
        self.post = post
        self.key = ws.key()
        self.layouts = layout_source(self.config)
        self.store = store or ws.store()
        self.archive = Archive(ws.state_dir / "archive")
        self.copies = MonthEvidence(self.store, self.config.settings.validation.duplicate_similarity)

    def run(
        self,
        paths: Iterable[Path],
        progress: Callable[[Outcome], None] | None = None,
        received_at: datetime | None = None,
        jobs: int = 1,
    ) -> BatchResult:
        """Ingest every file found under ``paths``; with ``jobs`` > 1, in that many worker
        processes (each file is still its own transaction, so the store sees the same)."""
        outcomes = []
        paths = [Path(p) for p in paths]  # walked twice: a generator would be empty the second time
        when = received_at or now()
        for top in paths:
            # The input itself (an e-mail, a zip) is kept as received, unless it is too big to
            # read (expand() reports that); never read whole before its size is known.
            with contextlib.suppress(OSError):  # reported below by expand()
                if top.is_file() and top.stat().st_size <= self.source_limits.max_file_bytes:
                    self.archive.put(top.read_bytes())
        found = self._outcomes(self._found(paths), when, jobs)
        try:
            for outcome in found:
                log.info("ingest %s: %s %s", outcome.name, outcome.status, outcome.audit_id or "")
                outcomes.append(outcome)
                if progress:
                    progress(outcome)
        finally:
            # Also on an error or Ctrl+C: the workers stop (closing their LibreOffice), then ours.
            found.close()
            self.close()
        result = BatchResult(outcomes)
        if outcomes:
            result.summary_path = write_summary(self.ws, result, when)
        return result

    def _found(self, paths: list[Path]) -> Iterator[Incoming | Unreadable]:
        """The files in each input, each input opened under a last-resort handler: a bug met
        opening one (an e-mail, a zip) makes it one rejected input and the batch goes on."""
        for path in paths:
            try:
                yield from expand([path], self.source_limits)
            except Exception as exc:
                log.error("ingest %s: unexpected %s opening it\n%s", path, type(exc).__name__, code_trace(exc))
                yield Unreadable(
                    str(path),
                    str(path),
                    f"could not be opened (internal error: {type(exc).__name__}); it is archived as received: "
                    "report this, and take the files out of it and ingest them",
                )

    def _outcomes(
        self, items: Iterable[Incoming | Unreadable], when: datetime, jobs: int
    ) -> Generator[Outcome, None, None]:
        if jobs <= 1:
            yield from (self.one(item, when) for item in items)
            return
        # Files go to the workers a window at a time, so memory stays flat however big
        # the batch: expand() reads lazily and only a window's bytes are in flight.
        window_size = 16 * jobs
        with ProcessPoolExecutor(
            jobs, mp_context=pool_context(), initializer=_start_worker, initargs=(self._settings(),)
        ) as pool:
            for window in _windows(items, window_size):
                try:
                    yield from pool.map(_worker_one, window, [when] * len(window), chunksize=4)
                except BrokenProcessPool:
                    # A worker died (out of memory, killed): finish this window here.
                    log.error("ingest: a worker process died; continuing in the main process")
                    yield from (self.one(item, when) for item in window)
                    yield from (self.one(item, when) for item in items)
                    return

    def _settings(self) -> tuple[Path, Limits, SourceLimits, float, Post | None]:
        return self.ws.root, self.limits, self.source_limits, self.convert_timeout, self.post

    @functools.cached_property
    def converter(self) -> Converter:
        """The LibreOffice that converts this ingester's .doc and .odt files: started on
        the first, kept for the batch (``close()`` stops it)."""
        return Converter(self.convert_timeout)

    def close(self) -> None:
        """Stop the LibreOffice started for the batch, if any (``run`` does, at its end)."""
        if "converter" in self.__dict__:
            self.converter.close()

    def one(self, item: Incoming | Unreadable, received_at: datetime) -> Outcome:
        """Ingest one file received at ``received_at``; a file that came in an e-mail
        counts as returned when the e-mail was sent (never later than ``received_at``:
        a sender's clock set ahead gains nothing), so an inbox ingested days later does
        not make returns late."""
        if isinstance(item, Unreadable):
            return Outcome(item.name, item.origin, REJECTED, reason=item.reason)
        if "!" in item.name and item.data.startswith(_IMAGE_MAGIC):
            # a signature logo or a pasted picture in an e-mail: archived, not a return
            return Outcome(
                item.name,
                item.origin,
                IGNORED,
                reason="an image in an e-mail, not a form",
                sha256=self.archive.put(item.data),
            )
        outcome = Outcome(item.name, item.origin, REJECTED)
        try:
            outcome.sha256 = self.archive.put(item.data)  # before anything else
            for attempt in range(_ATTEMPTS):
                try:
                    self._process(item, outcome, received_at)
                    break
                except Exception as exc:
                    # Another ingest stored these bytes, or this audit's next version, first
                    # (the file is then a duplicate, or the version after), or the server had
                    # dropped a pooled connection: redo from the reads.
                    if not worth_redoing(exc) or attempt == _ATTEMPTS - 1:
                        raise
                    outcome = Outcome(item.name, item.origin, REJECTED, sha256=outcome.sha256)
        except StoreError as exc:
            # The store failed, not the file: nothing is recorded against the file (a
            # rejection would make the next run call it "already received"); stop here.
            raise StoreError(
                f"{exc}; {item.name} and the files after it were not recorded "
                "(they are archived): run ingest again once the store works"
            ) from None
        except AuditDocsError as exc:
            outcome.status, outcome.reason = REJECTED, str(exc)
            self._record_rejection(item, outcome, received_at)
        except Exception as exc:  # a bug must not stop the batch or lose the file
            log.error("ingest %s: unexpected %s\n%s", item.name, type(exc).__name__, code_trace(exc))
            outcome.status = REJECTED
            outcome.reason = f"could not be processed ({type(exc).__name__}); the file is archived as {outcome.sha256}"
            self._record_rejection(item, outcome, received_at)
        return outcome

    def _record_rejection(self, item: Incoming, outcome: Outcome, received_at: datetime) -> None:
        if outcome.sha256 is None or self.store.known_receipt(outcome.sha256):
            return
        month = outcome.allocation.month if outcome.allocation else None
        received_at, _doubtful = sending_time(item.sent_at, received_at, month)
        try:
            with self.store.transaction() as conn:
                self.store.record_receipt(
                    conn,
                    sha256=outcome.sha256,
                    name=item.name,
                    origin=item.origin,
                    received_at=received_at,
                    outcome="rejected",
                    audit_id=outcome.audit_id,
                    reason=outcome.reason,
                )
        except AuditDocsError:
            log.exception("ingest %s: could not record the rejection", item.name)

    def _process(self, item: Incoming, outcome: Outcome, received_at: datetime) -> None:
        digest = outcome.sha256
        if digest is None:
            raise InternalError(f"{item.name}: processed before it was archived")
        known = self.store.known_receipt(digest)
        # A file rejected before is read again: what refused it may have changed since (a
        # limit raised, its audit allocated, LibreOffice installed).
        if known is not None and known["outcome"] != "rejected":
            outcome.status, outcome.audit_id = DUPLICATE, known["audit_id"]
            outcome.reason = f"the same file was received on {known['received_at']:%d/%m/%Y} ({known['outcome']})"
            return
        parsed = read_return(
            item.data, item.name, self.key, self.limits, self.layouts, self.convert_timeout, self.converter
        )
        outcome.converted_from = parsed.converted_from
        outcome.audit_id = parsed.audit_id
        if parsed.status == "rejected":
            raise RejectedFile(parsed.issues[0].message)
        if parsed.identity is None:
            raise InternalError(f"{item.name}: read as a form without an identity")
        found = self.store.allocation(parsed.identity.audit_id)
        if found is None:
            raise RejectedFile(
                f"audit {parsed.identity.audit_id} is not in this workspace's store; "
                "generate its forms from this workspace first"
            )
        alloc, state = found
        if state == WITHDRAWN:
            raise RejectedFile(
                f"audit {alloc.audit_id} was withdrawn before it was returned, so this return is not counted "
                "(it is kept in the archive); ask the QA team which audit replaced it"
            )
        if alloc.tool != parsed.identity.tool:
            raise RejectedFile(
                f"audit {alloc.audit_id} was allocated as {alloc.tool}, but the form is a {parsed.identity.tool}"
            )
        draw = None
        if parsed.identity.document == "moderation":
            draw = self.store.moderation(alloc.audit_id)
            if draw is None:
                raise RejectedFile(
                    f"audit {alloc.audit_id} was not drawn for moderation in this workspace's store; "
                    "run `auditdocs moderate` for its month in this workspace first"
                )
        outcome.allocation, outcome.document = alloc, parsed.identity.document
        received_at, doubtful = sending_time(item.sent_at, received_at, alloc.month)
        if draw is not None:
            self._judge_moderation(parsed, alloc, draw, outcome, received_at)
        else:
            self._judge(parsed, alloc, outcome, received_at)
        if doubtful:
            outcome.findings.append(Finding(None, "warning", SENT_TIME_RULE, doubtful))
        with self.store.transaction() as conn:
            receipt = self.store.record_receipt(
                conn,
                sha256=digest,
                name=item.name,
                origin=item.origin,
                received_at=received_at,
                outcome=outcome.status.replace(" ", "_"),
                audit_id=alloc.audit_id,
            )
            sub = self.store.record_submission(
                conn,
                receipt_id=receipt,
                audit_id=alloc.audit_id,
                document=parsed.identity.document,
                sha256=digest,
                received_at=received_at,
                status=outcome.status.replace(" ", "_"),
                late=outcome.late,
                urgent=outcome.urgent,
                converted_from=outcome.converted_from,
                config_version=parsed.identity.config_version,
                template_version=parsed.identity.template_version,
                resubmit_by=outcome.resubmit_by,
                values=parsed.fields,
                found=outcome.findings,
            )
            outcome.version, outcome.earlier = sub.version, not sub.is_current
            if outcome.status == AMEND and sub.is_current:
                # Named by the version the store gave this return, written while this ingest
                # holds that version (a concurrent ingest of the same audit waits, then takes
                # the next): two ingests at once never write over each other's feedback, and
                # a re-run after a crash before the commit rewrites the same files.  A return
                # older than the current one asks nothing of the auditor.
                to = (draw.moderator, draw.moderator_email) if draw is not None else None
                outcome.feedback = write_feedback(self.ws, parsed, alloc, outcome, sub.version, to=to)
            elif draw is not None and outcome.status == ACCEPTED and sub.is_current:
                outcome.feedback, outcome.reason = self._moderated(parsed, alloc, draw, sub.version)
        if outcome.urgent:
            # Once the return is stored (a redo after a clash never notifies twice): the team
            # manager is told at once (2.6), once per concern however many versions repeat it.
            address = self.store.email_of(alloc.team_manager)
            outcome.reason = notify_concern(self.ws, alloc, parsed.fields, address, self.post).note

    def _current(self, alloc: Allocation, document: str = "audit") -> dict[str, Any] | None:
        """The audit's current return of ``document`` (its audit tool by default), if any."""
        subs = self.store.submissions_of(alloc.audit_id)
        return next((s for s in subs if s["document"] == document and s["is_current"]), None)

    def _auditor_values(self, alloc: Allocation) -> dict[str, Any]:
        """The values of the audit's current return (what a moderation is compared with)."""
        current = self._current(alloc)
        return self.store.values_of([current["id"]])[current["id"]] if current else {}

    def _judge_moderation(
        self, parsed: ParsedForm, alloc: Allocation, draw: Moderation, outcome: Outcome, received_at: datetime
    ) -> None:
        """A moderation form is checked against the audit it moderates (the auditor's
        current return): every grade given, a rationale where the grades differ."""
        auditor = self._auditor_values(alloc)
        checked = check_moderation(parsed.fields, self.config.tool(alloc.tool), self.config.settings, auditor)
        current = self._current(alloc, "moderation")
        due = current["resubmit_by"] if current and current["status"] == "needs_amendment" else None
        self._conclude(parsed, outcome, checked, received_at, due or draw.due_date)
        self._decide(outcome, uk_day(received_at))

    def _moderated(
        self, parsed: ParsedForm, alloc: Allocation, draw: Moderation, version: int
    ) -> tuple[list[Path], str]:
        """An accepted moderation: where its overall grade differs from the auditor's, the
        auditor's own document with a comment at each grade the moderator gave otherwise
        (written once per moderation version).  Returns the files and the ingest line's note."""
        auditor = self._auditor_values(alloc)
        diffs = differences(self.config.tool(alloc.tool), auditor, parsed.fields)
        labels = self.config.settings.grading
        names = {g.id: g.label for g in [*labels.grades, labels.not_applicable]}
        overall = next((d for d in diffs if d.item == "overall"), None)
        if not diffs:
            return [], "moderated: the moderator agrees with every grade"
        note = f"moderated: {len(diffs)} grade{'s' if len(diffs) > 1 else ''} differ"
        if overall is None:
            return [], note + "; the overall grade agrees"
        record = self.config.settings.moderation.grade_of_record
        note += (
            f"; overall {names.get(str(overall.auditor), 'not graded')} -> {names.get(str(overall.moderator))}"
            f" (grade of record: the {record}'s)"
        )
        current = self._current(alloc)
        if current is None:  # pragma: no cover - an audit is drawn for moderation once accepted
            return [], note
        original = read_return(
            self.archive.get(current["sha256"]), "audit", self.key, self.limits, self.layouts,
            self.convert_timeout, self.converter,
        )  # fmt: skip
        if original.status == "rejected":
            why = original.issues[0].message
            return [], note + f"; the auditor's document could not be read again for feedback ({why})"
        paths = write_moderation_feedback(self.ws, original, alloc, draw, diffs, version)
        return paths, note + f"; feedback to {alloc.auditor} drafted"

    def _resubmit_by(self, alloc: Allocation) -> date | None:
        """The date the audit's current return, sent back for amendment, must come back by."""
        current = self._current(alloc)
        return current["resubmit_by"] if current and current["status"] == "needs_amendment" else None

    def _audit_of_plan(self, alloc: Allocation) -> tuple[str | None, date | None, str | None]:
        """(the audit's completion date, the day it was accepted, its overall grade) for the
        audit a returned plan follows: Nones where it is not returned or not accepted."""
        current = self._current(alloc)
        accepted = uk_day(current["received_at"]) if current and current["status"] == "accepted" else None
        completed, overall = (
            _text(self.store.current_values(alloc.month, field).get(alloc.audit_id, {}).get(field))
            for field in ("completion.date", "overall.grade")
        )
        return completed, accepted, overall

    def _judge(self, parsed: ParsedForm, alloc: Allocation, outcome: Outcome, received_at: datetime) -> None:
        settings = self.config.settings
        tool = self.config.tool(alloc.tool)
        received = uk_day(received_at)
        document = parsed.identity.document if parsed.identity else "audit"
        due = alloc.due_date
        if document == "plan":
            # A plan comes back from the practitioner discussion: it is judged against the
            # audit it follows (its date, the discussion deadline from its acceptance).
            completed, accepted, overall = self._audit_of_plan(alloc)
            if accepted is not None:
                due = discussion_due(settings, overall, accepted)
        else:
            completed = _text(parsed.fields.get("completion.date"))
            # An amendment is due by the date the return it amends was sent back with.
            due = self._resubmit_by(alloc) or due
        audit_date = date.fromisoformat(completed) if completed else received
        # The month's evidence, to spot copying: an index kept for the batch (a plan has none).
        others: CopyIndex | dict[str, list[str]] = self.copies.index(alloc.month) if document == "audit" else {}
        checked = validate(
            parsed.fields,
            tool,
            settings,
            document=document,
            audit_date=audit_date,
            other_evidence=others,
            audit_id=alloc.audit_id,
        )
        self._conclude(parsed, outcome, checked, received_at, due)
        outcome.urgent = parsed.fields.get("concern.immediate") is True
        held = _text(parsed.fields.get("discussion.date")) if document == "plan" else None
        if held and date.fromisoformat(held) > due:
            # Lateness that happened leaves a trace, however promptly the plan came back.
            outcome.late = True
            outcome.findings.append(
                Finding(
                    "discussion.date",
                    "warning",
                    LATE_DISCUSSION_RULE,
                    f"the practitioner discussion was held on {date.fromisoformat(held):%d/%m/%Y}, "
                    f"after its deadline ({due:%d/%m/%Y})",
                )
            )
        self._decide(outcome, received)

    def _conclude(
        self, parsed: ParsedForm, outcome: Outcome, checked: list[Finding], received_at: datetime, due: date
    ) -> None:
        """The return's findings (how it was read, then ``checked``) and its lateness
        against ``due``."""
        reading = [Finding(i.field, "error", READING_RULE, i.message) for i in parsed.issues if i.severity == "error"]
        unreadable = {f.field for f in reading}
        # Warnings about how a value was read (a fallback, LibreOffice's losses) are kept with
        # the return: the QA officer sees them in status and the summary, the auditor in feedback.
        to_confirm = [
            Finding(i.field, "warning", READING_RULE, i.message)
            for i in parsed.issues
            if i.severity == "warning" and i.affects_value
        ]
        # A field that could not be read is reported once, as unreadable, not also as empty.
        outcome.findings = reading + [f for f in checked if f.field not in unreadable or f.field is None] + to_confirm
        outcome.late = uk_day(received_at) > due

    def _decide(self, outcome: Outcome, received: date) -> None:
        """Accepted, or sent back for amendment (by a deadline) if any finding is an error."""
        settings = self.config.settings
        if any(f.severity == "error" for f in outcome.findings):
            outcome.status = AMEND
            outcome.resubmit_by = add_working_days(
                received, settings.deadlines.amendment_working_days, settings.organisation.bank_holidays
            )
        else:
            outcome.status = ACCEPTED


#: No return was sent before this: an e-mail dated 1970 (a zero Unix time) or 1601 (a zero
#: Outlook time) was sent by a machine with no idea of the time.
_PLAUSIBLE_SINCE = datetime(2000, 1, 1, tzinfo=UTC)


def sending_time(
    sent_at: datetime | None, received_at: datetime, month: str | None
) -> tuple[datetime, str | None]:
    """When a return counts as returned, and why its sending time was not believed (None
    if it was).  A file that came in an e-mail counts as returned when the e-mail was sent
    (so an inbox ingested days later does not make returns late), never later than it was
    received (a sender's clock set ahead gains nothing), and never before its audit (of
    ``month``, if known) was issued: forms are issued from the month before the audit's
    month at the earliest, so a sending time before that is a wrong clock, and the time
    received is used instead."""
    if sent_at is None or sent_at >= received_at:
        return received_at, None
    if sent_at >= max(_PLAUSIBLE_SINCE, issued_from(month) if month else _PLAUSIBLE_SINCE):
        return sent_at, None
    return received_at, (
        f"the e-mail's sending time ({uk_day(sent_at):%d/%m/%Y}) cannot be right: it is before the audit "
        f"was issued; the time it was received ({uk_day(received_at):%d/%m/%Y}) was used"
    )


def issued_from(month: str) -> datetime:
    """The earliest a form for an audit of ``month`` (YYYY-MM) can have been issued: the
    first day of the month before (midnight UK time is no earlier than 23:00 UTC the day before)."""
    year, number = int(month[:4]), int(month[5:7])
    year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return datetime(year, number, 1, tzinfo=UTC) - timedelta(hours=1)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def configured_limits(limits: LimitSettings) -> tuple[Limits, SourceLimits, float]:
    """The config's limits (config/organisation.yaml ``limits``) for the package reader,
    the folder/zip/e-mail expander and LibreOffice conversions."""
    return Limits.configured(limits), SourceLimits.configured(limits), limits.conversion_timeout_seconds


def ingest(
    ws: Workspace,
    paths: Iterable[Path],
    progress: Callable[[Outcome], None] | None = None,
    received_at: datetime | None = None,
    *,
    limits: Limits | None = None,
    source_limits: SourceLimits | None = None,
    jobs: int = 1,
    post: Post | None = None,
) -> BatchResult:
    """Ingest returned files, folders, .zip archives and e-mails (.eml, .msg), with the
    config's limits unless others are given; an immediate concern's notice is sent with
    ``post`` (``functools.partial(auditdocs.mail.messages.post_one, settings.email)``), or
    drafted without it."""
    ingester = Ingester(ws, limits=limits, source_limits=source_limits, post=post)
    return ingester.run(paths, progress, received_at, jobs)


# --- worker processes -------------------------------------------------------------------

_WORKER: Ingester | None = None


def _start_worker(settings: tuple[Path, Limits, SourceLimits, float, Post | None]) -> None:
    global _WORKER
    root, limits, source_limits, timeout, post = settings
    _WORKER = Ingester(Workspace(root), limits=limits, source_limits=source_limits, convert_timeout=timeout, post=post)
    # The worker's LibreOffice (started on its first .doc or .odt) stops when the worker
    # exits: atexit does not run in a pool's worker processes, multiprocessing's finalizers do.
    multiprocessing.util.Finalize(None, _WORKER.close, exitpriority=10)


def _worker_one(item: Incoming | Unreadable, when: datetime) -> Outcome:
    if _WORKER is None:
        raise InternalError("an ingest worker was used before it was started")
    return _WORKER.one(item, when)


def _windows(items: Iterable[Incoming | Unreadable], size: int) -> Iterator[list[Incoming | Unreadable]]:
    window: list[Incoming | Unreadable] = []
    for item in items:
        window.append(item)
        if len(window) >= size:
            yield window
            window = []
    if window:
        yield window
