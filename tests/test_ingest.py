"""Ingesting returned audits: a mixed batch, versions, duplicates, urgency, lateness,
feedback in the auditor's own document, and a store that loses nothing."""

from __future__ import annotations

import email
import email.policy
import email.utils
import io
import re
import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from lxml import etree
from openpyxl import load_workbook

from auditdocs.allocation.workbook import read_allocation
from auditdocs.cli import main
from auditdocs.forms.generate import generate
from auditdocs.forms.parse import read_forms
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.returns.archive import Archive, sha256
from auditdocs.returns.ingest import ACCEPTED, AMEND, DUPLICATE, REJECTED, Ingester, ingest
from auditdocs.returns.outcome import IGNORED, BatchResult
from auditdocs.returns.status import month_status
from auditdocs.sample.answers import AUDIT_DATE, careless, complete_values
from auditdocs.sample.month import init_workspace, sample_allocation_path
from auditdocs.store.schema import SCHEMA_VERSION
from auditdocs.store.store import Store
from auditdocs.workspace import Workspace
from tests.conftest import blank_form, libreoffice_convert, month_workspace, needs_libreoffice
from tests.xmledit import control, edit_document, edit_part, q

RECEIVED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # before the due date (30/11/2026)
LATE = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    """A workspace of its own (ingest writes to the store) with the month generated."""
    return month_workspace(tmp_path_factory.mktemp("ingest") / "qa")


form = blank_form


GOOD = complete_values(AUDIT_DATE)


def write(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


@pytest.fixture(scope="module")
def batch(ws: Workspace, tmp_path_factory, lo_profile):
    """A mixed batch, ingested once for the tests that look at it."""
    needs_libreoffice()
    inbox = tmp_path_factory.mktemp("inbox")
    good = write(inbox, "good.docx", fill_form(form(ws, "2026-11-001"), GOOD))
    defective = write(inbox, "defective.docx", fill_form(form(ws, "2026-11-002"), careless(GOOD)))
    write(inbox / "again", "good copy.docx", good.read_bytes())  # the same bytes again
    foreign = Document()
    foreign.add_paragraph("A letter that is not an audit.")
    foreign_path = inbox / "foreign.docx"
    foreign.save(str(foreign_path))
    corrupt = write(inbox, "corrupt.docx", good.read_bytes()[:3000])
    urgent_values = {
        **GOOD,
        "concern.immediate": True,
        "concern.details": "Bruising seen at the visit; raised with the team manager the same day.",
        "concern.notified": AUDIT_DATE,
    }
    urgent = write(inbox, "urgent.docx", fill_form(form(ws, "2026-11-003"), urgent_values))
    # .doc and .odt returns, as LibreOffice users save them
    legacy_src = write(tmp_path_factory.mktemp("legacy"), "legacy.docx", fill_form(form(ws, "2026-11-005"), GOOD))
    doc = libreoffice_convert([legacy_src], "doc:MS Word 97", inbox / "doc", lo_profile)["legacy"]
    odt_src = write(tmp_path_factory.mktemp("legacy2"), "legacy2.docx", fill_form(form(ws, "2026-11-006"), GOOD))
    odt = libreoffice_convert([odt_src], "odt", inbox / "odt", lo_profile)["legacy2"]
    # an e-mail with two attachments, and a zip
    msg = EmailMessage()
    msg["From"] = "auditor@northbrook.example"
    msg["Subject"] = "Audits returned"
    msg.set_content("Please find my audits attached.")
    msg.add_attachment(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, maintype="image", subtype="png", filename="image001.png")
    for audit_id in ("2026-11-007", "2026-11-008"):
        msg.add_attachment(
            fill_form(form(ws, audit_id), GOOD),
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
            filename=f"{audit_id}.docx",
        )
    eml = write(inbox, "returns.eml", bytes(msg))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("audits/2026-11-009.docx", fill_form(form(ws, "2026-11-009"), GOOD))
    zip_path = write(inbox, "batch.zip", zipped.getvalue())
    inputs = [good, defective, inbox / "again", foreign_path, corrupt, urgent, doc, odt, eml, zip_path]
    result = ingest(ws, inputs, received_at=RECEIVED)
    by_name = {o.name.removeprefix(f"{inbox}/"): o for o in result.outcomes}
    return {"inputs": inputs, "result": result, "by_name": by_name, "good": good}


def test_a_mixed_batch_gets_the_right_status_for_each_file(batch):
    got = {name: (o.status, o.audit_id) for name, o in batch["by_name"].items()}
    assert got["good.docx"] == (ACCEPTED, "2026-11-001")
    assert got["defective.docx"] == (AMEND, "2026-11-002")
    assert got["again/good copy.docx"] == (DUPLICATE, "2026-11-001")
    assert got["foreign.docx"][0] == REJECTED
    assert got["corrupt.docx"][0] == REJECTED
    assert got["urgent.docx"] == (ACCEPTED, "2026-11-003")
    assert got["doc/legacy.doc"] == (ACCEPTED, "2026-11-005")
    assert got["odt/legacy2.odt"] == (ACCEPTED, "2026-11-006")
    assert got["returns.eml!2026-11-007.docx"] == (ACCEPTED, "2026-11-007")
    assert got["returns.eml!2026-11-008.docx"] == (ACCEPTED, "2026-11-008")
    assert got["batch.zip!audits/2026-11-009.docx"] == (ACCEPTED, "2026-11-009")
    assert got["returns.eml!image001.png"] == (IGNORED, None)  # a signature logo
    assert len(batch["result"].outcomes) == 12


def test_rejections_say_why(batch):
    by_name = batch["by_name"]
    assert "not an audit form issued by auditdocs" in by_name["foreign.docx"].reason
    assert "corrupt" in by_name["corrupt.docx"].reason
    assert "same file was received" in by_name["again/good copy.docx"].reason


def test_converted_returns_are_marked(batch, ws):
    assert batch["by_name"]["doc/legacy.doc"].converted_from == "doc"
    assert batch["by_name"]["odt/legacy2.odt"].converted_from == "odt"
    store = ws.store()
    assert store.submissions_of("2026-11-005")[0]["converted_from"] == "doc"


def test_nothing_is_lost(batch, ws):
    store = ws.store()
    archive = ws.state_dir / "archive"
    # every input file, and every file inside an e-mail or zip, is in the archive
    for path in batch["inputs"]:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for f in files:
            digest = sha256(f.read_bytes())
            assert (archive / digest[:2] / digest).read_bytes() == f.read_bytes()
            assert (archive / digest[:2] / digest).stat().st_mode & 0o777 == 0o600
    for o in batch["result"].outcomes:
        assert o.sha256 is None or (archive / o.sha256[:2] / o.sha256).exists()
    # every accepted value is in the store, exactly as parsed
    stored = store.current_values("2026-11")
    for o in batch["result"].outcomes:
        if o.status == ACCEPTED:
            assert stored[o.audit_id]["domain.assessment.evidence"] == GOOD["domain.assessment.evidence"]
            assert stored[o.audit_id]["plan.1.due"] == GOOD["plan.1.due"].isoformat()
            assert stored[o.audit_id]["domain.visits.criteria.purpose"] is True


def test_the_summary_workbook_accounts_for_every_file(batch):
    path = batch["result"].summary_path
    assert path.stat().st_mode & 0o777 == 0o600
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert len(rows) == 1 + len(batch["result"].outcomes)
    header = rows[0]
    by_file = {Path(r[0]).name: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_file["urgent.docx"]["URGENT: immediate safeguarding concern"] == "URGENT"
    assert by_file["urgent.docx"]["Team manager to notify"]
    assert by_file["defective.docx"]["Status"] == AMEND and by_file["defective.docx"]["Errors"] >= 2
    # no evidence text in the summary (privacy)
    text = " ".join(str(v) for r in rows for v in r if v is not None)
    assert GOOD["domain.assessment.evidence"][:40] not in text


def test_reingesting_the_same_bytes_changes_nothing(batch, ws):
    store = ws.store()
    before = (store.receipts_count(), store.submissions_of("2026-11-001"), store.month_status("2026-11"))
    again = ingest(ws, [batch["good"]], received_at=RECEIVED)
    assert [o.status for o in again.outcomes] == [DUPLICATE]
    assert (store.receipts_count(), store.submissions_of("2026-11-001"), store.month_status("2026-11")) == before


def test_an_amendment_is_a_new_version_and_every_version_is_kept(batch, ws, tmp_path):
    amended = write(tmp_path, "amended.docx", fill_form(form(ws, "2026-11-002"), GOOD, WordStyle(seed=9)))
    result = ingest(ws, [amended], received_at=RECEIVED)
    assert result.outcomes[0].status == ACCEPTED and result.outcomes[0].version == 2
    versions = ws.store().submissions_of("2026-11-002")
    assert [(v["version"], v["status"], v["is_current"]) for v in versions] == [
        (1, "needs_amendment", False),
        (2, "accepted", True),
    ]
    assert ws.store().allocation("2026-11-002")[1] == "accepted"


@pytest.mark.parametrize(
    ("sent", "late"),
    [
        ("Mon, 30 Nov 2026 17:45:00 +0000", False),  # sent on the due date, ingested days later
        ("Tue, 01 Dec 2026 09:15:00 +0000", True),  # sent the day after
        ("Fri, 01 Jan 2027 09:00:00 +0000", True),  # a clock set ahead: the ingest time counts
    ],
)
def test_a_return_by_e_mail_counts_as_returned_when_the_e_mail_was_sent(tmp_path, sent, late):
    ws = month_workspace(tmp_path / "qa")  # each case returns the same audit once
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "qa@example.org", "Audit"
    message["Date"] = sent
    message.set_content("Attached.")
    data = fill_form(form(ws, "2026-11-011"), GOOD)
    message.add_attachment(data, maintype="application", subtype="octet-stream", filename="audit.docx")
    outcome = ingest(ws, [write(tmp_path, "mail.eml", message.as_bytes())], received_at=LATE).outcomes[0]
    assert outcome.status == ACCEPTED and outcome.late is late
    [submission] = ws.store().submissions_of("2026-11-011")
    expected = min(email.utils.parsedate_to_datetime(sent), LATE)
    stored = submission["received_at"]  # SQLite gives it back without its zone (UTC)
    assert submission["late"] is late and stored.replace(tzinfo=stored.tzinfo or UTC) == expected


def mail(data: bytes, sent: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "qa@example.org", "Audit"
    message["Date"] = sent
    message.set_content("Attached.")
    message.add_attachment(data, maintype="application", subtype="octet-stream", filename="audit.docx")
    return message.as_bytes()


def test_an_older_e_mail_ingested_after_a_newer_one_does_not_displace_it(tmp_path):
    """Versions are current by when they were sent: the careless first return, found in
    the inbox after its amendment was ingested, is kept as history, asks nothing of the
    auditor and leaves the audit accepted."""
    ws = month_workspace(tmp_path / "qa")
    blank = form(ws, "2026-11-004")
    amended = mail(fill_form(blank, GOOD), "Thu, 26 Nov 2026 10:00:00 +0000")
    first = mail(fill_form(blank, careless(GOOD)), "Tue, 24 Nov 2026 09:00:00 +0000")
    [newer] = ingest(ws, [write(tmp_path, "amended.eml", amended)], received_at=LATE).outcomes
    [older] = ingest(ws, [write(tmp_path, "first.eml", first)], received_at=LATE).outcomes
    assert newer.status == ACCEPTED and not newer.earlier
    assert older.status == AMEND and older.earlier and older.version == 2
    assert older.feedback == [] and not (ws.output_dir / "2026-11" / "feedback").exists()
    store = ws.store()
    assert [(s["version"], s["status"], s["is_current"]) for s in store.submissions_of("2026-11-004")] == [
        (1, "accepted", True),
        (2, "needs_amendment", False),
    ]
    assert store.allocation("2026-11-004")[1] == "accepted"
    report = "\n".join(BatchResult([older]).report())
    assert "sent before the version already stored, which stays current" in report


@pytest.mark.parametrize(
    "sent",
    [
        "Thu, 01 Jan 1970 00:00:00 +0000",  # a zero Unix time
        "Mon, 01 Jan 1601 00:00:00 +0000",  # a zero Outlook time, written out as a Date
        "Sat, 15 Aug 2026 09:00:00 +0000",  # months before the audit was issued
    ],
)
def test_a_sending_time_before_the_audit_was_issued_is_not_believed(tmp_path, sent):
    ws = month_workspace(tmp_path / "qa")
    data = mail(fill_form(form(ws, "2026-11-005"), GOOD), sent)
    [outcome] = ingest(ws, [write(tmp_path, "mail.eml", data)], received_at=LATE).outcomes
    assert outcome.status == ACCEPTED
    assert outcome.late  # received after the due date; not "on time" by a clock at zero
    [note] = [f for f in outcome.findings if f.rule == "return.sent_time"]
    assert note.severity == "warning" and note.message.startswith("the e-mail's sending time (")
    assert f"the time it was received ({LATE:%d/%m/%Y}) was used" in note.message
    store = ws.store()
    [submission] = store.submissions_of("2026-11-005")
    stored = submission["received_at"]
    assert stored.replace(tzinfo=stored.tzinfo or UTC) == LATE
    assert note in store.findings_of(submission["id"])


def test_a_bug_opening_one_input_rejects_it_alone_and_the_summary_is_written(tmp_path, monkeypatch):
    """The last-resort handler around each input: a bug met opening an e-mail (simulated:
    the real ones found are fixed) makes that e-mail one rejected input."""
    from auditdocs.returns import sources

    def broken(*args, **kwargs):
        raise OverflowError("a bug")

    monkeypatch.setattr(sources, "_expand_eml", broken)
    ws = month_workspace(tmp_path / "qa")
    before = write(tmp_path, "a.docx", fill_form(form(ws, "2026-11-006"), GOOD))
    bad = write(tmp_path, "b.eml", mail(fill_form(form(ws, "2026-11-007"), GOOD), "Tue, 24 Nov 2026 09:00:00 +0000"))
    after = write(tmp_path, "c.docx", fill_form(form(ws, "2026-11-008"), GOOD))
    result = ingest(ws, [before, bad, after], received_at=RECEIVED)
    assert [o.status for o in result.outcomes] == [ACCEPTED, REJECTED, ACCEPTED]
    assert result.outcomes[1].reason.startswith("could not be opened (internal error: OverflowError)")
    assert result.summary_path is not None and result.summary_path.exists()
    assert sha256(bad.read_bytes()) in Archive(ws.state_dir / "archive")  # kept as received


def test_a_late_return_is_recorded_as_late(ws, tmp_path):
    late = write(tmp_path, "late.docx", fill_form(form(ws, "2026-11-010"), GOOD))
    outcome = ingest(ws, [late], received_at=LATE).outcomes[0]
    assert outcome.status == ACCEPTED and outcome.late
    assert ws.store().submissions_of("2026-11-010")[0]["late"] is True


def test_status_shows_states_deadlines_and_urgency(batch, ws):
    result = CliRunner().invoke(main, ["status", "--month", "2026-11", "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.startswith("2026-11-")}
    assert "accepted" in lines["2026-11-001"]
    assert "URGENT: notify" in lines["2026-11-003"]
    assert "issued" in lines["2026-11-011"] and "30/11/2026" in lines["2026-11-011"]
    bad = CliRunner().invoke(main, ["status", "--month", "November", "--workspace", str(ws.root)])
    assert bad.exit_code == 2 and "use YYYY-MM" in bad.output


def test_values_read_by_a_fallback_are_kept_and_shown_to_confirm(tmp_path):
    """A parse warning that may affect a value is stored with the return, and shown in the
    batch report, the summary workbook and status (ingest used to keep errors only)."""

    ws = month_workspace(tmp_path / "qa")

    def drift(root):
        for t in control(root, "overall.grade").iter(q("t")):
            t.text = t.text.upper()  # "GOOD": read as the choice Good, to confirm

    data = edit_document(fill_form(form(ws, "2026-11-001"), GOOD), drift)
    result = ingest(ws, [write(tmp_path, "drift.docx", data)], received_at=RECEIVED)
    [outcome] = result.outcomes
    assert outcome.status == ACCEPTED
    confirm = [f for f in outcome.findings if f.rule == "form.read"]
    assert [(f.field, f.severity) for f in confirm] == [("overall.grade", "warning")]
    store = ws.store()
    [submission] = store.submissions_of("2026-11-001")
    assert confirm[0] in store.findings_of(submission["id"])
    assert "1 value to confirm" in "\n".join(result.report())
    rows = list(load_workbook(result.summary_path).active.iter_rows(values_only=True))
    assert dict(zip(rows[0], rows[1], strict=True))["Values to confirm (read by a fallback)"] == 1
    [row] = [r for r in month_status(ws, "2026-11").rows if r.audit_id == "2026-11-001"]
    assert "1 value to confirm" in row.flags


def test_a_possible_concern_is_called_out_in_the_batch_report(tmp_path):
    ws = month_workspace(tmp_path / "qa")
    values = {**GOOD, "concern.immediate": False, "concern.details": "Bruising seen; not raised yet."}
    result = ingest(ws, [write(tmp_path, "possible.docx", fill_form(form(ws, "2026-11-002"), values))])
    [outcome] = result.outcomes
    assert any(f.rule == "concern.possible" for f in outcome.findings) and not outcome.urgent
    assert "POSSIBLE CONCERN" in "\n".join(result.report())


def test_an_edited_identity_or_another_workspaces_form_is_rejected(ws, tmp_path):
    def edit(root):
        for prop in root:
            if prop.get("name") == "auditdocs.audit_id":
                prop[0].text = "2026-11-012"

    edited = write(
        tmp_path, "edited.docx", edit_part(fill_form(form(ws, "2026-11-011"), GOOD), "docProps/custom.xml", edit)
    )
    other = init_workspace(tmp_path / "other")
    generate(other, read_allocation(sample_allocation_path(other))[:1])
    foreign = write(tmp_path, "other.docx", next(other.output_dir.glob("2026-11/*/* audit tool.docx")).read_bytes())
    outcomes = ingest(ws, [edited, foreign], received_at=RECEIVED).outcomes
    assert [o.status for o in outcomes] == [REJECTED, REJECTED]
    assert all("integrity check failed" in o.reason for o in outcomes)


def test_a_failure_while_storing_leaves_no_half_written_audit(ws, tmp_path, monkeypatch):
    path = write(tmp_path, "crash.docx", fill_form(form(ws, "2026-11-012"), GOOD))
    store = ws.store()
    before = store.receipts_count()

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(Store, "record_submission", crash)
    outcome = Ingester(ws, store).run([path], received_at=RECEIVED).outcomes[0]
    assert outcome.status == REJECTED and "could not be processed (RuntimeError)" in outcome.reason
    # the receipt written in the same transaction was rolled back; a rejection receipt is kept
    assert store.submissions_of("2026-11-012") == []
    assert store.allocation("2026-11-012")[1] == "issued"
    monkeypatch.undo()
    # once whatever failed works again, the same bytes are read again and stored (once)
    retry = ingest(ws, [path], received_at=RECEIVED).outcomes[0]
    assert retry.status == ACCEPTED and retry.version == 1
    assert ingest(ws, [path], received_at=RECEIVED).outcomes[0].status == DUPLICATE
    assert store.receipts_count() == before + 2  # the rejection and the acceptance


def test_the_store_is_migrated_once(ws):
    store = ws.store()
    assert store.schema_version() == SCHEMA_VERSION
    assert Store(store.url).schema_version() == SCHEMA_VERSION


# --- feedback ---------------------------------------------------------------------------


def _comment_anchors(docx: bytes) -> dict[str, str]:
    """comment text -> the tag of the control its range starts at or inside."""
    z = zipfile.ZipFile(io.BytesIO(docx))
    comments = etree.fromstring(z.read("word/comments.xml"))
    texts = {c.get(q("id")): "".join(c.itertext()) for c in comments}
    root = etree.fromstring(z.read("word/document.xml"))
    out = {}
    for start in root.iter(q("commentRangeStart")):
        sdt = start.getnext() if start.getnext() is not None and start.getnext().tag == q("sdt") else None
        if sdt is None:
            sdt = next((a for a in start.iterancestors() if a.tag == q("sdt")), None)
        if sdt is None:  # anchored on the label cell beside a block-level control
            cell = next((a for a in start.iterancestors() if a.tag == q("tc")), None)
            nxt = cell.getnext() if cell is not None else None
            sdt = nxt.find(q("sdt")) if nxt is not None else None
        tag = sdt.find(f"{q('sdtPr')}/{q('tag')}").get(q("val")) if sdt is not None else None
        out[texts[start.get(q("id"))]] = tag
    return out


def test_feedback_is_the_auditors_document_with_comments_at_the_failing_fields(batch, ws):
    outcome = batch["by_name"]["defective.docx"]
    docx, eml = outcome.feedback
    assert docx.suffix == ".docx" and eml.suffix == ".eml"
    anchors = _comment_anchors(docx.read_bytes())
    tagged = set(anchors.values())
    assert {"domain.plans.grade", "plan.3.owner"} <= tagged
    # evidence boxes fill their cell; their comments sit on the label beside them
    assert any(t and t.endswith(".evidence") for t in tagged)
    assert None not in tagged
    # still the auditor's own form: it parses, with their answers
    parsed = read_forms(ws, [docx])[0]
    assert parsed.status == "ok" and parsed.fields["domain.visits.evidence"] == GOOD["domain.visits.evidence"]


def test_the_feedback_message_lists_the_findings_and_the_deadline(batch):
    outcome = batch["by_name"]["defective.docx"]
    msg = email.message_from_bytes(outcome.feedback[1].read_bytes(), policy=email.policy.default)
    assert outcome.allocation.auditor_email in msg["To"]
    # received Tue 24/11/2026 + 3 working days = Fri 27/11/2026
    assert "amendments needed by 27/11/2026" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert "Plans: grade" in body and "TBC" in body
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == [outcome.feedback[0].name]


def pdf_comments(pdf: Path) -> list[str]:
    """The text of the comment annotations LibreOffice exported into a PDF."""
    data = pdf.read_bytes()
    found = re.findall(rb"/Subtype /Text .*?/Contents <([0-9A-Fa-f]*)>", data, re.S)
    return [bytes.fromhex(h.decode()).decode("utf-16") for h in found]


def test_feedback_opens_in_libreoffice_with_its_comments(batch, tmp_path, lo_profile):
    docx = batch["by_name"]["defective.docx"].feedback[0]
    src = tmp_path / "feedback.docx"
    src.write_bytes(docx.read_bytes())
    pdf = libreoffice_convert(
        [src], 'pdf:writer_pdf_Export:{"ExportNotes":{"type":"boolean","value":"true"}}', tmp_path / "pdf", lo_profile
    )["feedback"]
    exported = pdf_comments(pdf)
    expected = list(_comment_anchors(docx.read_bytes()))
    assert sorted(exported) == sorted(expected)
    assert any("'TBC' does not name an owner" in c for c in exported)


def test_ingest_from_the_command_line(ws, tmp_path):
    path = write(tmp_path, "=cmd.docx", fill_form(form(ws, "2026-11-004"), careless(GOOD)))
    result = CliRunner().invoke(main, ["ingest", str(path), "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    assert "1 file: 0 accepted, 1 needs amendment" in result.output
    assert "Traceback" not in result.output
    summary = (
        Path(ws.root / result.output.split("Summary workbook: ")[1].strip())
        if not Path(result.output.split("Summary workbook: ")[1].strip()).is_absolute()
        else Path(result.output.split("Summary workbook: ")[1].strip())
    )
    cell = load_workbook(summary).active["A2"]
    assert cell.data_type == "s" and cell.value.endswith("=cmd.docx")  # a file name is never a formula


def test_two_workers_ingest_a_batch_as_one_does(ws, tmp_path):
    inbox = tmp_path / "inbox"
    for audit_id in ("2026-11-011", "2026-11-012"):
        write(inbox, f"{audit_id}.docx", fill_form(form(ws, audit_id), GOOD, WordStyle(seed=11)))
    write(inbox, "not a form.docx", b"%PDF-1.4 not a form")
    write(inbox, "again.docx", (inbox / "2026-11-011.docx").read_bytes())
    result = ingest(ws, [inbox], received_at=RECEIVED, jobs=2)
    got = sorted((Path(o.name).name, o.status) for o in result.outcomes)
    assert got == [
        ("2026-11-011.docx", ACCEPTED),
        ("2026-11-012.docx", ACCEPTED),
        ("again.docx", DUPLICATE),
        ("not a form.docx", REJECTED),
    ] or got == [
        ("2026-11-011.docx", DUPLICATE),
        ("2026-11-012.docx", ACCEPTED),
        ("again.docx", ACCEPTED),
        ("not a form.docx", REJECTED),
    ]
    assert len(ws.store().submissions_of("2026-11-011")) == 1
