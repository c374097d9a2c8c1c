"""The command line, through click's CliRunner: assert the exit code, then check the
result through the library.  Every failure a user can cause is one line, never a traceback."""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from auditdocs.allocation.record import COLUMNS
from auditdocs.allocation.workbook import read_allocation
from auditdocs.cli import main
from auditdocs.config import load_config
from auditdocs.files import safe_name
from auditdocs.forms.generate import DOCUMENT_KINDS, document_path
from auditdocs.forms.parse import parse_file
from auditdocs.sample.month import SAMPLE_MONTH, init_workspace, sample_allocation_path, sample_month, write_sheet
from auditdocs.workspace import Workspace


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result: Result) -> str:
    """The error a failed command printed: one line on stderr, no traceback."""
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: "), result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.endswith("\n"), result.stderr
    return result.stderr.rstrip("\n")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """Every file under ``root`` with its content hash, mode and modification time."""
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), mode(p), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def fresh_workspace(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "qa")


@pytest.fixture(scope="module")
def generated_workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Result]:
    """A fresh workspace after one `auditdocs generate` of the sample month."""
    ws = init_workspace(tmp_path_factory.mktemp("cli") / "qa")
    return ws, run("generate", "--workspace", ws.root)


# --- init -----------------------------------------------------------------------------


def test_init_creates_a_workspace(tmp_path: Path) -> None:
    root = tmp_path / "qa"
    result = run("init", root)
    assert result.exit_code == 0, result.output
    assert f"Created workspace {root}" in result.stdout
    assert {p.name for p in root.iterdir()} >= {"config", "templates", "sample", "output", ".auditdocs"}
    assert {p.name for p in (root / "templates").iterdir()} >= {"audit_tool.docx", "improvement_plan.docx"}
    assert {p.name for p in (root / "sample").iterdir()} >= {
        "cases.xlsx",
        "auditors.xlsx",
        f"allocation-{SAMPLE_MONTH}.xlsx",
    }
    assert list((root / "output").iterdir()) == []
    ws = Workspace.open(root)
    assert mode(ws.key_path) == 0o600
    assert len(ws.key()) == 32
    assert set(ws.config.tools) == set(load_config(root / "config").tools)
    assert len(read_allocation(sample_allocation_path(ws))) == 12


def test_each_workspace_gets_its_own_key(tmp_path: Path) -> None:
    assert run("init", tmp_path / "a").exit_code == 0
    assert run("init", tmp_path / "b").exit_code == 0
    assert Workspace.open(tmp_path / "a").key() != Workspace.open(tmp_path / "b").key()


def test_init_points_to_the_real_cycle_and_month_defaults_to_the_latest_allocated(tmp_path: Path) -> None:
    """Issue 14, defect 7: `init` said "Next: auditdocs generate", which issued the sample
    month; `generate` without --month kept issuing it after another month was allocated,
    while status and send required --month."""
    root = tmp_path / "qa"
    told = run("init", root).stdout
    assert "auditdocs allocate --month" in told and "then auditdocs generate" in told
    nothing = run("status", "--workspace", root)
    assert nothing.exit_code == 2
    assert one_line_error(nothing) == (
        "Error: no month has been allocated yet: run `auditdocs allocate --month YYYY-MM` first"
    )
    assert run("allocate", "--month", "2027-01", "--workspace", root).exit_code == 0
    generated = run("generate", "--workspace", root)
    assert generated.exit_code == 0, generated.output
    assert "output/2027-01/" in generated.stdout.replace("\\", "/")
    assert not (root / "output" / "2026-11").exists()  # not the sample month
    status = run("status", "--workspace", root)
    assert status.exit_code == 0, status.output
    assert "Month 2027-01 (the latest allocated" in status.stderr
    assert "2027-01-001" in status.stdout and "2026-11-" not in status.stdout
    sent = run("send", "--dry-run", "--workspace", root)
    assert sent.exit_code == 0 and "Month 2027-01" in sent.stderr
    # allocate goes on to the month after; --add and the quarterly report take the latest.
    after = run("allocate", "--workspace", root)
    assert after.exit_code == 0, after.output
    assert "Month 2027-02 (the month after the latest allocated" in after.stderr
    assert (root / "output" / "2027-02" / "allocation-2027-02.xlsx").exists()
    added = run("allocate", "--add", "--workspace", root)
    assert added.exit_code == 0 and "Month 2027-02 (the latest allocated" in added.stderr
    quarterly = run("report", "quarterly", "--workspace", root)
    assert quarterly.exit_code == 0, quarterly.output
    assert "Quarter 2027Q1" in quarterly.stderr and (root / "output" / "reports" / "2027Q1").is_dir()


def test_init_refuses_an_existing_workspace_and_changes_nothing(fresh_workspace: Workspace) -> None:
    before = snapshot(fresh_workspace.root)
    result = run("init", fresh_workspace.root)
    assert result.exit_code == 2
    assert one_line_error(result) == (
        f"Error: {fresh_workspace.root}: already a workspace (config/ exists); nothing was changed"
    )
    assert snapshot(fresh_workspace.root) == before


# --- config ---------------------------------------------------------------------------


def test_config_check_says_ok(workspace: Workspace) -> None:
    result = run("config", "check", "--workspace", workspace.root)
    assert result.exit_code == 0, result.output
    assert f"{workspace.config_dir}: OK: Northbrook Borough Council, 5 tool types" in result.stdout
    for tool_id in workspace.config.tools:
        assert f"  {tool_id}: " in result.stdout
        assert f"version {workspace.config.version(tool_id)}" in result.stdout


def test_config_check_names_the_file_and_key_path_of_a_problem(fresh_workspace: Workspace) -> None:
    tool = fresh_workspace.config_dir / "case_file_audit.yaml"
    text = tool.read_text(encoding="utf-8")
    tool.write_text(text.replace("  - id: assessment\n", "  - id: Assessment\n", 1), encoding="utf-8")
    result = run("config", "check", "--workspace", fresh_workspace.root)
    assert result.exit_code == 1
    assert one_line_error(result) == (f"Error: {tool}: domains[1].id: string should match pattern '^[a-z][a-z0-9_]*$'")
    assert "OK" not in result.stdout


def test_config_check_reports_broken_yaml_syntax(fresh_workspace: Workspace) -> None:
    settings = fresh_workspace.config_dir / "organisation.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "grading: [\n", encoding="utf-8")
    result = run("config", "check", "--workspace", fresh_workspace.root)
    assert result.exit_code == 1
    assert one_line_error(result).startswith(f"Error: {settings}:")
    assert "invalid YAML" in result.stderr


def test_config_schema_writes_two_json_schemas(tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    result = run("config", "schema", "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["organisation.schema.json", "tool.schema.json"]
    organisation = json.loads((out / "organisation.schema.json").read_text())
    tool = json.loads((out / "tool.schema.json").read_text())
    assert "grading" in organisation["properties"]
    assert "domains" in tool["properties"]


def test_config_schema_prints_json_without_out() -> None:
    result = run("config", "schema")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == {"organisation.yaml", "tool.yaml"}


# --- generate -------------------------------------------------------------------------


def test_generate_writes_both_documents_for_every_audit(generated_workspace: tuple[Workspace, Result]) -> None:
    ws, result = generated_workspace
    assert result.exit_code == 0, result.output
    assert f"Wrote 24 documents for 12 audits to {ws.output_dir / SAMPLE_MONTH}" in result.stdout
    allocations = read_allocation(sample_allocation_path(ws))
    expected = {document_path(ws.output_dir, a, kind) for a in allocations for kind in DOCUMENT_KINDS}
    written = set(ws.output_dir.rglob("*.docx"))
    assert len(written) == 24
    assert written == expected
    auditors = {safe_name(a.auditor) for a in allocations}
    assert all(p.parent.parent == ws.output_dir / SAMPLE_MONTH and p.parent.name in auditors for p in written)
    assert sum(p.name.endswith(" audit tool.docx") for p in written) == 12
    assert sum(p.name.endswith(" improvement plan.docx") for p in written) == 12


def test_generated_documents_are_readable_by_their_owner_only(
    generated_workspace: tuple[Workspace, Result],
) -> None:
    ws, _ = generated_workspace
    assert {mode(p) for p in ws.output_dir.rglob("*.docx")} == {0o600}


def sample_rows(count: int = 3) -> list[list[Any]]:
    """The first ``count`` rows of the sample allocation, in COLUMNS order."""
    allocations = sample_month()[2][:count]
    return [[asdict(a)[c] for c in COLUMNS] for a in allocations]


def generate_with(workspace: Workspace, allocation: Path) -> Result:
    before = snapshot(workspace.output_dir)
    result = run("generate", "--workspace", workspace.root, "--allocation", allocation)
    assert snapshot(workspace.output_dir) == before, "a refused allocation must not write anything"
    return result


def test_an_allocation_without_a_column_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    drop = COLUMNS.index("auditor_email")
    rows = [[v for i, v in enumerate(row) if i != drop] for row in sample_rows()]
    book = write_sheet(tmp_path / "allocation.xlsx", [c for c in COLUMNS if c != "auditor_email"], rows)
    result = generate_with(workspace, book)
    assert result.exit_code == 1
    assert one_line_error(result) == f"Error: {book}: missing column(s) auditor_email in the header row"


def test_an_allocation_with_a_bad_date_names_row_and_column(workspace: Workspace, tmp_path: Path) -> None:
    rows = sample_rows()
    rows[1][COLUMNS.index("due_date")] = "31/11/2026"  # November has 30 days
    book = write_sheet(tmp_path / "allocation.xlsx", COLUMNS, rows)
    result = generate_with(workspace, book)
    assert result.exit_code == 1
    assert one_line_error(result) == (
        f"Error: {book}: row 3, column due_date: '31/11/2026' is not a date (use dd/mm/yyyy)"
    )


def test_an_allocation_with_a_repeated_audit_id_names_both_rows(workspace: Workspace, tmp_path: Path) -> None:
    rows = sample_rows()
    rows[2][0] = rows[0][0]
    book = write_sheet(tmp_path / "allocation.xlsx", COLUMNS, rows)
    result = generate_with(workspace, book)
    assert result.exit_code == 1
    assert one_line_error(result) == (
        f"Error: {book}: row 4, column audit_id: {rows[0][0]!r} repeats row 2; audit ids must be unique"
    )


# --- outside a workspace --------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["config", "check"], ["generate"], ["parse", "returned.docx"], ["demo"]], ids=" ".join
)
def test_commands_refuse_to_run_outside_a_workspace(tmp_path: Path, command: list[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run(*command, "--workspace", empty)
    assert result.exit_code == 2
    assert "`auditdocs init DIR`" in one_line_error(result)
    assert list(empty.iterdir()) == []


def test_the_workspace_defaults_to_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("config", "check")
    assert result.exit_code == 2
    assert one_line_error(result).startswith(f"Error: {tmp_path}: not an auditdocs workspace")


# --- parse ----------------------------------------------------------------------------


def test_parse_json_reads_a_blank_generated_form(generated_workspace: tuple[Workspace, Result]) -> None:
    ws, _ = generated_workspace
    form = next(ws.output_dir.rglob("* audit tool.docx"))
    result = run("parse", form, "--json", "--workspace", ws.root)
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, list) and len(parsed) == 1
    (entry,) = parsed
    assert set(entry) == {"file", "status", "audit_id", "fields", "issues"}
    assert entry["status"] == "ok"
    assert entry["file"] == str(form)
    assert entry["audit_id"] == form.name.split(" ")[0]
    assert entry["issues"] == []
    assert entry["fields"], "a form has fields"
    assert all(value is None or value is False for value in entry["fields"].values())
    assert entry["fields"] == parse_file(form, ws.key()).fields


def test_parse_rejects_a_pdf_even_named_docx(generated_workspace: tuple[Workspace, Result], tmp_path: Path) -> None:
    ws, _ = generated_workspace
    pdf = tmp_path / "returned audit.docx"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n")
    result = run("parse", pdf, "--json", "--workspace", ws.root)
    assert result.exit_code == 1
    (entry,) = json.loads(result.stdout)
    assert entry["status"] == "rejected"
    assert entry["fields"] == {}
    assert "PDF" in entry["issues"][0]["message"]


def test_parse_reports_every_file_and_fails_if_any_is_not_ok(
    generated_workspace: tuple[Workspace, Result], tmp_path: Path
) -> None:
    ws, _ = generated_workspace
    form = next(ws.output_dir.rglob("* improvement plan.docx"))
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"")
    result = run("parse", form, empty, "--workspace", ws.root)
    assert result.exit_code == 1
    assert f"{form}: ok audit " in result.stdout
    assert f"{empty}: rejected audit -: 0/0 fields filled" in result.stdout
    assert "error: (file): the file is empty (0 bytes)" in result.stdout


# --- demo -----------------------------------------------------------------------------


def test_demo_runs_the_sample_month(fresh_workspace: Workspace) -> None:
    result = run("demo", "--workspace", fresh_workspace.root)
    assert result.exit_code == 0, result.output
    # 12 case file audits and, November being a case discussion month, 4 case discussions
    assert "Generated 32 documents (16 audits)" in result.stdout
    returned = sorted((fresh_workspace.output_dir / SAMPLE_MONTH / "returned (demo)").glob("*.docx"))
    assert len(returned) == 6  # four returns, one amendment and one moderation
    assert all(parse_file(p, fresh_workspace.key()).status == "ok" for p in returned)
    assert "4 files: 3 accepted, 1 needs amendment, 0 rejected" in result.stdout
    assert "accepted (version 2)" in result.stdout
    assert "URGENT" in result.stdout
    states = {a.audit_id: s for a, s in fresh_workspace.store().month_allocations(SAMPLE_MONTH)}
    assert list(states.values()).count("accepted") == 4
    # One moderation: drawn, returned, accepted, stored beside its audit.
    [moderated] = [p for p in returned if p.name.endswith(" moderated.docx")]
    assert "(grade of record: the moderator's); feedback to " in result.stdout
    audit_id = moderated.name.split()[0]
    values = fresh_workspace.store().current_values(SAMPLE_MONTH, document="moderation")
    assert list(values) == [audit_id] and values[audit_id]["overall.grade"] == "inadequate"


# --- every command is documented ------------------------------------------------------


def commands(group: click.Group = main, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        yield " ".join(path), command
        if isinstance(command, click.Group):
            yield from commands(command, path)


ALL_COMMANDS = [("", main), *commands()]


def test_the_command_list_is_complete() -> None:
    assert [name for name, _ in ALL_COMMANDS] == [
        "",
        "allocate",
        "chase",
        "config",
        "config check",
        "config schema",
        "demo",
        "generate",
        "ingest",
        "init",
        "moderate",
        "parse",
        "report",
        "report monthly",
        "report quarterly",
        "send",
        "status",
        "withdraw",
    ]


@pytest.mark.parametrize(("name", "command"), ALL_COMMANDS, ids=[n or "auditdocs" for n, _ in ALL_COMMANDS])
def test_every_command_is_documented(name: str, command: click.Command) -> None:
    assert command.help and command.help.strip()
    result = run(*name.split(), "--help")
    assert result.exit_code == 0, result.output
    summary = command.help.strip().splitlines()[0]
    assert " ".join(summary.split()) in " ".join(result.stdout.split())  # --help rewraps the text


@pytest.mark.parametrize(("name", "command"), ALL_COMMANDS, ids=[n or "auditdocs" for n, _ in ALL_COMMANDS])
def test_every_option_is_documented(name: str, command: click.Command) -> None:
    undocumented = [p.name for p in command.params if isinstance(p, click.Option) and not p.help]
    assert undocumented == []
