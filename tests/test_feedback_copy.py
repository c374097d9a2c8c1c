"""The feedback copy (the auditor's own document, with a comment at each field to fix)
lists the fixes inside it too, at the top, and has a title of its own (issue 17)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditdocs.forms.layout import layout_source
from auditdocs.forms.parse import parse_bytes
from auditdocs.ooxml.fill import fill_form
from auditdocs.ooxml.notes import prepend_section
from auditdocs.returns.ingest import AMEND, ingest
from auditdocs.sample.answers import AUDIT_DATE, careless, complete_values
from auditdocs.workspace import Workspace
from tests.conftest import blank_form, month_workspace
from tests.ooxml_check import check_office_files, document_problems
from tests.test_accessible_forms import W, _root, core, paragraphs


@pytest.fixture(scope="module")
def feedback_copy(tmp_path_factory) -> tuple[Workspace, Path]:
    ws = month_workspace(tmp_path_factory.mktemp("feedback") / "qa")
    inbox = tmp_path_factory.mktemp("inbox")
    path = inbox / "careless.docx"
    path.write_bytes(fill_form(blank_form(ws, "2026-11-002"), careless(complete_values(AUDIT_DATE))))
    result = ingest(ws, [path], received_at=datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    (outcome,) = result.outcomes
    assert outcome.status == AMEND
    return ws, outcome.feedback[0]


def test_the_feedback_copy_lists_its_fixes_at_the_top(feedback_copy) -> None:
    ws, docx = feedback_copy
    data = docx.read_bytes()
    text = paragraphs(data)
    assert text[0] == "Amendments needed"
    assert "send it back by 27/11/2026" in text[1]
    items = [t for t in text[2:12] if re.match(r"\d+\. ", t)]
    assert any(t.startswith("1. To fix: Plans: grade") for t in items), items
    assert any("Owner 3" in t and "TBC" in t for t in items), items
    assert core(data)["title"] == "Amendments needed: Single Case File Audit 2026-11-002"
    assert document_problems(data) == []
    check_office_files([docx])
    # still the auditor's own form: it parses with their answers
    parsed = parse_bytes(data, docx.name, ws.key(), layouts=layout_source(ws.config))
    assert parsed.status == "ok" and parsed.fields["plan.3.owner"] == "TBC"


def test_a_second_copy_replaces_the_list_rather_than_adding_one(feedback_copy) -> None:
    _ws, docx = feedback_copy
    root = _root(docx.read_bytes())
    prepend_section(root, "Amendments needed", ["Again."], ["One thing"])
    texts = ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in root.iter(f"{W}p")]
    assert texts.count("Amendments needed") == 1
    assert texts[:3] == ["Amendments needed", "Again.", "1. One thing"]
