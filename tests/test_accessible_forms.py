"""The Word documents work for screen-reader and keyboard users (issue 17): placeholders
that say what to enter and in what format, instructions that do not depend on sight, a
keyboard note, a header row on every table, a title, British English, and columns wide
enough that no word or date is broken.  Forms issued before (edition 1) still read back
exactly."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

import auditdocs.forms.generate as generate_module
from auditdocs.allocation.record import Allocation, worker_reference
from auditdocs.forms.generate import FormFactory
from auditdocs.forms.layout import (
    DATE_PLACEHOLDER,
    EDITION,
    LEGACY_PLACEHOLDERS,
    Field,
    Table,
    layout_for,
    layout_source,
)
from auditdocs.forms.parse import parse_bytes
from auditdocs.ooxml.fill import fill_form
from auditdocs.sample.answers import AUDIT_DATE, complete_values, discussed_plan
from auditdocs.workspace import Workspace
from tests.conftest import libreoffice_convert, needs_libreoffice
from tests.ooxml_check import check_office_files, document_problems

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TOOLS = ("case_file_audit", "case_discussion", "supervision_audit", "staff_observation", "thematic_audit")


def _root(data: bytes) -> etree._Element:
    return etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))


def paragraphs(data: bytes) -> list[str]:
    return [t for p in _root(data).iter(f"{W}p") if (t := "".join(x.text or "" for x in p.iter(f"{W}t")))]


def core(data: bytes) -> dict[str, str]:
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("docProps/core.xml"))
    return {etree.QName(el).localname: el.text or "" for el in root}


def alloc_for(alloc: Allocation, tool: str) -> Allocation:
    if tool in ("supervision_audit", "staff_observation"):
        return replace(alloc, tool=tool, case_reference=worker_reference(alloc.worker), child_id="")
    return replace(alloc, tool=tool)


@pytest.fixture(scope="module")
def case_alloc(allocations: list[Allocation]) -> Allocation:
    return allocations[0]


# --- placeholders and instructions ---------------------------------------------------


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("kind", ["audit", "plan"])
def test_every_placeholder_says_what_to_enter(workspace: Workspace, tool: str, kind: str) -> None:
    """Not Word's "Click or tap here to enter text." (read aloud it says nothing) and not
    the column's name again: what to enter, and a date's format."""
    layout = layout_for(workspace.config, workspace.config.tool(tool), kind)  # type: ignore[arg-type]
    headers = {c for b in layout.blocks if isinstance(b, Table) for c in b.rows[0] if isinstance(c, str)}
    for f in layout.fields:
        if f.kind == "checkbox":
            continue
        assert f.placeholder not in LEGACY_PLACEHOLDERS, f.id
        assert f.placeholder not in headers and f.placeholder != f.label, f.id
        assert f.placeholder.startswith(("Enter ", "Choose ")), f.id
        if f.kind == "date":
            assert f.placeholder == DATE_PLACEHOLDER == "Enter the date as DD/MM/YYYY"
    evidence = [f for f in layout.fields if f.id.endswith(".evidence")]
    for domain, f in zip(workspace.config.tool(tool).domains, evidence, strict=False):
        assert domain.title in f.placeholder


def test_the_form_asks_nothing_that_needs_sight_and_says_how_to_use_the_keyboard(factory, case_alloc) -> None:
    for kind in ("audit", "plan"):
        text = "\n".join(paragraphs(factory.render(case_alloc, kind)))
        assert "grey" not in text.lower() and "click" not in text.lower(), kind
        assert "Tab or the arrow keys" in text and "Alt+Down" in text, kind
    audit = "\n".join(paragraphs(factory.render(case_alloc, "audit")))
    assert "Space to tick a box" in audit


def test_the_plan_does_not_repeat_the_audits_instructions(factory, case_alloc) -> None:
    """The plan has no grades to choose and no boxes to tick."""
    text = "\n".join(paragraphs(factory.render(case_alloc, "plan")))
    for words in ("tick", "grades from the lists", "Choose a grade", "Space to"):
        assert words not in text
    assert "one row for each action agreed" in text


# --- tables, properties, the document check ---------------------------------------------


@pytest.mark.parametrize("tool", TOOLS)
def test_every_document_of_every_tool_passes_the_document_check(
    workspace: Workspace, key: bytes, case_alloc: Allocation, tool: str, tmp_path: Path
) -> None:
    """Header rows on all tables (the form's 27 and the plan's 3), a title, en-GB, locked
    fields; and Microsoft's validator on the same files."""
    factory = FormFactory(workspace.config, workspace.templates_dir, key)
    paths = []
    for kind in ("audit", "plan"):
        data = factory.render(alloc_for(case_alloc, tool), kind)  # type: ignore[arg-type]
        assert document_problems(data) == [], kind
        tables = list(_root(data).iter(f"{W}tbl"))
        assert len(tables) >= 3
        for table in tables:
            first = table.find(f"{W}tr")
            assert first.find(f"{W}trPr/{W}tblHeader") is not None
        paths.append(tmp_path / f"{tool} {kind}.docx")
        paths[-1].write_bytes(data)
    check_office_files(paths)


def test_the_document_check_finds_what_the_old_forms_lacked(workspace: Workspace) -> None:
    """The template as python-docx wrote it (no title, en-US, creator python-docx) and a
    table without a header row fail the check."""
    from docx import Document

    doc = Document()
    doc.add_table(rows=2, cols=2)
    out = io.BytesIO()
    doc.save(out)
    problems = document_problems(out.getvalue())
    assert any("no title" in p for p in problems)
    assert any("language" in p for p in problems)
    assert any("no header row" in p for p in problems)


def test_a_document_has_its_title_language_creator_and_time(factory, case_alloc, workspace) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    for kind, title in (
        ("audit", f"Single Case File Audit {case_alloc.audit_id}"),
        ("plan", f"Improvement plan: Single Case File Audit {case_alloc.audit_id}"),
    ):
        data = factory.render(case_alloc, kind)
        props = core(data)
        assert props["title"] == title
        assert props["creator"] == workspace.config.settings.organisation.name
        assert props["language"] == "en-GB"
        made = datetime.fromisoformat(props["created"].replace("Z", "+00:00"))
        assert before <= made <= datetime.now(UTC) + timedelta(seconds=5)
        z = zipfile.ZipFile(io.BytesIO(data))
        assert b'<w:lang w:val="en-GB"' in z.read("word/styles.xml")
        assert b'<w:themeFontLang w:val="en-GB"' in z.read("word/settings.xml")


def test_a_template_saved_in_another_language_makes_british_documents(workspace, key, case_alloc, tmp_path) -> None:
    """A QA officer's template saved by an American Word still gives en-GB documents."""
    folder = tmp_path / "templates"
    shutil.copytree(workspace.templates_dir, folder)
    path = folder / "audit_tool.docx"
    src = zipfile.ZipFile(path)
    parts = {n: src.read(n) for n in src.namelist()}
    src.close()
    parts["word/styles.xml"] = parts["word/styles.xml"].replace(b'w:val="en-GB"', b'w:val="en-US"')
    parts["word/settings.xml"] = parts["word/settings.xml"].replace(b'w:val="en-GB"', b'w:val="en-US"')
    with zipfile.ZipFile(path, "w") as z:
        for name, raw in parts.items():
            z.writestr(name, raw)
    data = FormFactory(workspace.config, folder, key).render(case_alloc, "audit")
    assert document_problems(data) == []


# --- forms issued before (edition 1) ---------------------------------------------------


#: The signed field lists of the forms issued before issue 17 (as that code made them).
EDITION_1_DIGESTS = {("case_file_audit", "audit"): "96f1e037367d879e", ("case_file_audit", "plan"): "62c43f441275d861"}


def test_edition_1_layouts_are_the_forms_in_circulation(workspace: Workspace) -> None:
    tool = workspace.config.tool("case_file_audit")
    for (_tool, kind), digest in EDITION_1_DIGESTS.items():
        assert layout_for(workspace.config, tool, kind, edition=1).digest == digest  # type: ignore[arg-type]
        assert layout_for(workspace.config, tool, kind).digest != digest  # type: ignore[arg-type]
    assert EDITION == 2


@pytest.fixture(scope="module")
def edition_1_factory(workspace: Workspace, key: bytes):
    """Makes forms as they were issued before: edition 1's placeholders and tables."""
    factory = FormFactory(workspace.config, workspace.templates_dir, key)
    mp = pytest.MonkeyPatch()
    mp.setattr(generate_module, "layout_for", lambda config, tool, kind: layout_for(config, tool, kind, edition=1))
    for kind in ("audit", "plan"):
        factory.form("case_file_audit", kind)  # prepared with edition 1, then kept
    mp.undo()
    return factory


def _without_field_list(data: bytes) -> bytes:
    """The form with its custom XML parts emptied, as LibreOffice can leave them."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            emptied = info.filename.startswith("customXml/item") and "Props" not in info.filename
            z.writestr(info, b"" if emptied else src.read(info))
    return out.getvalue()


@pytest.mark.parametrize("kind", ["audit", "plan"])
def test_a_blank_edition_1_form_reads_as_empty_with_or_without_its_field_list(
    edition_1_factory, case_alloc, workspace, key, kind
) -> None:
    data = edition_1_factory.render(case_alloc, kind)
    shown = "\n".join(paragraphs(data))
    assert "Click or tap here to enter text." in shown  # the old placeholders, as issued
    layouts = layout_source(workspace.config)
    for form in (data, _without_field_list(data)):
        parsed = parse_bytes(form, "old.docx", key, layouts=layouts)
        assert parsed.status == "ok", parsed.issues
        assert [fid for fid, v in parsed.fields.items() if v not in (None, False)] == []


def test_a_filled_edition_1_form_reads_back_exactly_without_its_field_list(
    edition_1_factory, case_alloc, workspace, key
) -> None:
    values = complete_values(AUDIT_DATE)
    filled = fill_form(edition_1_factory.render(case_alloc, "audit"), values)
    parsed = parse_bytes(_without_field_list(filled), "old.docx", key, layouts=layout_source(workspace.config))
    assert parsed.status == "ok", parsed.issues
    for fid, value in values.items():
        expected = value.isoformat() if hasattr(value, "isoformat") else value
        assert parsed.fields[fid] == expected, fid


# --- column widths -------------------------------------------------------------------


def _words(data: bytes) -> set[str]:
    """Every word the document's parts show."""
    z = zipfile.ZipFile(io.BytesIO(data))
    texts = []
    for name in z.namelist():
        if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", name):
            root = etree.fromstring(z.read(name))
            for p in root.iter(f"{W}p"):
                # a tab or line break between runs separates words too
                parts = p.iter(f"{W}t", f"{W}tab", f"{W}br")
                texts.append("".join((el.text or "") if el.tag == f"{W}t" else " " for el in parts))
    return {w for text in texts for w in text.split()}


def _broken(text: str, words: set[str]) -> set[str]:
    """The words of ``text`` (from pdftotext) that are no word of the document.  A line
    may break after a word's own hyphen ("multi-disciplinary"), which pdftotext joins
    without it ("multidisciplinary"): that is no broken word."""
    joined = {w.replace("-", "") for w in words if "-" in w}
    return {w for w in text.split() if w not in words and w not in joined}


def test_no_word_or_date_is_broken_in_the_rendered_form_and_plan(workspace, key, case_alloc, tmp_path, lo_profile):
    """Rendered by LibreOffice, every word of the PDF is a word of the document: none is
    split over two lines of a narrow column (the plan's "N o." and "Assessmen ts")."""
    needs_libreoffice()
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils not installed")
    factory = FormFactory(workspace.config, workspace.templates_dir, key)
    docs: dict[str, bytes] = {}
    for tool in TOOLS:
        alloc = alloc_for(case_alloc, tool)
        docs[f"{tool}-audit"] = factory.render(alloc, "audit")
        plan_values = discussed_plan(AUDIT_DATE)
        layout = layout_for(workspace.config, workspace.config.tool(tool), "plan")
        ids = {f.id for f in layout.fields if isinstance(f, Field)}
        # every domain's longest title in a plan row, and a date in every row
        domains = workspace.config.tool(tool).domains
        for n in range(1, len(domains) + 1):
            plan_values[f"plan.{n}.domain"] = domains[n - 1].id
            plan_values[f"plan.{n}.due"] = AUDIT_DATE
            plan_values.setdefault(f"plan.{n}.action", "Review the plan")
        docs[f"{tool}-plan"] = fill_form(
            factory.render(alloc, "plan"), {k: v for k, v in plan_values.items() if k in ids}
        )
        docs[f"{tool}-blank-plan"] = factory.render(alloc, "plan")
    for name, data in docs.items():
        (tmp_path / f"{name}.docx").write_bytes(data)
    pdfs = libreoffice_convert([tmp_path / f"{n}.docx" for n in docs], "pdf", tmp_path / "pdf", lo_profile)
    broken = {}
    for name, data in docs.items():
        shown = subprocess.run(["pdftotext", str(pdfs[name]), "-"], capture_output=True, text=True, check=True).stdout
        words = _words(data)
        strays = sorted(_broken(shown, words))
        if strays:
            broken[name] = strays
    assert not broken, broken
