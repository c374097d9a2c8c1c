"""The moderation section's figures for a report's months, read from the store: the
accepted moderations, their agreement figures and the grades of record they changed."""

from __future__ import annotations

from collections.abc import Sequence

from auditdocs.config import Config
from auditdocs.moderation.results import moderated_between, pairs_of
from auditdocs.reports.moderation import ChangedGrade, ModerationFigures, moderation_figures
from auditdocs.store.store import Store


def moderation_section_data(
    store: Store, config: Config, months: Sequence[str]
) -> tuple[ModerationFigures, list[ChangedGrade]]:
    """The figures of ``months`` (one month, or a quarter's three) and the moderated audits
    whose overall grade of record is not the auditor's."""
    settings = config.settings
    moderated = moderated_between(store, months[0], months[-1])
    pairs = pairs_of(config, moderated)
    by_month = {m: [p for p in pairs if p.month == m] for m in months}
    tool = config.tools.get(settings.allocation.tool)
    domains = [(d.id, d.title) for d in tool.domains] if tool else []
    figures = moderation_figures(by_month, domains, period="month" if len(months) == 1 else "quarter")
    changed = []
    scale = settings.grading
    labels = {g.id: g.label for g in [*scale.grades, scale.not_applicable]}
    if settings.moderation.grade_of_record == "moderator":
        for m in moderated:
            theirs, ours = m.auditor.get("overall.grade"), m.moderator.get("overall.grade")
            if ours is not None and ours != theirs:
                alloc = m.allocation
                changed.append(
                    ChangedGrade(
                        alloc.audit_id,
                        alloc.case_reference,
                        alloc.auditor,
                        labels.get(str(theirs), "not graded"),
                        labels.get(str(ours), str(ours)),
                        labels.get(str(ours), str(ours)),
                    )
                )
    return figures, changed
