"""The other audit activity on its schedule (framework sections 3 to 6; ``schedules:`` in
organisation.yaml): thematic audits of a sample of cases, case discussions with each
worker's own team manager, supervision audits of each worker by a manager who is not
their own, and yearly staff observations of workers by their team manager and of team
managers by a service or senior manager.

There is no staff list: the workers are the distinct (worker, team, team manager)
found in the case list, the team managers the distinct (team manager, team).  An audit
about a worker carries a worker reference (``W-`` and a code of the name), no child id.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from auditdocs.allocation.lists import Auditor, Case
from auditdocs.allocation.record import Allocation, worker_reference
from auditdocs.allocation.workbook import conflict
from auditdocs.config.models import Schedule, Settings
from auditdocs.text import norm


@dataclass(frozen=True)
class Scheduled:
    """One scheduled audit waiting for an auditor, and who may take it (indices into the
    list of auditors)."""

    draft: Allocation
    eligible: list[int]


@dataclass(frozen=True)
class Worker:
    name: str
    team: str
    team_manager: str


def due_schedules(settings: Settings, month: str) -> list[str]:
    """The tools whose schedule runs in ``month`` (YYYY-MM), in the config's order."""
    mon = int(month.split("-")[1])
    return [tool for tool, schedule in settings.schedules.items() if mon in schedule.months]


def workers_of(cases: Sequence[Case]) -> list[Worker]:
    """The workers found in the case list, in the order first met."""
    return _distinct(Worker(case.worker, case.team, case.team_manager) for case in cases)


def team_managers_of(cases: Sequence[Case]) -> list[Worker]:
    """The team managers found in the case list (as workers of their own team), in the order first met."""
    return _distinct(Worker(case.team_manager, case.team, case.team_manager) for case in cases)


def _distinct(people: Iterable[Worker]) -> list[Worker]:
    """One of each person in a team (names compared ignoring case and spacing)."""
    seen: dict[tuple[str, str], Worker] = {}
    for person in people:
        seen.setdefault((norm(person.name), norm(person.team)), person)
    return list(seen.values())


def plan_schedules(
    cases: Sequence[Case],
    auditors: Sequence[Auditor],
    month: str,
    settings: Settings,
    *,
    seed: int,
    due: date,
    taken: set[str],
    notes: list[str],
) -> tuple[list[Scheduled], list[tuple[str, object]]]:
    """The scheduled audits of ``month`` (not yet numbered or given an auditor) and the
    About sheet's lines on them.  ``taken``: case references (normalised) already picked
    this month, which no thematic audit picks again."""
    out: list[Scheduled] = []
    about: list[tuple[str, object]] = []
    for tool in due_schedules(settings, month):
        schedule = settings.schedules[tool]
        rng = random.Random(f"{seed}:{tool}")  # each tool its own stream: adding one changes no other
        items = _subjects(tool, schedule, cases, auditors, month, due, rng, taken, notes)
        out += items
        about.append((f"Schedule: {tool}", f"{len(items)} audits: {_described(schedule)}"))
    if not about:
        ran = ", ".join(f"{tool} (months {', '.join(map(str, s.months))})" for tool, s in settings.schedules.items())
        about.append(("Schedules", f"none this month (configured: {ran or 'none'})"))
    return out, about


def _subjects(
    tool: str,
    schedule: Schedule,
    cases: Sequence[Case],
    auditors: Sequence[Auditor],
    month: str,
    due: date,
    rng: random.Random,
    taken: set[str],
    notes: list[str],
) -> list[Scheduled]:
    roles = {norm(r) for r in schedule.auditor_roles}

    def eligible(draft: Allocation, own_manager: bool, allowed: set[str]) -> list[int]:
        return [
            i
            for i, a in enumerate(auditors)
            if a.capacity > 0
            and (not allowed or norm(a.role) in allowed)
            and conflict(replace(draft, auditor=a.name), a.team, own_manager) is None
        ]

    own = schedule.auditor == "own_manager"
    if schedule.subjects == "cases":
        types = {norm(t) for t in schedule.case_types}
        pool = []
        for case in cases:
            if (types and norm(case.case_type) not in types) or norm(case.case_reference) in taken:
                continue
            draft = case.draft(tool, month, due)
            if eligible(draft, own, roles):
                pool.append(draft)
        if len(pool) < schedule.sample_size:
            notes.append(f"{tool}: only {len(pool)} cases could be picked (sample_size is {schedule.sample_size})")
        chosen = {id(d) for d in rng.sample(pool, min(schedule.sample_size, len(pool)))}
        picked = [d for d in pool if id(d) in chosen]
        taken.update(norm(d.case_reference) for d in picked)
        return [Scheduled(d, eligible(d, own, roles)) for d in picked]
    if schedule.subjects == "worker_cases":
        out = []
        for worker in workers_of(cases):
            theirs = [c for c in cases if norm(c.worker) == norm(worker.name) and norm(c.team) == norm(worker.team)]
            fresh = [c for c in theirs if norm(c.case_reference) not in taken] or theirs
            draft = rng.choice(fresh).draft(tool, month, due)
            out.append(Scheduled(draft, eligible(draft, own, roles)))
        return out
    out = []
    for worker in workers_of(cases):
        draft = _worker_draft(worker, tool, month, due)
        out.append(Scheduled(draft, eligible(draft, own, roles)))
    if schedule.team_managers:
        tm_roles = {norm(r) for r in schedule.team_manager_auditor_roles}
        for manager in team_managers_of(cases):
            draft = _worker_draft(manager, tool, month, due)
            out.append(Scheduled(draft, eligible(draft, False, tm_roles)))
    return out


def _described(schedule: Schedule) -> str:
    if schedule.subjects == "cases":
        kinds = ", ".join(schedule.case_types) or "any"
        what = f"a random sample of {schedule.sample_size} cases of type {kinds}, none picked already this month"
    elif schedule.subjects == "worker_cases":
        what = "one case of each worker, at random"
    else:
        what = "one for each worker in the case list"
        if schedule.team_managers:
            what += f"; each team manager by a {' or '.join(schedule.team_manager_auditor_roles).lower()}"
    if schedule.auditor == "own_manager":
        who = "by the worker's own team manager"
    else:
        who = "by nobody of the team, its manager or the worker"
    if schedule.auditor_roles:
        who += f" (only {', '.join(schedule.auditor_roles)})"
    return f"{what}; {who}"


def _worker_draft(worker: Worker, tool: str, month: str, due: date) -> Allocation:
    return Allocation(
        audit_id="",
        month=month,
        tool=tool,
        case_reference=worker_reference(worker.name),
        child_id="",
        team=worker.team,
        worker=worker.name,
        team_manager=worker.team_manager,
        auditor="",
        auditor_email="",
        due_date=due,
    )
