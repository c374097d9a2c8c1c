"""The store on SQLite and on PostgreSQL: migrations, versions, and two ingest
processes at once losing nothing and duplicating nothing.

PostgreSQL runs when AUDITDOCS_TEST_POSTGRES_URL names a server where the user may
create databases (CI starts one); each test gets a database of its own.
"""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, select, text

from auditdocs.allocation.workbook import read_allocation
from auditdocs.cli import main
from auditdocs.errors import StoreError
from auditdocs.files import safe_name
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.returns.findings import Finding
from auditdocs.returns.ingest import Ingester
from auditdocs.sample.answers import AUDIT_DATE, careless, complete_values
from auditdocs.sample.month import sample_allocation_path
from auditdocs.store.schema import SCHEMA_VERSION, receipts, submissions
from auditdocs.store.store import Store
from auditdocs.workspace import Workspace
from tests.conftest import blank_form, month_workspace

PG = os.environ.get("AUDITDOCS_TEST_POSTGRES_URL")
NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)


def _pg_database() -> Iterator[str]:
    if not PG:
        if os.environ.get("AUDITDOCS_REQUIRE_POSTGRES") == "1":
            pytest.fail("AUDITDOCS_REQUIRE_POSTGRES=1 but AUDITDOCS_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (set AUDITDOCS_TEST_POSTGRES_URL)")
    name = f"auditdocs_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        yield from _pg_database()


@pytest.fixture
def ws(tmp_path, store_url, monkeypatch) -> Workspace:
    monkeypatch.setenv("AUDITDOCS_DATABASE_URL", store_url)
    return month_workspace(tmp_path / "qa")


def test_the_schema_is_created_by_migrations_once(store_url):
    store = Store(store_url)
    assert store.schema_version() == SCHEMA_VERSION
    again = Store(store_url)
    with again.engine.connect() as conn:
        versions = conn.execute(text("SELECT version FROM schema_migrations")).scalars().all()
    assert sorted(versions) == list(range(1, SCHEMA_VERSION + 1))


def test_versions_and_current_values(ws):
    store = ws.store()
    for n, status in ((1, "needs_amendment"), (2, "accepted")):
        with store.transaction() as conn:
            receipt = store.record_receipt(
                conn,
                sha256=f"{n:064d}",
                name=f"v{n}.docx",
                origin="inbox",
                received_at=NOW,
                outcome=status,
                audit_id="2026-11-001",
            )
            store.record_submission(
                conn,
                receipt_id=receipt,
                audit_id="2026-11-001",
                document="audit",
                sha256=f"{n:064d}",
                received_at=NOW,
                status=status,
                late=False,
                urgent=n == 2,
                converted_from=None,
                config_version="c",
                template_version="t",
                resubmit_by=None,
                values={"overall.grade": "good" if n == 2 else None, "domain.visits.criteria.purpose": True},
                found=[Finding("overall.grade", "error", "completeness.overall", "choose a grade")] if n == 1 else [],
            )
    subs = store.submissions_of("2026-11-001")
    assert [(s["version"], s["is_current"]) for s in subs] == [(1, False), (2, True)]
    assert store.current_values("2026-11")["2026-11-001"] == {
        "overall.grade": "good",
        "domain.visits.criteria.purpose": True,
    }
    assert store.findings_of(subs[0]["id"])[0].rule == "completeness.overall"
    row = next(r for r in store.month_status("2026-11") if r["audit_id"] == "2026-11-001")
    assert row["state"] == "accepted" and row["urgent"] is True and row["version"] == 2


def test_reports_read_every_kind_of_value_as_stored(ws, monkeypatch):
    """Reports fetch the values straight from the database driver and read a plain string
    between its quotes: every kind of value still reads back as stored, on either database;
    read by a forked process too (a big report's first months), which leaves this
    process's connections working."""
    from auditdocs.reports.data import load_report_data

    store = ws.store()
    values = {
        "overall.grade": "good",
        "overall.good_practice": 'She said "yes" \\ café\t\u2028 ☃ 𝄞 \x7f',
        "overall.development": "plain, it's fine: [1] {} null true",
        "concern.immediate": True,
        "concern.details": None,
        "concern.notified": '"2026-11-20"',
        "domain.visits.grade": "good",
        "domain.visits.evidence": "",
        "domain.visits.criteria.purpose": True,  # not reported
    }
    with store.transaction() as conn:
        receipt = store.record_receipt(conn, sha256="e" * 64, name="v.docx", origin="inbox", received_at=NOW,
                                       outcome="accepted", audit_id="2026-11-001")  # fmt: skip
        store.record_submission(conn, receipt_id=receipt, audit_id="2026-11-001", document="audit", sha256="e" * 64,
                                received_at=NOW, status="accepted", late=False, urgent=False, converted_from=None,
                                config_version="c", template_version="t", resubmit_by=None, values=values,
                                found=[])  # fmt: skip
    data = load_report_data(store, ws.config, ["2026-11"], NOW.date())
    audit = next(a for a in data.audits if a.audit_id == "2026-11-001")
    assert audit.values == {k: v for k, v in values.items() if ".criteria." not in k}
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "fork")
    months = ["2026-11", "2026-12"]  # November's values read by the forked process
    here = load_report_data(store, ws.config, months, NOW.date())
    beside = load_report_data(store, ws.config, months, NOW.date(), beside_from=0)
    assert [(a.audit_id, a.values) for a in beside.audits] == [(a.audit_id, a.values) for a in here.audits]
    assert next(a for a in beside.audits if a.audit_id == "2026-11-001").values == audit.values
    # this process's connections still work after the fork
    assert store.current_values("2026-11", "overall.")["2026-11-001"]["overall.grade"] == "good"


def test_a_failed_transaction_leaves_nothing(ws):
    store = ws.store()
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.record_receipt(conn, sha256="f" * 64, name="x", origin="x", received_at=NOW, outcome="accepted")
        raise RuntimeError("crash")
    assert store.known_receipt("f" * 64) is None


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _pg_database()


def test_connections_the_server_dropped_are_renewed_and_no_file_is_lost(pg_url, tmp_path, monkeypatch):
    """The store keeps its connections in a pool: after the server drops them (a restart,
    an idle timeout), the next file is still stored, not rejected."""
    monkeypatch.setenv("AUDITDOCS_DATABASE_URL", pg_url)
    ws = month_workspace(tmp_path / "qa")
    files = []
    for n, audit_id in enumerate(("2026-11-001", "2026-11-002")):
        files.append(tmp_path / f"{audit_id}.docx")
        files[-1].write_bytes(fill_form(blank_form(ws, audit_id), complete_values(AUDIT_DATE), WordStyle(seed=n)))
    ingester = Ingester(ws)
    assert [o.status for o in ingester.run([files[0]], received_at=NOW).outcomes] == ["accepted"]
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        dropped = conn.execute(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name"),
            {"name": pg_url.rsplit("/", 1)[1]},
        ).scalar()
    admin.dispose()
    assert dropped >= 1  # the pool had kept a connection open
    assert [o.status for o in ingester.run([files[1]], received_at=NOW).outcomes] == ["accepted"]
    assert ingester.store.receipts_count() == 2


def test_a_store_that_cannot_be_written_stops_ingest_and_records_nothing(tmp_path, monkeypatch):
    """The store failing is not the file's fault: one line says so, the file is not
    recorded as rejected, and the next run stores it."""
    monkeypatch.delenv("AUDITDOCS_DATABASE_URL", raising=False)
    ws = month_workspace(tmp_path / "qa")
    path = tmp_path / "audit.docx"
    path.write_bytes(fill_form(blank_form(ws, "2026-11-001"), complete_values(AUDIT_DATE)))
    read_only = f"sqlite:///file:{ws.state_dir / 'store.sqlite'}?mode=ro&uri=true"
    args = ["ingest", str(path), "--workspace", str(ws.root)]
    failed = CliRunner().invoke(main, args, env={"AUDITDOCS_DATABASE_URL": read_only})
    assert failed.exit_code == 1 and isinstance(failed.exception, SystemExit)  # a message, not a crash
    error = failed.output.strip().splitlines()[-1]
    assert error.startswith("Error: store ") and "readonly database" in error and "run ingest again" in error
    assert "Traceback" not in failed.output
    assert ws.store().receipts_count() == 0
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0 and "2026-11-001 accepted" in again.output


def test_messages_never_show_the_database_password():
    with pytest.raises(StoreError) as raised:
        Store("postgresql+psycopg://auditdocs:s3cret-pw@127.0.0.1:1/auditdocs")  # nothing listens on port 1
    message = str(raised.value)
    assert "s3cret" not in message and "auditdocs:***@127.0.0.1:1/auditdocs" in message
    assert len(message.splitlines()) == 1


INGEST = """
import sys
from pathlib import Path
from auditdocs.returns.ingest import ingest
from auditdocs.workspace import Workspace
result = ingest(Workspace(Path(sys.argv[1])), [Path(sys.argv[2])])
print(",".join(o.status for o in result.outcomes))
"""


def test_two_ingest_processes_at_once_lose_nothing_and_duplicate_nothing(ws, tmp_path, store_url):
    """Two ingests at once, each with a return of the same audits needing amendment: every
    file is stored once, one version of each audit is current (the one received last), and
    each feedback copy answers the version it is named by (it was once named by a version
    counted before the transaction, and one ingest's copy overwrote the other's)."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    allocations = read_allocation(sample_allocation_path(ws))
    values = complete_values(AUDIT_DATE)
    first = careless(values)  # three things to fix
    second = {**values, "domain.visits.evidence": None}  # one thing to fix
    for n, alloc in enumerate(allocations):
        blank = blank_form(ws, alloc.audit_id)
        (inbox / f"{alloc.audit_id}.docx").write_bytes(fill_form(blank, first, WordStyle(seed=n)))
        # a second, different return for the same audit: an amendment racing the first
        (inbox / f"{alloc.audit_id} v2.docx").write_bytes(fill_form(blank, second, WordStyle(seed=100 + n)))
    env = {**os.environ, "AUDITDOCS_DATABASE_URL": store_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", INGEST, str(ws.root), str(inbox)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    store = ws.store()
    files = sorted(inbox.iterdir())
    with store.engine.connect() as conn:
        # every file received once, stored once
        per_sha = dict(conn.execute(select(receipts.c.sha256, func.count()).group_by(receipts.c.sha256)).all())
        subs = conn.execute(
            select(
                submissions.c.id,
                submissions.c.audit_id,
                submissions.c.version,
                submissions.c.is_current,
                submissions.c.received_at,
            )
        ).all()
    assert len(per_sha) == len(files) and set(per_sha.values()) == {1}
    assert len(subs) == len(files)
    for alloc in allocations:
        mine = sorted((r.version, r.received_at, r.is_current, r.id) for r in subs if r.audit_id == alloc.audit_id)
        assert [v for v, *_ in mine] == [1, 2]
        # current: the one received last (the later version when both came at once)
        latest = max(mine, key=lambda r: (r[1], r[0]))
        assert [r[2] for r in mine] == [r is latest for r in mine]
        folder = ws.output_dir / alloc.month / "feedback" / safe_name(alloc.auditor)
        for version, _when, _current, sub_id in mine:
            draft = folder / f"{alloc.audit_id} {safe_name(alloc.case_reference)} amendments {version}.eml"
            if not draft.exists():
                continue  # stored while the other version was current: nothing asked of the auditor
            message = email.message_from_bytes(draft.read_bytes(), policy=email.policy.default)
            body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            listed = [line for line in body.splitlines() if line.startswith("  - ")]
            assert len(listed) == len(store.findings_of(sub_id)), (alloc.audit_id, version)
        assert (folder / f"{alloc.audit_id} {safe_name(alloc.case_reference)} amendments {latest[0]}.eml").exists()
    statuses = ",".join(out for out, _err in outputs).replace("\n", ",").split(",")
    assert "rejected" not in statuses
