"""LibreOffice as a user: forms filled inside LibreOffice Writer 7.4 through its own content
controls and input fields (driven over UNO by tests/lo_user.py, one LibreOffice for all),
saved as .docx, .odt and .doc, come back with every value, or, where LibreOffice itself
destroys the information, with a warning naming the field:

- .doc: LibreOffice writes a line break typed in a text box as a bare line feed inside a
  legacy text field, and drops it when the file is opened again: the lines come back run
  together, and each such field says so.

Reading back goes through ``read_return`` (what ``parse`` and ``ingest`` both use), and an
ingest of the same files stores the same values and warnings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auditdocs.forms.layout import layout_for, layout_source
from auditdocs.forms.parse import ParsedForm, read_return
from auditdocs.ooxml.binding import stale_nodes
from auditdocs.returns.feedback import write_feedback
from auditdocs.returns.findings import READING_RULE, Finding
from auditdocs.returns.ingest import ingest
from auditdocs.returns.outcome import Outcome
from auditdocs.workspace import Workspace
from tests.conftest import blank_form, month_workspace, needs_libreoffice
from tests.ooxml_check import check_office_files

pytestmark = pytest.mark.libreoffice

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-uno is built for the system Python
HARNESS = Path(__file__).parent / "lo_user.py"
FORMATS = (".docx", ".odt", ".doc")

TWO_LINES = ['Check the plan & <review> "now"', "it's due \u2013 soon"]
TWO_PARAGRAPHS = ["Evidence & <x> \"q\" 'a' \u2013 b", "Second paragraph \u2013 end"]

# (field id, action, expected value); text fields are typed with the keyboard, on two lines.
AUDIT: list[tuple[str, dict[str, Any], Any]] = [
    ("domain.visits.criteria.purpose", {"do": "tick"}, True),
    ("domain.visits.criteria.who_present", {"do": "tick"}, True),
    ("domain.visits.criteria.child_seen", {"do": "tick"}, True),
    ("domain.visits.criteria.home_environment", {"do": "tick"}, True),
    ("domain.visits.criteria.home_environment", {"do": "untick"}, False),
    ("concern.immediate", {"do": "tick"}, True),
    ("domain.visits.grade", {"do": "choose", "item": "Good"}, "good"),
    ("overall.grade", {"do": "choose", "item": "Requires Improvement"}, "requires_improvement"),
    ("plan.1.domain", {"do": "choose", "item": "assessment"}, "assessment"),
    ("concern.notified", {"do": "pick_date", "date": "2026-12-18"}, "2026-12-18"),
    ("completion.date", {"do": "pick_date", "date": "2026-12-20"}, "2026-12-20"),
    ("discussion.worker_date", {"do": "type", "text": "18/12/2026"}, "2026-12-18"),  # typed, not picked
    ("plan.1.due", {"do": "type", "text": "19/12/2026"}, "2026-12-19"),
    ("plan.1.action", {"do": "type", "lines": TWO_LINES, "break": "line"}, "\n".join(TWO_LINES)),
    ("plan.1.owner", {"do": "type", "text": "Team manager"}, "Team manager"),
    ("plan.1.outcome", {"do": "dialog", "lines": TWO_LINES}, "\n".join(TWO_LINES)),
    ("plan.2.action", {"do": "type", "lines": TWO_LINES, "break": "para"}, "\n".join(TWO_LINES)),
    ("domain.visits.evidence", {"do": "type", "lines": TWO_PARAGRAPHS, "break": "para"}, "\n".join(TWO_PARAGRAPHS)),
    ("overall.summary", {"do": "type", "lines": TWO_PARAGRAPHS, "break": "line"}, "\n".join(TWO_PARAGRAPHS)),
    ("concern.details", {"do": "dialog", "lines": TWO_PARAGRAPHS}, "\n".join(TWO_PARAGRAPHS)),
]
PLAN: list[tuple[str, dict[str, Any], Any]] = [
    ("plan.1.action", {"do": "type", "lines": TWO_LINES, "break": "line"}, "\n".join(TWO_LINES)),
    ("plan.1.due", {"do": "pick_date", "date": "2027-01-15"}, "2027-01-15"),
    ("plan.1.domain", {"do": "choose", "item": "plans"}, "plans"),
    ("plan.2.due", {"do": "type", "text": "18/01/2027"}, "2027-01-18"),
    ("discussion.date", {"do": "type", "text": "17/12/2026"}, "2026-12-17"),
    ("discussion.present", {"do": "type", "text": "Kit & Wren"}, "Kit & Wren"),
    ("discussion.agreed", {"do": "type", "lines": TWO_PARAGRAPHS, "break": "para"}, "\n".join(TWO_PARAGRAPHS)),
]
AUDIT_ID = "2026-11-001"


def needs_uno() -> None:
    needs_libreoffice()
    found = os.path.exists(SYSTEM_PYTHON) and (
        subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0
    )
    if not found:
        if os.environ.get("AUDITDOCS_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("LibreOffice's Python UNO bridge is not installed (apt-get install python3-uno)")
        pytest.skip("LibreOffice's Python UNO bridge is not installed (apt-get install python3-uno)")


def _address(ws: Workspace, document: str, field_id: str) -> dict[str, Any]:
    """How the harness finds a field: a bound control by its binding (LibreOffice keeps it),
    a text box as the n-th field showing its placeholder (LibreOffice drops tags)."""
    fields = layout_for(ws.config, ws.config.tool("case_file_audit"), document).fields
    position = next(n for n, f in enumerate(fields) if f.id == field_id)
    field = fields[position]
    if field.kind in ("text", "richtext"):
        same = [f.id for f in fields if f.kind in ("text", "richtext") and f.placeholder == field.placeholder]
        return {"shows": field.placeholder, "nth": same.index(field_id)}
    return {"binding": position + 1}


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both documents filled once in one LibreOffice and saved in the three formats."""
    needs_uno()
    ws = month_workspace(tmp_path_factory.mktemp("lo-user") / "qa")
    out = tmp_path_factory.mktemp("lo-user-out")
    jobs = []
    for document, kind, steps in (("audit", "audit tool", AUDIT), ("plan", "improvement plan", PLAN)):
        source = out / f"{document} blank.docx"
        source.write_bytes(blank_form(ws, AUDIT_ID, kind))
        actions = [{"field": _address(ws, document, field_id), **action} for field_id, action, _value in steps]
        jobs.append(
            {
                "name": document,
                "input": str(source),
                "actions": actions,
                "outputs": [str(out / f"{document}{fmt}") for fmt in FORMATS],
            }
        )
    job_file = out / "jobs.json"
    job_file.write_text(json.dumps(jobs), encoding="utf-8")
    run = subprocess.run([SYSTEM_PYTHON, str(HARNESS), str(job_file)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    results = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    for result in results:
        if "name" in result:
            assert not result["failed"], result["failed"]
    return {"ws": ws, "out": out, "results": results}


def _read(ws: Workspace, path: Path) -> ParsedForm:
    return read_return(path.read_bytes(), str(path), ws.key(), layouts=layout_source(ws.config))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("document", ["audit", "plan"])
def test_what_a_libreoffice_user_filled_comes_back(filled: dict[str, Any], document: str, fmt: str) -> None:
    ws, out = filled["ws"], filled["out"]
    parsed = _read(ws, out / f"{document}{fmt}")
    assert parsed.status in ("ok", "invalid"), parsed.issues
    assert parsed.converted_from == (fmt[1:] if fmt != ".docx" else None)
    steps = AUDIT if document == "audit" else PLAN
    expected = {field_id: value for field_id, _action, value in steps}  # the last action on a field wins
    warned = {i.field: i.message for i in parsed.issues if i.severity == "warning" and i.affects_value}
    wrong = []
    for field_id, value in expected.items():
        got = parsed.fields.get(field_id)
        if got == value:
            continue
        lost_break = isinstance(value, str) and "\n" in value and got == value.replace("\n", "")
        if fmt == ".doc" and lost_break and "drops line breaks" in warned.get(field_id, ""):
            continue  # destroyed by LibreOffice's .doc import, and said so
        wrong.append(f"{field_id}: {got!r}, expected {value!r}")
    assert not wrong, "\n".join(wrong)
    errors = [i for i in parsed.issues if i.severity == "error" and i.field in expected]
    assert not errors, errors  # no false finding: a typed date is a date


def test_a_libreoffice_doc_loses_line_breaks_and_says_which_fields(filled: dict[str, Any]) -> None:
    """The one loss, measured: pinned so that a LibreOffice that keeps them is noticed."""
    ws, out = filled["ws"], filled["out"]
    parsed = _read(ws, out / "audit.doc")
    assert parsed.fields["plan.1.action"] == "".join(TWO_LINES)
    assert any(i.field == "plan.1.action" and "drops line breaks" in i.message for i in parsed.issues)


def test_parse_and_ingest_of_libreoffice_files_agree(filled: dict[str, Any]) -> None:
    """``auditdocs parse`` of a .doc, .odt or .docx gives what ingest stores, warnings too."""
    ws, out = filled["ws"], filled["out"]
    store = ws.store()
    for n, fmt in enumerate(FORMATS):
        path = out / f"audit{fmt}"
        parsed = _read(ws, path)
        [outcome] = ingest(ws, [path], received_at=datetime(2026, 11, 25, 10 + n, tzinfo=UTC)).outcomes
        assert outcome.converted_from == parsed.converted_from
        stored = store.current_values("2026-11")[AUDIT_ID]
        assert stored == {k: v for k, v in parsed.fields.items() if k in stored}
        assert set(stored) == set(parsed.fields)
        to_confirm = sorted(
            (f.field, f.message) for f in outcome.findings if f.rule == READING_RULE and f.severity == "warning"
        )
        assert to_confirm == sorted(
            (i.field, i.message) for i in parsed.issues if i.severity == "warning" and i.affects_value
        )


def test_copies_we_send_back_of_libreoffice_files_open_clean_in_word(filled: dict[str, Any], tmp_path: Path) -> None:
    """LibreOffice never writes a choice to the bound XML part: the feedback copy of its
    .docx puts them there, so Word shows the auditor's grades, ticks and dates."""
    ws, out = filled["ws"], filled["out"]
    data = (out / "audit.docx").read_bytes()
    assert stale_nodes(data), "LibreOffice now writes bound nodes? then this test no longer shows the need"
    parsed = _read(ws, out / "audit.docx")
    alloc = ws.store().allocation(AUDIT_ID)[0]
    outcome = Outcome(name="audit.docx", origin="test", status="needs amendment", document="audit")
    outcome.findings = [Finding("overall.development", "error", "required", "Write the areas for development.")]
    docx, _eml = write_feedback(ws, parsed, alloc, outcome, version=99)
    assert stale_nodes(docx.read_bytes()) == []
    check_office_files([docx])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
