"""Sending forms and chasers: .eml drafts by default, a real SMTP server on loopback
(aiosmtpd) when configured, STARTTLS and credentials from the environment."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import functools
import socket
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner

from auditdocs.allocation.workbook import read_allocation
from auditdocs.cli import main
from auditdocs.forms.parse import read_forms
from auditdocs.mail.chase import chasers, discussion_due, send_chasers
from auditdocs.mail.messages import Delivery, Planned, Skipped, post_one
from auditdocs.mail.send import Pack, pack_message, send_packs
from auditdocs.ooxml.fill import fill_form
from auditdocs.returns.ingest import ingest
from auditdocs.sample.answers import AUDIT_DATE, complete_values, discussed_plan
from auditdocs.sample.month import init_workspace, sample_allocation_path
from auditdocs.workspace import Workspace
from tests.conftest import blank_form, month_workspace

MONTH = "2026-11"


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def use_smtp(ws: Workspace, **smtp) -> Workspace:
    """The workspace with e-mail settings changed in its organisation.yaml (a fresh object:
    the config is read once per Workspace)."""
    path = ws.config_dir / "organisation.yaml"
    data = yaml.safe_load(path.read_text())
    data["email"]["smtp"].update(smtp)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return Workspace(ws.root)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return month_workspace(tmp_path / "qa")


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_without_smtp_each_auditor_gets_one_draft_with_their_forms(ws):
    allocations = read_allocation(sample_allocation_path(ws))
    results = send_packs(ws, MONTH)
    auditors = {a.auditor for a in allocations}
    assert len(results) == len(auditors)
    for delivery in results:
        msg = email.message_from_bytes(delivery.path.read_bytes(), policy=email.policy.default)
        assert msg["X-Unsent"] == "1" and not delivery.sent
        name = msg["To"].addresses[0].display_name
        mine = [a for a in allocations if a.auditor == name]
        names = sorted(p.get_filename() for p in msg.iter_attachments())
        assert len(names) == 2 * len(mine)
        assert all(any(n.startswith(a.audit_id) for n in names) for a in mine)
        body = msg.get_body(("plain",)).get_content()
        assert "30/11/2026" in body and all(a.case_reference in body for a in mine)
        assert "immediate safeguarding concern" in body
        assert delivery.path.stat().st_mode & 0o777 == 0o600


def test_dry_run_lists_and_writes_nothing(ws):
    results = send_packs(ws, MONTH, dry_run=True)
    assert all(isinstance(r, Planned) and str(r).startswith("would send to ") for r in results)
    assert not (ws.output_dir / MONTH / "outbox").exists()


def test_a_pack_is_not_sent_twice_without_force(ws):
    send_packs(ws, MONTH)
    again = send_packs(ws, MONTH)
    assert all(isinstance(r, Skipped) and "already sent" in str(r) for r in again)
    assert all(isinstance(r, Delivery) for r in send_packs(ws, MONTH, force=True))


def test_packs_go_through_a_real_smtp_server(ws, smtp_server):
    controller, inbox = smtp_server
    ws = use_smtp(ws, host="127.0.0.1", port=controller.port, security="none")
    results = send_packs(ws, MONTH)
    assert all(r.sent for r in results)
    assert len(inbox.messages) == len(results)
    received = inbox.messages[0]
    assert received["From"].addresses[0].addr_spec == "qa.team@northbrook.example"
    assert len(list(received.iter_attachments())) >= 2
    kept = email.message_from_bytes(results[0].path.read_bytes(), policy=email.policy.default)
    assert kept["X-Unsent"] is None  # a copy of what was sent, not a draft


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_credentials_come_from_the_environment(ws, monkeypatch):
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
        return AuthResult(success=ok)

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    try:
        ws = use_smtp(ws, host="127.0.0.1", port=controller.port, security="none")
        monkeypatch.setenv("AUDITDOCS_SMTP_USERNAME", "qa-robot")
        monkeypatch.setenv("AUDITDOCS_SMTP_PASSWORD", "s3cret")
        assert all(r.sent for r in send_packs(ws, MONTH))
        assert seen[0] == (b"qa-robot", b"s3cret")
        assert "s3cret" not in (ws.config_dir / "organisation.yaml").read_text()
    finally:
        controller.stop()


def test_starttls_to_a_relay_with_its_own_certificate(ws, tmp_path):
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True)
    controller.start()
    try:
        ws = use_smtp(ws, host="127.0.0.1", port=controller.port, security="starttls", ca_file=str(cert))
        assert all(r.sent for r in send_packs(ws, MONTH))
        assert inbox.messages
    finally:
        controller.stop()


def test_an_unreachable_server_keeps_drafts_and_says_so(ws):
    ws = use_smtp(ws, host="127.0.0.1", port=free_port(), security="none", timeout_seconds=2)
    results = send_packs(ws, MONTH)
    assert results and all(not r.sent and r.error and "kept as drafts" in r.error for r in results)
    assert all(r.path.exists() for r in results)
    out = CliRunner().invoke(main, ["send", "--month", MONTH, "--force", "--workspace", str(ws.root)])
    assert out.exit_code == 1 and "FAILED, kept as draft" in out.output and "Traceback" not in out.output


def test_a_message_that_could_not_be_sent_is_kept_as_a_draft(ws):
    ws = use_smtp(ws, host="127.0.0.1", port=free_port(), security="none", timeout_seconds=2)
    [first, *_] = send_packs(ws, MONTH)
    assert first.error and not first.sent
    assert email.message_from_bytes(first.path.read_bytes())["X-Unsent"] == "1"  # opens ready to send by hand


URGENT = {
    **complete_values(AUDIT_DATE),
    "concern.immediate": True,
    "concern.details": "Unexplained bruising seen at the last visit; no strategy discussion was held.",
    "concern.notified": AUDIT_DATE,
}


def test_a_concern_notice_is_sent_at_ingest_through_a_real_smtp_server(ws, smtp_server, tmp_path):
    """Issue 14 (2.6): with SMTP configured and ingest given the mail layer's sender, the
    team manager's notice goes at once, from the worker processes too."""
    controller, inbox = smtp_server
    ws = use_smtp(ws, host="127.0.0.1", port=controller.port, security="none")
    alloc = ws.store().allocation("2026-11-004")[0]
    path = tmp_path / "urgent.docx"
    path.write_bytes(fill_form(blank_form(ws, "2026-11-004"), URGENT))
    post = functools.partial(post_one, ws.config.settings.email)
    [outcome] = ingest(ws, [path], received_at=datetime(2026, 11, 24, 9, tzinfo=UTC), jobs=2, post=post).outcomes
    assert outcome.urgent and outcome.reason == f"concern notice sent to {alloc.team_manager}"
    [received] = inbox.messages
    assert received["To"].addresses[0].addr_spec == ws.store().email_of(alloc.team_manager)
    assert alloc.case_reference in received["Subject"] and "IMMEDIATE SAFEGUARDING CONCERN" in received["Subject"]
    assert "Unexplained bruising" in received.get_body(("plain",)).get_content()
    [kept] = (ws.output_dir / MONTH / "concerns").glob("*.eml")
    assert email.message_from_bytes(kept.read_bytes())["X-Unsent"] is None  # what was sent


def test_auditdocs_ingest_sends_the_concern_notice(ws, smtp_server, tmp_path):
    """The command, not only the library: with SMTP configured, the notice is sent."""
    controller, inbox = smtp_server
    ws = use_smtp(ws, host="127.0.0.1", port=controller.port, security="none")
    path = tmp_path / "urgent.docx"
    path.write_bytes(fill_form(blank_form(ws, "2026-11-004"), URGENT))
    out = CliRunner().invoke(main, ["ingest", str(path), "--workspace", str(ws.root)])
    assert out.exit_code == 0, out.output
    assert "concern notice sent to" in out.output
    [received] = inbox.messages
    assert "IMMEDIATE SAFEGUARDING CONCERN" in received["Subject"]


def test_a_concern_notice_that_could_not_be_sent_says_so_and_stays_a_draft(ws, tmp_path):
    ws = use_smtp(ws, host="127.0.0.1", port=free_port(), security="none", timeout_seconds=2)
    path = tmp_path / "urgent.docx"
    path.write_bytes(fill_form(blank_form(ws, "2026-11-004"), URGENT))
    post = functools.partial(post_one, ws.config.settings.email)
    result = ingest(ws, [path], received_at=datetime(2026, 11, 24, 9, tzinfo=UTC), post=post)
    [outcome] = result.outcomes
    assert "NOT SENT" in outcome.reason and "send the draft now" in outcome.reason
    [kept] = (ws.output_dir / MONTH / "concerns").glob("*.eml")
    assert email.message_from_bytes(kept.read_bytes())["X-Unsent"] == "1"
    assert any("NOT SENT" in line for line in result.report())


def test_send_before_generate_says_what_to_do(tmp_path):
    ws = init_workspace(tmp_path / "qa")
    ws.store().record_allocations(read_allocation(sample_allocation_path(ws)))
    out = CliRunner().invoke(main, ["send", "--month", MONTH, "--workspace", str(ws.root)])
    assert out.exit_code == 1 and "run `auditdocs generate`" in out.output


# --- after the audit ----------------------------------------------------------------------


def _return(ws: Workspace, audit_id: str, values: dict, when: datetime, tmp: Path) -> None:
    path = tmp / f"{audit_id}.docx"
    path.write_bytes(fill_form(blank_form(ws, audit_id), values))
    ingest(ws, [path], received_at=when)


def test_accepted_audits_send_the_prefilled_plan_to_the_team_manager(ws, tmp_path):
    values = complete_values(AUDIT_DATE)
    _return(ws, "2026-11-001", values, datetime(2026, 11, 24, 9, tzinfo=UTC), tmp_path)
    result = CliRunner().invoke(main, ["send", "--month", MONTH, "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    kept = ws.output_dir / MONTH / "outbox" / "discussion 2026-11-001.eml"
    msg = email.message_from_bytes(kept.read_bytes(), policy=email.policy.default)
    alloc = ws.store().allocation("2026-11-001")[0]
    assert alloc.team_manager in str(msg["To"])
    due = discussion_due(ws, date(2026, 11, 24), "requires_improvement")
    assert due == date(2026, 12, 8)  # 10 working days for Requires Improvement
    assert "practitioner discussion by 08/12/2026" in msg["Subject"]
    (attachment,) = list(msg.iter_attachments())
    plan = tmp_path / "plan.docx"
    plan.write_bytes(attachment.get_content())
    parsed = read_forms(ws, [plan])[0]
    assert parsed.status == "ok" and parsed.identity.document == "plan"
    assert parsed.fields["plan.1.action"] == values["plan.1.action"]
    assert parsed.fields["plan.1.due"] == values["plan.1.due"].isoformat()


def test_chasers_for_overdue_audits_amendments_and_discussions(ws, tmp_path):
    good = complete_values(AUDIT_DATE)
    careless = {**good, "domain.plans.grade": None}
    _return(ws, "2026-11-001", good, datetime(2026, 11, 24, 9, tzinfo=UTC), tmp_path)
    _return(ws, "2026-11-002", careless, datetime(2026, 11, 24, 9, tzinfo=UTC), tmp_path)
    assert chasers(ws, MONTH, date(2026, 11, 25)) == []  # nothing overdue yet
    later = date(2026, 12, 9)  # after the due date, the amendment date and the discussion date
    found = {(c.reason, c.to_name): c for c in chasers(ws, MONTH, later)}
    reasons = {r for r, _ in found}
    assert reasons == {"overdue audit", "overdue amendment", "discussion"}
    overdue = [c for c in found.values() if c.reason == "overdue audit"]
    assert sum(len(c.lines) for c in overdue) == 10  # 12 audits, 2 returned
    amendment = next(c for c in found.values() if c.reason == "overdue amendment")
    assert "2026-11-002" in amendment.lines[0] and "27/11/2026" in amendment.lines[0]
    discussion = next(c for c in found.values() if c.reason == "discussion")
    assert discussion.to_name == ws.store().allocation("2026-11-001")[0].team_manager
    results = send_chasers(ws, MONTH, later)
    assert all(r.path.exists() for r in results)
    out = CliRunner().invoke(
        main, ["chase", "--month", MONTH, "--today", "2026-12-09", "--dry-run", "--workspace", str(ws.root)]
    )
    assert out.exit_code == 0 and "would send to" in out.output


def test_a_recorded_discussion_is_not_chased(ws, tmp_path):
    _return(ws, "2026-11-001", complete_values(AUDIT_DATE), datetime(2026, 11, 24, 9, tzinfo=UTC), tmp_path)
    plan = blank_form(ws, "2026-11-001", "improvement plan")
    path = tmp_path / "plan-back.docx"
    path.write_bytes(fill_form(plan, discussed_plan(date(2026, 12, 1))))
    result = ingest(ws, [path], received_at=datetime(2026, 12, 2, tzinfo=UTC))
    assert result.outcomes[0].document == "plan"
    later = date(2026, 12, 20)
    assert not [c for c in chasers(ws, MONTH, later) if c.reason == "discussion"]


def test_a_returned_plan_is_judged_against_its_audit_and_answered_to_its_team_manager(tmp_path):
    """Issue 14, defect 2: a plan back from the practitioner discussion was judged against
    the day it was ingested (its due dates "not after the audit"), stored as late whatever
    the date, and its amendments went to the auditor rather than the team manager."""
    ws = month_workspace(tmp_path / "qa")
    audited = date(2026, 12, 3)
    _return(ws, "2026-11-005", complete_values(audited), datetime(2026, 12, 3, 15, tzinfo=UTC), tmp_path)
    alloc = ws.store().allocation("2026-11-005")[0]
    discussed = date(2026, 12, 10)  # within 10 working days of acceptance (due 17/12/2026)
    plan = blank_form(ws, "2026-11-005", "improvement plan")
    # a due date after the audit, though before the day the plan is ingested
    back = {**discussed_plan(discussed), "plan.1.due": date(2026, 12, 20)}
    path = tmp_path / "plan back.docx"
    path.write_bytes(fill_form(plan, back))
    [outcome] = ingest(ws, [path], received_at=datetime(2027, 1, 4, 9, tzinfo=UTC)).outcomes
    assert outcome.document == "plan" and outcome.status == "accepted", outcome.findings
    assert outcome.late  # back after the discussion deadline (17/12/2026)
    on_time = tmp_path / "plan on time.docx"
    on_time.write_bytes(fill_form(plan, {**back, "discussion.present": "Team manager, worker"}))
    [kept] = ingest(ws, [on_time], received_at=datetime(2026, 12, 11, 9, tzinfo=UTC)).outcomes
    assert kept.status == "accepted" and not kept.late
    careless = tmp_path / "plan careless.docx"
    careless.write_bytes(fill_form(plan, {**back, "plan.1.owner": "TBC"}))
    [amend] = ingest(ws, [careless], received_at=datetime(2027, 1, 5, 9, tzinfo=UTC)).outcomes
    assert amend.status == "needs amendment"
    draft = next(p for p in amend.feedback if p.suffix == ".eml")
    assert draft.parent.name == alloc.team_manager  # not the auditor's folder
    message = email.message_from_bytes(draft.read_bytes(), policy=email.policy.default)
    assert alloc.team_manager in str(message["To"]) and alloc.auditor not in str(message["To"])
    assert f"Dear {alloc.team_manager}," in message.get_body(("plain",)).get_content()


def test_send_chase_and_the_report_share_one_discussion_deadline(tmp_path):
    """Issue 14, defect 5: send counted the discussion deadline from acceptance, the report
    from the first return; for an amended audit they differed by the amendment's days."""
    from auditdocs.reports.data import load_report_data
    from auditdocs.reports.sections import discussion_due as report_due

    ws = month_workspace(tmp_path / "qa")
    values = complete_values(AUDIT_DATE)
    careless = {**values, "domain.plans.grade": None}
    _return(ws, "2026-11-002", careless, datetime(2026, 11, 24, 9, tzinfo=UTC), tmp_path)
    _return(ws, "2026-11-002", values, datetime(2026, 12, 1, 9, tzinfo=UTC), tmp_path)  # amended: accepted
    assert ws.store().allocation("2026-11-002")[1] == "accepted"
    expected = date(2026, 12, 15)  # 10 working days (Requires Improvement) from acceptance on 01/12/2026
    from auditdocs.mail.chase import send_discussion_plans

    [sent] = [i for i in send_discussion_plans(ws, MONTH) if "2026-11-002" in i.path.name]
    assert "by 15/12/2026" in sent.subject
    data = load_report_data(ws.store(), ws.config, [MONTH], date(2026, 12, 20))
    [audit] = [a for a in data.audits if a.audit_id == "2026-11-002"]
    assert report_due(audit, ws.config.settings) == expected
    [chaser] = [c for c in chasers(ws, MONTH, date(2026, 12, 16)) if c.reason == "discussion"]
    assert any("15/12/2026" in line for line in chaser.lines)
    assert not [c for c in chasers(ws, MONTH, date(2026, 12, 15)) if c.reason == "discussion"]


def test_lateness_that_happened_leaves_a_trace(tmp_path):
    """Issue 14, defect 9: an amendment returned after its resubmission date was stored as
    on time, and a discussion held after its deadline appeared nowhere."""
    ws = month_workspace(tmp_path / "qa")
    values = complete_values(AUDIT_DATE)
    careless = {**values, "domain.plans.grade": None}
    _return(ws, "2026-11-003", careless, datetime(2026, 11, 16, 9, tzinfo=UTC), tmp_path)  # back by 19/11
    _return(ws, "2026-11-003", values, datetime(2026, 11, 20, 9, tzinfo=UTC), tmp_path)  # a day late
    _return(ws, "2026-11-004", careless, datetime(2026, 11, 16, 9, tzinfo=UTC), tmp_path)
    _return(ws, "2026-11-004", values, datetime(2026, 11, 19, 9, tzinfo=UTC), tmp_path)  # in time
    late = {s["audit_id"]: s["late"] for a in ("2026-11-003", "2026-11-004") for s in ws.store().submissions_of(a)}
    assert late == {"2026-11-003": True, "2026-11-004": False}  # the amendments (the last of each)
    # accepted on 20/11/2026, Requires Improvement: the discussion is due by 04/12/2026
    plan = blank_form(ws, "2026-11-003", "improvement plan")
    path = tmp_path / "plan.docx"
    path.write_bytes(fill_form(plan, {**discussed_plan(date(2026, 12, 7)), "plan.1.due": date(2027, 1, 8)}))
    [outcome] = ingest(ws, [path], received_at=datetime(2026, 12, 8, 9, tzinfo=UTC)).outcomes
    assert outcome.status == "accepted" and outcome.late
    [note] = [f for f in outcome.findings if f.rule == "discussion.late"]
    assert note.message == "the practitioner discussion was held on 07/12/2026, after its deadline (04/12/2026)"
    [stored] = [s for s in ws.store().submissions_of("2026-11-003") if s["document"] == "plan"]
    assert stored["late"] and note in ws.store().findings_of(stored["id"])


# --- each tool speaks its own language ----------------------------------------------------


def _stored_grade(ws: Workspace, alloc, grade: str) -> None:
    """An audit of an earlier month returned with ``grade`` overall, recorded directly."""
    store = ws.store()
    store.record_allocations([alloc])
    when = datetime(2026, 10, 20, 9, tzinfo=UTC)
    with store.transaction() as conn:
        receipt = store.record_receipt(
            conn, sha256="direct-" + alloc.audit_id, name="direct.docx", origin="test", received_at=when,
            outcome="accepted", audit_id=alloc.audit_id,
        )  # fmt: skip
        store.record_submission(
            conn, receipt_id=receipt, audit_id=alloc.audit_id, document="audit", sha256="direct-" + alloc.audit_id,
            received_at=when, status="accepted", late=False, urgent=False, converted_from=None,
            config_version="test", template_version="test", resubmit_by=None,
            values={"overall.grade": grade}, found=[],
        )  # fmt: skip


def _pack(ws: Workspace, *audits) -> tuple[str, str, str]:
    """(subject, the body before the instructions, the whole body) of a pack of ``audits``."""
    subject, body = pack_message(ws, Pack(audits[0].auditor, audits[0].auditor_email, list(audits), []), MONTH)
    return subject, body.split("How to complete", 1)[0], body


def test_an_audit_of_a_worker_speaks_of_the_worker_not_a_case(ws):
    """Issue 14: supervision audits and staff observations are about a worker: no 'case'
    wording for them, and each pack says what its tool is."""
    base = ws.store().allocation("2026-11-004")[0]
    worker = dict(case_reference="W-1A2B3C4D", child_id="", reaudit_of=None)
    supervision = dataclasses.replace(base, audit_id="2026-11-020", tool="supervision_audit", **worker)
    subject, head, _body = _pack(ws, supervision)
    assert subject.startswith("Supervision Audit") and "Case file" not in subject
    assert f"Supervision Audit of {base.worker} (team {base.team}" in head
    assert "case" not in head.lower() and "W-1A2B3C4D" not in head
    observation = dataclasses.replace(base, audit_id="2026-11-021", tool="staff_observation", **worker)
    other = dataclasses.replace(observation, audit_id="2026-11-022", worker="Another Worker")
    subject, head, _body = _pack(ws, observation, other)
    assert subject.startswith("Staff Observations for November 2026: 2 to return by")
    assert f"Staff Observation of {base.worker}" in head and "Staff Observation of Another Worker" in head
    assert "observe" in head and "case" not in head.lower()


def test_a_case_discussion_is_a_discussion(ws):
    base = ws.store().allocation("2026-11-004")[0]
    discussion = dataclasses.replace(base, audit_id="2026-11-023", tool="case_discussion")
    subject, head, _body = _pack(ws, discussion)
    assert subject.startswith("Case Discussion for November 2026")
    assert f"Case Discussion with {base.worker} about case {base.case_reference}" in head
    assert "discussion with the practitioner" in head and "will be audited" not in head
    mixed_subject, mixed, _body = _pack(ws, base, discussion)
    assert mixed_subject.startswith("Audit forms for November 2026: 2 to return by")
    assert f"Single Case File Audit of case {base.case_reference}" in mixed
    assert "will be audited" in mixed and "Arrange each case discussion" in mixed


def test_a_reaudit_names_the_audit_it_repeats_its_month_and_grade(ws):
    base = ws.store().allocation("2026-11-004")[0]
    previous = dataclasses.replace(base, audit_id="2026-10-007", month="2026-10", due_date=date(2026, 10, 30))
    _stored_grade(ws, previous, "inadequate")
    reaudit = dataclasses.replace(base, reaudit_of="2026-10-007")
    _subject, head, _body = _pack(ws, reaudit)
    assert "re-audit of 2026-10-007 (October 2026, graded Inadequate)" in head
    assert "read the previous audit" in head
    _subject, plain, _body = _pack(ws, base)
    assert "re-audit" not in plain
    unknown = dataclasses.replace(base, reaudit_of="2026-09-001")  # not in this store
    assert "re-audit of 2026-09-001\n" in _pack(ws, unknown)[1]
