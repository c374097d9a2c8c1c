"""The other audit activity on its schedule (framework sections 3 to 6; ``schedules:`` in
organisation.yaml): thematic audits of a sample of cases, case discussions with each
worker's own team manager, supervision audits of each worker by a manager who is not
their own, and yearly staff observations of workers by their team manager and of team
managers by a service or senior manager.

The workers are the distinct (worker, team, team manager) found in the case list, the
team managers the distinct (team manager, team).  An optional staff list gives a
worker's status: a worker whose status has months of its own (``status_months``: newly
qualified workers, 6.2; workers needing support, 6.4) is audited in those months
instead.  An audit about a worker carries a worker reference (``W-`` and a code of the
name), no child id.  With ``exclude_months``, a case the tool audited in the months
before (the store's history, :func:`recently_audited`) is not picked again.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from auditdocs.allocation.lists import Auditor, Case, StaffMember
from auditdocs.allocation.record import Allocation, worker_reference
from auditdocs.allocation.workbook import conflict
from auditdocs.config.models import Schedule, Settings
from auditdocs.dates import shift_month
from auditdocs.store.store import Store
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
    """The tools whose schedule runs in ``month`` (YYYY-MM), for everyone or for workers
    of a status, in the config's order."""
    mon = int(month.split("-")[1])
    return [tool for tool, schedule in settings.schedules.items() if schedule.runs_in(mon)]


def recently_audited(store: Store, month: str, settings: Settings) -> dict[str, set[str]]:
    """Tool → the references (normalised) it audited in its ``exclude_months`` before
    ``month``, for the tools with that rule (withdrawn audits do not count)."""
    spans = {tool: s.exclude_months for tool, s in settings.schedules.items() if s.exclude_months}
    if not spans:
        return {}
    out: dict[str, set[str]] = {tool: set() for tool in spans}
    for alloc, _state in store.allocations_between(shift_month(month, -max(spans.values())), shift_month(month, -1)):
        span = spans.get(alloc.tool)
        if span and alloc.month >= shift_month(month, -span):
            out[alloc.tool].add(norm(alloc.case_reference))
    return out


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
    staff: Sequence[StaffMember] | None = None,
    recent: Mapping[str, Collection[str]] | None = None,
) -> tuple[list[Scheduled], list[tuple[str, object]]]:
    """The scheduled audits of ``month`` (not yet numbered or given an auditor) and the
    About sheet's lines on them.  ``taken``: case references (normalised) already picked
    this month, which no thematic audit picks again.  ``staff``: the staff list (None:
    none given; every worker is audited as an experienced worker).  ``recent``: tool →
    the references (normalised) it audited in its ``exclude_months`` before this month,
    as :func:`recently_audited` gives them (None: not known)."""
    out: list[Scheduled] = []
    about: list[tuple[str, object]] = []
    for tool in due_schedules(settings, month):
        schedule = settings.schedules[tool]
        if staff is None and int(month.split("-")[1]) not in schedule.months:
            continue  # due only for workers of a status, and without a staff list nobody has one
        before: Collection[str] | None = ()  # without exclude_months, nothing the tool audited counts
        if schedule.exclude_months:
            before = None if recent is None else recent.get(tool, ())
        run = _Run(
            tool,
            schedule,
            month,
            due,
            auditors,
            random.Random(f"{seed}:{tool}"),  # each tool its own stream: adding one changes no other
            taken,
            before,
            notes,
        )
        if schedule.subjects == "cases":
            items, what = _cases(run, cases)
        elif schedule.subjects == "worker_cases":
            items, what = _worker_cases(run, cases)
        else:
            items, what = _workers(run, cases, staff)
        out += items
        about.append((f"Schedule: {tool}", f"{len(items)} audits: {what}; {_who(schedule)}{_exclusion(run)}"))
    if not about:
        ran = ", ".join(f"{tool} ({_months_described(s)})" for tool, s in settings.schedules.items())
        about.append(("Schedules", f"none this month (configured: {ran or 'none'})"))
    return out, about


@dataclass
class _Run:
    """One tool's schedule in one month, and what picking its subjects needs."""

    tool: str
    schedule: Schedule
    month: str
    due: date
    auditors: Sequence[Auditor]
    rng: random.Random
    taken: set[str]
    recent: Collection[str] | None  # audited with the tool in its exclude_months before; None: not known
    notes: list[str]
    excluded: int = 0  # cases not picked because they were audited in exclude_months

    def eligible(self, draft: Allocation, own_manager: bool, roles: Collection[str]) -> list[int]:
        """The auditors who may take ``draft``: with capacity, of ``roles`` (empty: any)."""
        allowed = {norm(r) for r in roles}
        return [
            i
            for i, a in enumerate(self.auditors)
            if a.capacity > 0
            and (not allowed or norm(a.role) in allowed)
            and conflict(replace(draft, auditor=a.name), a.team, own_manager) is None
        ]

    def audited_before(self, case: Case) -> bool:
        return self.recent is not None and norm(case.case_reference) in self.recent

    @property
    def own_manager(self) -> bool:
        return self.schedule.auditor == "own_manager"


def _cases(run: _Run, cases: Sequence[Case]) -> tuple[list[Scheduled], str]:
    """A random sample of the cases of the types in focus, none picked already this month."""
    schedule = run.schedule
    types = {norm(t) for t in schedule.case_types}
    pool = []
    for case in cases:
        if (types and norm(case.case_type) not in types) or norm(case.case_reference) in run.taken:
            continue
        if run.audited_before(case):
            run.excluded += 1
            continue
        draft = case.draft(run.tool, run.month, run.due)
        if run.eligible(draft, run.own_manager, schedule.auditor_roles):
            pool.append(draft)
    if len(pool) < schedule.sample_size:
        run.notes.append(f"{run.tool}: only {len(pool)} cases could be picked (sample_size is {schedule.sample_size})")
    chosen = {id(d) for d in run.rng.sample(pool, min(schedule.sample_size, len(pool)))}
    picked = [d for d in pool if id(d) in chosen]
    run.taken.update(norm(d.case_reference) for d in picked)
    kinds = ", ".join(schedule.case_types) or "any"
    what = f"a random sample of {schedule.sample_size} cases of type {kinds}, none picked already this month"
    return [Scheduled(d, run.eligible(d, run.own_manager, schedule.auditor_roles)) for d in picked], what


def _worker_cases(run: _Run, cases: Sequence[Case]) -> tuple[list[Scheduled], str]:
    """One case of each worker, at random: one not audited with the tool in its
    exclude_months if the worker has one (else any of theirs, noted), preferably one not
    picked already this month."""
    out = []
    again = []
    for worker in workers_of(cases):
        theirs = [c for c in cases if norm(c.worker) == norm(worker.name) and norm(c.team) == norm(worker.team)]
        fresh = [c for c in theirs if not run.audited_before(c)]
        run.excluded += len(theirs) - len(fresh)
        if not fresh:
            again.append(worker.name)
            fresh = theirs
        untaken = [c for c in fresh if norm(c.case_reference) not in run.taken] or fresh
        draft = run.rng.choice(untaken).draft(run.tool, run.month, run.due)
        out.append(Scheduled(draft, run.eligible(draft, run.own_manager, run.schedule.auditor_roles)))
    if again:
        run.notes.append(
            f"{run.tool}: every case of {len(again)} workers was audited with it in the "
            f"{run.schedule.exclude_months} months before, so one of them is picked again: {', '.join(again)}"
        )
    return out, "one case of each worker, at random"


def _workers(run: _Run, cases: Sequence[Case], staff: Sequence[StaffMember] | None) -> tuple[list[Scheduled], str]:
    """One for each worker due this month (their status's months, else the schedule's)
    and, in the schedule's months, each team manager."""
    schedule = run.schedule
    mon = int(run.month.split("-")[1])
    workers = workers_of(cases)
    status_of = _status_finder(run, workers, staff) if schedule.status_months else lambda _worker: None
    out = []
    counted: Counter[str] = Counter()
    for worker in workers:
        status = status_of(worker)
        months = schedule.months if status is None else schedule.status_months.get(status, schedule.months)
        if mon not in months:
            continue
        counted[status if status is not None and status in schedule.status_months else "other"] += 1
        draft = _worker_draft(worker, run.tool, run.month, run.due)
        out.append(Scheduled(draft, run.eligible(draft, run.own_manager, schedule.auditor_roles)))
    what = "one for each worker in the case list"
    if schedule.status_months:
        rule = "; ".join(f"{s}: {_listed_months(m)}" for s, m in schedule.status_months.items())
        if staff is None:
            what += f" (no staff list given, so the months of a status ({rule}) are not applied)"
        else:
            found = ", ".join(f"{counted[s]} {s}" for s in [*schedule.status_months, "other"] if counted[s]) or "none"
            what += (
                f" due this month: with a status in the staff list, in its months ({rule}); others in months "
                f"{_listed_months(schedule.months)} (this month: {found})"
            )
    if schedule.team_managers and mon in schedule.months:
        for manager in team_managers_of(cases):
            draft = _worker_draft(manager, run.tool, run.month, run.due)
            out.append(Scheduled(draft, run.eligible(draft, False, schedule.team_manager_auditor_roles)))
        what += f"; each team manager by a {' or '.join(schedule.team_manager_auditor_roles).lower()}"
    return out, what


def _status_finder(
    run: _Run, workers: Sequence[Worker], staff: Sequence[StaffMember] | None
) -> Callable[[Worker], str | None]:
    """A worker's status from the staff list: the row of their name and team, else the
    row of their name with no team.  Notes the workers of the staff list with a status
    that are not in the case list (a misspelt name would otherwise go unseen)."""
    if staff is None:
        run.notes.append(
            f"{run.tool}: no staff list, so every worker is audited in months {_listed_months(run.schedule.months)} "
            "(status_months needs one: imports.staff)"
        )
        return lambda _worker: None
    rows = {(norm(m.name), norm(m.team)): m.status for m in staff}
    keys = {(norm(w.name), norm(w.team)) for w in workers}
    names = {name for name, _team in keys}
    missing = [
        f"{m.name} ({m.team})" if m.team else m.name
        for m in staff
        if m.status and ((norm(m.name), norm(m.team)) not in keys if m.team else norm(m.name) not in names)
    ]
    if missing:
        run.notes.append(
            f"{run.tool}: {len(missing)} workers with a status in the staff list are not in the case list "
            f"(check the spelling of their name and team): {', '.join(missing)}"
        )

    def status_of(worker: Worker) -> str | None:
        for key in ((norm(worker.name), norm(worker.team)), (norm(worker.name), "")):
            if key in rows:
                return rows[key]
        return None

    return status_of


def _who(schedule: Schedule) -> str:
    if schedule.auditor == "own_manager":
        who = "by the worker's own team manager"
    else:
        who = "by nobody of the team, its manager or the worker"
    if schedule.auditor_roles:
        who += f" (only {', '.join(schedule.auditor_roles)})"
    return who


def _exclusion(run: _Run) -> str:
    """The About sheet's account of the exclude_months rule, as applied this month."""
    span = run.schedule.exclude_months
    if not span:
        return ""
    if run.recent is None:
        return f"; cases audited with it in the {span} months before: none known"
    first, last = shift_month(run.month, -span), shift_month(run.month, -1)
    return f"; cases audited with it from {first} to {last} not picked again ({run.excluded} in the case list)"


def _months_described(schedule: Schedule) -> str:
    months = f"months {_listed_months(schedule.months)}"
    return "; ".join([months, *(f"{s}: {_listed_months(m)}" for s, m in schedule.status_months.items())])


def _listed_months(months: Sequence[int]) -> str:
    return ", ".join(map(str, months))


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
