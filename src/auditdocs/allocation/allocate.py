"""Allocate the month's audits (framework 2.1, 2.12): pick cases, re-audit last month's
Inadequate ones, and share them among the auditors.

Rules (``allocation:`` in organisation.yaml): a quota per team, a random sample or every
n-th case; no case audited in the months before is picked again; a case graded
Inadequate last month is re-audited by a senior manager, every month until its grade
improves (each re-audit names the audit it repeats); nobody audits their own team's
cases or cases they manage or work; nobody gets more than their monthly capacity, and
the load is spread as evenly as possible.  The same lists, store and seed give the same
allocation; the seed and rules are written on the workbook's "About" sheet.
"""

from __future__ import annotations

import random
import re
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from auditdocs.allocation.balance import balanced_assignment
from auditdocs.allocation.lists import Auditor, Case, StaffMember, read_auditors, read_cases, read_staff
from auditdocs.allocation.months import allocation_path
from auditdocs.allocation.record import Allocation
from auditdocs.allocation.schedules import Scheduled, plan_schedules, recently_audited
from auditdocs.allocation.workbook import (
    allocation_about,
    allocation_auditors,
    conflict,
    read_allocation,
    write_allocation,
)
from auditdocs.config.models import Settings
from auditdocs.dates import audit_due, check_month, first_working_day, shift_month, uk_date, uk_today
from auditdocs.errors import DataError, InternalError, UsageError
from auditdocs.files import display
from auditdocs.store.store import Store
from auditdocs.text import norm
from auditdocs.workspace import Workspace

_RETURNED = ("returned", "needs_amendment", "accepted")


@dataclass(frozen=True)
class Reaudit:
    """An open re-audit chain: the case's latest audit, to repeat, and its grade."""

    previous: Allocation
    grade: str


@dataclass(frozen=True)
class History:
    """What the store knows that shapes a month's allocation."""

    #: case reference (normalised) → the latest month it was audited, within the window
    recent: dict[str, str] = field(default_factory=dict)
    window: tuple[str, str] | None = None
    reaudits: list[Reaudit] = field(default_factory=list)
    #: audits not returned yet whose grade would decide a re-audit (last month's, and
    #: re-audits of any month), and the months they are from
    unreturned: list[str] = field(default_factory=list)
    unreturned_months: tuple[str, str] | None = None
    #: tool → references it audited within its own ``schedules.<tool>.exclude_months``
    schedule_recent: dict[str, set[str]] | None = None


#: The first month the store could hold: chains are followed back to it.
_EVER = "0000-01"


def history_from_store(store: Store, month: str, settings: Settings) -> History:
    """What the store says about ``month``: the cases audited in the months before (the
    ``exclude_months`` rule) and the open re-audit chains (2.12).  A chain is open while
    the latest case file audit of the case, in any month before, is graded one of
    ``reaudit_grades`` (its grade of record: a moderator's, where moderation says so): it
    is re-audited however late that grade came in, and every month until a re-audit grades
    it better."""
    rules = settings.allocation
    recent: dict[str, str] = {}
    window = None
    before = shift_month(month, -1)
    if rules.exclude_months:
        window = (shift_month(month, -rules.exclude_months), before)
    latest: dict[str, tuple[Allocation, str]] = {}
    for alloc, state in store.allocations_between(_EVER, before):
        if alloc.tool != rules.tool:  # a thematic audit or case discussion is no case file audit
            continue
        latest[norm(alloc.case_reference)] = (alloc, state)  # by month, then audit id: the last one counts
        if window and alloc.month >= window[0]:
            recent[norm(alloc.case_reference)] = alloc.month
    # The grade of record: a moderator's where moderation says it stands (framework 7.2).
    grades = store.values_of_record_between(
        _EVER, before, "overall.grade", tool=rules.tool, rule=settings.moderation.grade_of_record
    )
    reaudits = []
    unreturned: list[Allocation] = []
    for alloc, state in latest.values():
        grade = grades.get(alloc.audit_id, {}).get("overall.grade")
        if isinstance(grade, str) and grade in rules.reaudit_grades:
            reaudits.append(Reaudit(alloc, grade))
        elif alloc.audit_id not in grades and state not in _RETURNED and _pending(alloc, before):
            unreturned.append(alloc)
    unreturned.sort(key=lambda a: (a.month, a.audit_id))
    span = (unreturned[0].month, unreturned[-1].month) if unreturned else None
    return History(
        recent, window, reaudits, [a.audit_id for a in unreturned], span, recently_audited(store, month, settings)
    )


def _pending(alloc: Allocation, before: str) -> bool:
    """Whether an audit not returned yet is worth a note: last month's, or a re-audit of
    any month (its chain's next step waits on it)."""
    return alloc.month == before or alloc.reaudit_of is not None


@dataclass
class AllocationResult:
    month: str
    allocations: list[Allocation]
    seed: int
    about: list[tuple[str, object]]
    notes: list[str]
    path: Path | None = None
    #: with ``allocate --add``: how many audits the workbook had before
    added_to: int | None = None

    @property
    def reaudits(self) -> list[Allocation]:
        return [a for a in self.allocations if a.reaudit_of]

    def summary(self) -> str:
        """A few lines for the person who ran it."""
        if self.added_to is not None:
            return self._added_summary()
        auditors = len({a.auditor for a in self.allocations})
        due = sorted({a.due_date for a in self.allocations})
        when = f"due {due[0]:%d/%m/%Y}" if len(due) == 1 else f"due {due[0]:%d/%m/%Y} to {due[-1]:%d/%m/%Y}"
        lines = [
            f"Allocated {len(self.allocations)} audits for {self.month} ({len(self.reaudits)} re-audits) "
            f"to {auditors} auditors, {when}; seed {self.seed}"
        ]
        tools = Counter(a.tool for a in self.allocations)
        if len(tools) > 1:
            lines.append("  by tool: " + ", ".join(f"{tool} {n}" for tool, n in tools.items()))
        lines += [f"  {note}" for note in self.notes]
        if self.path is not None:
            lines.append(f"Wrote {display(self.path)}: check it, adjust it by hand if needed, then generate")
        return "\n".join(lines)


    def _added_summary(self) -> str:
        lines = [f"Added {len(self.allocations)} re-audits to {self.month} (it had {self.added_to} audits)"]
        lines += [
            f"  {a.audit_id}: case {a.case_reference}, re-audit of {a.reaudit_of}, to {a.auditor}, "
            f"due {a.due_date:%d/%m/%Y}"
            for a in self.allocations
        ]
        lines += [f"  {note}" for note in self.notes]
        if self.path is not None and self.allocations:
            lines.append(f"Wrote {display(self.path)}: check it, then generate and send (only the new audits go out)")
        elif not self.allocations:
            lines.append("No re-audit is due that the month does not have already; the workbook is unchanged")
        return "\n".join(lines)


def plan_allocation(
    cases: Sequence[Case],
    auditors: Sequence[Auditor],
    month: str,
    settings: Settings,
    *,
    seed: int,
    history: History | None = None,
    issued: date | None = None,
    sources: tuple[str, str] = ("the case list", "the list of auditors"),
    scheduled: bool = False,
    pick: bool = True,
    first_number: int = 1,
    staff: Sequence[StaffMember] | None = None,
) -> AllocationResult:
    """The month's allocation from the case list, the auditors and what the store knows;
    with ``scheduled``, the other tools whose schedule runs this month are added after
    the case file audits (see auditdocs.allocation.schedules); without ``pick``, only the
    re-audits (for ``allocate --add``).  Audit ids are numbered from ``first_number``.
    Raises DataError when the auditors' capacity cannot take every audit."""
    history = history or History()
    rules = settings.allocation
    rng = random.Random(seed)
    due = audit_due(settings, month, issued)
    notes: list[str] = []

    by_ref = {norm(c.case_reference): c for c in cases}
    drafts: list[Allocation] = []
    for item in sorted(history.reaudits, key=lambda r: r.previous.audit_id):
        prev = item.previous
        case = by_ref.get(norm(prev.case_reference))
        if case is None:
            notes.append(f"re-audit of {prev.case_reference} ({prev.audit_id}): not in the case list; details kept")
        drafts.append(
            replace(
                case.draft(prev.tool, month, due) if case else replace(prev, month=month, due_date=due),
                reaudit_of=prev.audit_id,
            )
        )
    reaudited = {norm(d.case_reference) for d in drafts}

    def eligible(draft: Allocation) -> list[int]:
        return [
            i
            for i, a in enumerate(auditors)
            if a.capacity > 0
            and conflict(replace(draft, auditor=a.name), a.team) is None
            and (draft.reaudit_of is None or norm(a.role) == norm(rules.reaudit_role))
        ]

    excluded = [
        c for c in cases if norm(c.case_reference) in history.recent and norm(c.case_reference) not in reaudited
    ]
    unplaceable = []
    candidates = []
    for case in cases if pick else ():
        ref = norm(case.case_reference)
        if ref in history.recent or ref in reaudited:
            continue
        draft = case.draft(rules.tool, month, due)
        if eligible(draft):
            candidates.append(draft)
        else:
            unplaceable.append(case.case_reference)
    if excluded and history.window and pick:
        notes.append(
            f"{len(excluded)} cases audited from {history.window[0]} to {history.window[1]} were not picked again"
        )
    if unplaceable:
        notes.append(
            f"{len(unplaceable)} cases have no eligible auditor (outside their team, not their manager or worker, "
            "with capacity) and were not picked: " + _listed(unplaceable)
        )
    if pick:
        picked, method = _pick(candidates, settings, rng, notes)
        drafts += picked
    else:
        method = "no new cases: only the re-audits now due (allocate --add)"

    order = list(range(len(auditors)))
    rng.shuffle(order)  # ties in load go to different people each month, reproducibly
    shuffled = [auditors[i] for i in order]
    chosen = balanced_assignment(
        [[order.index(i) for i in eligible(d)] for d in drafts], [a.capacity for a in shuffled]
    )
    _check_capacity(drafts, chosen, auditors, rules.reaudit_role, month, sources[1], eligible)
    schedule_about: list[tuple[str, object]] = []
    if scheduled:
        extra, schedule_about = plan_schedules(
            cases,
            auditors,
            month,
            settings,
            seed=seed,
            due=due,
            taken={norm(d.case_reference) for d in drafts},
            notes=notes,
            staff=staff,
            recent=history.schedule_recent,
        )
        if extra:
            chosen = balanced_assignment(
                [[order.index(i) for i in eligible(d)] for d in drafts]
                + [[order.index(i) for i in item.eligible] for item in extra],
                [a.capacity for a in shuffled],
                optional=[False] * len(drafts) + [True] * len(extra),
            )
            _check_schedule_capacity(drafts, extra, chosen, auditors, month, sources[1], settings)
            drafts = drafts + [item.draft for item in extra]
    allocations = []
    for n, (draft, who) in enumerate(zip(drafts, chosen, strict=True), first_number):
        if who is None:
            raise InternalError(f"{draft.case_reference}: picked but given no auditor")
        auditor = shuffled[who]
        allocations.append(
            replace(draft, audit_id=f"{month}-{n:03d}", auditor=auditor.name, auditor_email=auditor.email)
        )

    if history.unreturned:
        first, last = history.unreturned_months or (shift_month(month, -1),) * 2
        span = first if first == last else f"{first} to {last}"
        notes.append(
            f"{len(history.unreturned)} audits of {span} are not returned yet, so whether they "
            f"need re-auditing is not known: {_listed(history.unreturned)}"
        )
    about: list[tuple[str, object]] = [
        ("Month", month),
        ("Audits", f"{len(allocations)} ({len(history.reaudits)} re-audits)"),
        ("Tool", rules.tool),
        *schedule_about,
        ("Cases", f"{sources[0]}: {len(cases)} cases"),
        ("Auditors", f"{sources[1]}: {len(auditors)} auditors, capacity {sum(a.capacity for a in auditors)}"),
        ("Picked by", method),
        ("Random seed", seed),
        *_rules_applied(settings, month, due, issued, history, len(excluded)),
        *((f"Note {i}", note) for i, note in enumerate(notes, 1)),
        ("", ""),
        ("Auditor", "audits / capacity"),
    ]
    taken = Counter(a.auditor for a in allocations)
    about += [(f"{a.name} ({a.role})", f"{taken[a.name]} / {a.capacity}") for a in auditors]
    return AllocationResult(month, allocations, seed, about, notes)


def _rules_applied(
    settings: Settings, month: str, due: date, issued: date | None, history: History, excluded: int
) -> list[tuple[str, object]]:
    """The About sheet's account of the rules, as applied this month."""
    rules = settings.allocation
    region = settings.organisation.bank_holidays
    if history.window:
        recent = f"cases audited from {history.window[0]} to {history.window[1]}: {excluded}"
    elif rules.exclude_months:
        recent = f"cases audited in the {rules.exclude_months} months before: none known"
    else:
        recent = "none (exclude_months is 0)"
    if settings.deadlines.audit_due == "last_working_day":
        due_rule = "the last working day of the month"
    else:
        year, mon = map(int, month.split("-"))
        start = issued or first_working_day(year, mon, region)
        due_rule = f"{settings.deadlines.audit_due_working_days} working days from issue ({start:%d/%m/%Y})"
    return [
        ("Not picked again", recent),
        (
            "Re-audits",
            f"cases whose latest case file audit was graded {', '.join(rules.reaudit_grades)} are re-audited by a "
            f"{rules.reaudit_role}, every month until the grade improves; reaudit_of names the audit repeated",
        ),
        ("Who audits", "nobody audits a case of their own team, one they manage or one they work"),
        ("Load", "nobody over their monthly capacity; audits spread as evenly as possible"),
        ("Due", f"{due:%d/%m/%Y}: {due_rule} ({region} bank holidays)"),
    ]


def _listed(items: Sequence[str], limit: int = 10) -> str:
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _pick(
    candidates: list[Allocation], settings: Settings, rng: random.Random, notes: list[str]
) -> tuple[list[Allocation], str]:
    """The cases picked from those that may be, and how they were picked."""
    rules = settings.allocation
    if rules.method == "every_nth":
        return candidates[rules.every_nth - 1 :: rules.every_nth], (
            f"every n-th case of the list with n = {rules.every_nth} (in the export's order), counting only "
            "cases that may be picked"
        )
    if rules.method == "sample":
        if len(candidates) < rules.sample_size:
            notes.append(f"only {len(candidates)} cases could be picked (sample_size is {rules.sample_size})")
        picked = rng.sample(candidates, min(rules.sample_size, len(candidates)))
        position = {id(d): i for i, d in enumerate(candidates)}
        return sorted(picked, key=lambda d: position[id(d)]), (
            f"a random sample of {rules.sample_size} cases from the whole list"
        )
    teams: dict[str, list[Allocation]] = {}
    names: dict[str, str] = {}
    for draft in candidates:
        teams.setdefault(norm(draft.team), []).append(draft)
        names.setdefault(norm(draft.team), draft.team)
    quotas = {norm(team): n for team, n in rules.team_quotas.items()}
    unknown = [team for team in rules.team_quotas if norm(team) not in teams]
    if unknown:
        notes.append(f"team_quotas names teams with no case to pick: {', '.join(unknown)}")
    picked = []
    for key, pool in teams.items():
        want = quotas.get(key, rules.quota_per_team)
        if len(pool) < want:
            notes.append(f"{names[key]}: only {len(pool)} cases could be picked (quota {want})")
        chosen = {id(d) for d in rng.sample(pool, min(want, len(pool)))}
        picked += [d for d in pool if id(d) in chosen]
    described = f"{rules.quota_per_team} cases a team, at random"
    if rules.team_quotas:
        described += " (" + ", ".join(f"{team}: {n}" for team, n in rules.team_quotas.items()) + ")"
    return picked, described


def _check_capacity(
    drafts: list[Allocation],
    chosen: list[int | None],
    auditors: Sequence[Auditor],
    reaudit_role: str,
    month: str,
    source: str,
    eligible: Callable[[Allocation], list[int]],
) -> None:
    short = sum(who is None for who in chosen)
    if not short:
        return
    reaudits = [d for d in drafts if d.reaudit_of]
    if reaudits:
        alone = balanced_assignment(
            [eligible(d) for d in reaudits],
            [a.capacity for a in auditors],
        )
        missing = sum(who is None for who in alone)
        if missing:
            senior = [a for a in auditors if norm(a.role) == norm(reaudit_role)]
            raise DataError(
                f"{source}: not enough {reaudit_role} capacity for {month}: {len(reaudits)} re-audits need a "
                f"{reaudit_role} outside the case's team, {len(reaudits) - missing} can be placed, {missing} short "
                f"({len(senior)} {reaudit_role}s, capacity {sum(a.capacity for a in senior)}); add senior "
                "managers or raise their monthly capacity"
            )
    total = sum(a.capacity for a in auditors)
    raise DataError(
        f"{source}: not enough auditor capacity for {month}: {len(drafts)} audits to allocate "
        f"({len(reaudits)} re-audits), {len(drafts) - short} can be placed, {short} short (total capacity {total}; "
        "nobody audits their own team's cases); add auditors or raise their monthly capacity"
    )


def _check_schedule_capacity(
    drafts: list[Allocation],
    extra: list[Scheduled],
    chosen: list[int | None],
    auditors: Sequence[Auditor],
    month: str,
    source: str,
    settings: Settings,
) -> None:
    """The scheduled audits that found no auditor (the case file audits come first)."""
    short: Counter[str] = Counter()
    nobody: Counter[str] = Counter()
    wanted = Counter(item.draft.tool for item in extra)
    for item, who in zip(extra, chosen[len(drafts) :], strict=True):
        if who is None:
            short[item.draft.tool] += 1
            nobody[item.draft.tool] += not item.eligible
    if not short:
        return
    parts = []
    for tool, n in short.items():
        part = f"{tool}: {n} of {wanted[tool]} short"
        if nobody[tool]:
            reason = (
                "their team manager is not in the list of auditors or has no capacity"
                if settings.schedules[tool].auditor == "own_manager"
                else "nobody of the roles allowed outside the team"
            )
            part += f" ({nobody[tool]} with no eligible auditor at all: {reason})"
        parts.append(part)
    total = sum(a.capacity for a in auditors)
    raise DataError(
        f"{source}: not enough auditor capacity for {month}: {len(drafts)} case file audits and "
        f"{len(extra)} scheduled audits to allocate, {sum(short.values())} short ({'; '.join(parts)}; total "
        f"capacity {total}); add auditors or raise their monthly capacity"
    )


# --- the workspace ---------------------------------------------------------------------


def allocate(
    ws: Workspace,
    month: str,
    seed: int | None = None,
    cases: Path | None = None,
    auditors: Path | None = None,
    issued: date | None = None,
    replace_existing: bool = False,
    scheduled: bool = True,
    add: bool = False,
) -> AllocationResult:
    """Allocate ``month`` from the case list and auditors (default: the files named in
    config ``imports``) and write ``output/<month>/allocation-<month>.xlsx``: the case
    file audits and, unless ``scheduled`` is False, the tools whose schedule runs this
    month (config ``schedules``).  With ``add``, the month's workbook is kept as it is
    (issued or not, hand edits included) and the re-audits due since are added to it."""
    check_month(month)
    settings = ws.config.settings
    path = allocation_path(ws, month)
    if add:
        return _add_reaudits(ws, month, path, cases, auditors)
    if path.exists() and not replace_existing:
        raise UsageError(
            f"{display(path)}: already allocated (and perhaps adjusted by hand); delete it, allocate again "
            f"with --replace, or add the re-audits due since with --add"
        )
    cases_path = cases or ws.root / settings.imports.cases.file
    auditors_path = auditors or ws.root / settings.imports.auditors.file
    case_list = read_cases(cases_path, settings.imports.cases)
    auditor_list = read_auditors(auditors_path, settings.imports.auditors)
    staff_spec = settings.imports.staff
    staff = read_staff(ws.root / staff_spec.file, staff_spec) if staff_spec.file else None
    store = ws.store()
    issued_already = [a.audit_id for a, state in store.month_allocations(month) if state != "allocated"]
    if issued_already:
        raise DataError(
            f"{month}: {len(issued_already)} audits are already issued (generated); allocating again would "
            f"give their audit ids to other cases. Add the re-audits due since with `auditdocs allocate --month "
            f"{month} --add`, or change the workbook by hand (new rows with new audit ids; another auditor for an "
            "audit not yet returned), then run generate and send: only what changed goes out"
        )
    result = plan_allocation(
        case_list,
        auditor_list,
        month,
        settings,
        seed=secrets.randbelow(1_000_000) if seed is None else seed,
        history=history_from_store(store, month, settings),
        issued=issued,
        sources=(display(cases_path), display(auditors_path)),
        scheduled=scheduled,
        staff=staff,
    )
    write_allocation(path, result.allocations, result.about, auditor_list, settings.organisation.name)
    result.path = path
    return result


def _add_reaudits(
    ws: Workspace, month: str, path: Path, cases: Path | None, auditors: Path | None
) -> AllocationResult:
    """``allocate --add``: the month's workbook as it stands, plus the re-audits now due
    whose case has no case file audit in it (a re-audit graded Inadequate after the month
    was allocated), given to auditors with capacity left, numbered on."""
    settings = ws.config.settings
    if not path.exists():
        raise UsageError(f"{display(path)}: {month} is not allocated yet; allocate it first (without --add)")
    existing = read_allocation(path)
    auditor_list = checking_auditors(ws, path, auditors)
    if auditor_list is None:
        raise UsageError(f"{display(path)}: no list of auditors to allocate from; give one with --auditors")
    cases_path = cases or ws.root / settings.imports.cases.file
    case_list = read_cases(cases_path, settings.imports.cases)
    store = ws.store()
    taken = {norm(a.case_reference) for a in existing if a.tool == settings.allocation.tool}
    taken |= {norm(a.case_reference) for a, _s in store.month_allocations(month) if a.tool == settings.allocation.tool}
    history = history_from_store(store, month, settings)
    due = [r for r in history.reaudits if norm(r.previous.case_reference) not in taken]
    load = Counter(norm(a.auditor) for a in existing)
    left = [replace(a, capacity=max(0, a.capacity - load[norm(a.name)])) for a in auditor_list]
    numbers = [int(m.group(1)) for a in existing if (m := re.fullmatch(rf"{re.escape(month)}-(\d+)", a.audit_id))]
    result = plan_allocation(
        case_list,
        left,
        month,
        settings,
        seed=0,
        history=replace(history, reaudits=due),
        sources=(display(cases_path), f"{display(path)} (capacity left)"),
        pick=False,
        first_number=max(numbers, default=0) + 1,
    )
    added = result.allocations
    if added:
        about: list[tuple[str, object]] = [
            ("" if row[0] is None else str(row[0]), "" if len(row) < 2 or row[1] is None else row[1])
            for row in allocation_about(path)
            if row
        ]
        today = uk_date(uk_today())
        about.append((f"Added {today}", f"{len(added)} re-audits: {', '.join(a.audit_id for a in added)}"))
        about += [(f"Added {today}, note {i}", note) for i, note in enumerate(result.notes, 1)]
        write_allocation(path, [*existing, *added], about, auditor_list, settings.organisation.name)
    return AllocationResult(month, added, 0, result.about, result.notes, path, added_to=len(existing))


def read_checked_allocation(ws: Workspace, path: Path, auditors: Path | None = None) -> list[Allocation]:
    """An allocation workbook (perhaps adjusted by hand) checked again against the
    auditors: ``auditors`` if given, else the list ``allocate`` made it for (the
    workbook's "Auditors" sheet), else the list named in config.  For ``auditdocs
    generate``."""
    return read_allocation(path, checking_auditors(ws, path, auditors), own_manager_tools(ws.config.settings))


def checking_auditors(ws: Workspace, path: Path, auditors: Path | None = None) -> list[Auditor] | None:
    """The auditors a workbook is checked against (see :func:`read_checked_allocation`);
    None when there is no list at all (a hand-made workbook, no list in config)."""
    spec = ws.config.settings.imports.auditors
    if auditors is not None:
        return read_auditors(auditors, spec)
    used = allocation_auditors(path)
    if used is not None:
        return used
    default = ws.root / spec.file
    return read_auditors(default, spec) if default.exists() else None


def own_manager_tools(settings: Settings) -> set[str]:
    """The tools held by the worker's own team manager (case discussions, observations)."""
    return {tool for tool, schedule in settings.schedules.items() if schedule.auditor == "own_manager"}
