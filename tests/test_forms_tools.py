"""What the forms say (issue 14): the grades' definitions beside the grades (2.7), each
tool's own words for what it is about, the improvement plan's own intro, and a re-audit
naming the audit it repeats (2.12).  All read-only text: no field changes."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from lxml import etree

from auditdocs.allocation.record import Allocation, worker_reference
from auditdocs.errors import TemplateError
from auditdocs.forms.generate import FormFactory
from auditdocs.forms.layout import Key, Layout, PreviousAudit, layout_for, layout_source, reaudit_note
from auditdocs.forms.parse import parse_bytes
from auditdocs.ooxml.body import Binding, manifest_xml, render_body
from auditdocs.ooxml.defaults import build
from auditdocs.ooxml.fill import fill_form
from auditdocs.ooxml.template import PreparedDocument
from auditdocs.sample.answers import complete_values, discussed_plan
from auditdocs.workspace import Workspace

from .xmledit import edit_document, q


def _root(data: bytes) -> etree._Element:
    return etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))


def _text(el: etree._Element) -> str:
    return "".join(t.text or "" for t in el.iter(q("t")))


def paragraphs(data: bytes) -> list[str]:
    """Every paragraph's text, in order (table cells included)."""
    return [text for p in _root(data).iter(q("p")) if (text := _text(p))]


def tables(data: bytes) -> list[list[list[str]]]:
    """Every top-level table as rows of cell texts."""
    body = _root(data).find(q("body"))
    return [
        [[_text(tc) for tc in tr.findall(q("tc"))] for tr in tbl.findall(q("tr"))] for tbl in body.findall(q("tbl"))
    ]


def details(data: bytes) -> dict[str, str]:
    """The prefilled details table: label → value (its header row left out)."""
    return {row[0]: row[1] for row in tables(data)[0] if row[0] != "Detail"}


@pytest.fixture(scope="module")
def case_alloc(allocations: list[Allocation]) -> Allocation:
    return allocations[0]


def worker_alloc(alloc: Allocation, tool: str) -> Allocation:
    """An audit about a worker, as ``allocate`` makes it: a W- reference and no child id."""
    return replace(alloc, tool=tool, case_reference=worker_reference(alloc.worker), child_id="")


# --- grade definitions (2.7) ------------------------------------------------------------


def test_the_grades_and_their_definitions_are_a_key_before_the_domains(factory: FormFactory, case_alloc, workspace):
    scale = workspace.config.settings.grading
    data = factory.render(case_alloc, "audit")
    key = tables(data)[1]  # after the prefilled details, before the first domain's criteria
    expected = [[g.label, g.definition] for g in sorted(scale.grades, key=lambda g: -g.rank)]
    # the case file audit has domains that may be Not applicable: it is in the key too
    assert key == [["Grade", "What it means"], *expected, [scale.not_applicable.label, scale.not_applicable.definition]]
    text = paragraphs(data)
    first_domain = workspace.config.tool("case_file_audit").domains[0].title
    assert text.index("Grades") < text.index("What it means") < text.index(f"1. {first_domain}")


def test_the_overall_judgement_has_the_grades_beside_it(factory: FormFactory, case_alloc, workspace):
    scale = workspace.config.settings.grading
    text = paragraphs(factory.render(case_alloc, "audit"))
    heading = text.index("Overall judgement")
    key = text[heading + 1]
    for grade in scale.grades:
        assert f"{grade.label}: {grade.definition}" in key
    assert scale.not_applicable.definition not in key  # the overall grade cannot be Not applicable
    assert text[heading + 2 : heading + 5] == ["Question", "Your answer", "Overall grade"]  # a header row


def test_a_domain_without_not_applicable_has_no_not_applicable_in_its_key(factory: FormFactory, case_alloc, workspace):
    tool = workspace.config.tool("supervision_audit")
    assert not any(d.allow_na for d in tool.domains)
    key = tables(factory.render(worker_alloc(case_alloc, tool.id), "audit"))[1]
    assert key[0] == ["Grade", "What it means"] and len(key) == 1 + len(workspace.config.settings.grading.grades)
    assert workspace.config.settings.grading.not_applicable.label not in [row[0] for row in key]


def test_the_plan_document_has_no_grade_key(factory: FormFactory, case_alloc):
    text = paragraphs(factory.render(case_alloc, "plan"))
    assert "What it means" not in text and "Grades" not in text


def test_the_key_is_not_a_field_and_changes_no_field_id(workspace):
    """Forms in flight stay valid: the key adds text, not fields, so the signed field
    list of every tool and kind is the same without it."""
    for tool in workspace.config.tools.values():
        for kind in ("audit", "plan"):
            layout = layout_for(workspace.config, tool, kind)
            without = Layout([b for b in layout.blocks if not isinstance(b, Key)])
            assert without.digest == layout.digest
            assert [f.id for f in without.fields] == [f.id for f in layout.fields]


def _unwrap_controls(root: etree._Element) -> None:
    """Every content control replaced by its content: a form converted from .doc or .odt."""
    for sdt in reversed(list(root.iter(q("sdt")))):
        content = sdt.find(q("sdtContent"))
        parent = sdt.getparent()
        at = parent.index(sdt)
        for n, child in enumerate(list(content) if content is not None else []):
            parent.insert(at + n, child)
        parent.remove(sdt)


def _form_without_key(factory: FormFactory, alloc: Allocation, workspace: Workspace) -> bytes:
    """An audit form as issued before the grades' key: the same fields and signed field
    list, no key table."""
    config = workspace.config
    layout = layout_for(config, config.tool(alloc.tool), "audit")
    old = Layout([b for b in layout.blocks if not isinstance(b, Key)])
    form = factory.form(alloc.tool, "audit")
    binding = Binding("{11111111-2222-3333-4444-555555555555}")
    document = PreparedDocument(
        workspace.templates_dir / "audit_tool.docx",
        body=lambda first: render_body(old, binding, first)[0],
        custom_xml=manifest_xml(old),
        store_item_id=binding.store_item_id,
    )
    return document.render(factory.context(alloc), form.identity(alloc.audit_id).properties(factory.key))


FILLED = {
    "domain.assessment.grade": "inadequate",
    "overall.summary": "The plan drifted for months.",
    "plan.1.action": "Hold a strategy discussion with the school this month",
    "completion.date": date(2026, 11, 20),
}


@pytest.mark.parametrize("issued", ["before the key", "with the key"])
def test_a_form_whose_controls_were_lost_is_read_from_its_cells_with_or_without_the_key(
    factory: FormFactory, case_alloc, workspace, key, issued
):
    """The parser finds fields in their table cells by the shapes of the layout's tables;
    the key is not one of them, so forms issued before it and after it are both read."""
    if issued == "before the key":
        blank = _form_without_key(factory, case_alloc, workspace)
    else:
        blank = factory.render(case_alloc, "audit")
    converted = edit_document(fill_form(blank, FILLED), _unwrap_controls)
    result = parse_bytes(converted, "x.docx", key, layouts=layout_source(workspace.config))
    assert result.status != "rejected", result.issues
    assert {k: result.fields[k] for k in FILLED} == {**FILLED, "completion.date": "2026-11-20"}
    assert "read from its place in the table" in " ".join(i.message for i in result.issues)


# --- each tool speaks its own language --------------------------------------------------


@pytest.mark.parametrize("tool", ["supervision_audit", "staff_observation"])
@pytest.mark.parametrize("kind", ["audit", "plan"])
def test_an_audit_about_a_worker_has_no_case_reference_or_child_id(factory: FormFactory, case_alloc, tool, kind):
    alloc = worker_alloc(case_alloc, tool)
    data = factory.render(alloc, kind)
    shown = details(data)
    assert shown["Worker reference"] == alloc.case_reference
    assert not any("Case" in label or "Child" in label for label in shown)
    text = paragraphs(data)
    assert "Case details" not in text and "Case reference" not in text and "Child ID" not in text
    assert text[2] == ("Practitioner details" if tool == "staff_observation" else "Worker details")
    assert shown["Practitioner observed" if tool == "staff_observation" else "Worker"] == alloc.worker


def test_a_staff_observation_is_worded_as_an_observation(factory: FormFactory, case_alloc):
    data = factory.render(worker_alloc(case_alloc, "staff_observation"), "audit")
    shown = details(data)
    assert shown["Observed by"] == case_alloc.auditor and "Period covered" in shown
    text = paragraphs(data)
    assert any(p.endswith("tick what you saw during the observation.") for p in text)
    assert "Observation completed on" in text and "Audit completed on" not in text
    assert "Summary of what you observed and the quality of practice" in text


def test_a_case_discussion_is_worded_as_a_discussion(factory: FormFactory, case_alloc):
    data = factory.render(replace(case_alloc, tool="case_discussion"), "audit")
    shown = details(data)
    assert shown["Case reference"] == case_alloc.case_reference and shown["Child ID"] == case_alloc.child_id
    assert shown["Practitioner"] == case_alloc.worker and shown["Discussion led by"] == case_alloc.auditor
    assert "Period discussed" in shown and "Auditor" not in shown
    text = paragraphs(data)
    assert any(p.endswith("tick what the practitioner showed in the discussion.") for p in text)
    assert "Discussion recorded on" in text


def test_a_case_file_audit_keeps_its_words(factory: FormFactory, case_alloc):
    shown = details(factory.render(case_alloc, "audit"))
    assert list(shown) == [
        "Case reference", "Child ID", "Team", "Allocated worker", "Team manager", "Auditor", "Audit period",
        "Return by", "Audit ID",
    ]  # fmt: skip
    assert shown["Child ID"] == case_alloc.child_id


def test_a_case_without_a_child_id_has_no_blank_child_id_row(factory: FormFactory, case_alloc):
    assert "Child ID" not in details(factory.render(replace(case_alloc, child_id=""), "audit"))


@pytest.mark.parametrize("tool", ["case_file_audit", "supervision_audit", "staff_observation", "case_discussion"])
def test_the_improvement_plan_has_its_own_intro(factory: FormFactory, case_alloc, workspace, tool):
    """The plan document has no grades or tick boxes: not the audit's intro ("Grade each
    domain...") nor its instructions ("choose grades from the lists...")."""
    alloc = worker_alloc(case_alloc, tool) if workspace.config.tool(tool).subject == "worker" else case_alloc
    text = paragraphs(factory.render(replace(alloc, tool=tool), "plan"))
    intro = workspace.config.tool(tool).intro
    assert intro not in text
    assert not any("choose grades" in p or "tick" in p for p in text)
    assert text[1].startswith(("The improvement plan", "The shared action plan"))
    assert "SMART" in text[1] and "return this plan to the Quality Assurance team" in text[1]
    assert any(p.startswith("The details above are filled in for you and locked.") for p in text)


def test_the_plan_intro_gives_the_configured_discussion_deadlines(factory: FormFactory, case_alloc):
    intro = paragraphs(factory.render(case_alloc, "plan"))[1]
    assert "within 5 working days (Inadequate) or 10 (Requires Improvement, Good) of the audit's acceptance" in intro


@pytest.mark.parametrize("tool", ["supervision_audit", "staff_observation", "case_discussion"])
def test_a_form_in_its_tools_own_words_parses_back(factory: FormFactory, case_alloc, parse, tool):
    data = factory.render(worker_alloc(case_alloc, tool), "audit")
    result = parse(data)
    assert result.status == "ok" and result.identity.tool == tool


# --- re-audits name the audit they repeat (2.12) ----------------------------------------

PREVIOUS_ID = "2026-10-004"


def _previous(case_alloc: Allocation, with_plan: bool) -> PreviousAudit:
    values = {k: v.isoformat() if isinstance(v, date) else v for k, v in complete_values().items()}
    values["overall.grade"] = "inadequate"
    plan = discussed_plan(date(2026, 11, 27)) if with_plan else {}
    plan = {k: v.isoformat() if isinstance(v, date) else v for k, v in plan.items()}
    return PreviousAudit(
        replace(case_alloc, audit_id=PREVIOUS_ID, month="2026-10", auditor="Sam Previous"), values, plan
    )


@pytest.fixture(scope="module")
def reaudit(case_alloc: Allocation) -> Allocation:
    return replace(case_alloc, audit_id="2026-11-020", reaudit_of=PREVIOUS_ID)


def _section(text: list[str]) -> list[str]:
    """The re-audit note: from its heading to the instructions."""
    start = text.index("Re-audit")
    end = next(i for i, p in enumerate(text) if p.startswith("The details above are filled in"))
    return text[start + 1 : end]


@pytest.mark.parametrize("kind", ["audit", "plan"])
def test_a_reaudit_names_the_audit_it_repeats_its_grades_and_its_plan(workspace, key, case_alloc, reaudit, kind):
    asked: list[str] = []

    def previous(audit_id: str) -> PreviousAudit | None:
        asked.append(audit_id)
        return _previous(case_alloc, with_plan=False) if audit_id == PREVIOUS_ID else None

    factory = FormFactory(workspace.config, workspace.templates_dir, key, previous=previous)
    note = _section(paragraphs(factory.render(reaudit, kind)))
    assert asked == [PREVIOUS_ID]
    assert note[0] == (
        "This is a re-audit (framework 2.12) of audit 2026-10-004 of October 2026, by Sam Previous, completed on "
        "20/11/2026, graded Inadequate overall. Read it before you start, and say in your evidence what has "
        "changed since."
    )
    assert note[1] == "Its grades"
    assert "Recording and chronology: Inadequate" in note and "Assessments: Requires Improvement" in note
    actions = note[note.index("Actions in its improvement plan") + 1 :]
    assert actions[0] == (
        "Update the assessment with the school's and health visitor's views and an analysis of the history "
        "(Allocated social worker, by 18/12/2026, Assessments)"
    )
    assert len(actions) == 3


def test_a_reaudit_lists_the_actions_agreed_at_the_discussion_when_the_plan_came_back(
    workspace, key, case_alloc, reaudit
):
    factory = FormFactory(
        workspace.config, workspace.templates_dir, key, previous=lambda _id: _previous(case_alloc, with_plan=True)
    )
    note = _section(paragraphs(factory.render(reaudit, "audit")))
    actions = note[note.index("Actions agreed at the practitioner discussion") + 1 :]
    assert actions == [
        "Update the assessment with the school's and health visitor's views and an analysis of the history "
        "(Allocated social worker, by 25/12/2026, Assessments)"
    ]


def test_a_reaudit_of_an_audit_not_known_names_its_id(factory: FormFactory, reaudit):
    """Without the store (or for an audit it does not know) the note names the id alone."""
    note = _section(paragraphs(factory.render(reaudit, "audit")))
    assert note == [
        "This is a re-audit (framework 2.12) of audit 2026-10-004. Read it before you start, and say in your "
        "evidence what has changed since."
    ]


def test_an_audit_that_is_no_reaudit_has_no_note_and_asks_nothing(workspace, key, case_alloc):
    asked: list[str] = []
    factory = FormFactory(workspace.config, workspace.templates_dir, key, previous=lambda i: asked.append(i))
    text = paragraphs(factory.render(case_alloc, "audit"))
    assert "Re-audit" not in text and not any("re-audit" in p for p in text)
    assert asked == []


def test_a_reaudit_form_has_the_same_fields_and_parses(workspace, key, case_alloc, reaudit, parse):
    factory = FormFactory(
        workspace.config, workspace.templates_dir, key, previous=lambda _id: _previous(case_alloc, with_plan=True)
    )
    result = parse(factory.render(reaudit, "audit"))
    assert result.status == "ok" and result.audit_id == reaudit.audit_id


# --- templates --------------------------------------------------------------------------


def _workspace_with(workspace: Workspace, tmp_path: Path, paragraphs_: list[str]) -> Workspace:
    ws = Workspace(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "config").symlink_to(workspace.config_dir)
    doc = Document()
    for text in paragraphs_:
        doc.add_paragraph(text)
    doc.save(str(ws.templates_dir / "audit_tool.docx"))
    build(ws.templates_dir / "improvement_plan.docx", "Plan", "footer", "{{ plan.intro }}", "{{ plan.instructions }}")
    return ws


def test_a_template_using_the_reaudit_note_outside_its_condition_is_reported_before_any_case(
    workspace, key, case_alloc, tmp_path
):
    """A placeholder that only a re-audit fills would fail on the first audit that is not
    one: the template is tried both ways when it is prepared."""
    ws = _workspace_with(workspace, tmp_path, ["{{ reaudit.summary }}", "[[auditdocs:form]]"])
    with pytest.raises(TemplateError, match="unknown placeholder"):
        FormFactory(ws.config, ws.templates_dir, key).form(case_alloc.tool, "audit")


def test_a_misspelt_reaudit_placeholder_is_reported_before_any_case(workspace, key, case_alloc, tmp_path):
    ws = _workspace_with(
        workspace, tmp_path, ["{%p if reaudit %}", "{{ reaudit.sumary }}", "{%p endif %}", "[[auditdocs:form]]"]
    )
    with pytest.raises(TemplateError, match="unknown placeholder"):
        FormFactory(ws.config, ws.templates_dir, key).form(case_alloc.tool, "audit")


def test_a_template_made_before_the_tools_own_words_still_renders(workspace, key, case_alloc, tmp_path, parse):
    """Workspaces keep their templates: one with the old fixed labels and placeholders
    still works (only the new placeholders give the tool's own words)."""
    old = ["{{ tool.intro }}", "Case reference {{ case.reference }}", "Child ID {{ case.child_id }}"]
    ws = _workspace_with(workspace, tmp_path, [*old, "[[auditdocs:form]]"])
    data = FormFactory(ws.config, ws.templates_dir, key).render(case_alloc, "audit")
    assert f"Case reference {case_alloc.case_reference}" in paragraphs(data)
    assert parse(data).status == "ok"


def test_the_shipped_templates_are_the_ones_defaults_builds(tmp_path: Path):
    """templates/ is made by auditdocs.ooxml.defaults: the same document text."""
    from auditdocs.ooxml.defaults import build_all
    from auditdocs.workspace import bundled_root

    build_all(tmp_path)
    for name in ("audit_tool.docx", "improvement_plan.docx"):
        built = zipfile.ZipFile(tmp_path / name).read("word/document.xml")
        shipped = zipfile.ZipFile(bundled_root() / "templates" / name).read("word/document.xml")
        assert built == shipped, name


def test_the_details_table_rows_are_labelled_in_the_template_not_fixed(workspace):
    """The shipped templates label the details through placeholders (each tool's words)."""
    for name in ("audit_tool.docx", "improvement_plan.docx"):
        text = zipfile.ZipFile(workspace.templates_dir / name).read("word/document.xml").decode()
        assert "{{ labels.reference }}" in text and ">Case reference<" not in text
        assert "{%tr if labels.child_id %}" in text


def test_forms_in_each_tools_words_and_reaudits_validate(workspace, key, case_alloc, reaudit, tmp_path: Path):
    """The Open XML SDK validator on the documents the new wording and the re-audit note
    make (the demo's forms are checked in test_outputs)."""
    from .ooxml_check import check_office_files

    factory = FormFactory(
        workspace.config, workspace.templates_dir, key, previous=lambda _id: _previous(case_alloc, with_plan=True)
    )
    cases = [
        (worker_alloc(case_alloc, "supervision_audit"), "audit"),
        (worker_alloc(case_alloc, "staff_observation"), "plan"),
        (replace(case_alloc, tool="case_discussion"), "audit"),
        (reaudit, "audit"),
        (reaudit, "plan"),
    ]
    paths = []
    for n, (alloc, kind) in enumerate(cases):
        path = tmp_path / f"{n} {alloc.tool} {kind}.docx"
        path.write_bytes(factory.render(alloc, kind))
        paths.append(path)
    check_office_files(paths)


@pytest.mark.parametrize(
    ("tool", "summary", "about"),
    [
        ("case_file_audit", "the child's journey and the quality of practice", "this child's file"),
        ("supervision_audit", "what the records show and the quality of practice", "this worker's records"),
        ("staff_observation", "what you observed and the quality of practice", "this observation"),
        ("case_discussion", "what the discussion showed about the child's journey", "this case discussion"),
    ],
)
def test_the_feedback_on_a_return_speaks_its_tools_language(workspace, tool, summary, about):
    from auditdocs.returns.validate import validate

    config = workspace.config
    domain = config.tool(tool).domains[0]
    fields = {f"domain.{domain.id}.grade": "good", f"domain.{domain.id}.evidence": "Seen and good."}
    findings = validate(fields, config.tool(tool), config.settings, audit_date=date(2026, 11, 20))
    messages = {f.field: f.message for f in findings}
    assert f"summarise {summary}" in messages["overall.summary"]
    assert f"saying what you found in {about} and what it means." in messages[f"domain.{domain.id}.evidence"]


def test_the_store_gives_a_reaudit_the_audit_it_repeats(tmp_path: Path):
    """What generate() passes: FormFactory.previous_from(store), with a real return ingested."""
    from datetime import UTC, datetime

    from auditdocs.returns.ingest import ingest

    from .conftest import blank_form, month_workspace

    ws = month_workspace(tmp_path / "qa")
    values = {**complete_values(), "overall.grade": "inadequate"}
    returned = tmp_path / "returned.docx"
    returned.write_bytes(fill_form(blank_form(ws, "2026-11-001"), values))
    ingest(ws, [returned], received_at=datetime(2026, 11, 24, 10, tzinfo=UTC))
    store = ws.store()
    first, _state = store.allocation("2026-11-001")
    again = replace(first, audit_id="2026-12-001", month="2026-12", reaudit_of="2026-11-001", auditor="A Senior")
    factory = FormFactory(ws.config, ws.templates_dir, ws.key(), previous=FormFactory.previous_from(store))
    note = _section(paragraphs(factory.render(again, "audit")))
    assert note[0].startswith(
        f"This is a re-audit (framework 2.12) of audit 2026-11-001 of November 2026, by {first.auditor}, "
        "completed on 20/11/2026, graded Inadequate overall."
    )
    assert "Recording and chronology: Inadequate" in note
    assert note[-1] == (
        "Bring the chronology up to date and write a case summary and genogram "
        "(Allocated social worker, by 04/12/2026, Recording and chronology)"
    )
    lookup = FormFactory.previous_from(store)
    assert lookup("no-such-audit") is None
    unreturned = lookup("2026-11-002")
    assert unreturned is not None and unreturned.audit == {} and unreturned.plan == {}
    assert "not returned" in reaudit_note(ws.config, "2026-11-002", unreturned)["summary"]
