"""Generating forms: valid packages, unique ids, identity, every character of case data."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from auditdocs.allocation.record import Allocation
from auditdocs.errors import TemplateError
from auditdocs.forms.generate import FormFactory, generate
from auditdocs.forms.identity import Identity
from auditdocs.forms.layout import layout_for
from auditdocs.ooxml import namespaces as ns
from auditdocs.ooxml.defaults import build
from auditdocs.ooxml.package import Package
from auditdocs.ooxml.reader import custom_properties, read_controls
from auditdocs.workspace import Workspace

W = ns.W


def document_root(data: bytes) -> etree._Element:
    return etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))


def case_details(data: bytes) -> dict[str, str]:
    return {
        c.tag: c.text for c in read_controls(document_root(data)) if c.tag and c.tag.startswith(("case.", "audit.id"))
    }


def test_generate_writes_an_audit_tool_and_a_plan_per_allocation(generated: list[Path], allocations: list[Allocation]):
    assert len(generated) == 2 * len(allocations)
    for alloc in allocations:
        folder = generated[0].parents[1] / alloc.auditor
        names = sorted(p.name for p in folder.iterdir() if p.name.startswith(alloc.audit_id))
        assert names == [
            f"{alloc.audit_id} {alloc.case_reference} audit tool.docx",
            f"{alloc.audit_id} {alloc.case_reference} improvement plan.docx",
        ]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in generated)


def test_every_generated_package_is_a_valid_zip_with_well_formed_parts(generated: list[Path]):
    for path in generated:
        z = zipfile.ZipFile(path)
        assert z.testzip() is None
        assert z.namelist()[0] == "[Content_Types].xml"
        for name in z.namelist():
            if name.endswith((".xml", ".rels")):
                etree.fromstring(z.read(name))


def test_content_control_ids_are_unique_and_tags_match_the_manifest(generated: list[Path], workspace: Workspace):
    for path in generated:
        data = path.read_bytes()
        root = document_root(data)
        ids = [el.get(f"{{{W}}}val") for el in root.iter(f"{{{W}}}id") if el.getparent().tag == f"{{{W}}}sdtPr"]
        assert len(ids) == len(set(ids)) > 100 or "plan" in path.name
        assert len(ids) == len(set(ids))
        kind = "plan" if "improvement plan" in path.name else "audit"
        layout = layout_for(workspace.config, workspace.config.tool("case_file_audit"), kind)
        tags = [c.tag for c in read_controls(root) if c.tag and not c.tag.startswith(("case.", "auditor.", "audit."))]
        assert tags == [f.id for f in layout.fields]


def test_word_namespaces_are_declared_and_ignorable(audit_form: bytes):
    root = document_root(audit_form)
    assert root.nsmap["w14"] == ns.W14
    assert "w14" in root.get(f"{{{ns.MC}}}Ignorable", "").split()


def test_field_kinds_are_the_controls_word_expects(audit_form: bytes):
    controls = {c.tag: c for c in read_controls(document_root(audit_form))}
    grade = controls["domain.assessment.grade"]
    assert grade.kind == "dropdown"
    assert grade.items == [
        ("Outstanding", "outstanding"),
        ("Good", "good"),
        ("Requires Improvement", "requires_improvement"),
        ("Inadequate", "inadequate"),
    ]
    assert ("Not applicable", "na") in controls["domain.visits.grade"].items  # visits allow N/A
    assert controls["domain.assessment.evidence"].kind == "richtext"
    assert controls["domain.assessment.criteria.chronology"].kind == "checkbox"
    assert controls["plan.1.due"].kind == "date"
    assert controls["concern.immediate"].kind == "checkbox"
    assert all(
        c.showing_placeholder
        for t, c in controls.items()
        if c.kind in ("dropdown", "date", "richtext") and not t.startswith(("case.", "audit", "auditor"))
    )


def test_prefilled_case_details_are_locked_and_fields_cannot_be_deleted(audit_form: bytes):
    """Case details cannot be edited; every fillable control can be edited but not deleted
    (typing over a selected cell would otherwise remove it); the document is not protected,
    so spelling, comments and reading the guidance stay possible."""
    root = document_root(audit_form)
    for sdt in root.iter(f"{{{W}}}sdt"):
        tag = sdt.find(f"{{{W}}}sdtPr/{{{W}}}tag").get(f"{{{W}}}val")
        lock = sdt.find(f"{{{W}}}sdtPr/{{{W}}}lock")
        assert lock is not None, tag
        locked = "sdtContentLocked" if tag.startswith(("case.", "auditor.", "audit.")) else "sdtLocked"
        assert lock.get(f"{{{W}}}val") == locked, tag
    settings = zipfile.ZipFile(io.BytesIO(audit_form)).read("word/settings.xml")
    assert b"documentProtection" not in settings


def test_identity_is_stored_and_signed(
    audit_form: bytes, key: bytes, allocations: list[Allocation], workspace: Workspace
):
    props = {k.removeprefix("auditdocs."): v for k, v in custom_properties(Package(audit_form)).items()}
    identity, code = Identity.from_properties(props)
    assert identity.audit_id == allocations[0].audit_id
    assert identity.tool == "case_file_audit" and identity.document == "audit"
    assert identity.config_version == workspace.config.version("case_file_audit")
    identity.verify(key, code)  # raises if wrong


def test_case_data_keeps_every_character(factory: FormFactory, allocations: list[Allocation]):
    alloc = replace(
        allocations[0],
        case_reference="Smith & Jones <QA>",
        team="Team \"A\" & 'B' </w:t> {{ not_a_placeholder }} {% if %}",
        worker="Zoë Ó'Brien-Łukasz 李",
        team_manager="Line one\nLine two\twith tab",
        child_id="C\x0b1\x01",
    )
    details = case_details(factory.render(alloc, "audit"))
    assert details["case.reference"] == "Smith & Jones <QA>"
    assert details["case.team"] == "Team \"A\" & 'B' </w:t> {{ not_a_placeholder }} {% if %}"
    assert details["case.worker"] == "Zoë Ó'Brien-Łukasz 李"
    assert details["case.team_manager"] == "Line one\nLine two\twith tab"
    assert details["case.child_id"] == "C\n1"  # vertical tab is a line break; \x01 cannot be in XML


xml_text = st.text(
    st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\x00\x01\x02\x03\x04\x05\x06\x07\x08"
        "\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\r\ufffe\uffff",
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(reference=xml_text, worker=xml_text)
def test_any_text_in_case_data_survives(
    factory: FormFactory, allocations: list[Allocation], reference: str, worker: str
):
    details = case_details(factory.render(replace(allocations[0], case_reference=reference, worker=worker), "audit"))
    assert details["case.reference"] == reference
    assert details["case.worker"] == worker


def test_per_template_work_is_done_once_per_tool_type(
    workspace: Workspace, key: bytes, allocations: list[Allocation], monkeypatch: pytest.MonkeyPatch
):
    import docxtpl

    calls = []
    original = docxtpl.DocxTemplate.patch_xml
    monkeypatch.setattr(docxtpl.DocxTemplate, "patch_xml", lambda self, xml: calls.append(1) or original(self, xml))
    factory = FormFactory(workspace.config, workspace.templates_dir, key)
    factory.render(allocations[0], "audit")
    after_one = len(calls)
    for n in range(50):
        factory.render(replace(allocations[0], audit_id=f"X-{n}"), "audit")
    assert after_one > 0 and len(calls) == after_one


@pytest.mark.parametrize(
    "tool", ["case_file_audit", "thematic_audit", "supervision_audit", "staff_observation", "case_discussion"]
)
def test_every_tool_type_generates_and_parses_back_empty(
    factory: FormFactory, allocations: list[Allocation], parse, tool: str
):
    for kind in ("audit", "plan"):
        result = parse(factory.render(replace(allocations[0], tool=tool), kind))
        assert result.status == "ok", result.issues
        assert result.identity is not None and result.identity.tool == tool and result.identity.document == kind
        assert set(result.fields.values()) <= {None, False}
        assert len(result.fields) == len(layout_for(factory.config, factory.config.tool(tool), kind).fields)


def _template_workspace(workspace: Workspace, tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "config").symlink_to(workspace.config_dir)
    return ws


def test_a_restyled_template_with_split_placeholders_and_its_own_properties_works(
    workspace: Workspace, key: bytes, allocations: list[Allocation], tmp_path: Path, parse
):
    ws = _template_workspace(workspace, tmp_path)
    doc = Document()
    p = doc.add_paragraph()
    for piece in ("Case {{ case.", "refer", "ence }} for ", "{{ auditor.name }}"):  # Word splits runs like this
        p.add_run(piece).bold = True
    doc.add_paragraph("[[auditdocs:form]]")
    doc.core_properties.title = "Our audit tool"
    doc.save(str(ws.templates_dir / "audit_tool.docx"))
    build(ws.templates_dir / "improvement_plan.docx", "Plan", "footer")
    data = FormFactory(ws.config, ws.templates_dir, key).render(allocations[0], "audit")
    text = "".join(document_root(data).itertext())
    assert f"Case {allocations[0].case_reference} for {allocations[0].auditor}" in text
    assert parse(data).status == "ok"


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        (["No marker here"], "needs exactly one paragraph reading [[auditdocs:form]]"),
        (["[[auditdocs:form]]", "[[auditdocs:form]]"], "(found 2)"),
        (["{{ case.nonexistent }}", "[[auditdocs:form]]"], "unknown placeholder"),
        (["{{ case.reference", "[[auditdocs:form]]"], "placeholder syntax error"),
    ],
)
def test_template_mistakes_are_reported_with_the_template_name(
    workspace: Workspace, key: bytes, allocations: list[Allocation], tmp_path: Path, paragraphs, expected
):
    ws = _template_workspace(workspace, tmp_path)
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    doc.save(str(ws.templates_dir / "audit_tool.docx"))
    with pytest.raises(TemplateError) as err:
        generate(ws, allocations[:1])
    assert str(ws.templates_dir / "audit_tool.docx") in str(err.value)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "output").exists()  # nothing half-written


def test_a_template_that_is_not_a_word_file_is_reported(
    workspace: Workspace, allocations: list[Allocation], tmp_path: Path
):
    ws = _template_workspace(workspace, tmp_path)
    (ws.templates_dir / "audit_tool.docx").write_bytes(b"not a zip")
    with pytest.raises(TemplateError, match=r"audit_tool\.docx: not a usable Word template"):
        generate(ws, allocations[:1])
