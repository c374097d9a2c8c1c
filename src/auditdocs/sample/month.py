"""A synthetic sample month: made-up teams, workers, auditors and cases.

No real person is named here: names are drawn from short invented lists, and cases
carry references and ids only (reports never need a child's name).  Some values hold
characters that break careless XML (``&``, ``<``, quotes, accents) on purpose.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from auditdocs.allocation.allocate import plan_allocation
from auditdocs.allocation.lists import Auditor, Case
from auditdocs.allocation.record import Allocation
from auditdocs.allocation.workbook import write_allocation
from auditdocs.config import Settings, load_config
from auditdocs.sheets import define_table, first_sheet, titled
from auditdocs.workspace import SAMPLE_MONTH, Workspace, bundled_root, create_workspace

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


SAMPLE_SEED = 2026  # the sample allocation's random seed


def _people(rng: random.Random, count: int, role: str, team: str, used: set[str]) -> list[Auditor]:
    out: list[Auditor] = []
    while len(out) < count:
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        if name in used:
            continue
        used.add(name)
        local = name.lower().replace(" ", ".").replace("'", "").replace("ë", "e")
        out.append(Auditor(name, f"{local}@northbrook.example", role, team, capacity=2))
    return out


def _birth(n: int, case_type: str) -> date | None:
    """A made-up date of birth: care leavers 18 to 21, other children 0 to 16, and one
    unborn child (a pre-birth child protection plan) with none."""
    if n == 14:
        return None
    years = 18 + n % 4 if case_type == "Care leaver" else n % 17
    return date(2026 - years, 1 + (n * 5) % 12, 1 + (n * 7) % 28)


def sample_month(
    seed: int = 2026, settings: Settings | None = None
) -> tuple[list[dict[str, Any]], list[Auditor], list[Allocation]]:
    """Cases (one dict per row of the export), auditors and an allocation of 12 cases
    for the sample month, made by ``plan_allocation`` with a fixed seed."""
    if settings is None:
        settings = load_config(bundled_root() / "config").settings
    rng = random.Random(seed)
    used: set[str] = set()
    managers = {team: _people(rng, 1, "Team manager", team, used)[0] for team in TEAMS}
    workers = {team: _people(rng, 2, "Social worker", team, used) for team in TEAMS}
    auditors = list(managers.values())
    auditors += _people(rng, 1, "IRO", "Safeguarding and Review", used)
    auditors += _people(rng, 1, "CP chair", "Safeguarding and Review", used)
    auditors += _people(rng, 1, "Service manager", "Safeguarding and Review", used)
    auditors += _people(rng, 1, "Senior manager", "Senior Leadership", used)
    cases: list[dict[str, Any]] = []
    for n in range(1, 41):
        team = TEAMS[n % len(TEAMS)]
        case_type = CASE_TYPES[n % len(CASE_TYPES)]
        cases.append(
            {
                "case_reference": f"NB-{26000 + n * 7}",
                "child_id": f"C{100000 + n * 113}",
                "date_of_birth": _birth(n, case_type),
                "case_type": case_type,
                "team": team,
                "worker": workers[team][n % 2].name,
                "team_manager": managers[team].name,
                "start_date": date(2025, 1 + n % 12, 1 + n % 27),
            }
        )
    result = plan_allocation([Case(**c) for c in cases], auditors, SAMPLE_MONTH, settings, seed=SAMPLE_SEED)
    return cases, auditors, result.allocations


def write_sheet(path: Path, header: list[str], rows: list[list[Any]], title: str = "", organisation: str = "") -> Path:
    """A one-sheet workbook as a case management system exports one: a header row, then
    rows (dates as real Excel dates, shown dd/mm/yyyy), a defined table, titled."""
    wb = Workbook()
    titled(wb, title or path.stem, organisation)
    ws = first_sheet(wb, "Sheet")
    ws.append(header)
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, date):
                cell.number_format = "dd/mm/yyyy"
    ws.freeze_panes = "A2"
    if rows:
        define_table(ws, "List", header, 1, len(rows) + 1)
    wb.save(path)
    return path


def sample_allocation_path(ws: Workspace) -> Path:
    return ws.sample_allocation


def write_sample(ws: Workspace) -> None:
    """Write sample/cases.xlsx and sample/auditors.xlsx (with the column headers the
    workspace's config expects) and the sample month's allocation."""
    settings = ws.config.settings
    cases, auditors, allocations = sample_month(settings=settings)
    ws.sample_dir.mkdir(parents=True, exist_ok=True)
    columns = settings.imports.cases.columns.model_dump()
    fields = [f for f in cases[0] if columns.get(f)]
    organisation = settings.organisation.name
    write_sheet(ws.sample_dir / "cases.xlsx", [columns[f] for f in fields], [[c[f] for f in fields] for c in cases],
                "Sample case list", organisation)  # fmt: skip
    heads = settings.imports.auditors.columns
    write_sheet(
        ws.sample_dir / "auditors.xlsx",
        [heads.name, heads.email, heads.role, heads.team, heads.capacity],
        [[a.name, a.email, a.role, a.team, a.capacity] for a in auditors],
        "Sample list of auditors",
        organisation,
    )
    write_allocation(sample_allocation_path(ws), allocations, organisation=organisation)


def init_workspace(root: Path) -> Workspace:
    """Create a workspace folder with config, templates, a sample month and a key."""
    ws = create_workspace(root)
    write_sample(ws)
    return ws
