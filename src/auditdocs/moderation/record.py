"""A returned moderation form checked, compared with the audit it moderates, and the
grade of record worked out.

The moderator's grades are stored beside the auditor's (a submission of the audit with
document "moderation"), never over them.  Where the two differ, the grade of record is
the moderator's or the auditor's as ``moderation.grade_of_record`` says
(``Store.values_of_record_between``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditdocs.config import Settings, ToolType
from auditdocs.returns.findings import Finding

#: The rules of a moderation form's findings (errors send it back to the moderator).
GRADE_RULE = "moderation.grade"
RATIONALE_RULE = "moderation.rationale"
CONVERSATION_RULE = "moderation.conversation"
#: A rationale shorter than this says nothing ("agree", "too high").
MIN_RATIONALE_WORDS = 5


@dataclass(frozen=True)
class Difference:
    """One grade the moderator gave otherwise than the auditor: ``item`` is a domain id
    or "overall"; grades are grade ids (None: not graded)."""

    item: str
    field: str
    title: str
    auditor: str | None
    moderator: str | None
    rationale: str


def graded_items(tool: ToolType) -> list[tuple[str, str, str]]:
    """(item, grade field, title) of every grade a form of ``tool`` holds: domains, then overall."""
    items = [(d.id, f"domain.{d.id}.grade", d.title) for d in tool.domains]
    if tool.overall_judgement:
        items.append(("overall", "overall.grade", "Overall"))
    return items


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def differences(tool: ToolType, auditor: Mapping[str, Any], moderator: Mapping[str, Any]) -> list[Difference]:
    """The grades the moderator gave otherwise than the auditor, domains first."""
    out = []
    for item, field, title in graded_items(tool):
        theirs, ours = auditor.get(field), moderator.get(field)
        if ours is not None and theirs != ours:
            rationale = _text(moderator.get(field.replace(".grade", ".rationale")))
            out.append(Difference(item, field, title, theirs, ours, rationale))
    return out


def check_moderation(
    values: Mapping[str, Any], tool: ToolType, settings: Settings, auditor: Mapping[str, Any]
) -> list[Finding]:
    """Findings for a returned moderation form: every domain graded (Not applicable only
    where the domain allows it) and the overall grade given; a rationale of at least
    :data:`MIN_RATIONALE_WORDS` words wherever the moderator's grade differs from the
    auditor's (``auditor``: the audit's current return); the conversation with the auditor
    recorded (a warning: it may come after the grades)."""
    scale = settings.grading
    labels = {g.id: g.label for g in [*scale.grades, scale.not_applicable]}
    na = scale.not_applicable.id
    allows_na = {d.id: d.allow_na for d in tool.domains}
    found = []
    for item, field, title in graded_items(tool):
        grade = values.get(field)
        if grade is None:
            found.append(Finding(field, "error", GRADE_RULE, f"{title} is not graded; choose your grade."))
            continue
        if grade == na and not allows_na.get(item, False):
            found.append(Finding(field, "error", GRADE_RULE, f"{title} cannot be Not applicable; choose a grade."))
    for diff in differences(tool, auditor, values):
        if len(diff.rationale.split()) < MIN_RATIONALE_WORDS:
            theirs = labels.get(str(diff.auditor), "not graded")
            found.append(
                Finding(
                    diff.field.replace(".grade", ".rationale"),
                    "error",
                    RATIONALE_RULE,
                    f"{diff.title}: your grade ({labels.get(str(diff.moderator), diff.moderator)}) differs from "
                    f"the auditor's ({theirs}); say why in a few sentences (at least {MIN_RATIONALE_WORDS} words).",
                )
            )
    if not values.get("conversation.date") or not _text(values.get("conversation.notes")):
        found.append(
            Finding(
                "conversation.date" if not values.get("conversation.date") else "conversation.notes",
                "warning",
                CONVERSATION_RULE,
                "The moderation conversation with the auditor is not recorded yet: give its date and what was "
                "discussed and agreed.",
            )
        )
    return found
