"""The store: allocations, every file received, every version of every return.

SQLite in the workspace by default (``.auditdocs/store.sqlite``); any SQLAlchemy URL
(PostgreSQL included) works, as only portable SQL is used.  The schema is created by
numbered migrations recorded in ``schema_migrations``.  Each returned file is recorded
in one transaction, so a crash leaves either the whole record or none of it.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    case,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.pool import QueuePool

from auditdocs.allocation.record import Allocation
from auditdocs.dates import now
from auditdocs.errors import StoreConflict, StoreDisconnected, StoreError
from auditdocs.returns.findings import READING_RULE, Finding
from auditdocs.store.reporting import current_values_query, moderated_grades
from auditdocs.store.schema import (
    MIGRATIONS,
    STATES,
    WITHDRAWN,
    allocation_events,
    allocations,
    field_values,
    findings,
    metadata,
    moderations,
    receipts,
    schema_migrations,
    submissions,
)
from auditdocs.text import first_line


@dataclass(frozen=True)
class Moderation:
    """An audit drawn for moderation: who moderates it, how (blind or open), why it was
    drawn and when the moderation form is due."""

    audit_id: str
    month: str
    moderator: str
    moderator_email: str
    mode: str
    reason: str
    due_date: date
    drawn_at: datetime


def _now() -> datetime:
    return now()


@dataclass(frozen=True)
class Submission:
    """What one returned file added to the store."""

    id: int
    audit_id: str
    document: str
    version: int
    status: str
    late: bool
    urgent: bool
    # False when a version sent later is already stored: this one is kept as history
    is_current: bool = True


# Every store's engine, so that no pooled connection crosses a fork (``ingest --jobs``
# workers): a child would share the parent's PostgreSQL socket or SQLite file locks.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _close_pools_before_fork() -> None:
    for engine in list(_ENGINES):
        engine.dispose()  # the parent reconnects when it next needs to


def _forget_pools_in_child() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)  # a connection checked out in another thread stays the parent's


# Only POSIX forks (Windows has no fork, nor os.register_at_fork).  A worker started by
# ``spawn`` (Windows, macOS) imports this module afresh and inherits no engine, so there
# is no pool to close or forget: each worker opens its own store.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_close_pools_before_fork, after_in_child=_forget_pools_in_child)


def worth_redoing(exc: BaseException) -> bool:
    """Whether a unit of work that failed with ``exc`` (and was rolled back) can simply be
    redone: a concurrent writer got there first, or the server had dropped the pooled
    connection (a restart, an idle timeout; the pool has been renewed since)."""
    return isinstance(exc, StoreConflict | StoreDisconnected)


def shown_url(url: str) -> str:
    """A database URL fit for a message or a log: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return "(a database URL that cannot be read)"


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.shown = shown_url(url)
        try:
            # Pooled: opening a connection per unit of work (four per file ingested) cost
            # PostgreSQL half of an ingest's time.  Connections are renewed after half an
            # hour, before a server's idle timeout.  Checking each before use (pre-ping)
            # cost another 15 %; instead a connection the server dropped fails the unit
            # of work using it (StoreDisconnected), which ingest redoes on a new one.
            self.engine: Engine = create_engine(url, poolclass=QueuePool, pool_recycle=1800)
        except (SQLAlchemyError, ValueError, ImportError) as exc:
            raise StoreError(f"store {self.shown}: cannot open ({first_line(exc)})") from None
        _ENGINES.add(self.engine)
        # Pooled connections are closed when the store is dropped (or at exit), not left
        # for the garbage collector.
        weakref.finalize(self, self.engine.dispose)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.migrate()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One unit of work: committed whole, or rolled back whole.  A clash with a
        concurrent writer (a unique key taken meanwhile) raises StoreConflict, a connection
        the server dropped StoreDisconnected: redo the unit of work from its reads.  Any
        other failure is a StoreError."""
        with self._failures(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads, failing as ``transaction`` does."""
        with self._failures(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _failures(self) -> Iterator[None]:
        try:
            yield
        except IntegrityError as exc:
            clash = first_line(exc.orig)
            raise StoreConflict(f"store {self.shown}: a concurrent writer got there first ({clash})") from None
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise StoreDisconnected(f"store {self.shown}: the server dropped the connection") from None
            raise StoreError(f"store {self.shown}: {type(exc).__name__}: {first_line(exc.orig)}") from None
        except SQLAlchemyError as exc:
            raise StoreError(f"store {self.shown}: {type(exc).__name__}: {first_line(exc)}") from None

    def migrate(self) -> None:
        with self.transaction() as conn:
            metadata.create_all(conn, tables=[schema_migrations])
            done = set(conn.scalars(select(schema_migrations.c.version)))
            for version, step in MIGRATIONS:
                if version not in done:
                    step(conn)
                    conn.execute(insert(schema_migrations).values(version=version, applied_at=_now()))

    def schema_version(self) -> int:
        with self.reading() as conn:
            return int(conn.scalar(select(func.max(schema_migrations.c.version))) or 0)

    # --- allocations --------------------------------------------------------------------

    def record_allocations(self, items: Iterable[Allocation], state: str = "issued") -> None:
        """Add allocations (or refresh their details); a state only ever moves forward
        from allocated to issued, never back from a return."""
        with self.transaction() as conn:
            for alloc in items:
                row = {**_alloc_row(alloc), "updated_at": _now()}
                old = conn.execute(select(allocations.c.state).where(allocations.c.audit_id == alloc.audit_id)).first()
                if old is None:
                    conn.execute(insert(allocations).values(**row, state=state))
                elif old.state == WITHDRAWN:
                    raise StoreError(f"audit {alloc.audit_id} was withdrawn; it cannot be issued again")
                else:
                    new_state = state if STATES.index(old.state) < STATES.index(state) else old.state
                    conn.execute(
                        update(allocations)
                        .where(allocations.c.audit_id == alloc.audit_id)
                        .values(**row, state=new_state)
                    )

    def record_events(self, events: Iterable[tuple[str, str, str]], at: datetime | None = None) -> None:
        """Record what happened to issued audits: (audit id, event, detail), where event is
        issued, reissued, withdrawn or sent."""
        rows = [{"audit_id": a, "event": e, "detail": d, "at": at or _now()} for a, e, d in events]
        if rows:
            with self.transaction() as conn:
                conn.execute(insert(allocation_events), rows)

    def events_of(self, month: str) -> dict[str, list[tuple[datetime, str, str]]]:
        """audit id → its events (time, event, detail), oldest first, for a month's audits."""
        query = (
            select(allocation_events.c.audit_id, allocation_events.c.at, allocation_events.c.event,
                   allocation_events.c.detail)
            .join(allocations, allocations.c.audit_id == allocation_events.c.audit_id)
            .where(allocations.c.month == month)
            .order_by(allocation_events.c.id)
        )  # fmt: skip
        out: dict[str, list[tuple[datetime, str, str]]] = {}
        with self.reading() as conn:
            for audit_id, at, kind, detail in conn.execute(query):
                out.setdefault(audit_id, []).append((at, kind, detail))
        return out

    def withdraw(self, audit_id: str, reason: str) -> None:
        """Take back an issued audit before anything is returned for it (its forms are
        no longer accepted); the allocation and the reason are kept."""
        with self.transaction() as conn:
            row = conn.execute(select(allocations.c.state).where(allocations.c.audit_id == audit_id)).first()
            if row is None:
                raise StoreError(f"audit {audit_id} is not in the store")
            if row.state not in ("allocated", "issued"):
                raise StoreError(f"audit {audit_id} is {row.state.replace('_', ' ')}: only an audit not yet returned "
                                 "can be withdrawn")  # fmt: skip
            conn.execute(
                update(allocations).where(allocations.c.audit_id == audit_id).values(state=WITHDRAWN, updated_at=_now())
            )
            conn.execute(insert(allocation_events).values(audit_id=audit_id, at=_now(), event="withdrawn",
                                                          detail=reason))  # fmt: skip

    def allocation(self, audit_id: str) -> tuple[Allocation, str] | None:
        with self.reading() as conn:
            row = conn.execute(select(allocations).where(allocations.c.audit_id == audit_id)).first()
        if row is None:
            return None
        return _alloc_from(row), row.state

    def allocations_between(self, first: str, last: str) -> list[tuple[Allocation, str]]:
        """Allocations of the months ``first`` to ``last`` (YYYY-MM, both included), not
        withdrawn."""
        with self.reading() as conn:
            rows = conn.execute(
                select(allocations)
                .where(allocations.c.month >= first, allocations.c.month <= last, allocations.c.state != WITHDRAWN)
                .order_by(allocations.c.month, allocations.c.audit_id)
            ).all()
        return [(_alloc_from(r), r.state) for r in rows]

    def email_of(self, name: str) -> str:
        """A person's e-mail address as the latest allocation naming them as auditor gives it
        (team managers audit too), or "" if none does."""
        with self.reading() as conn:
            found = conn.scalar(
                select(allocations.c.auditor_email)
                .where(allocations.c.auditor == name)
                .order_by(allocations.c.month.desc(), allocations.c.audit_id.desc())
                .limit(1)
            )
        return found or ""

    def latest_month(self) -> str | None:
        """The latest month with allocations stored (YYYY-MM), if any."""
        with self.reading() as conn:
            return conn.scalar(select(func.max(allocations.c.month)))

    def month_allocations(self, month: str, withdrawn: bool = False) -> list[tuple[Allocation, str]]:
        """A month's allocations and their states; withdrawn audits only if asked for."""
        query = select(allocations).where(allocations.c.month == month).order_by(allocations.c.audit_id)
        if not withdrawn:
            query = query.where(allocations.c.state != WITHDRAWN)
        with self.reading() as conn:
            rows = conn.execute(query).all()
        return [(_alloc_from(r), r.state) for r in rows]

    # --- receipts and submissions ---------------------------------------------------------

    def known_receipt(self, sha256: str) -> dict[str, Any] | None:
        """The receipt of exactly these bytes if they were received before: the one that
        stored them if any, else the first (a rejection)."""
        rejected_last = case((receipts.c.outcome == "rejected", 1), else_=0)
        query = select(receipts).where(receipts.c.sha256 == sha256).order_by(rejected_last, receipts.c.id)
        with self.reading() as conn:
            row = conn.execute(query).first()
        return row._asdict() if row is not None else None

    def record_receipt(
        self,
        conn: Connection,
        *,
        sha256: str,
        name: str,
        origin: str,
        received_at: datetime,
        outcome: str,
        audit_id: str | None = None,
        reason: str | None = None,
    ) -> int:
        result = conn.execute(
            insert(receipts).values(
                sha256=sha256,
                name=name,
                origin=origin,
                received_at=received_at,
                outcome=outcome,
                audit_id=audit_id,
                reason=reason,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def record_submission(
        self,
        conn: Connection,
        *,
        receipt_id: int,
        audit_id: str,
        document: str,
        sha256: str,
        received_at: datetime,
        status: str,
        late: bool,
        urgent: bool,
        converted_from: str | None,
        config_version: str,
        template_version: str,
        resubmit_by: date | None,
        values: dict[str, Any],
        found: list[Finding],
    ) -> Submission:
        """A new version of an audit's return, numbered in the order received.  The one
        sent last (``received_at``: when it was sent, for a file that came in an e-mail) is
        current: an older e-mail ingested after a newer one is kept as history and displaces
        nothing.  Older versions stay."""
        same = (submissions.c.audit_id == audit_id, submissions.c.document == document)
        previous = conn.scalar(select(func.max(submissions.c.version)).where(*same)) or 0
        later = conn.scalar(select(func.count()).where(*same, submissions.c.received_at > received_at)) or 0
        is_current = later == 0
        if is_current:
            conn.execute(update(submissions).where(*same).values(is_current=False))
        sub_id = int(
            conn.execute(
                insert(submissions).values(
                    audit_id=audit_id,
                    document=document,
                    version=previous + 1,
                    sha256=sha256,
                    receipt_id=receipt_id,
                    received_at=received_at,
                    status=status,
                    is_current=is_current,
                    late=late,
                    urgent=urgent,
                    converted_from=converted_from,
                    config_version=config_version,
                    template_version=template_version,
                    resubmit_by=resubmit_by,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )
        if values:
            conn.execute(
                insert(field_values),
                [{"submission_id": sub_id, "field_id": k, "value": json.dumps(v)} for k, v in values.items()],
            )
        if found:
            conn.execute(
                insert(findings),
                [
                    {
                        "submission_id": sub_id,
                        "field_id": f.field,
                        "severity": f.severity,
                        "rule": f.rule,
                        "message": f.message,
                    }
                    for f in found
                ],
            )
        if document == "audit" and is_current:
            state = "accepted" if status == "accepted" else "needs_amendment"
            conn.execute(
                update(allocations).where(allocations.c.audit_id == audit_id).values(state=state, updated_at=_now())
            )
        return Submission(sub_id, audit_id, document, previous + 1, status, late, urgent, is_current)

    def current_values(
        self, month: str, field_prefix: str = "", document: str = "audit", field_suffix: str = ""
    ) -> dict[str, dict[str, Any]]:
        """audit id → {field id: value} of the current returns of a month (audit tools,
        or with ``document="plan"`` the improvement plans back from the discussion), for
        the field ids with the given prefix and suffix."""
        return self.current_values_between(month, month, field_prefix, document, field_suffix)

    def current_values_between(
        self,
        first: str,
        last: str,
        field_prefix: str = "",
        document: str = "audit",
        field_suffix: str = "",
        tool: str | None = None,
        status: str | None = None,
    ) -> dict[str, dict[str, Any]]:
        """As :meth:`current_values`, for the months ``first`` to ``last`` (both included),
        of one tool type if ``tool`` is given, of current returns of one ``status`` (e.g.
        accepted) if given."""
        query = current_values_query(first, last, field_prefix, document, field_suffix, tool, status)
        out: dict[str, dict[str, Any]] = {}
        with self.reading() as conn:
            for audit_id, field_id, value in conn.execute(query):
                out.setdefault(audit_id, {})[field_id] = json.loads(value) if value is not None else None
        return out

    def values_of_record_between(
        self, first: str, last: str, field_prefix: str = "", tool: str | None = None, rule: str = "moderator"
    ) -> dict[str, dict[str, Any]]:
        """As :meth:`current_values_between` for the audits' returns, with the grades of
        record: where ``rule`` is "moderator", a moderated audit's grades (fields ending
        ``.grade``) are its accepted moderation's.  The auditor's own stay as stored."""
        values = self.current_values_between(first, last, field_prefix, tool=tool)
        if rule != "moderator":
            return values
        with self.reading() as conn:
            moderated = moderated_grades(conn, first, last, field_prefix)
        for audit_id, grades in moderated.items():
            if audit_id in values:
                values[audit_id].update(grades)
        return values

    def current_returns(self, month: str, document: str = "audit") -> list[tuple[int, str]]:
        """(submission id, audit id) of the month's current returns, lowest id first."""
        query = (
            select(submissions.c.id, submissions.c.audit_id)
            .join(allocations, allocations.c.audit_id == submissions.c.audit_id)
            .where(allocations.c.month == month, submissions.c.is_current.is_(True), submissions.c.document == document)
            .order_by(submissions.c.id)
        )
        with self.reading() as conn:
            return [(sub_id, audit_id) for sub_id, audit_id in conn.execute(query)]

    def submission_ids(self, last: int) -> list[int]:
        """The ids of the ``last`` submissions numbered highest, in order."""
        top = select(func.coalesce(func.max(submissions.c.id), 0)).scalar_subquery()
        with self.reading() as conn:
            query = select(submissions.c.id).where(submissions.c.id > top - last).order_by(submissions.c.id)
            return list(conn.scalars(query))

    def submissions_after(self, after: int, also: Collection[int] = ()) -> list[tuple[int, str, str, str, bool]]:
        """(id, audit id, month, document, is current) of the submissions numbered above
        ``after``, and of those numbered ``also``, lowest id first: what a reader that has
        seen up to ``after`` has not yet seen (``also``: numbers it found missing, which a
        transaction may yet commit)."""
        columns = (
            submissions.c.id,
            submissions.c.audit_id,
            allocations.c.month,
            submissions.c.document,
            submissions.c.is_current,
        )
        joined = select(*columns).join(allocations, allocations.c.audit_id == submissions.c.audit_id)
        # Two queries, not one with OR: each is a search of the primary key, where an OR
        # makes SQLite read every submission.
        wanted = [submissions.c.id > after] + ([submissions.c.id.in_(sorted(also))] if also else [])
        rows: list[tuple[int, str, str, str, bool]] = []
        with self.reading() as conn:
            for condition in wanted:
                rows += [(i, a, m, d, bool(c)) for i, a, m, d, c in conn.execute(joined.where(condition))]
        return sorted(rows)

    def values_of(self, submission_ids: Iterable[int], field_suffix: str = "") -> dict[int, dict[str, Any]]:
        """submission id → {field id: value} of the given returns, for field ids ending so."""
        ids = list(submission_ids)
        out: dict[int, dict[str, Any]] = {sub_id: {} for sub_id in ids}
        with self.reading() as conn:
            for start in range(0, len(ids), 500):  # bound the number of bound parameters
                query = select(field_values.c.submission_id, field_values.c.field_id, field_values.c.value).where(
                    field_values.c.submission_id.in_(ids[start : start + 500]),
                    field_values.c.field_id.endswith(field_suffix, autoescape=True),
                )
                for sub_id, field_id, value in conn.execute(query):
                    out[sub_id][field_id] = json.loads(value) if value is not None else None
        return out

    def submissions_of(self, audit_id: str) -> list[dict[str, Any]]:
        with self.reading() as conn:
            rows = conn.execute(
                select(submissions)
                .where(submissions.c.audit_id == audit_id)
                .order_by(submissions.c.document, submissions.c.version)
            ).all()
        return [r._asdict() for r in rows]

    def findings_of(self, submission_id: int) -> list[Finding]:
        with self.reading() as conn:
            rows = conn.execute(
                select(findings).where(findings.c.submission_id == submission_id).order_by(findings.c.id)
            ).all()
        return [Finding(r.field_id, r.severity, r.rule, r.message) for r in rows]

    def month_status(self, month: str) -> list[dict[str, Any]]:
        """One row per allocation of the month with its current audit return, if any, and
        how many of its values were read by a fallback (``to_confirm``)."""
        current = (
            select(submissions).where(submissions.c.is_current.is_(True), submissions.c.document == "audit").subquery()
        )
        to_confirm = (
            select(func.count())
            .select_from(findings)
            .where(
                findings.c.submission_id == current.c.id,
                findings.c.rule == READING_RULE,
                findings.c.severity == "warning",
            )
            .scalar_subquery()
        )
        query = (
            select(
                allocations,
                current.c.version,
                current.c.received_at,
                current.c.late,
                current.c.urgent,
                current.c.resubmit_by,
                current.c.id.label("submission_id"),
                to_confirm.label("to_confirm"),
            )
            .outerjoin(current, current.c.audit_id == allocations.c.audit_id)
            .where(allocations.c.month == month)
            .order_by(allocations.c.audit_id)
        )
        with self.reading() as conn:
            return [r._asdict() for r in conn.execute(query)]

    # --- moderation -----------------------------------------------------------------------

    def record_moderations(self, drawn: Iterable[Moderation]) -> None:
        """Add audits drawn for moderation (an audit is drawn once: drawing it again is an error)."""
        rows = [vars(m) for m in drawn]
        if rows:
            with self.transaction() as conn:
                conn.execute(insert(moderations), rows)

    def moderations_between(self, first: str, last: str) -> list[Moderation]:
        """The audits of months ``first`` to ``last`` drawn for moderation, by audit id."""
        with self.reading() as conn:
            rows = conn.execute(
                select(moderations)
                .where(moderations.c.month >= first, moderations.c.month <= last)
                .order_by(moderations.c.audit_id)
            ).all()
        return [Moderation(**r._asdict()) for r in rows]

    def moderation(self, audit_id: str) -> Moderation | None:
        with self.reading() as conn:
            row = conn.execute(select(moderations).where(moderations.c.audit_id == audit_id)).first()
        return Moderation(**row._asdict()) if row is not None else None

    def receipts_count(self) -> int:
        with self.reading() as conn:
            return int(conn.scalar(select(func.count()).select_from(receipts)) or 0)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _alloc_row(alloc: Allocation) -> dict[str, Any]:
    return {
        "audit_id": alloc.audit_id,
        "month": alloc.month,
        "tool": alloc.tool,
        "case_reference": alloc.case_reference,
        "child_id": alloc.child_id,
        "team": alloc.team,
        "worker": alloc.worker,
        "team_manager": alloc.team_manager,
        "auditor": alloc.auditor,
        "auditor_email": alloc.auditor_email,
        "due_date": alloc.due_date,
        "reaudit_of": alloc.reaudit_of,
        "case_start": alloc.case_start,
    }


def _alloc_from(row: Any) -> Allocation:
    return Allocation(
        audit_id=row.audit_id,
        month=row.month,
        tool=row.tool,
        case_reference=row.case_reference,
        child_id=row.child_id,
        team=row.team,
        worker=row.worker,
        team_manager=row.team_manager,
        auditor=row.auditor,
        auditor_email=row.auditor_email,
        due_date=row.due_date,
        reaudit_of=row.reaudit_of,
        case_start=row.case_start,
    )
