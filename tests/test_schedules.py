"""The scheduled tools (``schedules:`` in organisation.yaml): thematic audits, case
discussions, supervision audits and staff observations added to the month's case file
audits, their auditors, capacity, config errors, and a supervision audit through
allocate → generate → fill → ingest."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from auditdocs.allocation.allocate import (
    AllocationResult,
    allocate,
    allocation_path,
    plan_allocation,
    read_checked_allocation,
)
from auditdocs.allocation.lists import Auditor, Case
from auditdocs.allocation.record import worker_reference
from auditdocs.allocation.workbook import read_allocation, write_allocation
from auditdocs.config import Settings
from auditdocs.config.loader import load_config
from auditdocs.errors import ConfigError, DataError
from auditdocs.forms.generate import document_path, generate
from auditdocs.forms.layout import layout_for
from auditdocs.ooxml.fill import fill_form
from auditdocs.returns.ingest import ACCEPTED, AMEND, ingest
from auditdocs.sample.month import init_workspace
from auditdocs.workspace import Workspace

TEAMS = ["North", "South", "Care"]
TYPES = ["CIN", "CP", "CIC"]
MANAGER_ROLES = {"Team manager", "Service manager", "Senior manager"}


@pytest.fixture(scope="module")
def settings(workspace: Workspace) -> Settings:
    rules = workspace.config.settings.allocation.model_copy(update={"quota_per_team": 1})
    return workspace.config.settings.model_copy(update={"allocation": rules})


def make_cases() -> list[Case]:
    """Three teams, two workers each, three cases a worker (one of each type)."""
    out = []
    for t, team in enumerate(TEAMS):
        for w in range(2):
            for k, kind in enumerate(TYPES):
                ref = f"R{t}{w}{k}"
                out.append(Case(ref, f"C-{ref}", kind, team, f"Worker {team} {w}", f"TM {team}", date(2025, 1, 6)))
    return out


def make_auditors(tm_capacity: int = 10) -> list[Auditor]:
    people = [
        Auditor(f"TM {team}", f"tm.{team.lower()}@x.example", "Team manager", team, tm_capacity) for team in TEAMS
    ]
    people += [
        Auditor("Sam Service", "sam@x.example", "Service manager", "Safeguarding", 10),
        Auditor("Ida Iro", "ida@x.example", "IRO", "Safeguarding", 10),
        Auditor("Sue Senior", "sue@x.example", "Senior manager", "Senior Leadership", 10),
    ]
    return people


def plan(settings: Settings, month: str, seed: int = 7, **kw: Any) -> AllocationResult:
    auditors = kw.pop("auditors", None) or make_auditors()
    return plan_allocation(make_cases(), auditors, month, settings, seed=seed, scheduled=True, **kw)


def of_tool(result: AllocationResult, tool: str) -> list[Any]:
    return [a for a in result.allocations if a.tool == tool]


def test_a_month_with_no_schedule_adds_nothing(settings: Settings) -> None:
    result = plan(settings, "2027-01")
    plain = plan_allocation(make_cases(), make_auditors(), "2027-01", settings, seed=7)
    assert result.allocations == plain.allocations
    assert {a.tool for a in result.allocations} == {"case_file_audit"}
    assert dict(result.about)["Schedules"].startswith("none this month")


def test_april_adds_staff_observations_by_own_manager_and_team_managers_by_a_senior(settings: Settings) -> None:
    result = plan(settings, "2027-04")
    cases = of_tool(result, "case_file_audit")
    observed = of_tool(result, "staff_observation")
    assert [a.audit_id for a in result.allocations] == [
        f"2027-04-{n:03d}" for n in range(1, len(result.allocations) + 1)
    ]
    assert result.allocations[: len(cases)] == cases  # case file audits first, numbered on from them
    workers = [a for a in observed if a.worker.startswith("Worker")]
    managers = [a for a in observed if a.worker.startswith("TM")]
    assert sorted(a.worker for a in workers) == sorted({c.worker for c in make_cases()})
    assert all(a.auditor == a.team_manager for a in workers)
    assert sorted(a.worker for a in managers) == [f"TM {team}" for team in sorted(TEAMS)]
    assert all(a.auditor in {"Sam Service", "Sue Senior"} for a in managers)
    for a in observed:
        assert a.case_reference == worker_reference(a.worker) and a.case_reference.startswith("W-")
        assert a.child_id == ""
        assert a.due_date == cases[0].due_date
    assert "Schedule: staff_observation" in dict(result.about)


def test_june_supervision_audits_are_never_by_the_workers_own_manager(settings: Settings) -> None:
    result = plan(settings, "2027-06")
    audits = of_tool(result, "supervision_audit")
    assert len(audits) == 6
    roles = {a.name: a for a in make_auditors()}
    for a in audits:
        assert a.auditor != a.team_manager
        assert roles[a.auditor].role in MANAGER_ROLES  # never the IRO
        assert roles[a.auditor].team != a.team
        assert a.child_id == "" and a.case_reference == worker_reference(a.worker)


def test_may_case_discussions_are_held_by_the_own_manager_on_one_of_the_workers_cases(settings: Settings) -> None:
    result = plan(settings, "2027-05")
    talks = of_tool(result, "case_discussion")
    assert sorted(a.worker for a in talks) == sorted({c.worker for c in make_cases()})
    by_ref = {c.case_reference: c for c in make_cases()}
    for a in talks:
        assert a.auditor == a.team_manager
        case = by_ref[a.case_reference]
        assert (case.worker, case.child_id) == (a.worker, a.child_id)


def test_thematic_audits_pick_cases_of_their_types_with_the_case_audit_exclusions(settings: Settings) -> None:
    result = plan(settings, "2027-03")
    thematic = of_tool(result, "thematic_audit")
    assert len(thematic) == 6
    by_ref = {c.case_reference: c for c in make_cases()}
    team_of = {a.name: a.team for a in make_auditors()}
    case_audited = {a.case_reference for a in of_tool(result, "case_file_audit")}
    for a in thematic:
        assert by_ref[a.case_reference].case_type in {"CP", "CIN"}
        assert a.case_reference not in case_audited
        assert a.auditor not in {a.team_manager, a.worker}
        assert team_of[a.auditor] != a.team


def test_a_capacity_shortfall_names_the_tool_and_how_many(settings: Settings) -> None:
    with pytest.raises(DataError, match=r"staff_observation: 6 of 9 short"):
        plan(settings, "2027-04", auditors=make_auditors(tm_capacity=0))
    no_tm = [a for a in make_auditors() if a.name != "TM North"]
    with pytest.raises(DataError, match=r"case_discussion: 2 of 6 short \(2 with no eligible auditor"):
        plan(settings, "2027-05", auditors=no_tm)


def test_the_same_seed_gives_the_same_allocation(settings: Settings) -> None:
    for month in ("2027-03", "2027-04", "2027-05", "2027-06"):
        assert plan(settings, month, seed=3).allocations == plan(settings, month, seed=3).allocations
    assert of_tool(plan(settings, "2027-03", seed=3), "thematic_audit") != of_tool(
        plan(settings, "2027-03", seed=4), "thematic_audit"
    )


def _config_with(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(Path(__file__).parents[1] / "config", folder)
    with (folder / "organisation.yaml").open("a") as f:
        f.write(extra)
    return folder


def test_config_errors_name_the_key_path(tmp_path: Path) -> None:
    folder = _config_with(tmp_path, "  peer_review:\n    months: [2]\n    subjects: workers\n")
    with pytest.raises(ConfigError, match=r"organisation.yaml: schedules.peer_review: no tool type 'peer_review'"):
        load_config(folder)
    folder = _config_with(tmp_path / "b", "  case_file_audit:\n    months: [13]\n    subjects: cases\n")
    with pytest.raises(
        ConfigError, match=r"schedules.case_file_audit.months\[0\]: input should be less than or equal to 12"
    ):
        load_config(folder)
    folder = _config_with(tmp_path / "c", "  case_file_audit:\n    months: [2]\n    subjects: workers\n")
    with pytest.raises(ConfigError, match=r"schedules.case_file_audit: the case file audit"):
        load_config(folder)


def test_own_manager_rows_are_accepted_on_re_import_only_for_their_tools(
    settings: Settings, workspace: Workspace, tmp_path: Path
) -> None:
    result = plan(settings, "2027-05")
    path = tmp_path / "may.xlsx"
    write_allocation(path, result.allocations)
    assert read_allocation(path, make_auditors(), {"case_discussion"}) == result.allocations
    with pytest.raises(DataError, match="is the case's team manager"):
        read_allocation(path)
    talk = of_tool(result, "case_discussion")[0]
    write_allocation(path, [replace(talk, auditor="Sam Service")])
    with pytest.raises(DataError, match=r"is not .* team manager"):
        read_allocation(path, own_manager_tools={"case_discussion"})


def test_a_june_supervision_audit_is_generated_filled_and_ingested(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "qa")
    june = allocate(ws, "2027-06", seed=1)
    assert dict(june.about)["Schedule: supervision_audit"].startswith("4 audits")
    allocations = read_checked_allocation(ws, allocation_path(ws, "2027-06"))
    assert allocations == june.allocations
    generate(ws, allocations)
    alloc = next(a for a in allocations if a.tool == "supervision_audit")
    tool = ws.config.tool("supervision_audit")

    values: dict[str, Any] = {}
    for n, domain in enumerate(tool.domains):
        values[f"domain.{domain.id}.grade"] = "good"
        values[f"domain.{domain.id}.evidence"] = (
            f"Supervision record {n} for this practitioner was reviewed with care: sessions were held on time, "
            f"the discussion was reflective and strong, decisions were recorded with reasons and the worker's "
            f"wellbeing was covered well in every one of the {n + 4} sessions sampled this period."
        )
        values.update({f"domain.{domain.id}.criteria.{c.id}": True for c in domain.what_good_looks_like})
    ids = {f.id for f in layout_for(ws.config, tool, "audit").fields}
    values.update(
        {
            "overall.grade": "good",
            "overall.summary": "Supervision is regular, reflective and well recorded for this practitioner.",
            "discussion.worker_date": date(2027, 6, 14),
            "discussion.manager_date": date(2027, 6, 15),
            "discussion.notes": "Findings shared with the practitioner and their manager, who agreed them.",
        }
    )
    values = {k: v for k, v in values.items() if k in ids}
    form = fill_form(document_path(ws.output_dir, alloc, "audit").read_bytes(), values)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / "returned.docx"
    path.write_bytes(form)
    (outcome,) = ingest(ws, [path], received_at=datetime(2027, 6, 18, 10, tzinfo=UTC)).outcomes
    assert outcome.audit_id == alloc.audit_id
    assert outcome.status in (ACCEPTED, AMEND)
    stored = ws.store().allocation(alloc.audit_id)
    assert stored is not None and stored[0].tool == "supervision_audit"
    assert stored[0].child_id == "" and stored[0].case_reference.startswith("W-")
