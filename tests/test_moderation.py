"""Moderation (issue 16): the sample drawn, the forms written (blind forms hold nothing of
the auditor's grades), returned forms checked and stored beside the audit, feedback, and
the grade of record followed by the re-audit chain."""

from __future__ import annotations

import email
import email.policy
import io
import re
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from auditdocs.allocation.allocate import history_from_store
from auditdocs.allocation.record import Allocation
from auditdocs.cli import main
from auditdocs.config import Config
from auditdocs.config.models import Moderator
from auditdocs.forms.generate import FormFactory, document_path
from auditdocs.forms.layout import moderation_note
from auditdocs.mail.chase import chasers
from auditdocs.mail.messages import Delivery
from auditdocs.mail.send import send_moderation
from auditdocs.moderation.record import RATIONALE_RULE, check_moderation, differences
from auditdocs.moderation.sample import draw, moderate_month, moderation_path
from auditdocs.ooxml.fill import fill_form
from auditdocs.reports import monthly_report
from auditdocs.returns.ingest import ingest
from auditdocs.sample.answers import complete_values
from auditdocs.store.store import Store
from auditdocs.workspace import Workspace
from tests.conftest import libreoffice_convert, month_workspace
from tests.ooxml_check import check_office_files

RECEIVED = datetime(2026, 11, 24, 10, tzinfo=UTC)
DRAWN_ON = date(2026, 11, 25)


# --- the sample, drawn from a store filled directly --------------------------------------


def _settings(config: Config, **moderation: Any) -> Config:
    """``config`` with its moderation settings changed."""
    settings = config.settings
    changed = settings.model_copy(update={"moderation": settings.moderation.model_copy(update=moderation)})
    return replace(config, settings=changed)


def _month(store: Store, month: str, auditors: list[str], grades: list[str], tool: str = "case_file_audit") -> None:
    """One accepted audit per (auditor, overall grade), recorded as ingest records it."""
    allocs = [
        Allocation(
            f"{month}-{n:03d}", month, tool, f"C-{month}-{n}", "", "Team A", "A Worker", "A Manager",
            auditor, f"a{n}@example.org", date(2026, 12, 31),
        )
        for n, auditor in enumerate(auditors, 1)
    ]  # fmt: skip
    store.record_allocations(allocs)
    when = datetime(int(month[:4]), int(month[5:]), 20, tzinfo=UTC)
    for alloc, grade in zip(allocs, grades, strict=True):
        with store.transaction() as conn:
            receipt = store.record_receipt(
                conn, sha256=alloc.audit_id, name="x.docx", origin="test", received_at=when,
                outcome="accepted", audit_id=alloc.audit_id,
            )  # fmt: skip
            store.record_submission(
                conn, receipt_id=receipt, audit_id=alloc.audit_id, document="audit", sha256=alloc.audit_id,
                received_at=when, status="accepted", late=False, urgent=False, converted_from=None,
                config_version="t", template_version="t", resubmit_by=None, values={"overall.grade": grade}, found=[],
            )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    s.migrate()
    return s


AUDITORS = ["Ash Auditor", "Birch Auditor", "Cedar Auditor", "Elm Auditor"]


def test_the_sample_always_takes_the_extreme_grades_and_is_reproducible(store, workspace, tmp_path):
    grades = ["good", "inadequate", "requires_improvement", "outstanding"] * 5
    _month(store, "2026-10", AUDITORS * 5, grades)
    config = _settings(workspace.config, sample_count=12)
    drawn, notes, population = draw(store, config, "2026-10", DRAWN_ON)
    assert population == 20 and not notes
    assert len(drawn) == 12
    values = store.current_values("2026-10")
    extreme = {a for a, v in values.items() if v["overall.grade"] in ("inadequate", "outstanding")}
    assert extreme <= {m.audit_id for m in drawn}  # all ten of them
    assert all("always moderated" in m.reason for m in drawn if m.audit_id in extreme)
    # The same store and config draw the same sample; another seed draws another.
    again, _n, _p = draw(store, config, "2026-10", DRAWN_ON)
    assert [m.audit_id for m in again] == [m.audit_id for m in drawn]
    others = {
        tuple(m.audit_id for m in draw(store, _settings(config, seed=s), "2026-10", DRAWN_ON)[0]) for s in range(6)
    }
    assert len(others) > 1
    assert {m.due_date for m in drawn} == {date(2026, 12, 9)}  # ten working days after 25/11/2026


def test_the_share_and_the_count_set_the_size(store, workspace):
    _month(store, "2026-10", AUDITORS * 5, ["good"] * 20)
    assert len(draw(store, _settings(workspace.config, sample_share=0.1), "2026-10", DRAWN_ON)[0]) == 2
    assert len(draw(store, _settings(workspace.config, sample_share=0.26), "2026-10", DRAWN_ON)[0]) == 6
    assert len(draw(store, _settings(workspace.config, sample_count=3), "2026-10", DRAWN_ON)[0]) == 3


def test_every_auditor_is_moderated_in_a_quarter(store, workspace):
    """In a quarter's last month every auditor not moderated yet that quarter is drawn,
    however small the sample; earlier in the quarter only while the sample has room."""
    config = _settings(workspace.config, sample_count=1)
    _month(store, "2026-10", AUDITORS, ["good"] * 4)
    october, _n, _p = draw(store, config, "2026-10", DRAWN_ON)
    assert len(october) == 1
    store.record_moderations(october)
    first = store.allocation(october[0].audit_id)
    assert first is not None
    _month(store, "2026-12", AUDITORS * 2, ["good"] * 8)
    december, _n, _p = draw(store, config, "2026-12", DRAWN_ON)
    auditors = {store.allocation(m.audit_id)[0].auditor for m in december}  # type: ignore[index]
    assert auditors == set(AUDITORS) - {first[0].auditor}
    assert len(december) == 3
    # The next quarter starts afresh: one audit, as the count says.
    _month(store, "2027-01", AUDITORS, ["good"] * 4)
    assert len(draw(store, config, "2027-01", DRAWN_ON)[0]) == 1


def test_only_accepted_case_file_audits_are_drawn_and_never_by_their_own_auditor(store, workspace):
    _month(store, "2026-10", ["Ash Auditor", "Birch Auditor"], ["inadequate", "inadequate"])
    _month(store, "2026-11", ["Cedar Auditor"], ["inadequate"], tool="case_discussion")
    moderators = [Moderator(name="Ash Auditor", email="ash@example.org"), Moderator(name="Mo Derator", email="m@e.org")]
    config = _settings(workspace.config, moderators=moderators, sample_count=1)
    drawn, notes, _p = draw(store, config, "2026-10", DRAWN_ON)
    by = {m.audit_id: m.moderator for m in drawn}
    assert by == {"2026-10-001": "Mo Derator", "2026-10-002": "Ash Auditor"}
    assert draw(store, config, "2026-11", DRAWN_ON)[:2] == (
        [],
        ["no case file audit of November 2026 is accepted yet: nothing to moderate"],
    )
    alone = _settings(config, moderators=moderators[:1])
    drawn, notes, _p = draw(store, alone, "2026-10", DRAWN_ON)
    assert [m.audit_id for m in drawn] == ["2026-10-002"]
    assert notes == [
        "audit 2026-10-001 (graded Inadequate overall: always moderated) is not moderated: every moderator is its "
        "auditor, worker or team manager; add another moderator to moderation.moderators"
    ]


# --- checking a returned moderation -------------------------------------------------------


def test_a_moderation_needs_every_grade_and_a_rationale_where_it_differs(workspace):
    tool = workspace.config.tool("case_file_audit")
    auditor = complete_values()
    grades = {k: v for k, v in auditor.items() if k.endswith(".grade")}
    agreed = {**grades, "conversation.date": "2026-11-30", "conversation.notes": "Agreed."}
    assert check_moderation(agreed, tool, workspace.config.settings, auditor) == []
    harsher = {**agreed, "overall.grade": "inadequate", "domain.visits.grade": None}
    found = check_moderation(harsher, tool, workspace.config.settings, auditor)
    assert [(f.field, f.severity, f.rule) for f in found] == [
        ("domain.visits.grade", "error", "moderation.grade"),
        ("overall.rationale", "error", RATIONALE_RULE),
    ]
    assert "your grade (Inadequate) differs from the auditor's (Requires Improvement)" in found[1].message
    explained = {
        **harsher,
        "domain.visits.grade": "good",
        "overall.rationale": "Recording is so late the child is unsafe.",
    }
    assert check_moderation(explained, tool, workspace.config.settings, auditor) == []
    assert [d.item for d in differences(tool, auditor, explained)] == ["overall"]
    unrecorded = {**grades}
    assert [f.rule for f in check_moderation(unrecorded, tool, workspace.config.settings, auditor)] == [
        "moderation.conversation"
    ]


# --- the whole round: draw, forms, ingest, feedback, grade of record ----------------------


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The sample month with four case file audits returned and accepted, one graded
    Inadequate overall."""
    ws = month_workspace(tmp_path_factory.mktemp("moderation") / "qa")
    allocs = [a for a, _s in ws.store().month_allocations("2026-11") if a.tool == "case_file_audit"][:4]
    inbox = ws.root / "inbox"
    paths = []
    for n, alloc in enumerate(allocs):
        values = complete_values()
        if n == 1:
            values["overall.grade"] = "inadequate"
        path = inbox / f"{alloc.audit_id}.docx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(fill_form(document_path(ws.output_dir, alloc, "audit").read_bytes(), values))
        paths.append(path)
    result = ingest(ws, paths, received_at=RECEIVED)
    assert [o.status for o in result.outcomes] == ["accepted"] * 4, [o.reason for o in result.outcomes]
    return ws


def _parts(data: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}  # core: the time it was made


def test_a_blind_form_holds_nothing_of_the_auditors_return(month):
    """Two blind forms of one audit, one made while the auditor's return says one thing and
    one while it says quite another, are the same bytes; an open form shows the return."""
    store = month.store()
    alloc = store.allocation("2026-11-002")[0]  # type: ignore[index]
    tool = month.config.tool(alloc.tool)
    factory = FormFactory(month.config, month.templates_dir, month.key())
    due = date(2026, 12, 9)
    blind = factory.render_moderation(alloc, due, moderation_note(month.config, tool, alloc, "Mo", None))
    other = replace(alloc, auditor="Someone Else")
    assert _parts(blind) != _parts(
        factory.render_moderation(other, due, moderation_note(month.config, tool, other, "Mo", None))
    )  # the comparison can tell forms apart
    values = store.current_values("2026-11")["2026-11-002"]
    flipped = {k: ("outstanding" if k.endswith(".grade") else "Other words entirely.") for k in values}
    for shown in (values, flipped):
        note = moderation_note(month.config, tool, alloc, "Mo", None)
        assert note["shown"] == []
        assert _parts(factory.render_moderation(alloc, due, note)) == _parts(blind)
    text = b"".join(_parts(blind).values()).decode("utf-8", "replace")
    assert "blind moderation" in text
    for evidence in (v for k, v in values.items() if k.endswith(".evidence")):
        assert evidence[:40] not in text
    opened = factory.render_moderation(alloc, due, moderation_note(month.config, tool, alloc, "Mo", values))
    shown = b"".join(_parts(opened).values()).decode("utf-8", "replace")
    assert "Overall: Inadequate" in shown and values["domain.visits.evidence"][:40] in shown
    assert "1. Home visits and seeing the child: Good" in shown


def test_moderate_draws_once_writes_forms_and_the_round_is_stored_beside_the_audit(month):
    sample = moderate_month(month, "2026-11", today=DRAWN_ON)
    # Four accepted audits, a tenth of them rounded up is one, but the Inadequate one is
    # always moderated and is that one.
    assert [(m.audit_id, m.moderator, m.mode) for m in sample.drawn] == [("2026-11-002", "Marlow Ashdown", "blind")]
    [path] = sample.paths
    again = moderate_month(month, "2026-11", today=date(2026, 11, 30))
    assert again.earlier and again.paths == []
    assert [(m.audit_id, m.moderator, m.due_date) for m in again.drawn] == [
        ("2026-11-002", "Marlow Ashdown", date(2026, 12, 9))
    ]
    store = month.store()
    alloc = store.allocation("2026-11-002")[0]  # type: ignore[index]
    assert path == moderation_path(month.output_dir, sample.drawn[0], alloc)

    # `send` drafts the moderator's form to them, once.
    [sent] = send_moderation(month, "2026-11")
    assert isinstance(sent, Delivery) and sent.path is not None
    mail = email.message_from_bytes(sent.path.read_bytes(), policy=email.policy.default)
    assert mail["To"] == "Marlow Ashdown <marlow.ashdown@northbrook.example>"
    assert mail["Subject"] == "Moderation for November 2026: 1 audit to return by 09/12/2026"
    assert [p.get_filename() for p in mail.iter_attachments()] == [path.name]
    assert send_moderation(month, "2026-11") == []

    auditor = store.current_values("2026-11")["2026-11-002"]
    grades = {k: v for k, v in auditor.items() if k.endswith(".grade")}
    # The moderator finds the audit too harsh overall and says nothing why: sent back to them.
    first = {**grades, "overall.grade": "requires_improvement", "conversation.date": date(2026, 11, 30),
             "conversation.notes": "Talked it through."}  # fmt: skip
    back = month.root / "moderated.docx"
    back.write_bytes(fill_form(path.read_bytes(), first))
    # Not back by its due date: `chase` reminds the moderator.
    late = [c for c in chasers(month, "2026-11", date(2026, 12, 10)) if "moderation" in c.reason]
    assert [(c.to_name, c.reason, c.lines) for c in late] == [
        ("Marlow Ashdown", "overdue moderation", [f"2026-11-002 (case {alloc.case_reference}, audited by "
                                                  f"{alloc.auditor}) was due 09/12/2026"]),
    ]  # fmt: skip
    assert not [c for c in chasers(month, "2026-11", date(2026, 12, 9)) if "moderation" in c.reason]
    [outcome] = ingest(month, [back], received_at=datetime(2026, 12, 1, 9, tzinfo=UTC)).outcomes
    assert (outcome.status, outcome.document, outcome.version) == ("needs amendment", "moderation", 1)
    late = [c for c in chasers(month, "2026-11", date(2026, 12, 10)) if "moderation" in c.reason]
    assert [(c.reason, c.lines[0].rpartition(": ")[2]) for c in late] == [
        ("overdue moderation amendment", "amendments were due 04/12/2026")
    ]
    assert [f.field for f in outcome.findings if f.severity == "error"] == ["overall.rationale"]
    assert all("Marlow Ashdown" in str(p) for p in outcome.feedback) and len(outcome.feedback) == 2
    # Amended with a rationale: accepted, and the auditor gets their document with comments.
    fixed = {**first, "overall.rationale": "Only recording is inadequate; the rest of the work is sound."}
    back.write_bytes(fill_form(path.read_bytes(), fixed))
    [outcome] = ingest(month, [back], received_at=datetime(2026, 12, 2, 9, tzinfo=UTC)).outcomes
    assert (outcome.status, outcome.version) == ("accepted", 2), outcome.findings
    assert "overall Inadequate -> Requires Improvement (grade of record: the moderator's)" in (outcome.reason or "")
    doc = next(p for p in outcome.feedback if p.suffix == ".docx")
    assert (
        alloc.auditor.split()[0] in str(doc.parent)
        and doc.name == "2026-11-002 " + alloc.case_reference + " moderation 2.docx"
    )
    z = zipfile.ZipFile(doc)
    comments = z.read("word/comments.xml").decode()
    assert "you graded Inadequate; the moderator graded Requires Improvement" in comments
    assert "Only recording is inadequate" in z.read("word/document.xml").decode()
    # The form and both feedback copies pass the validator and the document check.
    check_office_files([path, doc, *month.output_dir.glob("2026-11/feedback/Marlow Ashdown/*.docx")])
    # Stored beside the audit: the auditor's grades as they were, the moderator's apart.
    assert store.current_values("2026-11")["2026-11-002"]["overall.grade"] == "inadequate"
    moderated = store.current_values("2026-11", document="moderation")["2026-11-002"]
    assert moderated["overall.grade"] == "requires_improvement"
    assert store.allocation("2026-11-002")[1] == "accepted"
    assert send_moderation(month, "2026-11", force=True) == []  # returned: nothing more to send
    assert not [c for c in chasers(month, "2026-11", date(2026, 12, 31)) if "moderation" in c.reason]

    # The month's report ends with its moderation section, the changed grade of record in it.
    docx, xlsx, html = monthly_report(month, "2026-11", as_of=date(2026, 12, 9))
    page = html.read_text(encoding="utf-8")
    section = page[page.index(">Moderation</h2>") :]
    assert "Grades of record changed by moderation" in section
    assert re.search(r"2026-11-002.*?Inadequate.*?Requires Improvement.*?Requires Improvement", section, re.S)
    assert "Too few moderated audits (n=1)" in section
    words = zipfile.ZipFile(docx).read("word/document.xml").decode()
    assert "Grades of record changed by moderation" in words and "Auditor calibration" in words
    book = openpyxl.load_workbook(xlsx, read_only=True)
    changes = [list(r) for r in book["Moderation changes"].iter_rows(values_only=True)]
    assert changes[2][:6] == ["2026-11-002", alloc.case_reference, alloc.auditor, "Inadequate",
                              "Requires Improvement", "Requires Improvement"]  # fmt: skip
    # Elsewhere the report counts the grade of record: the moderator's.
    [row] = [r for r in book["Audits"].iter_rows(values_only=True) if "2026-11-002" in r]
    assert "Requires Improvement" in row and "Inadequate" not in row
    overall = next(r for r in book["Moderation"].iter_rows(values_only=True) if r[1] == "Overall")
    assert overall[2:5] == (1, 0, 0)  # one audit, its overall grades apart
    book.close()
    check_office_files([docx, xlsx])
    # The grade of record: the moderator's by default, so no re-audit for December...
    settings = month.config.settings
    history = history_from_store(store, "2026-12", settings)
    assert "2026-11-002" not in {r.previous.audit_id for r in history.reaudits}
    # ...the auditor's Inadequate where the auditor's grade stands.
    by_auditor = settings.model_copy(
        update={"moderation": settings.moderation.model_copy(update={"grade_of_record": "auditor"})}
    )
    assert "2026-11-002" in {r.previous.audit_id for r in history_from_store(store, "2026-12", by_auditor).reaudits}


def test_a_moderation_form_of_an_audit_not_drawn_is_refused(month):
    store = month.store()
    alloc = store.allocation("2026-11-003")[0]  # type: ignore[index]
    factory = FormFactory(month.config, month.templates_dir, month.key())
    note = moderation_note(month.config, month.config.tool(alloc.tool), alloc, "Mo", None)
    path = month.root / "forged moderation.docx"
    path.write_bytes(factory.render_moderation(alloc, date(2026, 12, 9), note))
    [outcome] = ingest(month, [path], received_at=RECEIVED).outcomes
    assert outcome.status == "rejected"
    assert outcome.reason == (
        "audit 2026-11-003 was not drawn for moderation in this workspace's store; "
        "run `auditdocs moderate` for its month in this workspace first"
    )


def test_the_moderate_command(tmp_path, month):
    result = CliRunner().invoke(main, ["moderate", "--month", "2026-11", "--workspace", str(month.root)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("The moderation sample of November 2026 was drawn before: 1 audit, due 09/12/2026:")
    config = month.root / "config" / "organisation.yaml"
    text = config.read_text()
    try:
        config.write_text(re.sub(r"moderators:.*\n(    .*\n){2}", "moderators: []\n", text, count=1))
        result = CliRunner().invoke(main, ["moderate", "--month", "2026-11", "--workspace", str(month.root)])
    finally:
        config.write_text(text)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: no moderators: name them under moderation.moderators")


@pytest.mark.libreoffice
def test_a_moderation_form_saved_by_libreoffice_reads_back_the_same(month, lo_profile, tmp_path):
    """Moderators use LibreOffice too: the form saved by it as .docx (field tags and custom
    XML at LibreOffice's mercy) and as .doc (no fields at all) gives the same values."""
    store = month.store()
    [draw] = moderate_month(month, "2026-11", today=DRAWN_ON).drawn  # drawn before, unless run alone
    alloc = store.allocation(draw.audit_id)[0]  # type: ignore[index]
    form = moderation_path(month.output_dir, draw, alloc).read_bytes()
    values = {
        **{f"domain.{d.id}.grade": "good" for d in month.config.tool(alloc.tool).domains},
        "domain.recording.grade": "inadequate",
        "domain.recording.rationale": "Case notes five weeks late and no chronology since March.",
        "overall.grade": "requires_improvement",
        "overall.rationale": "Sound work let down by recording & planning; <not> inadequate overall.",
        "conversation.date": date(2026, 12, 3),
        "conversation.notes": "Agreed with the auditor.\nShe will weigh recording more heavily.",
        "completion.date": date(2026, 12, 3),
    }
    src = tmp_path / "src" / "moderated.docx"
    src.parent.mkdir()
    src.write_bytes(fill_form(form, values))
    saved = {
        "docx": libreoffice_convert([src], "docx:MS Word 2007 XML", tmp_path / "docx", lo_profile)["moderated"],
        "doc": libreoffice_convert([src], "doc:MS Word 97", tmp_path / "doc", lo_profile)["moderated"],
    }
    from auditdocs.forms.layout import layout_source
    from auditdocs.forms.parse import read_return

    for kind, path in saved.items():
        parsed = read_return(path.read_bytes(), path.name, month.key(), layouts=layout_source(month.config))
        assert parsed.status in ("ok", "warnings"), (kind, parsed.issues)
        assert parsed.identity is not None and parsed.identity.document == "moderation"
        got = {k: parsed.fields[k] for k in values}
        assert got == {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}, kind


# --- the figures, from the store -----------------------------------------------------------


def _moderation(store: Store, audit_id: str, when: datetime, status: str, values: dict[str, Any]) -> None:
    with store.transaction() as conn:
        receipt = store.record_receipt(
            conn, sha256="m-" + audit_id + status, name="m.docx", origin="test", received_at=when,
            outcome=status, audit_id=audit_id,
        )  # fmt: skip
        store.record_submission(
            conn, receipt_id=receipt, audit_id=audit_id, document="moderation", sha256="m-" + audit_id + status,
            received_at=when, status=status, late=False, urgent=False, converted_from=None,
            config_version="t", template_version="t", resubmit_by=None, values=values, found=[],
        )  # fmt: skip


def test_a_quarter_in_the_store_gives_the_figures_an_independent_calculation_gives(store, workspace):
    """A quarter of moderations recorded in the store: Not applicable grades and a moderation
    awaiting amendment are left out, and what is compared gives the agreement an independent
    calculation gives (counts by hand, alpha from the coincidence matrix)."""
    from auditdocs.reports.moderation_data import moderation_section_data
    from tests.test_moderation_agreement import scratch_alpha

    config = workspace.config
    domains = [d.id for d in config.tool("case_file_audit").domains]
    ids = ["inadequate", "requires_improvement", "good", "outstanding"]
    # (month, auditor, the auditor's rank per domain and overall, the moderator's offset)
    design = [
        ("2026-10", "Ash Auditor", 3, +0), ("2026-10", "Birch Auditor", 2, -1), ("2026-10", "Cedar Auditor", 4, -1),
        ("2026-11", "Ash Auditor", 2, +0), ("2026-11", "Birch Auditor", 3, -1), ("2026-11", "Elm Auditor", 1, +1),
        ("2026-12", "Cedar Auditor", 3, +0), ("2026-12", "Elm Auditor", 2, +1), ("2026-12", "Ash Auditor", 4, -2),
    ]  # fmt: skip
    expected: dict[str, list[tuple[int, int]]] = {item: [] for item in [*domains, "overall"]}
    for n, (month, auditor, rank, offset) in enumerate(design):
        audit_id = f"{month}-{n:03d}"
        alloc = Allocation(audit_id, month, "case_file_audit", f"C{n}", "", "T", "W", "M", auditor, "a@e.org",
                           date(2026, 12, 31))  # fmt: skip
        store.record_allocations([alloc])
        theirs = {f"domain.{d}.grade": ids[rank - 1] for d in domains} | {"overall.grade": ids[rank - 1]}
        ours = {f"domain.{d}.grade": ids[rank + offset - 1] for d in domains} | {
            "overall.grade": ids[rank + offset - 1]
        }
        # One domain each way Not applicable: never compared.
        if n == 0:
            theirs["domain.reviews.grade"] = "na"
        if n == 1:
            ours["domain.reviews.grade"] = "na"
        when = datetime(int(month[:4]), int(month[5:]), 25, tzinfo=UTC)
        with store.transaction() as conn:
            receipt = store.record_receipt(conn, sha256=audit_id, name="a.docx", origin="t", received_at=when,
                                           outcome="accepted", audit_id=audit_id)  # fmt: skip
            store.record_submission(
                conn, receipt_id=receipt, audit_id=audit_id, document="audit", sha256=audit_id, received_at=when,
                status="accepted", late=False, urgent=False, converted_from=None, config_version="t",
                template_version="t", resubmit_by=None, values=theirs, found=[],
            )  # fmt: skip
        _moderation(store, audit_id, when, "accepted", ours)
        for item in expected:
            field = "overall.grade" if item == "overall" else f"domain.{item}.grade"
            if theirs[field] != "na" and ours[field] != "na":
                expected[item].append((ids.index(theirs[field]) + 1, ids.index(ours[field]) + 1))
    # A moderation sent back for amendment (the latest return of its audit) is not counted.
    _moderation(store, "2026-12-008", datetime(2026, 12, 28, tzinfo=UTC), "needs_amendment", {"overall.grade": "good"})
    expected = {item: pairs[:-1] for item, pairs in expected.items()}

    figures, changed = moderation_section_data(store, config, ["2026-10", "2026-11", "2026-12"])
    assert figures.audits == 8
    for item, pairs in expected.items():
        got = figures.pooled[item]
        assert got.n == len(pairs), item
        assert got.exact == sum(a == b for a, b in pairs), item
        assert got.within_one == sum(abs(a - b) <= 1 for a, b in pairs), item
        assert got.alpha is None  # fewer than ten audits: counts only, and a note that says so
        assert got.note.startswith("Too few moderated audits"), got.note
    assert figures.pooled["overall"].n == 8 and figures.pooled["reviews"].n == 6
    # With the threshold lowered, alpha is the coincidence matrix's.
    from auditdocs.moderation.agreement import agreement
    from auditdocs.moderation.results import moderated_between, pairs_of

    pairs = [p for p in pairs_of(config, moderated_between(store, "2026-10", "2026-12")) if p.item == "overall"]
    assert sorted((p.auditor_rank, p.moderator_rank) for p in pairs) == sorted(expected["overall"])
    assert agreement(pairs, min_n=2).alpha == pytest.approx(scratch_alpha([list(u) for u in expected["overall"]]))
    # The grades of record the moderators changed: every overall grade that differs.
    assert sorted(c.audit_id for c in changed) == [
        f"{m}-{n:03d}" for n, (m, _a, _r, offset) in enumerate(design[:-1]) if offset
    ]
    assert next(c for c in changed if c.audit_id == "2026-10-001").record_grade == "Inadequate"
