"""An immediate safeguarding concern (framework 2.6, issue 14): at ingest a notice to the
team manager naming the case, the concern and the auditor, drafted (or sent: see
test_send.py), once per audit and concern; to the QA team to forward when the team
manager's address is unknown; and repeated first in the practitioner-discussion message."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from auditdocs.forms.generate import generate
from auditdocs.mail.chase import send_discussion_plans
from auditdocs.ooxml.fill import fill_form
from auditdocs.returns.ingest import ingest
from auditdocs.returns.outcome import Outcome
from auditdocs.sample.answers import AUDIT_DATE, complete_values
from auditdocs.workspace import Workspace
from tests.conftest import blank_form, month_workspace

MONTH = "2026-11"
GOOD = complete_values(AUDIT_DATE)
CONCERN = "Unexplained bruising to the child's arm seen at the last visit; no strategy discussion was held."
URGENT = {**GOOD, "concern.immediate": True, "concern.details": CONCERN, "concern.notified": AUDIT_DATE}
RECEIVED = datetime(2026, 11, 24, 10, tzinfo=UTC)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return month_workspace(tmp_path / "qa")


def give_back(ws: Workspace, audit_id: str, values: dict, when: datetime = RECEIVED, name: str = "") -> Outcome:
    path = ws.root / "returned" / f"{audit_id} {name or when.isoformat()}.docx"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(fill_form(blank_form(ws, audit_id), values))
    [outcome] = ingest(ws, [path], received_at=when).outcomes
    return outcome


def read_eml(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_the_discussion_message_repeats_the_concern_first(ws):
    assert give_back(ws, "2026-11-004", URGENT).status == "accepted"
    assert give_back(ws, "2026-11-005", GOOD).status == "accepted"
    sent = {d.path.name: d for d in send_discussion_plans(ws, MONTH)}
    urgent = read_eml(sent["discussion 2026-11-004.eml"].path)
    body = urgent.get_body(("plain",)).get_content()
    assert "immediate safeguarding concern" in urgent["Subject"]
    concern_at = body.index("IMMEDIATE SAFEGUARDING CONCERN")
    assert concern_at < body.index("has been accepted")  # first, never buried under the rest
    assert CONCERN in " ".join(body.split())
    assert "20/11/2026" in body  # the day the auditor recorded telling the team manager
    assert "Management Oversight" in body
    plain = read_eml(sent["discussion 2026-11-005.eml"].path)
    assert "concern" not in plain.get_body(("plain",)).get_content().lower()
    assert "concern" not in plain["Subject"]


def notices(ws: Workspace) -> list[Path]:
    return sorted((ws.output_dir / MONTH / "concerns").glob("*.eml"))


def test_an_urgent_return_drafts_a_notice_to_the_team_manager(ws):
    alloc = ws.store().allocation("2026-11-004")[0]
    path = ws.root / "returned" / "urgent.docx"
    path.parent.mkdir()
    path.write_bytes(fill_form(blank_form(ws, "2026-11-004"), URGENT))
    result = ingest(ws, [path], received_at=RECEIVED)
    [outcome] = result.outcomes
    assert outcome.status == "accepted" and outcome.urgent
    [notice] = notices(ws)
    assert notice.stat().st_mode & 0o777 == 0o600
    msg = read_eml(notice)
    assert msg["X-Unsent"] == "1"  # a draft: no SMTP server is configured
    assert msg["To"].addresses[0].display_name == alloc.team_manager
    assert msg["To"].addresses[0].addr_spec == ws.store().email_of(alloc.team_manager) != ""
    assert alloc.case_reference in msg["Subject"] and "IMMEDIATE SAFEGUARDING CONCERN" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert CONCERN in " ".join(body.split())
    assert alloc.auditor in body and alloc.auditor_email in body and alloc.worker in body
    assert "20/11/2026" in body and "Management Oversight" in body
    # the ingest report and the summary workbook say so
    line = next(line for line in result.report() if "2026-11-004" in line)
    assert f"concern notice drafted to {alloc.team_manager}" in line and notice.name in line
    rows = list(load_workbook(result.summary_path).active.iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert f"concern notice drafted to {alloc.team_manager}" in row["Reason"]
    assert CONCERN[:30] not in " ".join(str(v) for v in row.values())  # no concern text in the summary


def test_a_notice_goes_once_per_audit_and_again_only_if_the_concern_changes(ws):
    give_back(ws, "2026-11-004", {**URGENT, "domain.plans.grade": None}, name="first")  # needs amendment
    [first] = notices(ws)
    # the amended version repeats the concern (spaced differently): no second notice
    spaced = {**URGENT, "concern.details": CONCERN.replace(" ", "  ")}
    again = give_back(ws, "2026-11-004", spaced, datetime(2026, 11, 26, 10, tzinfo=UTC), "amended")
    assert again.status == "accepted" and again.urgent
    assert notices(ws) == [first]
    assert "concern already notified to" in again.reason and first.name in again.reason
    # a version with the concern changed is notified again, saying it changed
    changed = {**URGENT, "concern.details": CONCERN + " The child has since missed school for a week."}
    third = give_back(ws, "2026-11-004", changed, datetime(2026, 11, 27, 10, tzinfo=UTC), "changed")
    assert "concern notice drafted" in third.reason
    [second] = [p for p in notices(ws) if p != first]
    body = read_eml(second).get_body(("plain",)).get_content()
    assert "has changed since the earlier notice" in body and "missed school" in body
    assert len(notices(ws)) == 2
    assert "concern" not in (give_back(ws, "2026-11-005", GOOD).reason or "")  # no concern, no notice


def test_without_the_team_managers_address_the_notice_goes_to_the_qa_team_to_forward(ws):
    store = ws.store()
    alloc = dataclasses.replace(store.allocation("2026-11-006")[0], team_manager="Morgan Example")
    store.record_allocations([alloc])
    assert store.email_of("Morgan Example") == ""  # not an auditor: no address on record
    outcome = give_back(ws, "2026-11-006", URGENT)
    assert "the QA team to forward (no e-mail address known for Morgan Example)" in outcome.reason
    [notice] = notices(ws)
    msg = read_eml(notice)
    assert msg["To"].addresses[0].addr_spec == ws.config.settings.email.from_address
    assert msg["Subject"].startswith("FORWARD TO Morgan Example: IMMEDIATE SAFEGUARDING CONCERN")
    body = msg.get_body(("plain",)).get_content()
    assert body.startswith("FOR THE QUALITY ASSURANCE TEAM: no e-mail address is known for Morgan Example")
    assert "Dear Morgan Example," in body and CONCERN in " ".join(body.split())


def test_a_notice_of_an_audit_about_a_worker_names_the_worker(ws):
    store = ws.store()
    first = store.allocation("2026-11-004")[0]
    supervision = dataclasses.replace(
        first, audit_id="2026-11-014", tool="supervision_audit", case_reference="W-1A2B3C4D", child_id=""
    )
    store.record_allocations([supervision])
    generate(ws, [supervision])
    outcome = give_back(ws, "2026-11-014", {"concern.immediate": True, "concern.details": CONCERN})
    assert outcome.urgent and "concern notice drafted" in outcome.reason
    [notice] = notices(ws)
    msg = read_eml(notice)
    assert f"Supervision Audit of {first.worker}" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert "has not recorded telling you" in body  # no date given
