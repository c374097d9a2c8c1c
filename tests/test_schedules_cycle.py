"""The scheduled tools across months (issue 14): staff observations of newly qualified
(ASYE) workers and workers needing support at their own frequency, from the staff list
(framework 6.2-6.4), and thematic audits and case discussions that do not pick a case
the tool audited in the months before (``exclude_months``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auditdocs.allocation.lists import StaffMember, read_staff
from auditdocs.allocation.record import Allocation, worker_reference
from auditdocs.allocation.schedules import Scheduled, plan_schedules, recently_audited
from auditdocs.config import Settings
from auditdocs.config.loader import load_config
from auditdocs.config.models import StaffImport
from auditdocs.errors import ConfigError, DataError
from auditdocs.sample.month import write_sheet
from auditdocs.store.store import Store
from auditdocs.workspace import Workspace
from tests.test_schedules import make_auditors, make_cases

DUE = date(2027, 1, 29)
ALL_WORKERS = {f"Worker {team} {w}" for team in ("North", "South", "Care") for w in range(2)}
MANAGERS = {"TM North", "TM South", "TM Care"}


def with_schedules(settings: Settings, **schedules: dict[str, Any]) -> Settings:
    """The settings with these schedules only, validated as the YAML would be."""
    data = settings.model_dump()
    data["schedules"] = schedules
    return Settings.model_validate(data)


OBSERVATIONS = {
    "months": [4],
    "subjects": "workers",
    "auditor": "own_manager",
    "team_managers": True,
    "status_months": {"ASYE": [1, 5, 9], "Support": [4, 10]},
}


@pytest.fixture(scope="module")
def observing(workspace: Workspace) -> Settings:
    return with_schedules(workspace.config.settings, staff_observation=OBSERVATIONS)


def schedule(
    settings: Settings, month: str, notes: list[str] | None = None, taken: set[str] | None = None, **kw: Any
) -> tuple[list[Scheduled], dict[str, object]]:
    items, about = plan_schedules(
        make_cases(),
        make_auditors(),
        month,
        settings,
        seed=7,
        due=DUE,
        taken=set() if taken is None else taken,
        notes=[] if notes is None else notes,
        **kw,
    )
    return items, dict(about)


def observed(items: list[Scheduled]) -> set[str]:
    return {item.draft.worker for item in items}


STAFF = [
    StaffMember("Worker North 0", "North", "ASYE"),
    StaffMember("worker  south 1", "", "Support"),  # no team: matched by name alone, spelt loosely
    StaffMember("Worker Care 0", "Care", None),  # on the list, no status: an experienced worker
]


# --- staff observations at each status's own frequency (6.2-6.4) --------------------------------


def test_asye_and_support_workers_are_observed_in_their_own_months(observing: Settings) -> None:
    expected = {
        "2027-01": {"Worker North 0"},  # ASYE only
        "2027-04": ALL_WORKERS - {"Worker North 0"} | MANAGERS,  # everyone else, Support too, and the managers
        "2027-05": {"Worker North 0"},
        "2027-09": {"Worker North 0"},
        "2027-10": {"Worker South 1"},  # Support only
        "2027-02": set(),
    }
    for month, who in expected.items():
        items, _ = schedule(observing, month, staff=STAFF)
        assert observed(items) == who, month
        for item in items:
            assert item.draft.case_reference == worker_reference(item.draft.worker)
            assert item.draft.auditor == ""  # the auditor is chosen with the case file audits' load
    _, january = schedule(observing, "2027-01", staff=STAFF)
    assert january["Schedule: staff_observation"] == (
        "1 audits: one for each worker in the case list due this month: with a status in the staff list, "
        "in its months (ASYE: 1, 5, 9; Support: 4, 10); others in months 4 (this month: 1 ASYE); "
        "by the worker's own team manager"
    )
    _, april = schedule(observing, "2027-04", staff=STAFF)
    assert "(this month: 1 Support, 4 other); each team manager by a service manager or senior manager" in str(
        april["Schedule: staff_observation"]
    )
    _, february = schedule(observing, "2027-02", staff=STAFF)
    assert february["Schedules"] == (
        "none this month (configured: staff_observation (months 4; ASYE: 1, 5, 9; Support: 4, 10))"
    )


def test_an_observed_worker_of_a_status_is_observed_by_their_own_team_manager(observing: Settings) -> None:
    (item,) = schedule(observing, "2027-01", staff=STAFF)[0]
    auditors = make_auditors()
    assert [auditors[i].name for i in item.eligible] == ["TM North"]


def test_a_status_without_months_of_its_own_is_observed_with_everyone(workspace: Workspace) -> None:
    asye_only = with_schedules(
        workspace.config.settings, staff_observation={**OBSERVATIONS, "status_months": {"ASYE": [1]}}
    )
    assert observed(schedule(asye_only, "2027-04", staff=STAFF)[0]) == ALL_WORKERS - {"Worker North 0"} | MANAGERS
    assert observed(schedule(asye_only, "2027-10", staff=STAFF)[0]) == set()


def test_without_a_staff_list_every_worker_is_observed_as_before_and_the_notes_say_why(observing: Settings) -> None:
    notes: list[str] = []
    items, about = schedule(observing, "2027-04", notes)
    assert observed(items) == ALL_WORKERS | MANAGERS
    assert notes == [
        "staff_observation: no staff list, so every worker is audited in months 4 (status_months needs one: "
        "imports.staff)"
    ]
    assert "(no staff list given, so the months of a status (ASYE: 1, 5, 9; Support: 4, 10) are not applied)" in str(
        about["Schedule: staff_observation"]
    )
    for month in ("2027-01", "2027-10"):  # nobody can have a status: nothing is due
        items, about = schedule(observing, month)
        assert items == [] and "Schedule: staff_observation" not in about


def test_a_worker_of_the_staff_list_not_in_the_case_list_is_named_in_the_notes(observing: Settings) -> None:
    notes: list[str] = []
    staff = [
        *STAFF,
        StaffMember("Worker North 1", "South", "ASYE"),  # the case list has them in North
        StaffMember("Wroker Care 1", "", "Support"),
        StaffMember("Someone Else", "North", None),  # no status: nothing to miss
    ]
    items, _ = schedule(observing, "2027-01", notes, staff=staff)
    assert observed(items) == {"Worker North 0"}
    assert notes == [
        "staff_observation: 2 workers with a status in the staff list are not in the case list (check the "
        "spelling of their name and team): Worker North 1 (South), Wroker Care 1"
    ]


def test_a_row_with_the_team_wins_over_a_row_of_the_name_alone(observing: Settings) -> None:
    staff = [StaffMember("Worker North 0", "", "Support"), StaffMember("Worker North 0", "North", "ASYE")]
    assert observed(schedule(observing, "2027-01", staff=staff)[0]) == {"Worker North 0"}
    assert observed(schedule(observing, "2027-10", staff=staff)[0]) == set()


# --- the staff list -------------------------------------------------------------------------------


def staff_file(tmp_path: Path, rows: list[list[Any]], header: list[str] | None = None) -> Path:
    return write_sheet(tmp_path / "staff.xlsx", header or ["Name", "Team", "Status"], rows)


def test_the_staff_list_is_read_with_the_statuses_other_spellings(tmp_path: Path) -> None:
    path = staff_file(
        tmp_path,
        [
            ["Avery Ashdown", "North", "NQSW"],
            ["Rowan Ember", "", "needs  support"],
            ["Kit Holloway", "South", None],
            ["Kit Holloway", "North", "asye"],  # the same name in another team is another worker
        ],
    )
    assert read_staff(path, StaffImport()) == [
        StaffMember("Avery Ashdown", "North", "ASYE"),
        StaffMember("Rowan Ember", "", "Support"),
        StaffMember("Kit Holloway", "South", None),
        StaffMember("Kit Holloway", "North", "ASYE"),
    ]
    csv = tmp_path / "staff.csv"
    csv.write_text("Worker;Status\nAvery Ashdown;Newly qualified\n", encoding="utf-8")
    spec = StaffImport.model_validate({"columns": {"name": "Worker", "team": None}})
    assert read_staff(csv, spec) == [StaffMember("Avery Ashdown", "", "ASYE")]


def test_a_bad_staff_list_is_one_error_naming_file_row_and_column(tmp_path: Path) -> None:
    path = staff_file(tmp_path, [["Avery Ashdown", "North", "Probation"]])
    with pytest.raises(DataError, match=r"staff.xlsx: row 2, column 'Status' \(C\): 'Probation' is not a known status "
                       r"\(one of ASYE, Support; add other spellings in config/organisation.yaml\)"):  # fmt: skip
        read_staff(path, StaffImport())
    path = staff_file(tmp_path, [["Avery Ashdown", "North", "ASYE"], ["avery ashdown", "north", ""]])
    with pytest.raises(DataError, match=r"row 3, column 'Name' \(A\): worker 'avery ashdown \(north\)' repeats row 2"):
        read_staff(path, StaffImport())
    path = staff_file(tmp_path, [["Avery Ashdown", "ASYE"]], header=["Name", "Grade"])
    with pytest.raises(DataError, match=r"missing column\(s\) 'status' \(status\) .*imports.staff.columns"):
        read_staff(path, StaffImport())
    path = staff_file(tmp_path, [["", "North", "ASYE"]])
    with pytest.raises(DataError, match=r"row 2, column 'Name' \(A\): empty"):
        read_staff(path, StaffImport())


# --- the config -----------------------------------------------------------------------------------


def set_in_config(config_dir: Path, old: str, new: str) -> None:
    path = config_dir / "organisation.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def load_error(config_dir: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir)
    return str(caught.value)


def test_the_shipped_config_observes_asye_and_support_workers_and_has_no_staff_list(workspace: Workspace) -> None:
    settings = workspace.config.settings
    assert settings.imports.staff.file is None  # a workspace without a staff list keeps working
    assert settings.schedules["staff_observation"].status_months == {"ASYE": [1, 5, 9], "Support": [4, 10]}
    assert settings.schedules["thematic_audit"].exclude_months == 12
    assert settings.schedules["case_discussion"].exclude_months == 12


def test_a_config_without_a_staff_list_or_status_months_loads_as_before(config_dir: Path) -> None:
    set_in_config(config_dir, "    status_months:\n      ASYE: [1, 5, 9]\n      Support: [4, 10]\n", "")
    text = (config_dir / "organisation.yaml").read_text()
    start = text.index("  # Optional: the staff list")
    (config_dir / "organisation.yaml").write_text(text[:start] + text[text.index("\n# Allocating", start) :])
    settings = load_config(config_dir).settings
    assert settings.imports.staff == StaffImport()
    assert settings.schedules["staff_observation"].status_months == {}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "      ASYE: [1, 5, 9]\n",
            "      Probation: [1, 5, 9]\n",
            "config/organisation.yaml: schedules.staff_observation.status_months: 'Probation' is not a status in "
            "imports.staff.statuses (one of ASYE, Support)",
        ),
        (
            "      ASYE: [1, 5, 9]\n",
            "      ASYE: [1, 5, 5]\n",
            "config/organisation.yaml: schedules.staff_observation.status_months: ASYE: a month is named twice",
        ),
        (
            "      ASYE: [1, 5, 9]\n",
            "      ASYE: [13]\n",
            "config/organisation.yaml: schedules.staff_observation.status_months.ASYE[0]: input should be less than "
            "or equal to 12",
        ),
        (
            "      ASYE: [1, 5, 9]\n",
            "      ASYE: []\n",
            "config/organisation.yaml: schedules.staff_observation.status_months.ASYE: list should have at least 1 "
            "item after validation, not 0",
        ),
        (
            "    case_types: [CP, CIN]\n",
            "    case_types: [CP, CIN]\n    status_months: {ASYE: [1]}\n",
            "config/organisation.yaml: schedules.thematic_audit: status_months: only for subjects: "
            "workers (these subjects are cases: a staff list status is a worker's)",
        ),
        (
            "    team_managers: true\n",
            "    team_managers: true\n    exclude_months: 6\n",
            "config/organisation.yaml: schedules.staff_observation: exclude_months: only for subjects: "
            "cases or worker_cases (every worker is audited each month the schedule runs; set how often with "
            "months and status_months)",
        ),
        (
            "    auditor: outside\n    exclude_months: 12\n",
            "    auditor: outside\n    exclude_months: -1\n",
            "config/organisation.yaml: schedules.thematic_audit.exclude_months: input should be greater than or "
            "equal to 0",
        ),
        (
            "      Support: [Needs support, In need of support]\n",
            "      Support: [Needs support, NQSW]\n",
            "config/organisation.yaml: imports.staff: duplicate status 'NQSW': each must be unique",
        ),
    ],
)
def test_bad_schedule_and_staff_settings_name_the_key_path(config_dir: Path, old: str, new: str, message: str) -> None:
    set_in_config(config_dir, old, new)
    assert load_error(config_dir) == message


# --- not audited with the tool in the months before (exclude_months) --------------------------------


def test_a_thematic_audit_does_not_pick_a_case_it_audited_in_the_months_before(workspace: Workspace) -> None:
    settings = with_schedules(
        workspace.config.settings,
        thematic_audit={"months": [9], "subjects": "cases", "case_types": ["CP", "CIN"], "sample_size": 6,
                        "exclude_months": 12},
    )  # fmt: skip
    eligible = {c.case_reference for c in make_cases() if c.case_type in ("CP", "CIN")}
    recent = {"R000", "R001", "R100", "R101", "R200", "R201", "R011"}  # 7 of the 12 CP and CIN cases
    for month in ("2027-09", "2028-09"):
        notes: list[str] = []
        items, about = schedule(settings, month, notes, recent={"thematic_audit": {r.lower() for r in recent}})
        assert {i.draft.case_reference for i in items} == eligible - recent
        assert notes == ["thematic_audit: only 5 cases could be picked (sample_size is 6)"]
    assert str(about["Schedule: thematic_audit"]).endswith(
        "; cases audited with it from 2027-09 to 2028-08 not picked again (7 in the case list)"
    )
    items, about = schedule(settings, "2027-09", recent={"case_discussion": {r.lower() for r in recent}})
    assert len(items) == 6  # another tool's cases are no thematic audit's
    assert str(about["Schedule: thematic_audit"]).endswith("not picked again (0 in the case list)")
    items, about = schedule(settings, "2027-09")
    assert len(items) == 6
    assert str(about["Schedule: thematic_audit"]).endswith(
        "; cases audited with it in the 12 months before: none known"
    )


def test_a_case_discussion_is_held_on_a_case_not_discussed_in_the_months_before(workspace: Workspace) -> None:
    settings = with_schedules(
        workspace.config.settings,
        case_discussion={"months": [11], "subjects": "worker_cases", "auditor": "own_manager", "exclude_months": 6},
    )
    # Each worker has three cases (R<team><worker>0..2): two of each were discussed, except
    # Worker South 1, all of whose cases were.
    recent = {f"r{t}{w}{k}" for t in range(3) for w in range(2) for k in range(2)} | {"r112"}
    for seed in range(5):
        notes: list[str] = []
        items, about = plan_schedules(
            make_cases(), make_auditors(), "2027-11", settings, seed=seed, due=DUE, taken=set(), notes=notes,
            recent={"case_discussion": recent},
        )  # fmt: skip
        picked = {i.draft.worker: i.draft.case_reference for i in items}
        assert set(picked) == ALL_WORKERS  # every worker still has their discussion
        for worker, ref in picked.items():
            if worker != "Worker South 1":
                assert ref.endswith("2"), (seed, worker, ref)
        assert picked["Worker South 1"].startswith("R11")
        assert notes == [
            "case_discussion: every case of 1 workers was audited with it in the 6 months before, so one of them "
            "is picked again: Worker South 1"
        ]
        assert str(dict(about)["Schedule: case_discussion"]).endswith(
            "; cases audited with it from 2027-05 to 2027-10 not picked again (13 in the case list)"
        )


def test_a_case_already_picked_this_month_is_avoided_after_the_months_before(workspace: Workspace) -> None:
    settings = with_schedules(
        workspace.config.settings,
        case_discussion={"months": [11], "subjects": "worker_cases", "auditor": "own_manager", "exclude_months": 6},
    )
    recent = {"case_discussion": {"r000"}}
    taken = {"r001"}  # a case file audit this month
    items, _ = schedule(settings, "2027-11", taken=taken, recent=recent)
    assert {i.draft.case_reference for i in items if i.draft.worker == "Worker North 0"} == {"R002"}


# --- what the store knows -------------------------------------------------------------------------


def stored(audit_id: str, month: str, tool: str, ref: str) -> Allocation:
    return Allocation(audit_id, month, tool, ref, "", "North", "Worker North 0", "TM North", "Sue Senior",
                      "sue@x.example", date(2027, 1, 29))  # fmt: skip


def test_recently_audited_reads_each_tools_own_months_before_from_the_store(
    workspace: Workspace, tmp_path: Path
) -> None:
    settings = with_schedules(
        workspace.config.settings,
        thematic_audit={"months": [3, 9], "subjects": "cases", "exclude_months": 12},
        case_discussion={"months": [5, 11], "subjects": "worker_cases", "auditor": "own_manager",
                         "exclude_months": 6},
        supervision_audit={"months": [6, 12], "subjects": "workers"},
    )  # fmt: skip
    store = Store(f"sqlite:///{tmp_path / 'store.sqlite'}")
    store.record_allocations(
        [
            stored("2026-10-001", "2026-10", "thematic_audit", "R-Old"),  # 13 months before: forgotten
            stored("2026-11-001", "2026-11", "thematic_audit", "R-Nov"),  # 12 months before
            stored("2027-03-001", "2027-03", "thematic_audit", "R-Mar"),
            stored("2027-03-002", "2027-03", "case_file_audit", "R-Cfa"),  # not a thematic audit
            stored("2027-04-001", "2027-04", "case_discussion", "R-Apr"),  # 7 months before: forgotten
            stored("2027-05-001", "2027-05", "case_discussion", "R-May"),
            stored("2027-06-001", "2027-06", "supervision_audit", "W-1234"),  # no exclude_months
            stored("2027-11-001", "2027-11", "thematic_audit", "R-Now"),  # this month
        ]
    )
    assert recently_audited(store, "2027-11", settings) == {
        "thematic_audit": {"r-nov", "r-mar"},
        "case_discussion": {"r-may"},
    }
    assert recently_audited(store, "2027-11", with_schedules(workspace.config.settings)) == {}
