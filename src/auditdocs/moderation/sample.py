"""``auditdocs moderate``: draw the month's moderation sample and write its forms.

Moderation (framework 7.2) asks a second, experienced reader to grade a sample of the
month's accepted case file audits again.  The sample is drawn once per month and kept in
the store; drawing again gives the same sample (its forms are written again if missing).

Who is drawn, in this order:

1. every audit graded one of ``always_grades`` overall (by default Inadequate and
   Outstanding: the judgements that matter most are always checked);
2. one audit of each auditor not moderated yet in the quarter: while the sample has room,
   and in the quarter's last month however big that makes it, so that every auditor with
   an accepted audit in a quarter's last month is moderated at least once that quarter;
3. audits drawn at random until the sample has ``sample_count`` audits, or
   ``sample_share`` of the month's accepted audits (rounded up).

The draw is seeded with ``seed`` and the month: the same store and config give the same
sample.  Each audit goes to the moderator with the fewest so far of this draw who is not
its auditor, worker or team manager.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from auditdocs.allocation.record import Allocation
from auditdocs.config import Config
from auditdocs.dates import add_working_days, month_label, now, parse_quarter, quarter_of, uk_date, uk_day
from auditdocs.errors import UsageError
from auditdocs.files import safe_name, write_private
from auditdocs.forms.generate import FormFactory
from auditdocs.forms.layout import moderation_note
from auditdocs.store.store import Moderation, Store
from auditdocs.text import norm
from auditdocs.workspace import Workspace

#: The allocation event recorded when an audit is drawn for moderation (and when its form is sent).
DRAWN_EVENT = "moderation drawn"
SENT_EVENT = "moderation sent"


@dataclass
class Sample:
    """What ``auditdocs moderate`` did for a month."""

    month: str
    drawn: list[Moderation]
    #: True when the month's sample was drawn before (this run drew nothing new)
    earlier: bool
    notes: list[str] = field(default_factory=list)
    paths: list[Path] = field(default_factory=list)
    #: accepted case file audits the sample was drawn from
    population: int = 0


def moderation_path(output_dir: Path, draw: Moderation, alloc: Allocation) -> Path:
    folder = output_dir / draw.month / "moderation" / safe_name(draw.moderator)
    return folder / f"{safe_name(alloc.audit_id)} {safe_name(alloc.case_reference)} moderation.docx"


def _quarter_before(month: str) -> tuple[str, str] | None:
    """The months of ``month``'s quarter before it (first, last), or None in its first month."""
    months = parse_quarter(quarter_of(month))[1]
    earlier = months[: months.index(month)]
    return (earlier[0], earlier[-1]) if earlier else None


def draw(store: Store, config: Config, month: str, today: date) -> tuple[list[Moderation], list[str], int]:
    """The month's sample, as :mod:`moderation.sample` describes it, not yet stored; the
    notes say what could not be done; and how many accepted audits it was drawn from."""
    settings = config.settings
    rules = settings.moderation
    tool = settings.allocation.tool
    population = [a for a, state in store.month_allocations(month) if a.tool == tool and state == "accepted"]
    if not population:
        return [], [f"no case file audit of {month_label(month)} is accepted yet: nothing to moderate"], 0
    overall = store.current_values(month, "overall.grade")
    labels = {g.id: g.label for g in settings.grading.grades}
    quarter = _quarter_before(month)
    moderated: set[str] = set()
    if quarter is not None:
        done = {m.audit_id for m in store.moderations_between(*quarter)}
        moderated = {norm(a.auditor) for a, _state in store.allocations_between(*quarter) if a.audit_id in done}
    last_of_quarter = month == parse_quarter(quarter_of(month))[1][-1]
    target = rules.sample_count or math.ceil(rules.sample_share * len(population))
    order = sorted(population, key=lambda a: a.audit_id)
    random.Random(f"{rules.seed}:{month}").shuffle(order)

    chosen: dict[str, tuple[Allocation, str]] = {}
    for alloc in order:
        grade = overall.get(alloc.audit_id, {}).get("overall.grade")
        if grade in rules.always_grades:
            chosen[alloc.audit_id] = (alloc, f"graded {labels.get(str(grade), grade)} overall: always moderated")
    covered = moderated | {norm(a.auditor) for a, _r in chosen.values()}
    for alloc in order:
        if norm(alloc.auditor) in covered or alloc.audit_id in chosen:
            continue
        if len(chosen) >= target and not last_of_quarter:
            break
        covered.add(norm(alloc.auditor))
        chosen[alloc.audit_id] = (alloc, f"{alloc.auditor} not yet moderated this quarter")
    for alloc in order:
        if len(chosen) >= target:
            break
        chosen.setdefault(alloc.audit_id, (alloc, "drawn at random"))

    due = add_working_days(today, rules.due_working_days, settings.organisation.bank_holidays)
    load = {m.name: 0 for m in rules.moderators}
    drawn, notes = [], []
    for alloc, reason in sorted(chosen.values(), key=lambda item: item[0].audit_id):
        involved = {norm(alloc.auditor), norm(alloc.worker), norm(alloc.team_manager)}
        eligible = [m for m in rules.moderators if norm(m.name) not in involved]
        if not eligible:
            notes.append(
                f"audit {alloc.audit_id} ({reason}) is not moderated: every moderator is its auditor, worker or "
                "team manager; add another moderator to moderation.moderators"
            )
            continue
        moderator = min(eligible, key=lambda m: load[m.name])  # the first of the least loaded
        load[moderator.name] += 1
        drawn.append(Moderation(alloc.audit_id, month, moderator.name, moderator.email, rules.mode, reason, due, now()))
    return drawn, notes, len(population)


def moderate_month(
    ws: Workspace, month: str, progress: Callable[[Moderation], None] | None = None, today: date | None = None
) -> Sample:
    """Draw ``month``'s moderation sample (once: later runs keep it) and write a moderation
    form for each audit drawn whose form is missing."""
    config = ws.config
    if not config.settings.moderation.moderators:
        raise UsageError(
            "no moderators: name them under moderation.moderators in config/organisation.yaml "
            "(name and e-mail of each QA or moderation officer)"
        )
    store = ws.store()
    existing = store.moderations_between(month, month)
    sample = Sample(month, existing, earlier=bool(existing))
    if not existing:
        drawn, sample.notes, sample.population = draw(store, config, month, today or uk_day(now()))
        store.record_moderations(drawn)
        store.record_events([(m.audit_id, DRAWN_EVENT, f"to {m.moderator} ({m.mode}): {m.reason}") for m in drawn])
        sample.drawn = drawn
    factory = FormFactory(config, ws.templates_dir, ws.key(create=True))
    for m in sample.drawn:
        found = store.allocation(m.audit_id)
        if found is None:  # pragma: no cover - a moderation row needs its allocation (foreign key)
            continue
        alloc = found[0]
        path = moderation_path(ws.output_dir, m, alloc)
        if path.exists():
            continue
        shown = store.current_values(month).get(m.audit_id, {}) if m.mode == "open" else None
        note = moderation_note(config, config.tool(alloc.tool), alloc, m.moderator, shown)
        write_private(path, factory.render_moderation(alloc, m.due_date, note))
        sample.paths.append(path)
        if progress:
            progress(m)
    return sample


def describe(sample: Sample) -> list[str]:
    """What ``auditdocs moderate`` prints."""
    label = month_label(sample.month)
    if not sample.drawn:
        return [*sample.notes] or [f"Nothing to moderate for {label}."]
    head = (
        f"The moderation sample of {label} was drawn before: {_count(len(sample.drawn), 'audit')}"
        if sample.earlier
        else f"Drew {len(sample.drawn)} of {sample.population} accepted audits of {label} for moderation"
    )
    lines = [f"{head}, due {uk_date(sample.drawn[0].due_date)}:"]
    lines += [f"  {m.audit_id}  {m.moderator}  ({m.mode}; {m.reason})" for m in sample.drawn]
    lines += sample.notes
    if sample.paths:
        lines.append(f"Wrote {_count(len(sample.paths), 'moderation form')} in output/{sample.month}/moderation/")
    return lines


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"
