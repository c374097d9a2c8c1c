"""Crash safety: ``auditdocs ingest`` killed (SIGKILL) in the middle of a batch leaves a
consistent store, and running the same ingest again finishes the batch with nothing
duplicated and nothing missing.

Each file is recorded in one transaction, and the raw bytes are archived before it: a
file whose transaction was cut short left no receipt, so the re-run processes it as
new; a file already committed is "already received".
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from auditdocs.allocation.workbook import read_allocation
from auditdocs.forms.generate import generate
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.sample.answers import AUDIT_DATE, careless, complete_values
from auditdocs.sample.month import init_workspace, sample_allocation_path
from auditdocs.workspace import Workspace

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

GOOD = complete_values(AUDIT_DATE)


@pytest.fixture
def batch(tmp_path_factory) -> tuple[Workspace, list[Path]]:
    """A workspace with 15 audits generated, and 30 returned files: audit tools (most
    accepted, some needing amendment, so feedback is written) and improvement plans."""
    ws = init_workspace(tmp_path_factory.mktemp("crash") / "qa")
    allocations = read_allocation(sample_allocation_path(ws))
    extra = [
        replace(a, audit_id=f"2026-11-{101 + i}", case_reference=f"{a.case_reference}-{i}")
        for i, a in enumerate(allocations[:3])
    ]
    paths = generate(ws, [*allocations, *extra])
    inbox = tmp_path_factory.mktemp("inbox")
    files = []
    for n, path in enumerate(sorted(paths)):
        if path.name.endswith("audit tool.docx"):
            values = careless(GOOD) if n % 5 == 0 else GOOD
        else:
            values = {
                "plan.1.action": "Write the chronology",
                "plan.1.owner": "Team manager",
                "discussion.date": date(2026, 11, 23),
            }
        out = inbox / f"{n:02d} {path.name}"
        out.write_bytes(fill_form(path.read_bytes(), values, WordStyle(seed=n)))
        files.append(out)
    assert len(files) == 30
    return ws, files


def command(ws: Workspace, inbox: Path) -> list[str]:
    return [sys.executable, "-m", "auditdocs.cli", "ingest", str(inbox), "--workspace", str(ws.root)]


def count(db: Path, sql: str) -> int:
    """One number from the store, read-only (the ingest may be writing)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute(sql).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:  # the tables are not there yet
        return 0


def kill_after(ws: Workspace, inbox: Path, submissions: int) -> int:
    """Run the ingest and SIGKILL it once the store holds ``submissions``; the count reached."""
    db = ws.state_dir / "store.sqlite"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command(ws, inbox), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 120
    try:
        while count(db, "select count(*) from submissions") < submissions:
            assert proc.poll() is None, "the ingest finished before it could be killed"
            assert time.monotonic() < deadline, "the ingest made no progress"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return count(db, "select count(*) from submissions")


#: Rows that must not exist, whatever moment the ingest was killed at.
BROKEN = {
    "a submission without its receipt (the same bytes, the same audit)": (
        "select s.id from submissions s left join receipts r on r.id = s.receipt_id "
        "where r.id is null or r.sha256 != s.sha256 or r.audit_id != s.audit_id"
    ),
    "a submission without field values": (
        "select s.id from submissions s where not exists (select 1 from field_values v where v.submission_id = s.id)"
    ),
    "a receipt of a form read without its submission": (
        "select r.id from receipts r where r.outcome in ('accepted', 'needs_amendment') "
        "and not exists (select 1 from submissions s where s.receipt_id = r.id)"
    ),
    "an allocation returned without a current audit return": (
        "select a.audit_id from allocations a where a.state in ('accepted', 'needs_amendment') and not exists "
        "(select 1 from submissions s where s.audit_id = a.audit_id and s.document = 'audit' and s.is_current)"
    ),
    "an allocation whose state is not its current return's": (
        "select a.audit_id from allocations a join submissions s on s.audit_id = a.audit_id "
        "and s.document = 'audit' and s.is_current where a.state != s.status"
    ),
    "two current versions of one document": (
        "select audit_id, document from submissions where is_current group by audit_id, document having count(*) > 1"
    ),
}


def check_consistent(ws: Workspace) -> None:
    """What a crash must never leave: half-written records, or a state without its return."""
    conn = sqlite3.connect(ws.state_dir / "store.sqlite")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        found = {what: conn.execute(sql).fetchall() for what, sql in BROKEN.items()}
        assert {what: rows for what, rows in found.items() if rows} == {}
        for (digest,) in conn.execute("select sha256 from receipts"):  # everything received is archived
            assert (ws.state_dir / "archive" / digest[:2] / digest).exists()
    finally:
        conn.close()


def test_a_killed_ingest_leaves_a_consistent_store_and_a_rerun_completes_it(batch):
    ws, files = batch
    inbox = files[0].parent
    first = kill_after(ws, inbox, 5)
    assert 5 <= first < 30
    check_consistent(ws)
    second = kill_after(ws, inbox, first + 5)  # killed again, further on
    assert first < second < 30
    check_consistent(ws)
    done = subprocess.run(command(ws, inbox), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    check_consistent(ws)
    check_complete(ws, files)
    assert count(ws.state_dir / "store.sqlite", "select count(*) from receipts") == 30
    assert "already received" in done.stdout  # what was committed before a kill is not taken twice


def check_complete(ws: Workspace, files: list[Path]) -> None:
    """Every input received exactly once, every document returned has one version, current."""
    conn = sqlite3.connect(ws.state_dir / "store.sqlite")
    try:
        for path in files:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            receipts = conn.execute("select outcome from receipts where sha256 = ?", (digest,)).fetchall()
            assert len(receipts) == 1, (path.name, receipts)
            assert receipts[0][0] in ("accepted", "needs_amendment"), (path.name, receipts)
        rows = conn.execute(
            "select audit_id, document, count(*), sum(is_current) from submissions group by audit_id, document"
        ).fetchall()
        assert len(rows) == len(files)
        assert all(versions == 1 and current == 1 for _a, _d, versions, current in rows), rows
        amend = conn.execute("select count(*) from receipts where outcome = 'needs_amendment'").fetchone()[0]
    finally:
        conn.close()
    feedback = sorted(p.name for p in ws.output_dir.glob("2026-11/feedback/*/*.docx"))
    assert len(feedback) == amend, feedback  # one commented copy per return to amend, never two


DIE = """
import os, signal, sys
from pathlib import Path
from auditdocs.returns import ingest as ingest_module
from auditdocs.store.store import Store
from auditdocs.workspace import Workspace

where, nth = sys.argv[3], int(sys.argv[4])
calls = []


def dying(original):
    def call(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == nth:  # the power goes: no exception, no clean-up, no commit
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return call


if where == "transaction":  # after the submission and its values are written, before the commit
    Store.record_submission = dying(Store.record_submission)
else:  # after the commented copy is written, before the return is recorded
    ingest_module.write_feedback = dying(ingest_module.write_feedback)
ingest_module.ingest(Workspace.open(Path(sys.argv[1])), [Path(sys.argv[2])])
"""


@pytest.mark.parametrize("where", ["transaction", "feedback"])
def test_a_kill_at_the_worst_moment_loses_and_duplicates_nothing(batch, where):
    """Killed inside the store's transaction (the file's records vanish whole), or between
    writing the feedback and recording the return (the re-run writes it again, in place)."""
    ws, files = batch
    inbox = files[0].parent
    nth = 3 if where == "transaction" else 2
    died = subprocess.run(
        [sys.executable, "-c", DIE, str(ws.root), str(inbox), where, str(nth)], capture_output=True, timeout=300
    )
    assert died.returncode == -signal.SIGKILL, died.stderr.decode()
    check_consistent(ws)
    done = subprocess.run(command(ws, inbox), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    check_consistent(ws)
    check_complete(ws, files)
