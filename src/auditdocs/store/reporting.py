"""What reports read from the store: set-based, three SELECTs per set of audits
(allocations, audit returns, the reported fields of current returns), however many
audits there are, so a report over 10,000 audits reads in well under a second or two.
Only the fields a report shows are read, each by its id (the index finds them; not
criteria, not plan rows), and the many rows of values are fetched straight from the
database driver, without SQLAlchemy's per-row result processing (they are plain text)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Engine,
    Select,
    and_,
    func,
    inspect,
    literal_column,
    null,
    select,
    union_all,
)

from auditdocs.store.schema import WITHDRAWN, allocations, field_values, submissions

_CHUNK = 500  # ids per IN (...) list: well under every database's parameter limit


@dataclass
class AuditRows:
    """Rows of one set of audits: ``allocations`` (every allocation column, ``state`` and
    ``reaudit_of``), their audit ``returns`` (oldest version first), and ``values``:
    (audit id, document, field id, value) of the current returns' reported fields."""

    allocations: list[Any] = field(default_factory=list)
    returns: list[Any] = field(default_factory=list)
    values: list[tuple[str, str, str, Any]] = field(default_factory=list)


@dataclass
class ReportRows:
    """The audits of the reported months, and the earlier audits their re-audits follow."""

    audits: AuditRows
    earlier: AuditRows
    #: Whether the store links re-audits to the audit they follow (allocations.reaudit_of).
    reaudit_links: bool


def has_reaudit_column(conn: Connection) -> bool:
    """Whether this store's allocations table has ``reaudit_of`` (added by a later schema)."""
    return any(c["name"] == "reaudit_of" for c in inspect(conn).get_columns(allocations.name))


def _reaudit_column(links: bool) -> ColumnElement[Any]:
    if not links:
        return null()
    column = allocations.c.get("reaudit_of")
    return column if column is not None else literal_column(f"{allocations.name}.reaudit_of")


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _driver_rows(conn: Connection, query: Select[Any] | CompoundSelect) -> list[Any]:
    """The rows of ``query`` as the database driver gives them (tuples), for columns that
    need no conversion (text): SQLAlchemy's result rows cost more than the query itself."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args: Any = [params[name] for name in compiled.positiontup] if compiled.positiontup else params
    cursor = conn.connection.cursor()
    try:
        cursor.execute(compiled.string, args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _decoded(value: str) -> Any:
    """A stored JSON value: a string as ``json.dumps`` writes one without escapes (most
    evidence, every grade and date) is its text between the quotes; anything else is
    read by ``json.loads``."""
    if len(value) > 1 and value[0] == '"' and value[-1] == '"':
        inner = value[1:-1]
        if "\\" not in inner and '"' not in inner and inner.isprintable():
            return inner
    return json.loads(value)


#: Field ids by the tool whose audits have them (None: the tools not named).
FieldsByTool = Mapping[str | None, Sequence[str]]


def _values_query(
    where: ColumnElement[bool],
    fields: FieldsByTool,
    plan_fields: Sequence[str],
    texts: FieldsByTool,
    text_months: Sequence[str],
) -> CompoundSelect:
    """The current values asked for, as one query: a branch per tool (and document) whose
    field ids the index finds one by one (a tool's own domains only: looking up every
    tool's would mostly find nothing)."""
    named = sorted(t for t in {*fields, *texts} if t is not None)
    branches = []

    def branch(document: str, names: Sequence[str], *where_also: ColumnElement[bool]) -> None:
        if not names:
            return
        joined = allocations.join(
            submissions,
            and_(
                submissions.c.audit_id == allocations.c.audit_id,
                submissions.c.is_current.is_(True),
                submissions.c.document == document,
            ),
        ).join(
            field_values,
            and_(field_values.c.submission_id == submissions.c.id, field_values.c.field_id.in_(sorted(set(names)))),
        )
        columns = (submissions.c.audit_id, submissions.c.document, field_values.c.field_id, field_values.c.value)
        branches.append(select(*columns).select_from(joined).where(where, *where_also))

    def of_tool(tool: str | None) -> ColumnElement[bool]:
        return allocations.c.tool == tool if tool is not None else allocations.c.tool.not_in(named)

    for tool, names in fields.items():
        branch("audit", names, of_tool(tool))
    if text_months:
        for tool, names in texts.items():
            branch("audit", names, of_tool(tool), allocations.c.month.in_(sorted(set(text_months))))
    branch("plan", plan_fields)
    return union_all(*branches)


def _kept(where: ColumnElement[bool]) -> ColumnElement[bool]:
    """``where``, of allocations not withdrawn (taken back before any return: not reported)."""
    return and_(where, allocations.c.state != WITHDRAWN)


def audit_rows(
    conn: Connection,
    report_fields: FieldsByTool,
    plan_fields: Sequence[str],
    *,
    months: Sequence[str] = (),
    audit_ids: Sequence[str] = (),
    links: bool = True,
    text_fields: FieldsByTool | None = None,
    text_months: Sequence[str] = (),
    split: int = 0,
    their_values: Callable[[], list[tuple[str, str, str, Any]]] | None = None,
) -> AuditRows:
    """Audits of ``months`` or with ``audit_ids``: their allocations, audit returns, and
    the current values of ``report_fields`` of the audit (tool id → field ids: each
    domain's grade among them), ``plan_fields`` of the returned improvement plan, and for
    the audits of ``text_months`` the ``text_fields`` too (evidence, the overall texts:
    most of the data, and only shown for the months a report is about).

    ``split``: the values of the first ``split`` of ``months`` are ``their_values()``,
    read elsewhere (``months_values``: by a forked process while this reads the rest)."""
    columns: list[Any] = [c for c in allocations.c if c.name not in ("reaudit_of", "case_start")]
    columns.append(_reaudit_column(links).label("reaudit_of"))
    wheres = (
        [allocations.c.month.in_(list(months))]
        if months
        else [allocations.c.audit_id.in_(list(chunk)) for chunk in _chunks(list(audit_ids))]
    )
    out = AuditRows()
    if not months or their_values is None:
        split = 0
    for where in wheres:
        out.allocations += conn.execute(select(*columns).where(_kept(where)).order_by(allocations.c.audit_id)).all()
        returns = (
            select(
                submissions.c.audit_id,
                submissions.c.version,
                submissions.c.received_at,
                submissions.c.status,
                submissions.c.is_current,
                submissions.c.late,
                submissions.c.urgent,
                submissions.c.resubmit_by,
            )
            .join(allocations, allocations.c.audit_id == submissions.c.audit_id)
            .where(_kept(where), submissions.c.document == "audit")
            .order_by(submissions.c.audit_id, submissions.c.version)
        )
        out.returns += conn.execute(returns).all()
        ours = _kept(allocations.c.month.in_(list(months[split:]))) if split else _kept(where)
        out.values += _values(conn, _values_query(ours, report_fields, plan_fields, text_fields or {}, text_months))
    if split and their_values is not None:  # (never None then: checked above, for mypy)
        out.values[:0] = their_values()
    return out


def months_values(
    engine: Engine,
    months: Sequence[str],
    report_fields: FieldsByTool,
    plan_fields: Sequence[str],
    text_fields: FieldsByTool | None = None,
    text_months: Sequence[str] = (),
) -> list[tuple[str, str, str, Any]]:
    """The values ``audit_rows`` reads for the audits of ``months``, read on a connection of
    its own (in a forked process: none of the parent's crosses the fork, ``store.py``)."""
    where = _kept(allocations.c.month.in_(list(months)))
    with engine.connect() as conn:
        return _values(conn, _values_query(where, report_fields, plan_fields, text_fields or {}, text_months))


def _values(conn: Connection, query: CompoundSelect) -> list[tuple[str, str, str, Any]]:
    """The rows of a values query (``_values_query``), each value decoded."""
    # Grades, dates and yes/no repeat: each decoded once (texts, mostly each its own, are
    # not kept twice for it).
    decoded: dict[str, Any] = {}
    values: list[tuple[str, str, str, Any]] = []
    for audit_id, document, field_id, value in _driver_rows(conn, query):
        if value is None:
            pass
        elif len(value) > _SHORT:
            value = _decoded(value)
        elif (found := decoded.get(value, _MISSING)) is not _MISSING:
            value = found
        else:
            found = _decoded(value)
            if not isinstance(found, list | dict):
                decoded[value] = found
            value = found
        values.append((audit_id, document, field_id, value))
    return values


_MISSING = object()
_SHORT = 64  # characters of JSON: a grade, a date, true


def report_rows(
    conn: Connection,
    months: Sequence[str],
    report_fields: FieldsByTool,
    plan_fields: Sequence[str],
    text_fields: FieldsByTool | None = None,
    text_months: Sequence[str] = (),
    split: int = 0,
    their_values: Callable[[], list[tuple[str, str, str, Any]]] | None = None,
) -> ReportRows:
    """The audits of ``months`` and, where the store links re-audits, every audit they
    re-audit (followed back through earlier months: one round of queries per step back in
    time, not per audit); the ``text_fields`` of the audits of ``text_months`` only.  The
    values of the first ``split`` months are ``their_values()`` (``audit_rows``)."""
    links = has_reaudit_column(conn)
    audits = audit_rows(conn, report_fields, plan_fields, months=months, links=links, text_fields=text_fields,
                        text_months=text_months, split=split, their_values=their_values)  # fmt: skip
    earlier = AuditRows()
    if links:
        known = {row.audit_id for row in audits.allocations}
        wanted = sorted({row.reaudit_of for row in audits.allocations if row.reaudit_of} - known)
        while wanted:
            found = audit_rows(conn, report_fields, plan_fields, audit_ids=wanted, links=links)
            earlier.allocations += found.allocations
            earlier.returns += found.returns
            earlier.values += found.values
            known |= {row.audit_id for row in found.allocations}
            wanted = sorted({row.reaudit_of for row in found.allocations if row.reaudit_of} - known)
    return ReportRows(audits, earlier, links)


def count_audits(conn: Connection, months: Sequence[str]) -> int:
    """How many audits ``months`` have (withdrawn ones too: what a report reads, roughly)."""
    return int(conn.execute(select(func.count()).where(allocations.c.month.in_(list(months)))).scalar_one())


def current_values_query(
    first: str,
    last: str,
    field_prefix: str = "",
    document: str = "audit",
    field_suffix: str = "",
    tool: str | None = None,
    status: str | None = None,
) -> Select[Any]:
    """(audit id, field id, JSON value) of the current returns of ``document`` of the audits
    of months ``first`` to ``last``, for the field ids with the given prefix and suffix; of
    one tool type and one status if given (``Store.current_values_between``)."""
    query = (
        select(submissions.c.audit_id, field_values.c.field_id, field_values.c.value)
        .join(field_values, field_values.c.submission_id == submissions.c.id)
        .join(allocations, allocations.c.audit_id == submissions.c.audit_id)
        .where(
            allocations.c.month >= first,
            allocations.c.month <= last,
            submissions.c.is_current.is_(True),
            submissions.c.document == document,
            field_values.c.field_id.startswith(field_prefix, autoescape=True),
            field_values.c.field_id.endswith(field_suffix, autoescape=True),
        )
    )
    if tool is not None:
        query = query.where(allocations.c.tool == tool)
    if status is not None:
        query = query.where(submissions.c.status == status)
    return query


def moderated_grades(conn: Connection, first: str, last: str, field_prefix: str = "") -> dict[str, dict[str, str]]:
    """audit id → {grade field: grade} of the accepted current moderations of the audits
    of months ``first`` to ``last``: the grades of record where the moderator's stand."""
    query = current_values_query(first, last, field_prefix, "moderation", ".grade", status="accepted")
    out: dict[str, dict[str, str]] = {}
    for audit_id, field_id, value in conn.execute(query):
        grade = json.loads(value) if value is not None else None
        if isinstance(grade, str) and grade:
            out.setdefault(audit_id, {})[field_id] = grade
    return out
