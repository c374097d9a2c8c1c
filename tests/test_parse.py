"""Parsing returned forms exactly: what Word writes, what careless users do, what we refuse."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from auditdocs.dates import parse_uk_date
from auditdocs.forms.identity import Identity
from auditdocs.forms.parse import parse_bytes
from auditdocs.ooxml import namespaces as ns
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.ooxml.package import OLE_MAGIC
from auditdocs.ooxml.reader import read_control, read_controls
from tests.xmledit import control, edit_document, edit_part, q, rezip

W14 = ns.W14

TYPED = {
    "domain.assessment.grade": "requires_improvement",
    "domain.assessment.evidence": "First paragraph: Smith & Jones <QA> said \"yes\" and 'no'.\n"
    "\tSecond paragraph after a tab.\nThird — with accents: Zoë, Łukasz.",
    "domain.assessment.criteria.chronology": True,
    "domain.assessment.criteria.parent_views": False,
    "domain.visits.grade": "na",
    "domain.visits.evidence": "No visits were due in the period.",
    "overall.grade": "requires_improvement",
    "overall.summary": "Short summary.",
    "concern.immediate": True,
    "concern.notified": date(2026, 11, 20),
    "plan.1.action": "Complete a chronology\nand share it with the family",
    "plan.1.owner": "Team manager (North)",
    "plan.1.due": date(2026, 12, 18),
    "plan.1.outcome": "Chronology on file & shared",
    "plan.1.domain": "assessment",
}


def expected(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def messages(result, field_id=None) -> list[str]:
    return [i.message for i in result.issues if field_id is None or i.field == field_id]


# --- what Word writes -----------------------------------------------------------------


def test_a_form_filled_in_word_reads_back_exactly(audit_form, parse):
    filled = fill_form(audit_form, TYPED, WordStyle(seed=7))
    body = zipfile.ZipFile(io.BytesIO(filled)).read("word/document.xml")
    assert body.count(b"w:rsidR=") > 20 and b"w:proofErr" in body and b"w:bookmarkStart" in body
    result = parse(filled)
    assert result.status == "ok" and result.issues == []
    assert {k: result.fields[k] for k in TYPED} == expected(TYPED)
    assert all(result.fields[k] in (None, False) for k in result.fields if k not in TYPED)


def test_bold_runs_and_several_paragraphs_do_not_change_the_text(audit_form, parse):
    filled = fill_form(audit_form, TYPED, WordStyle(seed=3))
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(filled)).read("word/document.xml"))
    evidence = control(root, "domain.assessment.evidence")
    assert len(evidence.findall(f"{q('sdtContent')}/{q('p')}")) == 3
    assert evidence.find(f".//{q('b')}") is not None
    assert parse(filled).fields["domain.assessment.evidence"] == TYPED["domain.assessment.evidence"]


def test_an_unfilled_form_has_no_values(audit_form, parse):
    result = parse(audit_form)
    assert result.status == "ok"
    assert set(result.fields.values()) <= {None, False}


def test_tracked_changes_read_as_accepted_with_a_warning(audit_form, parse):
    result = parse(fill_form(audit_form, TYPED, WordStyle(tracked=True)))
    assert {k: result.fields[k] for k in TYPED} == expected(TYPED)
    assert "unaccepted tracked changes" in " ".join(messages(result, "domain.assessment.evidence"))
    assert result.status == "ok"  # a warning, not an error


def test_a_comment_inside_a_field_is_not_part_of_its_value(audit_form, parse):
    filled = fill_form(audit_form, TYPED, WordStyle(comment="Reviewer: please expand this"))
    assert b"please expand" in zipfile.ZipFile(io.BytesIO(filled)).read("word/comments.xml")
    result = parse(filled)
    assert {k: result.fields[k] for k in TYPED} == expected(TYPED)
    assert not any("expand" in str(v) for v in result.fields.values())


@pytest.mark.parametrize(
    "style",
    [WordStyle(seed=5), WordStyle(seed=6, tracked=True), WordStyle(seed=7, comment="Reviewer: expand")],
    ids=["typed", "tracked", "commented"],
)
def test_the_quick_reading_of_plain_fields_agrees_with_the_full_reading(audit_form, style):
    """Fields holding only paragraphs and text are read with a narrower scan; every field,
    plain or not (tabs, breaks, tracked changes), reads as the element-by-element reading does."""
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(fill_form(audit_form, TYPED, style))).read("word/document.xml"))
    quick = read_controls(root)
    assert quick == [read_control(sdt) for sdt in root.iter(q("sdt"))]
    assert "\tSecond paragraph" in next(c.text for c in quick if c.tag == "domain.assessment.evidence")


@pytest.mark.parametrize(("on", "off"), [("1", "0"), ("true", "false"), ("on", "off"), ("", "0"), ("True", "FALSE")])
def test_checkboxes_in_every_way_word_writes_them(audit_form, parse, on, off):
    values = {"domain.assessment.criteria.chronology": True, "domain.assessment.criteria.parent_views": False}
    result = parse(fill_form(audit_form, values, WordStyle(checkbox_val=on, unchecked_val=off)))
    assert result.fields["domain.assessment.criteria.chronology"] is True
    assert result.fields["domain.assessment.criteria.parent_views"] is False
    assert result.issues == []


def test_a_checkbox_without_a_checked_element_is_unchecked(audit_form, parse):
    def drop_checked(root):
        box = control(root, "concern.immediate").find(f".//{{{W14}}}checkbox")
        box.remove(box.find(f"{{{W14}}}checked"))

    assert parse(edit_document(audit_form, drop_checked)).fields["concern.immediate"] is False


def test_a_checkbox_with_a_nonsense_state_is_an_error(audit_form, parse):
    result = parse(fill_form(audit_form, {"concern.immediate": True}, WordStyle(checkbox_val="maybe")))
    assert result.fields["concern.immediate"] is None
    assert result.status == "invalid"
    assert "'maybe' is not on or off" in messages(result, "concern.immediate")[0]


def _show(field_id: str, text: str):
    def edit(root):
        sdt = control(root, field_id)
        pr = sdt.find(q("sdtPr"))
        for el in pr.findall(q("showingPlcHdr")):
            pr.remove(el)
        ts = list(sdt.iter(q("t")))
        ts[0].text = text
        for t in ts[1:]:
            t.text = ""

    return edit


@pytest.mark.parametrize("shown", ["good", " Good ", "GOOD"])
def test_a_drop_down_whose_text_almost_matches_reads_with_a_warning(audit_form, parse, shown):
    result = parse(edit_document(audit_form, _show("domain.plans.grade", shown)))
    assert result.fields["domain.plans.grade"] == "good"
    assert "read as the choice 'Good'" in messages(result, "domain.plans.grade")[0]


def test_a_drop_down_whose_text_matches_no_item_is_an_error(audit_form, parse):
    result = parse(edit_document(audit_form, _show("domain.plans.grade", "Excellent")))
    assert result.fields["domain.plans.grade"] is None
    assert result.status == "invalid"
    assert "'Excellent', which is not one of the choices" in messages(result, "domain.plans.grade")[0]


def test_a_drop_down_value_is_the_item_value_not_its_display_text(audit_form, parse):
    result = parse(fill_form(audit_form, {"overall.grade": "requires_improvement"}))
    assert result.fields["overall.grade"] == "requires_improvement"


def test_dates_from_the_picker_and_typed_without_it(audit_form, parse):
    with_picker = parse(fill_form(audit_form, {"plan.1.due": date(2026, 12, 18)}, WordStyle(full_date=True)))
    without = parse(fill_form(audit_form, {"plan.1.due": date(2026, 12, 18)}, WordStyle(full_date=False)))
    assert with_picker.fields["plan.1.due"] == without.fields["plan.1.due"] == "2026-12-18"
    assert with_picker.issues == without.issues == []


@pytest.mark.parametrize(
    "typed",
    [
        "18/12/2026",
        "18/12/26",
        "18 December 2026",
        "18th Dec 2026",
        "2026-12-18",
        "18.12.2026",
        "Friday, 18 December 2026",
    ],
)
def test_dates_typed_in_uk_formats(audit_form, parse, typed):
    result = parse(fill_form(audit_form, {"plan.1.due": typed}))
    assert result.fields["plan.1.due"] == "2026-12-18"
    assert result.issues == []


def test_a_typed_date_that_differs_from_the_picker_uses_the_date_shown_and_warns(audit_form, parse):
    filled = fill_form(audit_form, {"plan.1.due": date(2026, 12, 18)})
    filled = edit_document(filled, _show("plan.1.due", "19/12/2026"))
    result = parse(filled)
    assert result.fields["plan.1.due"] == "2026-12-19"
    assert "date picker holds 2026-12-18" in messages(result, "plan.1.due")[0]


def test_text_that_is_not_a_date(audit_form, parse):
    result = parse(fill_form(audit_form, {"plan.1.due": "next week"}))
    assert result.fields["plan.1.due"] is None and result.status == "invalid"
    assert "'next week' is not a date" in messages(result, "plan.1.due")[0]
    picked = parse(
        edit_document(fill_form(audit_form, {"plan.1.due": date(2026, 12, 18)}), _show("plan.1.due", "soon"))
    )
    assert picked.fields["plan.1.due"] == "2026-12-18"
    assert "used the date picker's 2026-12-18" in messages(picked, "plan.1.due")[0]


def test_us_dates_are_not_guessed():
    assert parse_uk_date("12/18/2026") is None


def test_placeholder_text_without_the_placeholder_flag_is_empty(audit_form, parse):
    """LibreOffice drops w:showingPlcHdr; the placeholder text must still read as empty."""

    def drop_flags(root):
        for el in list(root.iter(q("showingPlcHdr"))):
            el.getparent().remove(el)

    result = parse(edit_document(audit_form, drop_flags))
    assert result.status == "ok" and set(result.fields.values()) <= {None, False}


def test_text_typed_after_a_field_in_the_same_box_is_kept_with_a_warning(audit_form, parse):
    def add_paragraph(root):
        sdt = control(root, "overall.summary")
        p = etree.SubElement(sdt.getparent(), q("p"))
        etree.SubElement(etree.SubElement(p, q("r")), q("t")).text = "Typed below the field."

    result = parse(edit_document(fill_form(audit_form, {"overall.summary": "In the field."}), add_paragraph))
    assert result.fields["overall.summary"] == "In the field.\nTyped below the field."
    assert "after the field in the same box" in messages(result, "overall.summary")[0]


def test_a_deleted_field_is_an_error(audit_form, parse):
    def delete(root):
        sdt = control(root, "domain.plans.grade")
        sdt.getparent().remove(sdt)

    result = parse(edit_document(audit_form, delete))
    assert result.status == "invalid"
    assert result.fields["domain.plans.grade"] is None
    assert "was deleted from the form" in messages(result, "domain.plans.grade")[0]


@pytest.mark.parametrize(("shown", "state"), [("\u2612", "0"), ("\u2610", "1")])
def test_a_checkbox_whose_symbol_and_state_disagree_is_an_error(audit_form, parse, shown, state):
    """A box can show ☒ while Word holds it unticked (or the reverse): neither reading is
    guessed (issue 13: the immediate concern was stored as "no concern")."""

    def disagree(root):
        sdt = control(root, "concern.immediate")
        sdt.find(f".//{{{W14}}}checked").set(f"{{{W14}}}val", state)
        for t in sdt.iter(q("t")):
            t.text = shown

    result = parse(edit_document(audit_form, disagree))
    assert result.fields["concern.immediate"] is None
    assert result.status == "invalid"
    assert f"shows {shown} but is held as" in messages(result, "concern.immediate")[0]


def test_a_field_typed_over_in_place_is_read_from_its_cell(audit_form, parse):
    """Selecting a whole grey field and typing replaces the control with plain text (Word
    and LibreOffice both): the text is read from the field's place in the table, and the
    auditor is asked to confirm it."""

    def overtype(root):
        sdt = control(root, "overall.good_practice")
        for p in sdt.find(q("sdtContent")):
            for t in p.iter(q("t")):
                t.text = "Typed over the grey box."
            sdt.addprevious(p)
        sdt.getparent().remove(sdt)

    result = parse(edit_document(audit_form, overtype))
    assert result.fields["overall.good_practice"] == "Typed over the grey box."
    [issue] = [i for i in result.issues if i.field == "overall.good_practice"]
    assert "typed over" in issue.message and issue.affects_value


def test_a_line_break_written_as_a_second_text_in_the_run_is_kept(audit_form, parse):
    """LibreOffice writes a line break typed in a field as ``<w:t>a</w:t><w:t>b</w:t>`` in one
    run (measured, 7.4 .docx): the lines must not be glued."""

    def libreoffice_break(root):
        sdt = control(root, "plan.1.action")
        content = sdt.find(q("sdtContent"))
        for child in list(content):
            content.remove(child)
        run = etree.SubElement(content, q("r"))
        for text in ("", "Check the plan & <review>", "it's due – soon", ""):
            etree.SubElement(run, q("t")).text = text

    result = parse(edit_document(audit_form, libreoffice_break))
    assert result.fields["plan.1.action"] == "Check the plan & <review>\nit's due – soon"


def test_a_field_pasted_twice_is_an_error_unless_both_say_the_same(audit_form, parse):
    def duplicate(answer):
        def edit(root):
            sdt = control(root, "overall.summary")
            copy = etree.fromstring(etree.tostring(sdt))
            if answer is not None:
                next(copy.iter(q("t"))).text = answer
            sdt.addnext(copy)

        return edit

    filled = fill_form(audit_form, {"overall.summary": "Once."})
    same = parse(edit_document(filled, duplicate(None)))
    assert same.status == "ok" and same.fields["overall.summary"] == "Once."
    assert messages(same, "overall.summary") == [
        "the form has this field twice, with the same answer; the copy was ignored"
    ]
    assert same.issues[-1].affects_value  # stored with the return, for QA to see
    other = parse(edit_document(filled, duplicate("Something else.")))
    assert other.status == "invalid"
    assert "twice, with different answers" in messages(other, "overall.summary")[0]


def test_fields_without_tags_are_found_by_binding_alias_and_position(audit_form, parse):
    filled = fill_form(audit_form, TYPED)

    def strip(root, aliases=True):
        for tag in list(root.iter(q("tag"))):
            tag.getparent().remove(tag)
        if not aliases:
            # with neither tag nor alias, rich text is found by its position between found fields
            for alias in list(root.iter(q("alias"))):
                alias.getparent().remove(alias)

    for keep_alias, how in ((True, "alias"), (False, "position")):
        result = parse(edit_document(filled, lambda r, k=keep_alias: strip(r, k)))
        assert {k: result.fields[k] for k in TYPED} == expected(TYPED)
        assert result.status == "ok"
        assert f"found by {how}" in messages(result, "domain.assessment.evidence")[0]
        assert "found by data binding" in messages(result, "domain.assessment.grade")[0]


def test_the_improvement_plan_document_reads_back(plan_form, parse):
    values = {
        "plan.2.action": "Hold a family network meeting",
        "plan.2.owner": "Social worker",
        "plan.2.due": date(2027, 1, 15),
        "discussion.date": date(2026, 12, 1),
        "discussion.agreed": "Actions agreed with the worker.\nReview in January.",
    }
    result = parse(fill_form(plan_form, values))
    assert result.status == "ok"
    assert result.identity is not None and result.identity.document == "plan"
    assert {k: result.fields[k] for k in values} == expected(values)


# --- hypothesis: any text a user can type -----------------------------------------------

typed_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff") | st.sampled_from("\n\t"),
    min_size=1,
    max_size=80,
).filter(lambda s: s.strip() != "" and not s.startswith("Write your evidence"))


@settings(max_examples=80, deadline=None)
@given(evidence=typed_text, action=typed_text, seed=st.integers(0, 10_000))
def test_any_typed_text_reads_back_exactly(audit_form, key, evidence, action, seed):
    values = {"domain.recording.evidence": evidence, "plan.3.action": action}
    result = parse_bytes(fill_form(audit_form, values, WordStyle(seed=seed)), "x.docx", key)
    assert result.fields["domain.recording.evidence"] == evidence
    assert result.fields["plan.3.action"] == action


# --- what we refuse ---------------------------------------------------------------------


def _ole(*streams: str) -> bytes:
    return OLE_MAGIC + b"\x00" * 100 + b"".join(s.encode("utf-16-le") for s in streams) + b"\x00" * 400


def _docx_we_did_not_issue() -> bytes:
    out = io.BytesIO()
    doc = Document()
    doc.add_paragraph("An ordinary letter.")
    doc.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"%PDF-1.7\n...", "a PDF"),
        (_ole("Root Entry", "WordDocument"), "legacy Word .doc"),
        (_ole("EncryptionInfo", "EncryptedPackage"), "encrypted"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "unknown file type"),
        (b"PK\x03\x04 truncated", "corrupt file"),
        (_docx_we_did_not_issue(), "not an audit form issued by auditdocs"),
    ],
    ids=["empty", "pdf", "doc", "encrypted", "png", "corrupt-zip", "foreign-docx"],
)
def test_files_that_are_not_our_forms_are_rejected_with_a_reason(parse, data, message):
    result = parse(data)
    assert result.status == "rejected"
    assert result.fields == {}
    assert message in result.issues[0].message


def test_a_truncated_form_is_rejected_as_corrupt(audit_form, parse):
    result = parse(audit_form[: len(audit_form) // 2])
    assert result.status == "rejected" and "corrupt" in result.issues[0].message


def test_an_odt_package_is_rejected(parse):
    odt = io.BytesIO()
    with zipfile.ZipFile(odt, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<x/>")
    assert "OpenDocument" in parse(odt.getvalue()).issues[0].message


def _set_property(name: str, value: str):
    def edit(root):
        for prop in root:
            if prop.get("name") == f"auditdocs.{name}":
                prop[0].text = value

    return edit


def test_an_edited_identity_fails_the_integrity_check(audit_form, parse):
    for name, value in (("audit_id", "2026-11-999"), ("tool", "thematic_audit"), ("document", "plan")):
        result = parse(edit_part(audit_form, "docProps/custom.xml", _set_property(name, value)))
        assert result.status == "rejected"
        assert "integrity check failed" in result.issues[0].message


def test_a_form_from_another_workspace_is_rejected(audit_form):
    result = parse_bytes(audit_form, "x.docx", b"another workspace's key 32 bytes")
    assert result.status == "rejected" and "another workspace" in result.issues[0].message


def test_an_edited_field_list_is_rejected(audit_form, parse):
    def edit(root):
        root.find(f"{{{ns.FORM_NS}}}manifest")[0].set("p", "changed")

    name = next(
        n
        for n in zipfile.ZipFile(io.BytesIO(audit_form)).namelist()
        if n.startswith("customXml/item") and b"urn:auditdocs" in zipfile.ZipFile(io.BytesIO(audit_form)).read(n)
    )
    result = parse(edit_part(audit_form, name, edit))
    assert result.status == "rejected" and "field list was edited" in result.issues[0].message


def test_a_doctype_is_refused_before_parsing(audit_form, parse):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"
    )
    result = parse(rezip(audit_form, {"word/document.xml": bomb}))
    assert result.status == "rejected" and "DTD" in result.issues[0].message


def test_the_main_part_is_found_through_the_relationships(audit_form, parse):
    filled = fill_form(audit_form, {"overall.summary": "Moved."})
    body = zipfile.ZipFile(io.BytesIO(filled)).read("word/document.xml")
    rels = zipfile.ZipFile(io.BytesIO(filled)).read("_rels/.rels").replace(b"word/document.xml", b"word/main.xml")
    types = (
        zipfile.ZipFile(io.BytesIO(filled))
        .read("[Content_Types].xml")
        .replace(b"/word/document.xml", b"/word/main.xml")
    )
    doc_rels = zipfile.ZipFile(io.BytesIO(filled)).read("word/_rels/document.xml.rels")
    moved = rezip(
        filled,
        {
            "word/document.xml": None,
            "word/main.xml": body,
            "_rels/.rels": rels,
            "[Content_Types].xml": types,
            "word/_rels/document.xml.rels": None,
            "word/_rels/main.xml.rels": doc_rels,
        },
    )
    result = parse(moved)
    assert result.status == "ok", result.issues
    assert result.fields["overall.summary"] == "Moved."


def test_identity_without_an_integrity_code_is_rejected():
    with pytest.raises(Exception, match="identity is incomplete"):
        Identity.from_properties({"audit_id": "x", "tool": "t"})


def _manifest_part(data: bytes) -> str:
    z = zipfile.ZipFile(io.BytesIO(data))
    return next(n for n in z.namelist() if n.startswith("customXml/item") and b"urn:auditdocs" in z.read(n))


def test_a_lost_field_list_is_rebuilt_from_the_config_and_checked(audit_form, parse, key):
    filled = fill_form(audit_form, TYPED)
    emptied = rezip(filled, {_manifest_part(filled): b""})  # what LibreOffice does after an unescaped "&"
    result = parse(emptied)
    assert result.status == "ok"
    assert {k: result.fields[k] for k in TYPED} == expected(TYPED)
    assert "rebuilt from the config" in messages(result)[0]
    # without a config to rebuild from, the form cannot be read
    bare = parse_bytes(emptied, "x.docx", key)
    assert bare.status == "rejected" and "field list is missing" in bare.issues[0].message


def test_a_lost_field_list_is_not_rebuilt_from_a_config_that_changed(audit_form, key, workspace):
    from auditdocs.forms.layout import Field, Layout, Table, layout_source

    emptied = rezip(audit_form, {_manifest_part(audit_form): None})

    def changed(identity):  # a new layout: a layout is not changed once built (its digest is kept)
        layout = layout_source(workspace.config)(identity)
        return Layout([*layout.blocks, Table([["New", Field("new.field", "text", "New", "x")]], widths=(1, 1))])

    result = parse_bytes(emptied, "x.docx", key, layouts=changed)
    assert result.status == "rejected" and "config that made it has changed" in result.issues[0].message


# --- what a person sees is what is read (issue 13) ----------------------------------------


def _grade_list(root, field_id="domain.assessment.grade"):
    return control(root, field_id).find(f"{q('sdtPr')}/{q('dropDownList')}")


def test_a_drop_down_is_read_through_the_signed_choices_not_the_forms_own_list(audit_form, parse):
    filled = fill_form(audit_form, {"domain.assessment.grade": "inadequate"})
    assert parse(filled).fields["domain.assessment.grade"] == "inadequate"

    def store_good_for_inadequate(root):  # Developer > Properties: the item's value edited
        for item in _grade_list(root):
            if item.get(q("displayText")) == "Inadequate":
                item.set(q("value"), "good")

    edited = parse(edit_document(filled, store_good_for_inadequate))
    assert edited.status == "invalid"
    assert edited.fields["domain.assessment.grade"] is None
    assert messages(edited, "domain.assessment.grade") == [
        "the list of choices in this field was edited; choose again on a fresh copy of the form"
    ]

    def add_a_grade(root):
        grades = _grade_list(root)
        etree.SubElement(grades, q("listItem"), {q("displayText"): "Excellent", q("value"): "outstanding"})
        next(control(root, "domain.assessment.grade").iter(q("t"))).text = "Excellent"

    added = parse(edit_document(filled, add_a_grade))
    assert added.status == "invalid" and "list of choices in this field was edited" in messages(added)[0]


def test_the_choices_are_signed_with_the_field_list(audit_form, parse):
    def edit(root):
        for entry in root.iter(f"{{{ns.FORM_NS}}}f"):
            if entry.get("k") == "dropdown":
                entry.set("c", entry.get("c").replace('"good"', '"inadequate"', 1))
                return

    result = parse(edit_part(audit_form, _manifest_part(audit_form), edit))
    assert result.status == "rejected" and "field list was edited" in result.issues[0].message


def test_a_form_issued_before_choices_were_signed_reads_them_from_the_config(audit_form, parse, key):
    """Forms already with auditors when choices began to be signed: their field list has
    no choices and their identity the hash without them; today's config gives the choices."""
    from auditdocs.forms.identity import manifest_hash

    z = zipfile.ZipFile(io.BytesIO(audit_form))
    entries = etree.fromstring(z.read(_manifest_part(audit_form))).iter(f"{{{ns.FORM_NS}}}f")
    old_hash = manifest_hash((e.get("id"), e.get("k"), e.get("p")) for e in entries)
    props = {p.get("name"): p[0].text for p in etree.fromstring(z.read("docProps/custom.xml"))}
    identity, _code = Identity.from_properties({k.removeprefix("auditdocs."): v for k, v in props.items()})
    old = Identity(**{**identity.__dict__, "manifest": old_hash})

    def unsigned_choices(root):
        for entry in root.iter(f"{{{ns.FORM_NS}}}f"):
            entry.attrib.pop("c", None)

    def old_identity(root):
        for name, value in (("manifest", old_hash), ("integrity", old.code(key))):
            _set_property(name, value)(root)

    issued = edit_part(audit_form, _manifest_part(audit_form), unsigned_choices)
    issued = edit_part(issued, "docProps/custom.xml", old_identity)
    filled = fill_form(issued, {"domain.assessment.grade": "good"})
    result = parse(filled)
    assert result.status == "ok", result.issues
    assert result.fields["domain.assessment.grade"] == "good"

    def store_good_for_inadequate(root):
        for item in _grade_list(root):
            if item.get(q("displayText")) == "Good":
                item.set(q("value"), "outstanding")

    assert parse(edit_document(filled, store_good_for_inadequate)).status == "invalid"
    # without the config that made it, its own list is all there is, and the value must be confirmed
    bare = parse_bytes(filled, "x.docx", key)
    assert bare.fields["domain.assessment.grade"] == "good"
    assert "could not be checked against the config" in messages(bare, "domain.assessment.grade")[0]


def _hide(run) -> None:
    props = run.find(q("rPr"))
    if props is None:
        props = etree.Element(q("rPr"))
        run.insert(0, props)
    etree.SubElement(props, q("vanish"))


def test_a_hidden_copy_placed_before_a_field_is_not_read_and_is_an_error(audit_form, parse):
    filled = fill_form(audit_form, {"domain.assessment.grade": "inadequate", "overall.summary": "Seen."})

    def hidden_copy(field_id, shown):
        def edit(root):
            sdt = control(root, field_id)
            copy = etree.fromstring(etree.tostring(sdt))
            for t in copy.iter(q("t")):
                t.text = ""
            first = next(copy.iter(q("t")))
            first.text = shown
            for run in copy.iter(q("r")):
                _hide(run)
            sdt.addprevious(copy)

        return edit

    grade = parse(edit_document(filled, hidden_copy("domain.assessment.grade", "Good")))
    assert grade.fields["domain.assessment.grade"] == "inadequate"  # what Word shows
    assert grade.status == "invalid"
    assert "hidden copy of this field" in messages(grade, "domain.assessment.grade")[0]
    text = parse(edit_document(filled, hidden_copy("overall.summary", "Nothing to see.")))
    assert text.fields["overall.summary"] == "Seen."
    assert "hidden copy of this field" in messages(text, "overall.summary")[0]


def test_a_field_hidden_by_its_formatting_or_its_style_is_an_error(audit_form, parse):
    filled = fill_form(audit_form, {"overall.summary": "Not shown."})

    def hide_runs(root):
        for run in control(root, "overall.summary").iter(q("r")):
            _hide(run)

    hidden = parse(edit_document(filled, hide_runs))
    assert hidden.status == "invalid"
    assert "formatted as hidden" in messages(hidden, "overall.summary")[0]

    def hidden_style(root):
        style = etree.SubElement(root, q("style"), {q("type"): "character", q("styleId"): "Quiet"})
        etree.SubElement(style, q("basedOn"), {q("val"): "Hush"})
        hush = etree.SubElement(root, q("style"), {q("type"): "character", q("styleId"): "Hush"})
        etree.SubElement(etree.SubElement(hush, q("rPr")), q("vanish"))

    def use_style(root):
        for run in control(root, "overall.summary").iter(q("r")):
            props = run.find(q("rPr"))
            if props is None:
                props = etree.Element(q("rPr"))
                run.insert(0, props)
            props.insert(0, etree.Element(q("rStyle"), {q("val"): "Quiet"}))

    styled = parse(edit_part(edit_document(filled, use_style), "word/styles.xml", hidden_style))
    assert styled.status == "invalid"
    assert "formatted as hidden" in messages(styled, "overall.summary")[0]
    # a style that turns hiding off again hides nothing
    def unhide(root):
        hidden_style(root)
        quiet = next(s for s in root.iter(q("style")) if s.get(q("styleId")) == "Quiet")
        etree.SubElement(etree.SubElement(quiet, q("rPr")), q("vanish"), {q("val"): "0"})

    shown = parse(edit_part(edit_document(filled, use_style), "word/styles.xml", unhide))
    assert shown.status == "ok", shown.issues


def test_a_field_pasted_inside_another_is_an_error_on_both(audit_form, parse):
    filled = fill_form(audit_form, {"overall.summary": "Outer.", "domain.assessment.evidence": "Inner."})

    def nest(root):
        inner = control(root, "domain.assessment.evidence")
        outer = control(root, "overall.summary")
        next(outer.iter(q("p"))).append(inner)  # moved into the summary's first paragraph

    result = parse(edit_document(filled, nest))
    assert result.status == "invalid"
    assert "another field was pasted inside this one" in messages(result, "overall.summary")[0]
    assert "pasted inside the field" in messages(result, "domain.assessment.evidence")[0]
    assert result.fields["overall.summary"] == "Outer."  # its own text, not the other field's


def test_deeply_nested_controls_are_read_in_time_linear_in_the_part(audit_form, parse):
    """Each control once rescanned everything inside it: 120 nested controls around long
    text took seconds.  Now nesting costs (almost) nothing beyond the text itself."""
    import time

    def nested(levels: int):
        def edit(root):
            inner = control(root, "overall.summary").find(q("sdtContent"))
            for _ in range(levels):
                sdt = etree.SubElement(inner, q("sdt"))
                etree.SubElement(etree.SubElement(sdt, q("sdtPr")), q("text"))
                inner = etree.SubElement(sdt, q("sdtContent"))
            paragraph = etree.SubElement(inner, q("p"))
            for _ in range(20_000):
                etree.SubElement(etree.SubElement(paragraph, q("r")), q("t")).text = "x"

        return edit_document(audit_form, edit)

    def seconds(data: bytes) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            result = parse(data)
            best = min(best, time.perf_counter() - started)
        assert result.status == "invalid"  # fields inside fields
        return best

    flat, deep = seconds(nested(1)), seconds(nested(120))
    assert deep < 3 * flat + 0.05, (flat, deep)


def test_forms_issued_with_the_configured_plan_rows_are_still_rebuilt_from_the_config(workspace):
    """Forms issued before the plan had a row per domain (five rows, unsigned choices) are
    still with auditors: their layout is rebuilt for the fallbacks and their choices."""
    from types import SimpleNamespace

    from auditdocs.forms.layout import layout_for, layout_source

    config = workspace.config
    tool = config.tool("case_file_audit")
    old = layout_for(config, tool, "audit", config.settings.improvement_plan.rows)
    new = layout_for(config, tool, "audit")
    assert len(new.fields) > len(old.fields)
    lookup = layout_source(config)
    for issued, manifest in ((old, old.unsigned_choices_digest), (new, new.digest)):
        found = lookup(SimpleNamespace(tool="case_file_audit", document="audit", manifest=manifest))
        assert found is not None and [f.id for f in found.fields] == [f.id for f in issued.fields]
