"""The reads of the quick commands (``status``, finding the latest month), straight from a
SQLite store with Python's ``sqlite3`` module: SQLAlchemy alone takes 0.2 s to import,
about what the whole command may take.

``QuickReader.open(path)`` reads a store that exists at a schema it knows, else returns
None and the caller uses ``Store`` (which creates or migrates the store, as ever).  Each
method gives what the ``Store`` method of the same name gives (the same rows, the same
Python types: dates and times as SQLAlchemy reads them back from SQLite); the tests hold
them to that.  A migration that changes what these queries read must change them too.
PostgreSQL and any other database go through ``Store``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from auditdocs.returns.findings import READING_RULE

#: The schema versions whose tables and columns these queries read (migration 2 added
#: allocations.reaudit_of; 3 allocations.case_start; 4 the moderations table).
KNOWN_VERSIONS = frozenset({2, 3, 4})


class StatusReads(Protocol):
    """What ``status`` reads: ``Store`` and ``QuickReader`` both."""

    def latest_month(self) -> str | None: ...

    def month_status(self, month: str) -> list[dict[str, Any]]: ...

    def current_values(
        self, month: str, field_prefix: str = "", document: str = "audit", field_suffix: str = ""
    ) -> dict[str, dict[str, Any]]: ...


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


#: How SQLAlchemy reads each column of a month's status back (the rest are text or numbers).
_TYPES: dict[str, Callable[[Any], Any]] = {
    "due_date": _day,
    "case_start": _day,
    "updated_at": _time,
    "received_at": _time,
    "resubmit_by": _day,
    "late": _flag,
    "urgent": _flag,
}
#: The allocations table's columns, in its order.
_ALLOCATION_COLUMNS = (
    "audit_id", "month", "tool", "case_reference", "child_id", "team", "worker", "team_manager", "auditor",
    "auditor_email", "due_date", "reaudit_of", "case_start", "state", "updated_at",
)  # fmt: skip


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching itself ('/' the escape, as SQLAlchemy's autoescape)."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


class QuickReader:
    """A SQLite store read directly; each read on a connection of its own, closed after it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def open(cls, path: Path) -> QuickReader | None:
        """The store at ``path`` if it is a SQLite store at a known schema, else None."""
        if not path.is_file() or path.stat().st_size == 0:
            return None
        reader = cls(path)
        try:
            version = reader._rows("SELECT max(version) FROM schema_migrations")[0][0]
        except sqlite3.Error:
            return None
        return reader if version in KNOWN_VERSIONS else None

    def _rows(self, query: str, args: tuple[Any, ...] = ()) -> list[Any]:
        with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as conn:
            return conn.execute(query, args).fetchall()

    def latest_month(self) -> str | None:
        """The latest month with allocations stored (YYYY-MM), if any."""
        found = self._rows("SELECT max(month) FROM allocations")[0][0]
        return None if found is None else str(found)

    def month_status(self, month: str) -> list[dict[str, Any]]:
        """As ``Store.month_status``."""
        query = f"""
            SELECT {", ".join(f"a.{c}" for c in _ALLOCATION_COLUMNS)},
                   s.version, s.received_at, s.late, s.urgent, s.resubmit_by, s.id AS submission_id,
                   (SELECT count(*) FROM findings f
                     WHERE f.submission_id = s.id AND f.rule = ? AND f.severity = 'warning') AS to_confirm
            FROM allocations a
            LEFT OUTER JOIN (SELECT * FROM submissions WHERE is_current IS 1 AND document = 'audit') s
              ON s.audit_id = a.audit_id
            WHERE a.month = ?
            ORDER BY a.audit_id
        """  # noqa: S608 - the columns are this module's own names
        with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as conn:
            cursor = conn.execute(query, (READING_RULE, month))
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        convert = [_TYPES.get(n) for n in names]
        return [
            {name: (c(v) if c is not None else v) for name, c, v in zip(names, convert, row, strict=True)}
            for row in rows
        ]

    def current_values(
        self, month: str, field_prefix: str = "", document: str = "audit", field_suffix: str = ""
    ) -> dict[str, dict[str, Any]]:
        """As ``Store.current_values``."""
        query = """
            SELECT s.audit_id, v.field_id, v.value
            FROM submissions s
            JOIN field_values v ON v.submission_id = s.id
            JOIN allocations a ON a.audit_id = s.audit_id
            WHERE a.month >= ? AND a.month <= ? AND s.is_current IS 1 AND s.document = ?
              AND v.field_id LIKE ? ESCAPE '/' AND v.field_id LIKE ? ESCAPE '/'
        """
        args = (month, month, document, _like(field_prefix) + "%", "%" + _like(field_suffix))
        out: dict[str, dict[str, Any]] = {}
        for audit_id, field_id, value in self._rows(query, args):
            out.setdefault(audit_id, {})[field_id] = json.loads(value) if value is not None else None
        return out
