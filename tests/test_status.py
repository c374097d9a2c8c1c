"""``auditdocs status`` across the cycle (issue 14): the tool of each audit, re-audits
marked, amendments overdue, practitioner discussions and their one deadline, and a
state it does not know printed rather than a crash."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from auditdocs.cli import main
from auditdocs.dates import discussion_due
from auditdocs.mail.chase import chasers
from auditdocs.ooxml.fill import fill_form
from auditdocs.returns.ingest import ingest
from auditdocs.returns.status import month_status
from auditdocs.sample.answers import AUDIT_DATE, complete_values, discussed_plan
from auditdocs.store.schema import allocations
from auditdocs.workspace import Workspace
from tests.conftest import blank_form, month_workspace

MONTH = "2026-11"
GOOD = complete_values(AUDIT_DATE)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return month_workspace(tmp_path / "qa")


def give_back(ws: Workspace, audit_id: str, values: dict, when: datetime, kind: str = "audit tool") -> None:
    path = ws.root / "returned" / f"{audit_id} {kind} {when:%Y%m%d%H%M}.docx"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(fill_form(blank_form(ws, audit_id, kind), values))
    [outcome] = ingest(ws, [path], received_at=when).outcomes
    assert outcome.status in ("accepted", "needs amendment"), outcome.reason


def row_of(ws: Workspace, audit_id: str, today: date):
    status = month_status(ws, MONTH, today=today)
    [row] = [r for r in status.rows if r.audit_id == audit_id]
    [line] = [line for line in status.lines() if line.startswith(audit_id)]
    return row, line


def test_each_audit_shows_its_tool_and_a_reaudit_says_what_it_repeats(ws):
    store = ws.store()
    first = store.allocation("2026-11-004")[0]
    reaudit = dataclasses.replace(first, audit_id="2026-11-013", reaudit_of="2026-10-002", auditor="Senior Manager")
    supervision = dataclasses.replace(first, audit_id="2026-11-014", tool="supervision_audit", case_reference="W-1A2B")
    store.record_allocations([reaudit, supervision])
    status = month_status(ws, MONTH, today=date(2026, 11, 20))
    assert "tool" in status.lines()[0].split()
    row, line = row_of(ws, "2026-11-013", date(2026, 11, 20))
    assert (row.tool, row.reaudit_of) == ("case_file_audit", "2026-10-002")
    assert "re-audit of 2026-10-002" in row.flags and "case file audit" in line and "re-audit of 2026-10-002" in line
    plain, line = row_of(ws, "2026-11-004", date(2026, 11, 20))
    assert plain.reaudit_of is None and not any("re-audit" in f for f in plain.flags)
    row, line = row_of(ws, "2026-11-014", date(2026, 11, 20))
    assert row.tool == "supervision_audit" and "supervision audit" in line


def test_an_amendment_past_its_resubmission_date_is_flagged_overdue(ws):
    give_back(ws, "2026-11-002", {**GOOD, "domain.plans.grade": None}, datetime(2026, 11, 24, 9, tzinfo=UTC))
    row, _line = row_of(ws, "2026-11-002", date(2026, 11, 27))  # 3 working days: back by 27/11/2026
    assert row.state == "needs_amendment" and "resubmit by 27/11/2026" in row.flags
    row, line = row_of(ws, "2026-11-002", date(2026, 11, 28))
    assert "amendment OVERDUE since 27/11/2026" in row.flags and "amendment OVERDUE since 27/11/2026" in line
    assert not any(f.startswith("resubmit by") for f in row.flags)


def test_an_accepted_audit_shows_its_discussion_deadline_until_the_plan_is_back(ws):
    give_back(ws, "2026-11-001", GOOD, datetime(2026, 11, 24, 9, tzinfo=UTC))
    # the one deadline: 10 working days (Requires Improvement) from acceptance on 24/11/2026
    due = discussion_due(ws.config.settings, GOOD["overall.grade"], date(2026, 11, 24))
    assert due == date(2026, 12, 8)
    row, line = row_of(ws, "2026-11-001", date(2026, 12, 1))
    assert row.discussion_due == due and "discussion by 08/12/2026" in row.flags and "discussion by" in line
    row, _line = row_of(ws, "2026-11-001", date(2026, 12, 9))
    assert "discussion OVERDUE since 08/12/2026" in row.flags
    [chaser] = [c for c in chasers(ws, MONTH, date(2026, 12, 9)) if c.reason == "discussion"]
    assert "08/12/2026" in chaser.lines[0]  # chase counts from the same day
    plan_back = datetime(2026, 12, 7, 9, tzinfo=UTC)
    give_back(ws, "2026-11-001", discussed_plan(date(2026, 12, 7)), plan_back, "improvement plan")
    row, _line = row_of(ws, "2026-11-001", date(2026, 12, 9))
    assert row.discussion_due is None and not any(f.startswith("discussion") for f in row.flags)
    waiting, _line = row_of(ws, "2026-11-003", date(2026, 12, 9))  # not returned: no discussion yet
    assert waiting.discussion_due is None


def test_a_state_status_does_not_know_is_printed_and_counted(ws):
    """Another part of the store may add states (an audit withdrawn): status shows them."""
    with ws.store().transaction() as conn:
        conn.execute(update(allocations).where(allocations.c.audit_id == "2026-11-005").values(state="withdrawn"))
    status = month_status(ws, MONTH, today=date(2026, 11, 20))
    [row] = [r for r in status.rows if r.audit_id == "2026-11-005"]
    assert row.state == "withdrawn" and not row.flags
    assert "withdrawn" in next(line for line in status.lines() if line.startswith("2026-11-005"))
    assert status.lines()[-1] == "11 issued, 1 withdrawn"


def test_the_command_prints_the_table(ws):
    ws.store().record_allocations(
        [dataclasses.replace(ws.store().allocation("2026-11-004")[0], audit_id="2026-11-013", reaudit_of="2026-10-002")]
    )
    result = CliRunner().invoke(main, ["status", "--month", MONTH, "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    assert "re-audit of 2026-10-002" in result.output and "case file audit" in result.output
