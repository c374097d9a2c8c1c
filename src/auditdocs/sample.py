"""A synthetic sample month: made-up teams, workers, auditors and cases.

No real person is named here: names are drawn from short invented lists, and cases
carry references and ids only (reports never need a child's name).  Some values hold
characters that break careless XML (``&``, ``<``, quotes, accents) on purpose.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from auditdocs.allocation import Allocation, write_allocation
from auditdocs.workdays import last_working_day
from auditdocs.workspace import Workspace

SAMPLE_MONTH = "2026-11"
_FIRST = [
    "Avery",
    "Rowan",
    "Zoë",
    "Kit",
    "Marlo",
    "Tamsin",
    "Idris",
    "Noor",
    "Oluwa",
    "Petra",
    "Quill",
    "Sunniva",
    "Tobiah",
    "Wren",
    "Yusra",
    "Elowen",
]
_LAST = [
    "Ashdown",
    "Brackwell",
    "O'Rourke-Finch",
    "Delacourt",
    "Ember",
    "Fairweather",
    "Greystoke",
    "Holloway",
    "Inglebrook",
    "Juniper",
    "Kestrel",
    "Larkspur",
]
TEAMS = ["Assessment & Intervention <North>", "Child Protection South", "Children in Care", 'Leaving Care "Pathways"']
CASE_TYPES = ["CIN", "CP", "CIC", "Care leaver"]
ROLES = ["Team manager", "Service manager", "IRO", "CP chair", "Senior manager"]


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: str
    team: str


def _people(rng: random.Random, count: int, role: str, team: str | None, used: set[str]) -> list[Person]:
    out: list[Person] = []
    while len(out) < count:
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        if name in used:
            continue
        used.add(name)
        local = name.lower().replace(" ", ".").replace("'", "").replace("ë", "e")
        out.append(Person(name, f"{local}@northbrook.example", role, team or rng.choice(TEAMS)))
    return out


def sample_month(seed: int = 2026) -> tuple[list[dict[str, Any]], list[Person], list[Allocation]]:
    """Cases, auditors and an allocation of 12 cases for the sample month."""
    rng = random.Random(seed)
    used: set[str] = set()
    managers = {team: _people(rng, 1, "Team manager", team, used)[0] for team in TEAMS}
    workers = {team: _people(rng, 2, "Social worker", team, used) for team in TEAMS}
    auditors = list(managers.values())
    auditors += _people(rng, 1, "IRO", "Safeguarding and Review", used)
    auditors += _people(rng, 1, "CP chair", "Safeguarding and Review", used)
    auditors += _people(rng, 1, "Service manager", "Safeguarding and Review", used)
    cases: list[dict[str, Any]] = []
    for n in range(1, 41):
        team = TEAMS[n % len(TEAMS)]
        cases.append(
            {
                "case_reference": f"NB-{26000 + n * 7}",
                "child_id": f"C{100000 + n * 113}",
                "case_type": CASE_TYPES[n % len(CASE_TYPES)],
                "team": team,
                "worker": workers[team][n % 2].name,
                "team_manager": managers[team].name,
                "start_date": date(2025, 1 + n % 12, 1 + n % 27),
            }
        )
    year, month = map(int, SAMPLE_MONTH.split("-"))
    due = last_working_day(year, month)
    allocations = []
    picked = rng.sample(cases, 12)
    for n, case in enumerate(picked, 1):
        eligible = [a for a in auditors if a.team != case["team"]]
        auditor = eligible[n % len(eligible)]
        allocations.append(
            Allocation(
                audit_id=f"{SAMPLE_MONTH}-{n:03d}",
                month=SAMPLE_MONTH,
                tool="case_file_audit",
                case_reference=case["case_reference"],
                child_id=case["child_id"],
                team=case["team"],
                worker=case["worker"],
                team_manager=case["team_manager"],
                auditor=auditor.name,
                auditor_email=auditor.email,
                due_date=due,
            )
        )
    return cases, auditors, allocations


def _sheet(path, header: list[str], rows: list[list]) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    wb.save(path)


def sample_allocation_path(ws: Workspace) -> Path:
    return ws.sample_dir / f"allocation-{SAMPLE_MONTH}.xlsx"


def write_sample(ws: Workspace) -> None:
    """Write sample/cases.xlsx, sample/auditors.xlsx and the sample month's allocation."""
    cases, auditors, allocations = sample_month()
    ws.sample_dir.mkdir(parents=True, exist_ok=True)
    header = list(cases[0])
    _sheet(ws.sample_dir / "cases.xlsx", header, [[c[h] for h in header] for c in cases])
    _sheet(
        ws.sample_dir / "auditors.xlsx",
        ["name", "email", "role", "team", "monthly_capacity"],
        [[a.name, a.email, a.role, a.team, 2] for a in auditors],
    )
    write_allocation(sample_allocation_path(ws), allocations)
