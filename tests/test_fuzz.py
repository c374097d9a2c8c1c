"""Fuzzing returned forms: bytes flipped, inserted and deleted in the zip, and the XML of
the document mutated the way careless editors and broken tools do (elements dropped,
duplicated, moved, renamed or unwrapped; attributes and text set to anything; text
cut short).  Every outcome is a ParsedForm that is ok, invalid or rejected: never an
exception, never a hang; and whatever parses also validates and takes feedback
comments, as ingest would do with it.

Bounded for CI (some fifteen seconds in all); set ``FUZZ_EXAMPLES`` (300) higher to fuzz longer.
"""

from __future__ import annotations

import copy
import io
import os
import time
import zipfile
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from auditdocs.forms.parse import ParsedForm, parse_bytes
from auditdocs.ooxml import namespaces as ns
from auditdocs.ooxml.comments import add_comments
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.returns.validate import validate

# Hypothesis imports mypy_extensions to report a failure, which warns; the failure must show.
pytestmark = pytest.mark.filterwarnings("ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_BYTES = settings(FUZZ, max_examples=3 * EXAMPLES)  # most damage is refused in a few ms
SECONDS = 3.0  # for one parse, validation and feedback: far more than a form takes

VALUES = {
    "domain.assessment.grade": "requires_improvement",
    "domain.assessment.evidence": "Seen twice; the chronology is missing.\nThe worker should add it.",
    "domain.assessment.criteria.chronology": True,
    "domain.visits.grade": "good",
    "overall.grade": "requires_improvement",
    "concern.immediate": False,
    "plan.1.action": "Write the chronology",
    "plan.1.owner": "Team manager",
    "plan.1.due": date(2026, 12, 18),
    "plan.1.domain": "assessment",
}


class Forms(list):
    """The forms fuzzed (a short repr: hypothesis prints its arguments on failure)."""

    def __repr__(self) -> str:
        return f"<{len(self)} filled forms>"


@pytest.fixture(scope="module")
def bases(audit_form, plan_form) -> Forms:
    """Filled forms to mutate: as Word writes them, with tracked changes and a comment,
    and an improvement plan."""
    return Forms(
        [
            fill_form(audit_form, VALUES, WordStyle(seed=1)),
            fill_form(audit_form, VALUES, WordStyle(seed=2, tracked=True, comment="Check this")),
            fill_form(plan_form, {"plan.2.action": "Meet the family", "plan.2.due": date(2027, 1, 15)}),
        ]
    )


def check(result: ParsedForm, workspace, elapsed: float) -> None:
    """The contract: a status, never an internal error, and (when read) usable by ingest."""
    assert isinstance(result, ParsedForm)
    assert result.status in ("ok", "invalid", "rejected")
    assert all("internal error" not in i.message for i in result.issues), result.issues
    if result.status == "rejected":
        assert result.fields == {} and len(result.issues) == 1
    else:
        assert result.identity is not None and result.package is not None and result.main_part is not None
        config = workspace.config
        findings = validate(
            result.fields,
            config.tool(result.identity.tool),
            config.settings,
            document=result.identity.document,
            audit_date=date(2026, 11, 20),
        )
        anchors = [(result.locations.get(f.field) if f.field else None, f.message) for f in findings]
        root = result.package.xml(result.main_part)
        commented = add_comments(result.package, result.main_part, root, anchors)
        assert zipfile.ZipFile(io.BytesIO(commented)).testzip() is None
    assert elapsed < SECONDS, f"{elapsed:.1f} s"


def run(data: bytes, key: bytes, layouts, workspace) -> ParsedForm:
    started = time.perf_counter()
    result = parse_bytes(data, "fuzzed.docx", key, layouts=layouts)
    check(result, workspace, time.perf_counter() - started)
    return result


@pytest.fixture(scope="module")
def layouts(workspace):
    from auditdocs.forms.layout import layout_source

    return layout_source(workspace.config)


# --- bytes of the zip -------------------------------------------------------------------------

byte_edit = st.tuples(
    st.sampled_from(["flip", "insert", "delete", "truncate", "zero"]),
    st.sampled_from(["anywhere", "directory", "start"]),
    st.integers(0, 2**31),
    st.binary(min_size=1, max_size=16),
)


def mutate_bytes(data: bytes, edits: list[tuple[str, str, int, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, where, at, payload in edits:
        if not out:
            break
        if where == "directory":  # the central directory and end record: the last few KB
            span = min(len(out), 4096)
            pos = len(out) - span + at % span
        elif where == "start":  # local headers of the first parts
            pos = at % min(len(out), 512)
        else:
            pos = at % len(out)
        if kind == "flip":
            out[pos] ^= payload[0] or 1
        elif kind == "insert":
            out[pos:pos] = payload
        elif kind == "delete":
            del out[pos : pos + len(payload)]
        elif kind == "truncate":
            del out[pos:]
        else:
            out[pos : pos + len(payload)] = bytes(len(out[pos : pos + len(payload)]))
    return bytes(out)


@FUZZ_BYTES
@given(which=st.integers(0, 2), edits=st.lists(byte_edit, min_size=1, max_size=6))
def test_any_damage_to_the_zip_ends_in_a_clear_outcome(bases, key, layouts, workspace, which, edits):
    run(mutate_bytes(bases[which], edits), key, layouts, workspace)


# --- XML of the document ------------------------------------------------------------------------

W, W14, MC = ns.W, ns.W14, ns.MC
TAGS = [
    f"{{{W}}}{t}"
    for t in (
        "sdt",
        "sdtPr",
        "sdtContent",
        "tag",
        "alias",
        "dataBinding",
        "dropDownList",
        "comboBox",
        "listItem",
        "date",
        "text",
        "showingPlcHdr",
        "p",
        "r",
        "t",
        "tab",
        "br",
        "tbl",
        "tr",
        "tc",
        "del",
        "ins",
        "moveFrom",
        "body",
    )
] + [f"{{{W14}}}checkbox", f"{{{W14}}}checked", f"{{{MC}}}AlternateContent", f"{{{MC}}}Fallback"]
ATTRS = [f"{{{W}}}val", f"{{{W14}}}val", f"{{{W}}}xpath", f"{{{W}}}fullDate", f"{{{W}}}displayText", f"{{{W}}}value"]
odd_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"), max_size=30),
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "true",
            "maybe",
            "99999999999999999999",
            "-1",
            "2026-13-45",
            "18/12/2026",
            "/ad:v[0]",
            "/ad:v[7]",
        ]
    ),
    st.sampled_from(["/ad:form[1]/ad:values[1]/ad:v[100000]", "9999-12-31T00:00:00Z", "\u2612", " Good ", "na"]),
)
xml_edit = st.tuples(
    st.sampled_from(["drop", "duplicate", "move", "swap", "attr", "text", "rename", "unwrap", "strip", "empty"]),
    st.integers(0, 2**31),
    st.integers(0, 2**31),
    st.integers(0, 2**31),
    odd_text,
)
PARTS = ["word/document.xml", "word/document.xml", "word/document.xml", "[Content_Types].xml", "_rels/.rels"]


def mutate_xml(root: etree._Element, edits) -> None:
    for kind, a, b, c, text in edits:
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        el = elements[a % len(elements)]
        other = elements[b % len(elements)]
        parent = el.getparent()
        if kind == "drop" and parent is not None:
            parent.remove(el)
        elif kind == "duplicate" and parent is not None:
            el.addnext(copy.deepcopy(el))
        elif kind == "move" and parent is not None and el not in other.iterancestors() and el is not other:
            other.insert(c % (len(other) + 1), el)
        elif kind == "swap" and el.getnext() is not None:
            el.getnext().addnext(el)
        elif kind == "attr":
            el.set(ATTRS[c % len(ATTRS)], text)
        elif kind == "text":
            target = next(el.iter(f"{{{W}}}t"), el)
            target.text = text if c % 2 else (target.text or "")[: c % 7]
        elif kind == "rename" and parent is not None:
            el.tag = TAGS[c % len(TAGS)]
        elif kind == "unwrap" and parent is not None:
            # what LibreOffice does to some controls: the content stays, the control goes
            content = el.find(f"{{{W}}}sdtContent")
            children = list(content if content is not None else el)
            for child in reversed(children):
                el.addnext(child)
            parent.remove(el)
        elif kind == "strip":
            for tag in list(root.iter(f"{{{W}}}tag", f"{{{W}}}alias")):
                tag.getparent().remove(tag)
        elif kind == "empty":
            for child in list(el):
                el.remove(child)


def with_part(data: bytes, name: str, raw: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            z.writestr(info.filename, raw if info.filename == name else src.read(info))
    return out.getvalue()


@FUZZ
@given(
    which=st.integers(0, 2),
    part=st.sampled_from(PARTS),
    edits=st.lists(xml_edit, min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 2**31)),
)
def test_any_mutation_of_the_xml_ends_in_a_clear_outcome(bases, key, layouts, workspace, which, part, edits, cut):
    data = bases[which]
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read(part))
    mutate_xml(root, edits)
    raw = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    if cut is not None and cut % 4 == 0:  # now and then, cut the part short
        raw = raw[: cut % len(raw)]
    run(with_part(data, part, raw), key, layouts, workspace)


def test_fuzzing_reads_unmutated_forms(bases, key, layouts, workspace):
    """The harness itself: the forms it starts from read back whole."""
    for data in bases:
        assert run(data, key, layouts, workspace).status == "ok"
        assert (
            run(
                with_part(data, "word/document.xml", zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")),
                key,
                layouts,
                workspace,
            ).status
            == "ok"
        )


# --- regressions: each a crash or a hang found here, kept -------------------------------------


def stored_with_document(data: bytes, edit) -> bytes:
    """``data`` with its document edited, zipped without compression (no ratio check)."""
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))
    edit(root)
    return with_part(data, "word/document.xml", etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def test_regression_feedback_on_a_form_whose_content_types_nest_an_override(bases, key, layouts, workspace):
    """Found by the fuzzer: an Override moved inside another element made the feedback
    copy fail ("Element is not a child of this node") where it removed it."""
    data = bases[0]
    types = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml"))
    overrides = list(types)
    overrides[1].append(overrides[-1])
    moved = with_part(data, "[Content_Types].xml", etree.tostring(types))
    run(moved, key, layouts, workspace)


def test_regression_thousands_of_deletions_in_a_field_are_read_in_linear_time(bases, key, layouts, workspace):
    """Each element of a field was checked against every deletion met before it: 2,000
    tracked deletions took 4 s, 40,000 (within the limits) would have taken half an hour."""
    w = f"{{{W}}}"

    def deletions(root):
        tag = "domain.assessment.evidence"
        sdt = next(s for s in root.iter(f"{w}sdt") if s.find(f"{w}sdtPr/{w}tag").get(f"{w}val") == tag)
        p = sdt.find(f"{w}sdtContent").findall(f"{w}p")[-1]
        for _ in range(20_000):
            etree.SubElement(etree.SubElement(etree.SubElement(p, f"{w}del"), f"{w}r"), f"{w}delText").text = "x"
            etree.SubElement(etree.SubElement(p, f"{w}r"), f"{w}t").text = "y"

    result = run(stored_with_document(bases[0], deletions), key, layouts, workspace)
    assert result.fields["domain.assessment.evidence"].endswith("it." + "y" * 20_000)


def test_regression_deeply_nested_tables_are_read_in_linear_time(bases, key, layouts, workspace):
    """A form whose controls are all gone is read from its table cells; every cell of a
    nested table was read again for each table around it: 80 nested tables around
    60,000 runs took minutes."""
    w = f"{{{W}}}"

    def nest(root):
        for sdt in list(root.iter(f"{w}sdt")):
            sdt.getparent().remove(sdt)
        parent = root.find(f"{w}body")
        for _ in range(80):
            parent = etree.SubElement(etree.SubElement(etree.SubElement(parent, f"{w}tbl"), f"{w}tr"), f"{w}tc")
        p = etree.SubElement(parent, f"{w}p")
        for _ in range(60_000):
            etree.SubElement(etree.SubElement(p, f"{w}r"), f"{w}t").text = "y"

    result = run(stored_with_document(bases[0], nest), key, layouts, workspace)
    assert any("read from its place in the table" in i.message for i in result.issues)
