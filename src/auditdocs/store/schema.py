"""The store's tables and the numbered migrations that create and alter them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

allocations = Table(
    "allocations",
    metadata,
    Column("audit_id", String(64), primary_key=True),
    Column("month", String(7), nullable=False, index=True),
    Column("tool", String(40), nullable=False),
    Column("case_reference", String(200), nullable=False),
    Column("child_id", String(200), nullable=False),
    Column("team", String(200), nullable=False),
    Column("worker", String(200), nullable=False),
    Column("team_manager", String(200), nullable=False),
    Column("auditor", String(200), nullable=False),
    Column("auditor_email", String(320), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("reaudit_of", String(64)),  # migration 2: the audit an Inadequate case's re-audit repeats
    Column("case_start", Date),  # migration 3: the case's start of involvement, if known
    # allocated → issued → returned → needs_amendment → accepted; or withdrawn (before a return)
    Column("state", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

receipts = Table(
    "receipts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(20), nullable=False),  # accepted | needs_amendment | rejected | duplicate
    Column("audit_id", String(64)),
    Column("reason", Text),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("audit_id", String(64), ForeignKey("allocations.audit_id"), nullable=False, index=True),
    Column("document", String(10), nullable=False),  # audit | plan
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("receipt_id", Integer, ForeignKey("receipts.id"), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),  # accepted | needs_amendment
    Column("is_current", Boolean, nullable=False),
    Column("late", Boolean, nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("converted_from", String(10)),
    Column("config_version", String(40), nullable=False),
    Column("template_version", String(40), nullable=False),
    Column("resubmit_by", Date),
    UniqueConstraint("audit_id", "document", "version"),
)

field_values = Table(
    "field_values",
    metadata,
    Column("submission_id", Integer, ForeignKey("submissions.id"), primary_key=True),
    Column("field_id", String(200), primary_key=True),
    Column("value", Text),  # JSON: string, true/false, or null
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=False, index=True),
    Column("field_id", String(200)),
    Column("severity", String(10), nullable=False),
    Column("rule", String(80), nullable=False),
    Column("message", Text, nullable=False),
)


#: What happened to an issued audit after it was allocated (migration 3): issued,
#: reissued (details changed by hand, e.g. another auditor), withdrawn, sent.
allocation_events = Table(
    "allocation_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("audit_id", String(64), ForeignKey("allocations.audit_id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("event", String(20), nullable=False),
    Column("detail", Text, nullable=False),
)


#: The audits drawn for moderation (migration 4): one row per moderated audit, its
#: moderator, the mode its form was issued in and why it was drawn.  The moderator's return
#: is a submission of the audit with document "moderation", beside the auditor's.
moderations = Table(
    "moderations",
    metadata,
    Column("audit_id", String(64), ForeignKey("allocations.audit_id"), primary_key=True),
    Column("month", String(7), nullable=False, index=True),
    Column("moderator", String(200), nullable=False),
    Column("moderator_email", String(320), nullable=False),
    Column("mode", String(10), nullable=False),  # blind | open
    Column("reason", Text, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("drawn_at", DateTime(timezone=True), nullable=False),
)


def _add_column(table: Table, name: str) -> Callable[[Connection], None]:
    """A migration adding column ``name`` of ``table`` to a database made before it.
    Migration 1 creates the tables as defined now, so a fresh database has it already."""

    def step(conn: Connection) -> None:
        if name not in {c["name"] for c in inspect(conn).get_columns(table.name)}:
            column = table.c[name]
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))

    return step


def _migration_3(conn: Connection) -> None:
    """What happened to issued audits, and each case's start of involvement."""
    metadata.create_all(conn, tables=[allocation_events])
    _add_column(allocations, "case_start")(conn)


#: Migrations in order; each creates or alters what its version adds.  Never edit one
#: that has shipped: add the next.
MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, lambda conn: metadata.create_all(conn, tables=[allocations, receipts, submissions, field_values, findings])),
    (2, _add_column(allocations, "reaudit_of")),
    (3, lambda conn: _migration_3(conn)),
    (4, lambda conn: metadata.create_all(conn, tables=[moderations])),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
STATES = ("allocated", "issued", "returned", "needs_amendment", "accepted")
#: An issued audit taken back before any return (``auditdocs withdraw``).
WITHDRAWN = "withdrawn"
