"""An immediate safeguarding concern (framework 2.6, issue 14): never buried, it is
repeated first in the team manager's practitioner-discussion message."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import pytest

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
