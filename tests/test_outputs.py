"""What we write opens clean in Word: the demo month's every .docx and .xlsx (forms, plans,
prefilled discussion plans, returns, feedback copies, reports, workbooks) passes
Microsoft's Open XML SDK validator, and every bound control's node holds what it shows;
its dashboard passes the page check (axe-core)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from auditdocs.ooxml.binding import bind_shown_values, stale_nodes
from auditdocs.ooxml.fill import fill_form
from auditdocs.ooxml.package import Package
from auditdocs.ooxml.reader import form_manifest
from auditdocs.sample.answers import complete_values
from auditdocs.sample.demo import run_demo
from auditdocs.sample.month import init_workspace
from auditdocs.workspace import Workspace
from tests.axe_check import check_pages, pages
from tests.ooxml_check import check_office_files, office_files


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = init_workspace(tmp_path_factory.mktemp("outputs") / "qa")
    run_demo(ws, echo=lambda _line: None)
    return ws


def test_every_office_file_of_the_demo_validates_and_binds(demo: Workspace) -> None:
    files = office_files(demo.root)
    folders = {part for p in files for part in p.relative_to(demo.root).parts[:-1]}
    # the run wrote each kind of document this check is about
    assert {"feedback", "returned (demo)", "discussion", "reports", "returns", "sample"} <= folders, folders
    check_office_files(files)


def test_the_demo_dashboard_is_accessible(demo: Workspace) -> None:
    """The demo month's page passes the page check (issue 17: structure, axe-core at 1280
    and 320 px and printed)."""
    files = pages(demo.root)
    assert [p.name for p in files] == ["2026-11 dashboard.html"]
    check_pages(files)


def test_prefilled_discussion_plans_show_their_values_in_word(demo: Workspace) -> None:
    """The issue's case: a plan prefilled by send/chase had its dates and domains only in
    the body, so Word showed "Click or tap to enter a date." and "Choose a domain"."""
    plans = sorted((demo.output_dir / "2026-11" / "discussion").rglob("*.docx"))
    assert plans
    for plan in plans:
        data = plan.read_bytes()
        assert stale_nodes(data) == []
        assert b"T00:00:00</ad:v>" in _form_part(data)  # a due date, bound


def _form_part(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return b"".join(z.read(n) for n in z.namelist() if n.startswith("customXml/item") and "Props" not in n)


def test_a_copy_whose_bound_part_is_missing_gets_it_back(demo: Workspace, tmp_path: Path) -> None:
    """LibreOffice can drop or empty the custom XML part: the copy we send back rebuilds it
    from the form's field list, so Word shows what the body shows."""
    form = next((demo.output_dir / "2026-11" / "returned (demo)").glob("*complete, Word*.docx")).read_bytes()
    pkg = Package(form)
    manifest = form_manifest(pkg, pkg.main_part())
    src = zipfile.ZipFile(io.BytesIO(form))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            if info.filename.startswith("customXml/item") and "Props" not in info.filename:
                z.writestr(info, b"")  # emptied, as LibreOffice leaves it
            else:
                z.writestr(info, src.read(info))
    emptied = out.getvalue()
    assert stale_nodes(emptied)  # the check sees it
    assert stale_nodes(bind_shown_values(emptied)) != []  # no field list in it: nothing to rebuild from
    fixed = bind_shown_values(emptied, manifest)
    assert stale_nodes(fixed) == []
    path = tmp_path / "rebuilt.docx"
    path.write_bytes(fixed)
    check_office_files([path])


def test_the_filler_writes_unique_closed_bookmarks(demo: Workspace) -> None:
    """Word's bookmarks have unique ids, each closed; the stand-in for Word wrote
    ``w:bookmarkEnd w:id="0"`` many times, which the feedback copy then sent back."""
    blank = next((demo.output_dir / "2026-11").rglob("*audit tool.docx")).read_bytes()
    filled = fill_form(blank, complete_values())
    with zipfile.ZipFile(io.BytesIO(filled)) as z:
        body = z.read("word/document.xml").decode()
    starts = re.findall(r'<w:bookmarkStart w:id="(\d+)"', body)
    ends = re.findall(r'<w:bookmarkEnd w:id="(\d+)"', body)
    assert len(starts) > 10
    assert len(set(starts)) == len(starts)
    assert sorted(starts) == sorted(ends)
