"""The layout of each document we issue, in audit terms (no XML here).

A layout is a list of blocks (headings, guidance, tables whose cells hold text or a
field).  The same layout drives the Word builder and, through the field manifest
stored in every document, the parser's fallbacks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, Literal

from auditdocs.allocation.record import Allocation
from auditdocs.dates import month_label, uk_date
from auditdocs.forms.identity import manifest_hash

if TYPE_CHECKING:  # types only: `parse` reads a form without importing pydantic (0.2 s)
    from auditdocs.config import Config, Grade, Settings, ToolType

FieldKind = Literal["text", "richtext", "dropdown", "checkbox", "date"]

#: The documents issued: two per allocation (the audit tool and the improvement plan),
#: and a moderation form for an audit drawn for moderation.
DocumentKind = Literal["audit", "plan", "moderation"]


@dataclass(frozen=True)
class Field:
    """One control the auditor fills.  ``id`` is the control's tag and the parse key."""

    id: str
    kind: FieldKind
    label: str
    placeholder: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, display text)

    def __post_init__(self) -> None:
        if self.kind in ("text", "richtext", "dropdown", "date") and not self.placeholder:
            raise ValueError(f"{self.id}: a {self.kind} field needs a placeholder")


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Paragraph:
    text: str
    style: str | None = None  # a paragraph style id, e.g. "Guidance"


Cell = str | Field


@dataclass(frozen=True)
class Table:
    rows: list[list[Cell]]
    widths: tuple[int, ...]  # relative column widths
    header: bool = False


@dataclass(frozen=True)
class Key:
    """A read-only table of terms and what they mean (the grades and their definitions,
    framework 2.7).  Not a :class:`Table`: it holds no field, and the parser reads fields
    from their cells by the shapes of the layout's tables, which forms issued before the
    key was added must still match.  So a key goes before the first table of fields."""

    header: tuple[str, str]
    rows: tuple[tuple[str, str], ...]
    widths: tuple[int, int] = (25, 75)


Block = Heading | Paragraph | Table | Key


@dataclass
class Layout:
    blocks: list[Block] = field(default_factory=list)

    @property
    def fields(self) -> list[Field]:
        """Every field in document order."""
        out: list[Field] = []
        for block in self.blocks:
            if isinstance(block, Table):
                out.extend(c for row in block.rows for c in row if isinstance(c, Field))
        return out

    def manifest(self) -> list[dict[str, str]]:
        """What a document records of its fields: id, kind, placeholder, alias and, for a
        drop-down, its choices (see ``choices_text``)."""
        return [
            {"id": f.id, "k": f.kind, "p": f.placeholder, "a": f.label, **({"c": c} if (c := choices_text(f)) else {})}
            for f in self.fields
        ]

    @cached_property
    def digest(self) -> str:
        """The hash of the field list a form of this layout is signed with (worked out once:
        a layout is not changed after it is built)."""
        return manifest_hash((f.id, f.kind, f.placeholder, choices_text(f)) for f in self.fields)

    @cached_property
    def unsigned_choices_digest(self) -> str:
        """The hash forms issued before drop-down choices were signed carry."""
        return manifest_hash((f.id, f.kind, f.placeholder) for f in self.fields)


def choices_text(f: Field) -> str:
    """A drop-down's choices as the field list records them: JSON [[value, display], ...]."""
    return json.dumps([list(c) for c in f.choices], ensure_ascii=False) if f.kind == "dropdown" else ""


@lru_cache(maxsize=256)  # the same few lists in every form of a tool: read once each
def read_choices(text: str) -> tuple[tuple[str, str], ...] | None:
    """``choices_text`` read back (None if it is not a list of pairs of strings)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, list) or not all(
        isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c) for c in data
    ):
        return None
    return tuple((c[0], c[1]) for c in data)


GRADE_PLACEHOLDER = "Choose a grade"
DATE_PLACEHOLDER = "Enter the date as DD/MM/YYYY"
DOMAIN_PLACEHOLDER = "Choose the domain it improves"

#: The editions of the forms' wording and tables.  Edition 1 (before issue 17): Word's
#: stock placeholders, the plan's cells repeating their column's name, label and field
#: tables without a header row.  Edition 2: placeholders that say what to enter and in
#: what format (they are what a screen reader reads in an empty field), and a header row
#: on every table.  Forms of both editions are in circulation: a return of either is read
#: (see ``layout_source``), and its own field list keeps the placeholders it was issued with.
EDITION = 2
#: Edition 1's placeholders, still read as empty fields in returns of the forms issued then.
TEXT_PLACEHOLDER = "Click or tap here to enter text."
EVIDENCE_PLACEHOLDER = "Write your evidence here, in your own words."
LEGACY_DATE_PLACEHOLDER = "Click or tap to enter a date."
LEGACY_DOMAIN_PLACEHOLDER = "Choose a domain"
LEGACY_PLACEHOLDERS = (TEXT_PLACEHOLDER, EVIDENCE_PLACEHOLDER, LEGACY_DATE_PLACEHOLDER, LEGACY_DOMAIN_PLACEHOLDER)

#: The header row of a table of questions and answers (edition 2).
ANSWER_HEADER: tuple[str, str] = ("Question", "Your answer")
#: How to fill the form without a mouse, under its instructions.
KEYBOARD_NOTE = (
    "Using the keyboard: press Tab or the arrow keys to move between fields, Space to tick a box, "
    "and Alt+Down to open a list of choices. Type a date as DD/MM/YYYY."
)
PLAN_KEYBOARD_NOTE = (
    "Using the keyboard: press Tab or the arrow keys to move between fields and Alt+Down to open a list "
    "of choices. Type a date as DD/MM/YYYY."
)


def evidence_placeholder(title: str) -> str:
    """What an empty evidence box of the domain ``title`` says (and a screen reader reads)."""
    return f"Enter the evidence for {title}, in your own words"


def _scale(config: Config, allow_na: bool) -> list[Grade]:
    """The grades best first; Not applicable last if allowed."""
    scale = config.settings.grading
    grades = sorted(scale.grades, key=lambda g: -g.rank)
    return [*grades, scale.not_applicable] if allow_na else grades


def _grade_choices(config: Config, allow_na: bool) -> tuple[tuple[str, str], ...]:
    return tuple((g.id, g.label) for g in _scale(config, allow_na))


def grade_key(config: Config, allow_na: bool) -> tuple[tuple[str, str], ...]:
    """Each grade and its definition (2.7), best first; Not applicable last if allowed."""
    return tuple((g.label, g.definition) for g in _scale(config, allow_na))


# --- the words each tool's documents use ------------------------------------------------


@dataclass(frozen=True)
class Wording:
    """What a tool's documents call the things they are about: a case or a worker
    (``subject``), audited, discussed with the practitioner (4.1) or observed (6.1)
    (``activity``).  Used for the prefilled details of the templates and the labels of
    the form's rows (never for field aliases: the parser may match a field by its alias)."""

    details: str  # heading of the prefilled details
    reference: str
    child_id: str | None  # None: no child id row (an audit about a worker holds no child's data)
    worker: str
    auditor: str
    period: str
    instructions: str  # under the details of the audit tool
    summary: str  # what the overall summary sums up
    about: str  # what the evidence is about, for validation messages
    completed: str  # the completion date's row
    plan_intro: str
    plan_instructions: str


_FILL = "The details above are filled in for you and locked. Answer every question below: "
_PLAN_FILL = (
    "The details above are filled in for you and locked. Below, write one row for each action agreed, "
    "then record the discussion."
)


def _discussion_days(settings: Settings) -> str:
    """'5 working days (Inadequate) or 10 (Requires Improvement, Good) of the audit's
    acceptance' (2.10), from the configured deadlines."""
    by_days: dict[int, list[str]] = {}
    for grade in sorted(settings.grading.grades, key=lambda g: g.rank):
        days = settings.deadlines.discussion_working_days.get(grade.id)
        if days is not None:
            by_days.setdefault(days, []).append(grade.label)
    parts = [f"{days} ({', '.join(labels)})" for days, labels in by_days.items()]
    if not parts:
        return "the working days set for its grade"
    parts[0] = parts[0].replace(" ", " working days ", 1)
    return " or ".join(parts) + " of the audit's acceptance"


def wording(settings: Settings, tool: ToolType) -> Wording:
    """The words of ``tool``'s documents (and of the feedback on them)."""
    days = _discussion_days(settings)
    smart = "each action SMART: what will be done, by whom, by when, how you will know, and which domain it improves"
    if tool.activity == "observation":
        return Wording(
            details="Practitioner details" if tool.subject == "worker" else "Case details",
            reference="Worker reference" if tool.subject == "worker" else "Case reference",
            child_id=None if tool.subject == "worker" else "Child ID",
            worker="Practitioner observed",
            auditor="Observed by",
            period="Period covered",
            instructions=_FILL + "choose grades from the lists and tick what you saw during the observation.",
            summary="what you observed and the quality of practice",
            about="this observation",
            completed="Observation completed on",
            plan_intro=(
                "The shared action plan from the observation (6.5). Share the completed observation form with "
                "the practitioner and hold a shared reflective review at the next supervision, or sooner if "
                f"needed. Agree the actions together, write {smart}, and return this plan to the Quality "
                "Assurance team."
            ),
            plan_instructions=_PLAN_FILL,
        )
    if tool.subject == "worker":
        return Wording(
            details="Worker details",
            reference="Worker reference",
            child_id=None,
            worker="Worker",
            auditor="Auditor",
            period="Audit period",
            instructions=_FILL + "choose grades from the lists and tick what you saw in the records.",
            summary="what the records show and the quality of practice",
            about="this worker's records",
            completed="Audit completed on",
            plan_intro=(
                "The improvement plan agreed after this audit. The team manager and the worker discuss the "
                f"audit's findings and this plan within {days} (2.10). Agree the actions, write {smart}, "
                "record the discussion, and return this plan to the Quality Assurance team."
            ),
            plan_instructions=_PLAN_FILL,
        )
    if tool.activity == "discussion":
        return Wording(
            details="Case details",
            reference="Case reference",
            child_id="Child ID",
            worker="Practitioner",
            auditor="Discussion led by",
            period="Period discussed",
            instructions=_FILL + "choose grades from the lists and tick what the practitioner showed in the "
            "discussion.",
            summary="what the discussion showed about the child's journey and the quality of practice",
            about="this case discussion",
            completed="Discussion recorded on",
            plan_intro=(
                "The improvement plan agreed from this case discussion. Agree the actions with the practitioner, "
                f"write {smart}, record the discussion, and return this plan to the Quality Assurance team. "
                "Record the agreed actions and timescales on the child's file too."
            ),
            plan_instructions=_PLAN_FILL,
        )
    return Wording(
        details="Case details",
        reference="Case reference",
        child_id="Child ID",
        worker="Allocated worker",
        auditor="Auditor",
        period="Audit period",
        instructions=_FILL + "choose grades from the lists and tick what you saw on the file.",
        summary="the child's journey and the quality of practice",
        about="this child's file",
        completed="Audit completed on",
        plan_intro=(
            "The improvement plan for the practitioner discussion. The team manager and the allocated worker "
            f"discuss the audit's findings and this plan within {days} (2.10). Agree the actions, write "
            f"{smart}, record the discussion, and return this plan to the Quality Assurance team. Record the "
            "agreed actions and timescales on the child's file under Management Oversight too."
        ),
        plan_instructions=_PLAN_FILL,
    )


# --- a re-audit names the audit it repeats (2.12) --------------------------------------


@dataclass(frozen=True)
class PreviousAudit:
    """The audit a re-audit repeats, as the store has it: its allocation and the field
    values of its current returns (empty when none came back): the audit tool's, and the
    improvement plan's back from the practitioner discussion."""

    allocation: Allocation
    audit: Mapping[str, Any] = field(default_factory=dict)
    plan: Mapping[str, Any] = field(default_factory=dict)


_PLAN_ACTION = re.compile(r"^plan\.(\d+)\.action$")


def _uk(value: Any) -> str | None:
    try:
        return uk_date(date.fromisoformat(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return (" ".join(value.split()) or None) if isinstance(value, str) else None


def _actions(tool: ToolType | None, values: Mapping[str, Any]) -> list[str]:
    """A plan's actions as lines: the action, its owner, due date and domain."""
    titles = {d.id: d.title for d in tool.domains} if tool else {}
    rows = sorted(int(m[1]) for key in values if (m := _PLAN_ACTION.match(key)))
    out = []
    for n in rows:
        action = _text(values.get(f"plan.{n}.action"))
        if action is None:
            continue
        owner, due = _text(values.get(f"plan.{n}.owner")), _uk(values.get(f"plan.{n}.due"))
        domain = titles.get(str(values.get(f"plan.{n}.domain")))
        who = ", ".join(x for x in (owner, f"by {due}" if due else None, domain) if x)
        out.append(f"{action} ({who})" if who else action)
    return out


def reaudit_note(config: Config, audit_id: str, previous: PreviousAudit | None) -> dict[str, Any]:
    """What a re-audit's documents say of the audit it repeats: a summary (its id, month,
    auditor, completion date and overall grade), its domain grades and its plan's actions
    (as agreed at the practitioner discussion when that plan came back).  ``previous``:
    None when the store was not asked or does not know the audit."""
    ask = "Read it before you start, and say in your evidence what has changed since."
    note: dict[str, Any] = {
        "id": audit_id,
        "summary": f"This is a re-audit (framework 2.12) of audit {audit_id}. {ask}",
        "grades_heading": "Its grades",
        "grades": [],
        "actions_heading": "Actions in its improvement plan",
        "actions": [],
    }
    if previous is None:
        return note
    alloc, values = previous.allocation, previous.audit
    scale = config.settings.grading
    labels = {g.id: g.label for g in [*scale.grades, scale.not_applicable]}
    tool = config.tools.get(alloc.tool)
    facts = [f"of {month_label(alloc.month)}", f"by {alloc.auditor}"]
    if completed := _uk(values.get("completion.date")):
        facts.append(f"completed on {completed}")
    if (overall := labels.get(str(values.get("overall.grade")))) is not None:
        facts.append(f"graded {overall} overall")
    if not values:
        facts.append("not returned")
    note["summary"] = f"This is a re-audit (framework 2.12) of audit {audit_id} {', '.join(facts)}. {ask}"
    if tool is not None:
        grades = ((d.title, str(values.get(f"domain.{d.id}.grade"))) for d in tool.domains)
        note["grades"] = [f"{title}: {labels[grade]}" for title, grade in grades if grade in labels]
    agreed = _actions(tool, previous.plan)
    if agreed:
        note["actions_heading"] = "Actions agreed at the practitioner discussion"
    note["actions"] = agreed or _actions(tool, values)
    return note


def _date(field_id: str, label: str, edition: int = EDITION) -> Field:
    return Field(field_id, "date", label, DATE_PLACEHOLDER if edition >= 2 else LEGACY_DATE_PLACEHOLDER)


def _rich(field_id: str, label: str, placeholder: str, edition: int = EDITION) -> Field:
    """A rich text field: ``placeholder`` in edition 2, Word's stock text before."""
    return Field(field_id, "richtext", label, placeholder if edition >= 2 else TEXT_PLACEHOLDER)


def _answers(rows: list[list[Cell]], edition: int) -> Table:
    """A table of questions (first column) and the fields that answer them; from edition 2
    with a header row, which screen readers announce and Word's accessibility check asks for."""
    if edition >= 2:
        return Table([[*ANSWER_HEADER], *rows], widths=(30, 70), header=True)
    return Table(rows, widths=(30, 70))


def plan_rows(config: Config, tool: ToolType) -> int:
    """The improvement plan's rows: the configured number, or one per domain if more."""
    return max(config.settings.improvement_plan.rows, len(tool.domains))


#: The plan table's columns: header, relative width (wide enough for a date, "No." and
#: the longest word of a domain's title in Arial 10.5 pt: checked by rendering the plan),
#: and edition 1's widths.
_PLAN_COLUMNS = (
    ("No.", 7, 5),
    ("Action", 23, 30),
    ("Owner", 14, 15),
    ("Due by", 18, 14),
    ("Outcome (how we will know)", 20, 22),
    ("Domain", 18, 14),
)


def _plan_blocks(config: Config, tool: ToolType, row_count: int | None = None, edition: int = EDITION) -> list[Block]:
    plan = config.settings.improvement_plan
    domain_choices = tuple((d.id, f"{n}. {d.title}") for n, d in enumerate(tool.domains, 1))
    rows: list[list[Cell]] = [[header for header, _w, _old in _PLAN_COLUMNS]]
    new = edition >= 2
    # Every domain graded below Good needs an action linked to it (2.8), so the plan has a
    # row for each domain at least: with fewer, an audit with more domains below Good than
    # rows could never be accepted.
    for n in range(1, (row_count or plan_rows(config, tool)) + 1):
        p = f"plan.{n}"
        rows.append(
            [
                str(n),
                Field(f"{p}.action", "text", f"Action {n}", "Enter what will be done" if new else "Action"),
                Field(f"{p}.owner", "text", f"Owner {n}", "Enter who will do it" if new else "Owner"),
                Field(f"{p}.due", "date", f"Due by {n}", DATE_PLACEHOLDER if new else "Date"),
                Field(f"{p}.outcome", "text", f"Outcome {n}", "Enter how you will know" if new else "Outcome"),
                Field(
                    f"{p}.domain",
                    "dropdown",
                    f"Domain {n}",
                    DOMAIN_PLACEHOLDER if new else LEGACY_DOMAIN_PLACEHOLDER,
                    domain_choices,
                ),
            ]
        )
    widths = tuple(width if new else old for _h, width, old in _PLAN_COLUMNS)
    return [
        Heading("Improvement plan"),
        Paragraph(plan.guidance, "Guidance"),
        Table(rows, widths=widths, header=True),
    ]


def audit_layout(config: Config, tool: ToolType, plan_row_count: int | None = None, edition: int = EDITION) -> Layout:
    """The audit tool: the grades' key, domains with guidance, criteria, grade and
    evidence; then the rest."""
    words = wording(config.settings, tool)
    blocks: list[Block] = [Paragraph(KEYBOARD_NOTE, "Guidance")] if edition >= 2 else []
    blocks += [
        Heading("Grades"),
        Paragraph(
            "Give a judgement at the end of each domain and an overall judgement (2.7), using these grades:",
            "Guidance",
        ),
        Key(("Grade", "What it means"), grade_key(config, any(d.allow_na for d in tool.domains))),
    ]
    for n, domain in enumerate(tool.domains, 1):
        d = f"domain.{domain.id}"
        blocks += [Heading(f"{n}. {domain.title}"), Paragraph(domain.guidance, "Guidance")]
        for title, criteria in (
            ("What good looks like", domain.what_good_looks_like),
            ("Moving to outstanding", domain.moving_to_outstanding),
        ):
            if criteria:
                rows: list[list[Cell]] = [[title, "Seen"]]
                rows += [
                    [c.text, Field(f"{d}.criteria.{c.id}", "checkbox", f"{domain.title}: {c.text}")] for c in criteria
                ]
                blocks.append(Table(rows, widths=(88, 12), header=True))
        grade_label = "Grade (see the key of grades)" + (
            "; or Not applicable, with the reason as evidence" if domain.allow_na else ""
        )
        evidence = evidence_placeholder(domain.title) if edition >= 2 else EVIDENCE_PLACEHOLDER
        blocks.append(
            _answers(
                [
                    [
                        grade_label,
                        Field(
                            f"{d}.grade",
                            "dropdown",
                            f"{domain.title}: grade",
                            GRADE_PLACEHOLDER,
                            _grade_choices(config, domain.allow_na),
                        ),
                    ],
                    [
                        "Evidence, good practice and suggestions",
                        Field(f"{d}.evidence", "richtext", f"{domain.title}: evidence", evidence),
                    ],
                ],
                edition,
            )
        )
    if tool.overall_judgement:
        key = "\n".join(f"{label}: {meaning}" for label, meaning in grade_key(config, False))
        blocks += [
            Heading("Overall judgement"),
            # The key again beside the overall grade, as text: a table here would come
            # between tables of fields (see Key).
            Paragraph(key, "Guidance"),
            _answers(
                [
                    [
                        "Overall grade",
                        Field(
                            "overall.grade",
                            "dropdown",
                            "Overall grade",
                            GRADE_PLACEHOLDER,
                            _grade_choices(config, False),
                        ),
                    ],
                    [
                        f"Summary of {words.summary}",
                        _rich("overall.summary", "Overall summary", "Enter the overall summary", edition),
                    ],
                    [
                        "Good practice",
                        _rich("overall.good_practice", "Good practice", "Enter the good practice seen", edition),
                    ],
                    [
                        "Areas for development",
                        _rich(
                            "overall.development", "Areas for development", "Enter the areas for development", edition
                        ),
                    ],
                ],
                edition,
            ),
        ]
    if tool.immediate_concern:
        blocks += [
            Heading("Immediate safeguarding concern"),
            Paragraph(
                "An audit must never delay action to keep a child safe. If you have an immediate "
                "concern, tell the team manager at once, tick the box and say what was done.",
                "Guidance",
            ),
            _answers(
                [
                    [
                        "Immediate safeguarding concern identified",
                        Field("concern.immediate", "checkbox", "Immediate safeguarding concern"),
                    ],
                    [
                        "Concern and action taken",
                        _rich("concern.details", "Concern details", "Enter the concern and the action taken", edition),
                    ],
                    ["Team manager notified on", _date("concern.notified", "Team manager notified on", edition)],
                ],
                edition,
            ),
        ]
    if tool.discussion_record:
        blocks += [
            Heading("Discussion with the worker and team manager"),
            _answers(
                [
                    [
                        "Discussed with the worker on",
                        _date("discussion.worker_date", "Discussed with worker on", edition),
                    ],
                    [
                        "Discussed with the team manager on",
                        _date("discussion.manager_date", "Discussed with team manager on", edition),
                    ],
                    [
                        "What was discussed and agreed",
                        _rich("discussion.notes", "Discussion notes", "Enter what was discussed and agreed", edition),
                    ],
                ],
                edition,
            ),
        ]
    if tool.improvement_plan:
        blocks += _plan_blocks(config, tool, plan_row_count, edition)
    blocks += [
        Heading("Completion"),
        _answers([[words.completed, _date("completion.date", "Audit completed on", edition)]], edition),
    ]
    return Layout(blocks)


def plan_layout(config: Config, tool: ToolType, plan_row_count: int | None = None, edition: int = EDITION) -> Layout:
    """The improvement plan taken to the practitioner discussion."""
    blocks: list[Block] = [Paragraph(PLAN_KEYBOARD_NOTE, "Guidance")] if edition >= 2 else []
    blocks += _plan_blocks(config, tool, plan_row_count, edition)
    present = "Enter who was present" if edition >= 2 else TEXT_PLACEHOLDER
    blocks += [
        Heading("Practitioner discussion"),
        _answers(
            [
                ["Date of discussion", _date("discussion.date", "Date of discussion", edition)],
                ["Present", Field("discussion.present", "text", "Present", present)],
                [
                    "Agreed actions and comments",
                    _rich("discussion.agreed", "Agreed actions", "Enter the agreed actions and comments", edition),
                ],
            ],
            edition,
        ),
    ]
    return Layout(blocks)


def moderation_note(
    config: Config, tool: ToolType, alloc: Allocation, moderator: str, open_values: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What a moderation form says above its fields: whose audit it is and what to do; in
    open mode (``open_values``: the auditor's current return) the auditor's grades and
    evidence, as text.  A blind form is given nothing of the auditor's return."""
    month = month_label(alloc.month)
    note: dict[str, Any] = {
        "intro": (
            f"{moderator}: you are moderating audit {alloc.audit_id} of {month}, completed by {alloc.auditor}. "
            "Read the case file and grade it yourself, as an auditor would, then talk your grades through "
            "with the auditor (framework 7.2)."
        ),
        "instructions": (
            "Grade every domain and the audit overall. Where your grade differs from the auditor's, say why "
            "in the rationale: it is what the auditor will learn from. Save the form as .docx and send it back."
        ),
        "shown": [],
        "shown_note": "",
    }
    if open_values is None:
        note["instructions"] = (
            "This is a blind moderation: you are not shown the auditor's grades, so that yours are your own. "
            + note["instructions"]
        )
        return note
    scale = config.settings.grading
    labels = {g.id: g.label for g in [*scale.grades, scale.not_applicable]}

    def grade(field: str) -> str:
        return labels.get(str(open_values.get(field)), "not graded")

    shown = [
        {
            "heading": f"{n}. {d.title}: {grade(f'domain.{d.id}.grade')}",
            "text": _text(open_values.get(f"domain.{d.id}.evidence")) or "(no evidence written)",
        }
        for n, d in enumerate(tool.domains, 1)
    ]
    if tool.overall_judgement:
        summary = _text(open_values.get("overall.summary")) or "(no summary written)"
        shown.append({"heading": f"Overall: {grade('overall.grade')}", "text": summary})
    note["shown"] = shown
    note["shown_note"] = (
        "This is an open moderation: the auditor's grades and evidence are shown here for reference. "
        "They are not part of your form and are not changed by it."
    )
    return note


#: What a moderator writes where their grade differs from the auditor's.
RATIONALE_PLACEHOLDER = "Enter why you gave this grade (needed where it differs from the auditor's)"


def moderation_layout(
    config: Config, tool: ToolType, plan_row_count: int | None = None, edition: int = EDITION
) -> Layout:
    """The moderation form (framework 7.2): the tool's domains with their guidance and
    criteria as text, a grade and a rationale per domain and overall, and the moderation
    conversation with the auditor.  The auditor's grades are never part of the layout (in
    open mode the template shows them above it, as text): blind and open forms have the same
    fields, and a blind form holds nothing of the auditor's."""
    del plan_row_count, edition  # one edition so far
    blocks: list[Block] = [
        Paragraph(KEYBOARD_NOTE, "Guidance"),
        Heading("Grades"),
        Paragraph("Grade each domain and the audit overall from the case file, as an auditor would (2.7):", "Guidance"),
        Key(("Grade", "What it means"), grade_key(config, any(d.allow_na for d in tool.domains))),
    ]
    for n, domain in enumerate(tool.domains, 1):
        d = f"domain.{domain.id}"
        blocks += [Heading(f"{n}. {domain.title}"), Paragraph(domain.guidance, "Guidance")]
        criteria = [c.text.rstrip(". ") for c in (*domain.what_good_looks_like, *domain.moving_to_outstanding)]
        if criteria:
            blocks.append(Paragraph("What good looks like: " + "; ".join(criteria) + ".", "Guidance"))
        blocks.append(
            _answers(
                [
                    [
                        "Your grade" + ("; or Not applicable" if domain.allow_na else ""),
                        Field(f"{d}.grade", "dropdown", f"{domain.title}: moderator's grade", GRADE_PLACEHOLDER,
                              _grade_choices(config, domain.allow_na)),
                    ],
                    [
                        "Your rationale",
                        Field(f"{d}.rationale", "richtext", f"{domain.title}: rationale", RATIONALE_PLACEHOLDER),
                    ],
                ],
                EDITION,
            )
        )  # fmt: skip
    if tool.overall_judgement:
        blocks += [
            Heading("Overall judgement"),
            _answers(
                [
                    [
                        "Your overall grade",
                        Field("overall.grade", "dropdown", "Moderator's overall grade", GRADE_PLACEHOLDER,
                              _grade_choices(config, False)),
                    ],
                    [
                        "Your rationale",
                        Field("overall.rationale", "richtext", "Overall rationale", RATIONALE_PLACEHOLDER),
                    ],
                ],
                EDITION,
            ),
        ]  # fmt: skip
    blocks += [
        Heading("Moderation conversation with the auditor"),
        Paragraph(
            "Talk your grades through with the auditor, then record the conversation here: where you "
            "agreed, where you did not, and what the auditor will take from it.",
            "Guidance",
        ),
        _answers(
            [
                ["Conversation held on", _date("conversation.date", "Conversation held on")],
                [
                    "What was discussed and agreed",
                    _rich("conversation.notes", "Conversation notes", "Enter what was discussed and agreed"),
                ],
            ],
            EDITION,
        ),
        Heading("Completion"),
        _answers([["Moderation completed on", _date("completion.date", "Moderation completed on")]], EDITION),
    ]
    return Layout(blocks)


def layout_for(
    config: Config, tool: ToolType, kind: DocumentKind, plan_row_count: int | None = None, edition: int = EDITION
) -> Layout:
    """The layout of a document of ``kind``, with ``plan_row_count`` plan rows if not today's
    rule, in ``edition`` (today's unless a return of an older form is read)."""
    make = {"audit": audit_layout, "plan": plan_layout, "moderation": moderation_layout}[kind]
    return make(config, tool, plan_row_count, edition)


def layout_source(config: Config) -> Callable[[Any], Layout | None]:
    """The layout a document was generated from, rebuilt from the config given its
    identity.  The parser uses it when a form's own field list was lost, to read fields
    by their table cell in files converted from .doc or .odt, and for the choices of forms
    issued before choices were signed; the signed manifest hash decides whether the
    rebuilt layout is the one the form had.  Forms issued before the plan had a row per
    domain had the configured number of rows, and forms of edition 1 their own
    placeholders and tables: those layouts are tried too."""

    built: dict[tuple[str, str], list[Layout]] = {}  # once per tool type and kind, not per file

    def lookup(identity: Any) -> Layout | None:
        if identity.tool not in config.tools or identity.document not in ("audit", "plan", "moderation"):
            return None
        key = (identity.tool, identity.document)
        if key not in built:
            tool = config.tool(identity.tool)
            built[key] = [
                layout_for(config, tool, identity.document, rows, edition)
                for edition in range(EDITION, 0, -1)
                for rows in (None, config.settings.improvement_plan.rows)
            ]
        candidates = built[key]
        signed = (c for c in candidates if identity.manifest in (c.digest, c.unsigned_choices_digest))
        return next(signed, candidates[0])

    return lookup
