"""Allocating the month's audits: each rule (quota per team, seeded sample, every n-th,
own team, own managed cases, 12 months, capacity and balance), the re-audit chain of an
Inadequate case over months through the real ingest path, the workbook the QA team
adjusts by hand and its re-import, and the store migration that keeps the chain."""

from __future__ import annotations

import re
import stat
import zipfile
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import MetaData, Table, create_engine, insert, inspect

from auditdocs.allocation.allocate import (
    AllocationResult,
    History,
    Reaudit,
    allocate,
    allocation_path,
    history_from_store,
    plan_allocation,
    read_checked_allocation,
)
from auditdocs.allocation.lists import Auditor, Case, read_auditors
from auditdocs.allocation.record import COLUMNS, Allocation
from auditdocs.allocation.workbook import (
    allocation_about,
    allocation_auditors,
    read_allocation,
    write_allocation,
)
from auditdocs.config import Settings
from auditdocs.errors import DataError, UsageError
from auditdocs.forms.generate import document_path, generate
from auditdocs.ooxml.fill import fill_form
from auditdocs.returns.ingest import ACCEPTED, AMEND, ingest
from auditdocs.sample.answers import complete_values
from auditdocs.sample.month import init_workspace
from auditdocs.store import schema as store_module
from auditdocs.store.schema import SCHEMA_VERSION
from auditdocs.store.store import Store, _alloc_row
from auditdocs.workspace import Workspace

MONTH = "2026-11"


@pytest.fixture(scope="module")
def settings(workspace: Workspace) -> Settings:
    return workspace.config.settings


def with_rules(settings: Settings, **rules: Any) -> Settings:
    return settings.model_copy(update={"allocation": settings.allocation.model_copy(update=rules)})


def person(name: str, team: str, role: str = "Team manager", capacity: int = 2) -> Auditor:
    return Auditor(name, name.lower().replace(" ", ".") + "@northbrook.example", role, team, capacity)


def case(ref: str, team: str, manager: str | None = None, worker: str | None = None) -> Case:
    return Case(
        ref, f"C-{ref}", "CIN", team, worker or f"Worker of {team}", manager or f"Manager of {team}", date(2025, 1, 6)
    )


def team_cases(team: str, count: int, start: int = 1) -> list[Case]:
    return [case(f"{team[:1]}-{n}", team) for n in range(start, start + count)]


OUTSIDERS = [person(f"Outsider {n}", "Elsewhere", capacity=5) for n in range(1, 7)]


def by_team(result: AllocationResult) -> Counter[str]:
    return Counter(a.team for a in result.allocations)


def loads(result: AllocationResult) -> Counter[str]:
    return Counter(a.auditor for a in result.allocations)


# --- picking cases -----------------------------------------------------------------------


def test_a_quota_per_team_with_overrides(settings: Settings) -> None:
    cases = team_cases("Alpha", 10) + team_cases("Beta", 10) + team_cases("Gamma", 10)
    rules = with_rules(settings, method="quota", quota_per_team=2, team_quotas={"beta": 4})
    result = plan_allocation(cases, OUTSIDERS, MONTH, rules, seed=1)
    assert by_team(result) == {"Alpha": 2, "Beta": 4, "Gamma": 2}
    assert [a.audit_id for a in result.allocations] == [f"{MONTH}-{n:03d}" for n in range(1, 9)]
    assert {a.due_date for a in result.allocations} == {date(2026, 11, 30)}  # the last working day
    assert {a.tool for a in result.allocations} == {"case_file_audit"}
    assert result.notes == []


def test_a_team_with_too_few_cases_is_noted(settings: Settings) -> None:
    cases = team_cases("Alpha", 5) + team_cases("Beta", 1)
    result = plan_allocation(cases, OUTSIDERS, MONTH, with_rules(settings, quota_per_team=3), seed=1)
    assert by_team(result) == {"Alpha": 3, "Beta": 1}
    assert result.notes == ["Beta: only 1 cases could be picked (quota 3)"]
    assert "Beta: only 1 cases could be picked (quota 3)" in result.summary()


def test_a_random_sample_is_the_same_for_the_same_seed(settings: Settings) -> None:
    cases = team_cases("Alpha", 20) + team_cases("Beta", 20)
    rules = with_rules(settings, method="sample", sample_size=6)
    first = plan_allocation(cases, OUTSIDERS, MONTH, rules, seed=42)
    again = plan_allocation(cases, OUTSIDERS, MONTH, rules, seed=42)
    other = plan_allocation(cases, OUTSIDERS, MONTH, rules, seed=43)
    assert first.allocations == again.allocations
    assert len(first.allocations) == 6
    assert {a.case_reference for a in first.allocations} != {a.case_reference for a in other.allocations}
    assert ("Random seed", 42) in first.about
    assert ("Picked by", "a random sample of 6 cases from the whole list") in first.about


def test_every_nth_case_counts_only_cases_that_may_be_picked(settings: Settings) -> None:
    cases = team_cases("Alpha", 20)
    history = History(recent={"a-4": "2026-06"}, window=("2025-11", "2026-10"))
    rules = with_rules(settings, method="every_nth", every_nth=4)
    result = plan_allocation(cases, OUTSIDERS, MONTH, rules, seed=1, history=history)
    # A-4 is skipped, so the 4th, 8th, 12th and 16th of the rest are A-5, A-9, A-13, A-17.
    assert [a.case_reference for a in result.allocations] == ["A-5", "A-9", "A-13", "A-17"]


# --- who may audit what ---------------------------------------------------------------------


def test_nobody_audits_their_own_teams_cases(settings: Settings) -> None:
    cases = team_cases("Alpha", 3) + team_cases("Beta", 3)
    auditors = [person("Ann Alpha", "alpha ", capacity=10), person("Ben Beta", "Beta", capacity=10)]
    result = plan_allocation(cases, auditors, MONTH, with_rules(settings, quota_per_team=3), seed=1)
    assert {(a.team, a.auditor) for a in result.allocations} == {("Alpha", "Ben Beta"), ("Beta", "Ann Alpha")}


def test_nobody_audits_a_case_they_manage_or_work(settings: Settings) -> None:
    cases = [case(f"A-{n}", "Alpha", manager="Sam  MANAGER") for n in range(1, 4)]
    cases += [case(f"B-{n}", "Beta", worker="wendy worker") for n in range(1, 4)]
    auditors = [
        person("Sam Manager", "Service", "Service manager", capacity=10),
        person("Wendy Worker", "Service", "IRO", capacity=10),
    ]
    result = plan_allocation(cases, auditors, MONTH, with_rules(settings, quota_per_team=3), seed=1)
    assert {(a.team, a.auditor) for a in result.allocations} == {("Alpha", "Wendy Worker"), ("Beta", "Sam Manager")}


def test_a_case_nobody_may_audit_is_not_picked_and_is_noted(settings: Settings) -> None:
    cases = team_cases("Alpha", 2) + team_cases("Beta", 2)
    auditors = [person("Ann Alpha", "Alpha", capacity=10)]
    result = plan_allocation(cases, auditors, MONTH, with_rules(settings, quota_per_team=2), seed=1)
    assert by_team(result) == {"Beta": 2}
    assert result.notes[0] == (
        "2 cases have no eligible auditor (outside their team, not their manager or worker, with capacity) "
        "and were not picked: A-1, A-2"
    )


# --- capacity and balance -----------------------------------------------------------------


def test_the_load_is_spread_evenly_within_capacity(settings: Settings) -> None:
    auditors = [person(f"Auditor {n}", "Elsewhere", capacity=4) for n in range(5)]
    result = plan_allocation(team_cases("Alpha", 12), auditors, MONTH, with_rules(settings, quota_per_team=12), seed=3)
    assert sorted(loads(result).values()) == [2, 2, 2, 3, 3]
    uneven = [
        person("Small", "Elsewhere", capacity=1),
        person("Big", "X", capacity=6),
        person("Large", "Y", capacity=6),
    ]
    result = plan_allocation(team_cases("Alpha", 9), uneven, MONTH, with_rules(settings, quota_per_team=9), seed=3)
    assert loads(result) == {"Small": 1, "Big": 4, "Large": 4}


def test_balance_respects_who_may_audit_what(settings: Settings) -> None:
    # Only Ann may take Beta's cases (all three, her whole capacity); Bea and Carl share Alpha's.
    cases = team_cases("Alpha", 3) + team_cases("Beta", 3)
    auditors = [
        person("Ann", "Alpha", capacity=3),
        person("Bea", "Beta", capacity=3),
        person("Carl", "Beta", capacity=3),
    ]
    result = plan_allocation(cases, auditors, MONTH, with_rules(settings, quota_per_team=3), seed=1)
    assert loads(result) == {"Ann": 3, "Bea": 1, "Carl": 2} or loads(result) == {"Ann": 3, "Bea": 2, "Carl": 1}
    assert {a.auditor for a in result.allocations if a.team == "Beta"} == {"Ann"}


def test_insufficient_capacity_says_how_many_are_short(settings: Settings) -> None:
    auditors = [person("Ann", "Elsewhere", capacity=3), person("Ben", "Elsewhere", capacity=3)]
    with pytest.raises(DataError) as exc:
        plan_allocation(
            team_cases("Alpha", 10),
            auditors,
            MONTH,
            with_rules(settings, quota_per_team=10),
            seed=1,
            sources=("cases.xlsx", "auditors.xlsx"),
        )
    assert str(exc.value) == (
        "auditors.xlsx: not enough auditor capacity for 2026-11: 10 audits to allocate (0 re-audits), 6 can be "
        "placed, 4 short (total capacity 6; nobody audits their own team's cases); add auditors or raise their "
        "monthly capacity"
    )


# --- re-audits (2.12) ---------------------------------------------------------------------


def previous(ref: str, team: str, audit_id: str) -> Allocation:
    return Allocation(
        audit_id, "2026-10", "case_file_audit", ref, "C-" + ref, team, "W", "M", "Someone", "s@x.example", date.today()
    )


def test_an_inadequate_case_is_re_audited_by_a_senior_manager(settings: Settings) -> None:
    cases = team_cases("Alpha", 5)
    senior = person("Sue Senior", "Leadership", "Senior manager", capacity=1)
    history = History(
        recent={"a-2": "2026-10"},
        window=("2025-11", "2026-10"),
        reaudits=[Reaudit(previous("A-2", "Alpha", "X-7"), "inadequate")],
    )
    result = plan_allocation(cases, [*OUTSIDERS, senior], MONTH, settings, seed=1, history=history)
    first = result.allocations[0]
    assert (first.audit_id, first.case_reference, first.auditor, first.reaudit_of) == (
        f"{MONTH}-001",
        "A-2",
        "Sue Senior",
        "X-7",
    )
    assert first.child_id == "C-A-2" and first.worker == "Worker of Alpha"  # details from this month's list
    assert [a.case_reference for a in result.allocations].count("A-2") == 1
    assert all(a.reaudit_of is None for a in result.allocations[1:])
    assert "Sue Senior" not in {a.auditor for a in result.allocations[1:]}  # her capacity is used


def test_re_audits_short_of_senior_managers_say_so(settings: Settings) -> None:
    reaudits = [Reaudit(previous(f"A-{n}", "Alpha", f"X-{n}"), "inadequate") for n in (1, 2, 3)]
    senior = person("Sue Senior", "Leadership", "Senior manager", capacity=2)
    with pytest.raises(DataError) as exc:
        plan_allocation(
            team_cases("Alpha", 5),
            [*OUTSIDERS, senior],
            MONTH,
            settings,
            seed=1,
            history=History(reaudits=reaudits),
            sources=("cases.xlsx", "auditors.xlsx"),
        )
    assert str(exc.value) == (
        "auditors.xlsx: not enough Senior manager capacity for 2026-11: 3 re-audits need a Senior manager outside "
        "the case's team, 2 can be placed, 1 short (1 Senior managers, capacity 2); add senior managers or raise "
        "their monthly capacity"
    )


# --- the store: 12 months, and the migration -------------------------------------------


def stored(month: str, n: int, ref: str) -> Allocation:
    return Allocation(
        f"{month}-{n:03d}", month, "case_file_audit", ref, "", "Alpha", "W", "M", "Outsider 1", "o@x.example",
        date(int(month[:4]), int(month[5:]), 20),
    )  # fmt: skip


def test_a_case_audited_in_the_last_12_months_is_not_picked_again(settings: Settings, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    store.record_allocations(
        [
            stored("2025-10", 1, "A-1"),  # 13 months before: may be picked again
            stored("2025-11", 1, "A-2"),  # 12 months before
            stored("2026-10", 1, "a-3"),  # last month, not returned
            stored("2026-11", 1, "A-4"),  # this month (allocating again before issue): not history
        ],
        state="allocated",
    )
    history = history_from_store(store, MONTH, settings)
    assert history.recent == {"a-2": "2025-11", "a-3": "2026-10"}
    assert history.unreturned == ["2026-10-001"]
    result = plan_allocation(
        team_cases("Alpha", 5), OUTSIDERS, MONTH, with_rules(settings, quota_per_team=5), seed=1, history=history
    )
    assert [a.case_reference for a in result.allocations] == ["A-1", "A-4", "A-5"]
    assert "2 cases audited from 2025-11 to 2026-10 were not picked again" in result.notes
    assert "1 audits of 2026-10 are not returned yet, so whether they need re-auditing is not known: 2026-10-001" in (
        result.notes
    )


def v1_database(url: str) -> None:
    """A store as migration 1 made it before re-audits: allocations without reaudit_of."""
    v1 = MetaData()
    allocations = store_module.allocations
    Table("allocations", v1, *[c._copy() for c in allocations.columns if c.name != "reaudit_of"])
    for table in store_module.metadata.sorted_tables:
        if table.name != "allocations":
            table.to_metadata(v1)
    engine = create_engine(url)
    v1.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(v1.tables["schema_migrations"]).values(version=1, applied_at=datetime.now(UTC)))
        row = {k: v for k, v in _alloc_row(stored("2026-10", 1, "A-1")).items() if k != "reaudit_of"}
        conn.execute(insert(v1.tables["allocations"]).values(**row, state="issued", updated_at=datetime.now(UTC)))
    engine.dispose()


def test_a_version_1_store_gains_reaudit_of_and_keeps_its_allocations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    v1_database(url)
    engine = create_engine(url)
    assert "reaudit_of" not in {c["name"] for c in inspect(engine).get_columns("allocations")}
    store = Store(url)
    assert store.schema_version() == SCHEMA_VERSION == 4
    assert "reaudit_of" in {c["name"] for c in inspect(engine).get_columns("allocations")}
    assert "moderations" in inspect(engine).get_table_names()  # migration 4
    engine.dispose()
    old = store.allocation("2026-10-001")
    assert old is not None and old[0].reaudit_of is None and old[1] == "issued"
    store.record_allocations([Allocation(**{**stored(MONTH, 1, "A-1").__dict__, "reaudit_of": "2026-10-001"})])
    again = Store(url)  # opening again changes nothing
    assert again.schema_version() == SCHEMA_VERSION
    new = again.allocation(f"{MONTH}-001")
    assert new is not None and new[0].reaudit_of == "2026-10-001"


def test_a_new_store_has_reaudit_of_from_the_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    assert Store(url).schema_version() == SCHEMA_VERSION
    engine = create_engine(url)
    assert [c["name"] for c in inspect(engine).get_columns("allocations")].count("reaudit_of") == 1
    engine.dispose()


# --- the workspace: files, workbook, re-import -------------------------------------------


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "qa")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_allocate_writes_a_private_workbook_with_its_rules(ws: Workspace) -> None:
    result = allocate(ws, "2027-01", seed=5)
    path, summary = result.path, result.summary()
    assert path == allocation_path(ws, "2027-01") == ws.output_dir / "2027-01" / "allocation-2027-01.xlsx"
    assert mode(path) == 0o600
    assert summary.startswith("Allocated 12 audits for 2027-01 (0 re-audits) to ")
    assert "due 29/01/2027; seed 5" in summary
    allocations = read_allocation(path)
    assert len(allocations) == 12
    about = dict(load_workbook(path)["About"].iter_rows(values_only=True))
    assert about["Random seed"] == 5
    assert about["Picked by"] == "3 cases a team, at random"
    assert about["Cases"] == f"{ws.sample_dir / 'cases.xlsx'}: 40 cases"
    assert about["Who audits"] == "nobody audits a case of their own team, one they manage or one they work"
    assert about["Due"] == "29/01/2027: the last working day of the month (england-and-wales bank holidays)"
    assert about["Not picked again"] == "cases audited from 2026-01 to 2026-12: 0"


def test_audits_can_be_due_working_days_from_issue(settings: Settings) -> None:
    rules = settings.model_copy(
        update={"deadlines": settings.deadlines.model_copy(update={"audit_due": "working_days"})}
    )
    result = plan_allocation(team_cases("Alpha", 3), OUTSIDERS, "2026-12", rules, seed=1)
    # From Tue 1 December: 10 working days is Tue 15th.
    assert {a.due_date for a in result.allocations} == {date(2026, 12, 15)}
    issued = plan_allocation(team_cases("Alpha", 3), OUTSIDERS, "2026-12", rules, seed=1, issued=date(2026, 12, 14))
    # From Mon 14th, over Christmas: 15-18, 21-24, 29, 30.
    assert {a.due_date for a in issued.allocations} == {date(2026, 12, 30)}
    assert ("Due", "30/12/2026: 10 working days from issue (14/12/2026) (england-and-wales bank holidays)") in (
        issued.about
    )


def test_the_same_lists_and_seed_give_the_same_workbook(ws: Workspace) -> None:
    first = allocate(ws, "2027-01", seed=9)
    rows = list(load_workbook(allocation_path(ws, "2027-01"))["Allocation"].iter_rows(values_only=True))
    with pytest.raises(UsageError, match="already allocated"):
        allocate(ws, "2027-01", seed=9)
    again = allocate(ws, "2027-01", seed=9, replace_existing=True)
    assert again.allocations == first.allocations
    assert list(load_workbook(allocation_path(ws, "2027-01"))["Allocation"].iter_rows(values_only=True)) == rows
    other = allocate(ws, "2027-01", seed=10, replace_existing=True)
    assert other.allocations != first.allocations


def test_without_a_seed_one_is_chosen_and_recorded(ws: Workspace) -> None:
    result = allocate(ws, "2027-01")
    about = dict(load_workbook(allocation_path(ws, "2027-01"))["About"].iter_rows(values_only=True))
    assert about["Random seed"] == result.seed
    assert allocate(ws, "2027-01", seed=result.seed, replace_existing=True).allocations == result.allocations


def test_a_bad_case_list_allocates_nothing(ws: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "cases.csv"
    bad.write_text(
        "case_reference,child_id,date_of_birth,case_type,team,worker,team_manager,start_date\n"
        "NB-1,C1,01/02/2015,CIN,North,W,M,01/01/2025\n"
        "NB-1,C2,01/02/2016,CIN,North,W,M,01/01/2025\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="row 3, column 'case_reference': case reference 'NB-1' repeats row 2"):
        allocate(ws, "2027-01", seed=1, cases=bad)
    assert not allocation_path(ws, "2027-01").exists()
    assert ws.store().month_allocations("2027-01") == []


def test_a_month_is_not_allocated_again_once_issued(ws: Workspace) -> None:
    result = allocate(ws, "2027-01", seed=1)
    generate(ws, result.allocations[:1])
    with pytest.raises(DataError, match="2027-01: 1 audits are already issued"):
        allocate(ws, "2027-01", seed=1, replace_existing=True)


def test_a_bad_month_is_a_usage_error(ws: Workspace) -> None:
    with pytest.raises(UsageError, match="'2027-13' is not a month"):
        allocate(ws, "2027-13")


def edited(path: Path, out: Path, changes: dict[tuple[int, str], Any]) -> Path:
    wb = load_workbook(path)
    sheet = wb["Allocation"]
    for (row, column), value in changes.items():
        sheet.cell(row, COLUMNS.index(column) + 1, value)
    wb.save(out)
    return out


def test_a_hand_edited_workbook_is_checked_again(ws: Workspace, tmp_path: Path) -> None:
    result = allocate(ws, "2027-01", seed=2)
    path = result.path
    assert path is not None
    assert read_checked_allocation(ws, path) == result.allocations  # unchanged: as written
    auditors = read_auditors(ws.sample_dir / "auditors.xlsx", ws.config.settings.imports.auditors)
    email = {a.name: a.email for a in auditors}
    row2 = result.allocations[0]

    # The case's own team manager: caught from the workbook alone.
    own = edited(path, tmp_path / "manager.xlsx", {(2, "auditor"): row2.team_manager})
    with pytest.raises(DataError) as exc:
        read_allocation(own)
    assert str(exc.value) == (
        f"{own}: row 2, column Auditor: {row2.team_manager!r} is the case's team manager; nobody audits a case "
        "they manage"
    )

    # Someone of the case's team, with their own address: caught against the auditors.
    colleague = Auditor("Cary Colleague", "cary@northbrook.example", "IRO", row2.team, 2)
    extra = tmp_path / "auditors.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "email", "role", "team", "monthly_capacity"])
    for a in [*auditors, colleague]:
        sheet.append([a.name, a.email, a.role, a.team, a.capacity])
    book.save(extra)
    team = edited(path, tmp_path / "team.xlsx", {(2, "auditor"): colleague.name, (2, "auditor_email"): colleague.email})
    with pytest.raises(DataError) as exc:
        read_checked_allocation(ws, team, extra)
    assert str(exc.value) == (
        f"{team}: row 2, column Auditor: 'Cary Colleague' is in the case's team ({row2.team}); nobody audits "
        "their own team's cases"
    )

    # A new auditor whose address was not changed with the name.
    swap = next(a for a in auditors if a.name != row2.auditor and a.team != row2.team and a.name != row2.team_manager)
    wrong = edited(path, tmp_path / "email.xlsx", {(2, "auditor"): swap.name})
    with pytest.raises(DataError, match=r"row 2, column Auditor email: .* is not .*'s address in the list"):
        read_checked_allocation(ws, wrong)

    # Nobody in the list by that name.
    stranger = edited(path, tmp_path / "stranger.xlsx", {(3, "auditor"): "Nobody Known"})
    with pytest.raises(DataError, match="row 3, column Auditor: 'Nobody Known' is not in the list of auditors"):
        read_checked_allocation(ws, stranger)

    # Over capacity: one more case for someone who already has two.
    busy = next(name for name, n in Counter(a.auditor for a in result.allocations).items() if n == 2)
    busy_team = next(a.team for a in auditors if a.name == busy)
    row = next(
        r
        for r, a in enumerate(result.allocations, 2)
        if a.auditor != busy and a.team != busy_team and a.team_manager != busy
    )
    over = edited(path, tmp_path / "over.xlsx", {(row, "auditor"): busy, (row, "auditor_email"): email[busy]})
    rows = sorted([r for r, a in enumerate(result.allocations, 2) if a.auditor == busy] + [row])
    with pytest.raises(DataError) as exc:
        read_checked_allocation(ws, over)
    assert str(exc.value) == (
        f"{over}: row {rows[-1]}, column Auditor: {busy!r} would have 3 audits (rows {', '.join(map(str, rows))}), "
        "over their monthly capacity of 2"
    )


def test_reaudit_of_round_trips_and_older_workbooks_still_read(tmp_path: Path) -> None:
    alloc = Allocation(**{**stored(MONTH, 1, "A-1").__dict__, "reaudit_of": "2026-10-004"})
    plain = stored(MONTH, 2, "A-2")
    write_allocation(tmp_path / "new.xlsx", [alloc, plain])
    assert read_allocation(tmp_path / "new.xlsx") == [alloc, plain]
    old = tmp_path / "old.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([c for c in COLUMNS if c != "reaudit_of"])
    sheet.append([getattr(plain, c) for c in COLUMNS if c != "reaudit_of"])
    book.save(old)
    assert read_allocation(old) == [plain]


def test_the_workbook_reads_as_words_and_workbooks_in_circulation_still_read(tmp_path: Path) -> None:
    """Issue 17: headers a screen reader reads as words ("Case reference", not case_ref),
    bold and frozen, each sheet a defined table; a workbook written before (the fields'
    own names as headers, on both sheets) reads back the same."""
    allocs = [stored(MONTH, 1, "A-1"), replace(stored(MONTH, 2, "A-2"), case_start=date(2026, 3, 1))]
    auditor = Auditor("Outsider 1", "o@x.example", "IRO", "Elsewhere", 3)
    new = tmp_path / "new.xlsx"
    write_allocation(new, allocs, [("Month", MONTH), ("", ""), ("Auditor", "audits / capacity")], [auditor],
                     organisation="Northbrook Borough Council")  # fmt: skip
    wb = load_workbook(new)
    sheet = wb["Allocation"]
    assert [c.value for c in sheet[1]][:5] == ["Audit ID", "Month", "Tool", "Case reference", "Child ID"]
    assert all(c.font.b for c in sheet[1]) and sheet.freeze_panes == "A2"
    assert {name: [t.ref for t in wb[name].tables.values()] for name in wb.sheetnames} == {
        "Allocation": ["A1:M3"], "About": ["A1:B3"], "Auditors": ["A1:E2"],
    }  # fmt: skip
    assert [c.value for c in wb["Auditors"][1]] == ["Name", "Email", "Role", "Team", "Monthly capacity"]
    assert (wb.properties.title, wb.properties.creator, wb.properties.language) == (
        "Allocation, November 2026", "Northbrook Borough Council", "en-GB",
    )  # fmt: skip
    assert read_allocation(new) == allocs
    assert allocation_auditors(new) == [auditor]
    assert allocation_about(new) == [["Month", MONTH], ["Auditor", "audits / capacity"]]  # no header, no blank row
    old = tmp_path / "old.xlsx"
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Allocation"
    first.append(COLUMNS)
    for a in allocs:
        first.append([getattr(a, c) for c in COLUMNS])
    book.create_sheet("Auditors").append(["name", "email", "role", "team", "monthly_capacity"])
    book["Auditors"].append(["Outsider 1", "o@x.example", "IRO", "Elsewhere", 3])
    book.save(old)
    assert read_allocation(old) == allocs and allocation_auditors(old) == [auditor]
    with pytest.raises(DataError, match=r"row 2, column due_date: 'soon' is not a date"):
        first["K2"] = "soon"
        book.save(old)
        read_allocation(old)
    sheet["K2"] = "soon"
    wb.save(new)
    with pytest.raises(DataError, match=r"row 2, column Due date: 'soon' is not a date"):
        read_allocation(new)


def test_an_empty_allocation_says_so_in_its_row(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    write_allocation(path, [])
    sheet = load_workbook(path)["Allocation"]
    assert sheet["A2"].value == "None this month." and sheet.max_row == 2
    assert [t.ref for t in sheet.tables.values()] == ["A1:M2"]
    with pytest.raises(DataError, match="no allocations"):
        read_allocation(path)


# --- the re-audit chain over months, through generate and ingest ---------------------------


def return_audit(ws: Workspace, alloc: Allocation, overall: str, day: date, inbox: Path) -> str:
    """Fill the generated audit tool as an auditor would, graded ``overall``, and ingest it."""
    values = complete_values(day)
    values["overall.grade"] = overall
    if overall == "inadequate":
        values["domain.plans.grade"] = "inadequate"
    elif overall == "good":
        values["domain.recording.grade"] = "requires_improvement"
    form = fill_form(document_path(ws.output_dir, alloc, "audit").read_bytes(), values)
    path = inbox / f"{alloc.audit_id}.docx"
    path.write_bytes(form)
    result = ingest(ws, [path], received_at=datetime(day.year, day.month, day.day, 10, tzinfo=UTC))
    (outcome,) = result.outcomes
    assert outcome.audit_id == alloc.audit_id
    return outcome.status


def test_an_inadequate_case_is_re_audited_each_month_until_it_improves(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "qa")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    auditors = read_auditors(ws.sample_dir / "auditors.xlsx", ws.config.settings.imports.auditors)
    seniors = {a.name for a in auditors if a.role == "Senior manager"}

    # Month 1: a regular audit judged Inadequate.
    january = allocate(ws, "2027-01", seed=1)
    generate(ws, january.allocations)
    first = january.allocations[0]
    assert first.reaudit_of is None
    assert return_audit(ws, first, "inadequate", date(2027, 1, 20), inbox) in (ACCEPTED, AMEND)

    # Month 2: re-audited by a senior manager, linked to month 1's audit; still Inadequate.
    february = allocate(ws, "2027-02", seed=2)
    (second,) = february.reaudits
    assert second.case_reference == first.case_reference
    assert second.reaudit_of == first.audit_id
    assert second.audit_id == "2027-02-001"
    assert second.auditor in seniors
    assert [a.case_reference for a in february.allocations].count(first.case_reference) == 1
    assert "11 audits of 2027-01 are not returned yet" in february.summary()
    assert read_allocation(allocation_path(ws, "2027-02"))[0].reaudit_of == first.audit_id
    generate(ws, february.allocations)
    assert return_audit(ws, second, "inadequate", date(2027, 2, 18), inbox) in (ACCEPTED, AMEND)

    # Month 3: re-audited again, linked to month 2's re-audit; now Good.
    # Thematic audits (March) and staff observations (April) would need more capacity than
    # the sample auditors have: this test is about case file audits only.
    march = allocate(ws, "2027-03", seed=3, scheduled=False)
    (third,) = march.reaudits
    assert (third.case_reference, third.reaudit_of, third.auditor in seniors) == (
        first.case_reference,
        second.audit_id,
        True,
    )
    generate(ws, march.allocations)
    assert return_audit(ws, third, "good", date(2027, 3, 18), inbox) in (ACCEPTED, AMEND)

    # The chain, as the store keeps it: three audits, oldest first.
    store = ws.store()
    chain, audit_id = [], third.audit_id
    while audit_id:
        found = store.allocation(audit_id)
        assert found is not None
        chain.insert(0, audit_id)
        audit_id = found[0].reaudit_of
    assert chain == [first.audit_id, second.audit_id, third.audit_id]

    # Month 4: the grade improved, so no re-audit; and the case was audited within 12 months.
    april = allocate(ws, "2027-04", seed=4, scheduled=False)
    assert april.reaudits == []
    assert first.case_reference not in {a.case_reference for a in april.allocations}


def test_formula_like_text_in_the_allocation_workbook_stays_text(tmp_path: Path) -> None:
    """A team or worker name a spreadsheet could run as a formula is written as quoted text."""
    alloc = replace(stored("2026-10", 1, "A-1"), team='=HYPERLINK("http://example.invalid","x")', worker="+SUM(1,2)")
    path = tmp_path / "allocation.xlsx"
    write_allocation(path, [alloc], [("Made by", "@auditdocs")])
    sheet = load_workbook(path)["Allocation"]
    cells = {c.value: c for c in sheet[2]}
    for text in (alloc.team, alloc.worker):
        assert cells[text].data_type == "s" and cells[text].quotePrefix
    about = load_workbook(path)["About"]
    assert about["B2"].value == "@auditdocs" and about["B2"].quotePrefix  # under its header row
    assert read_allocation(path) == [alloc]


def test_a_re_audit_graded_inadequate_after_the_next_month_was_allocated_is_still_followed(
    tmp_path: Path,
) -> None:
    """Issue 14, defect 3: the chain is followed from the latest audit of the case, in any
    month before, not only from last month's."""
    ws = init_workspace(tmp_path / "qa")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    january = allocate(ws, "2027-01", seed=1)
    generate(ws, january.allocations)
    first = january.allocations[0]
    assert return_audit(ws, first, "inadequate", date(2027, 1, 20), inbox) in (ACCEPTED, AMEND)
    february = allocate(ws, "2027-02", seed=2)
    (second,) = february.reaudits
    generate(ws, february.allocations)

    # March is allocated before February's re-audit comes back: nothing to re-audit yet,
    # and the note says the re-audit is awaited.
    march = allocate(ws, "2027-03", seed=3, scheduled=False)
    assert march.reaudits == []
    assert second.audit_id in " ".join(march.notes)
    generate(ws, march.allocations)

    # The re-audit comes back Inadequate in March: April picks the chain up.
    assert return_audit(ws, second, "inadequate", date(2027, 3, 10), inbox) in (ACCEPTED, AMEND)
    april = allocate(ws, "2027-04", seed=4, scheduled=False)
    (fourth,) = april.reaudits
    assert (fourth.case_reference, fourth.reaudit_of) == (first.case_reference, second.audit_id)
    assert [a.case_reference for a in april.allocations].count(first.case_reference) == 1


def test_a_hand_edited_workbook_is_checked_against_the_auditors_allocate_used(ws: Workspace, tmp_path: Path) -> None:
    """Issue 14, defect 11: allocate's own list of auditors is kept in the workbook and
    generate checks against it, not against the list named in config."""
    auditors = read_auditors(ws.sample_dir / "auditors.xlsx", ws.config.settings.imports.auditors)
    extra = Auditor("Dana Locum", "dana.locum@northbrook.example", "Senior manager", "Locum", 4)
    listed = tmp_path / "auditors-january.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "email", "role", "team", "monthly_capacity"])
    for a in [*auditors, extra]:
        sheet.append([a.name, a.email, a.role, a.team, a.capacity])
    book.save(listed)
    result = allocate(ws, "2027-01", seed=3, auditors=listed)
    assert result.path is not None
    # The QA officer gives one audit to the locum, who is in January's list only.
    row = next(r for r, a in enumerate(result.allocations, 2) if a.team != extra.team)
    path = edited(result.path, result.path, {(row, "auditor"): extra.name, (row, "auditor_email"): extra.email})
    checked = read_checked_allocation(ws, path)
    assert checked[row - 2].auditor == extra.name
    # The list in the workbook is the one used for capacity too.
    over = edited(path, tmp_path / "over.xlsx", {(r, "auditor"): extra.name for r in range(2, 8)}
                  | {(r, "auditor_email"): extra.email for r in range(2, 8)})  # fmt: skip
    with pytest.raises(DataError, match=r"'Dana Locum' would have 5 audits .* over their monthly capacity of 4"):
        read_checked_allocation(ws, over)


def test_the_audit_period_starts_when_a_case_opened_within_it(ws: Workspace) -> None:
    """Issue 14, defect 11 (2.3): six months of involvement, or fewer for a newer case."""
    from auditdocs.forms.generate import audit_period

    assert audit_period("2027-01", 6) == (date(2026, 7, 1), date(2026, 12, 31))
    assert audit_period("2027-01", 6, date(2026, 9, 14)) == (date(2026, 9, 14), date(2026, 12, 31))
    assert audit_period("2027-01", 6, date(2020, 1, 1)) == (date(2026, 7, 1), date(2026, 12, 31))
    result = allocate(ws, "2027-01", seed=1)
    assert result.path is not None
    row = 2
    path = edited(result.path, result.path, {(row, "case_start"): date(2026, 10, 5)})
    (alloc, *_rest) = read_checked_allocation(ws, path)
    assert alloc.case_start == date(2026, 10, 5)
    generate(ws, [alloc])
    with zipfile.ZipFile(document_path(ws.output_dir, alloc, "audit")) as z:
        text = re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode())
    assert "05/10/2026 to 31/12/2026" in text


def test_allocate_passes_the_store_history_to_the_schedules(ws: Workspace) -> None:
    """A case discussed in November is not discussed again in May (schedules.case_discussion.
    exclude_months, from the store through allocate)."""
    november = allocate(ws, "2026-11", seed=1)
    generate(ws, november.allocations)
    discussed = {a.case_reference for a in november.allocations if a.tool == "case_discussion"}
    assert discussed
    may = allocate(ws, "2027-05", seed=2)
    again = {a.case_reference for a in may.allocations if a.tool == "case_discussion"}
    assert again and not again & discussed
    about = " ".join(str(value) for _label, value in may.about)
    window = "cases audited with it from 2026-05 to 2027-04 not picked again"
    assert f"{window} ({len(discussed)} in the case list)" in about
