"""The layout of each document we issue, in audit terms (no XML here).

A layout is a list of blocks (headings, guidance, tables whose cells hold text or a
field).  The same layout drives the Word builder and, through the field manifest
stored in every document, the parser's fallbacks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Literal

from auditdocs.config import Config, ToolType
from auditdocs.forms.identity import manifest_hash

FieldKind = Literal["text", "richtext", "dropdown", "checkbox", "date"]

#: The two documents issued per allocation.
DocumentKind = Literal["audit", "plan"]


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


Block = Heading | Paragraph | Table


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
TEXT_PLACEHOLDER = "Click or tap here to enter text."
EVIDENCE_PLACEHOLDER = "Write your evidence here, in your own words."
DATE_PLACEHOLDER = "Click or tap to enter a date."
DOMAIN_PLACEHOLDER = "Choose a domain"


def _grade_choices(config: Config, allow_na: bool) -> tuple[tuple[str, str], ...]:
    scale = config.settings.grading
    grades = sorted(scale.grades, key=lambda g: -g.rank)
    choices = [(g.id, g.label) for g in grades]
    if allow_na:
        choices.append((scale.not_applicable.id, scale.not_applicable.label))
    return tuple(choices)


def _date(field_id: str, label: str) -> Field:
    return Field(field_id, "date", label, DATE_PLACEHOLDER)


def _rich(field_id: str, label: str, placeholder: str = TEXT_PLACEHOLDER) -> Field:
    return Field(field_id, "richtext", label, placeholder)


def plan_rows(config: Config, tool: ToolType) -> int:
    """The improvement plan's rows: the configured number, or one per domain if more."""
    return max(config.settings.improvement_plan.rows, len(tool.domains))


def _plan_blocks(config: Config, tool: ToolType, row_count: int | None = None) -> list[Block]:
    plan = config.settings.improvement_plan
    domain_choices = tuple((d.id, f"{n}. {d.title}") for n, d in enumerate(tool.domains, 1))
    rows: list[list[Cell]] = [["No.", "Action", "Owner", "Due by", "Outcome (how we will know)", "Domain"]]
    # Every domain graded below Good needs an action linked to it (2.8), so the plan has a
    # row for each domain at least: with fewer, an audit with more domains below Good than
    # rows could never be accepted.
    for n in range(1, (row_count or plan_rows(config, tool)) + 1):
        p = f"plan.{n}"
        rows.append(
            [
                str(n),
                Field(f"{p}.action", "text", f"Action {n}", "Action"),
                Field(f"{p}.owner", "text", f"Owner {n}", "Owner"),
                Field(f"{p}.due", "date", f"Due by {n}", "Date"),
                Field(f"{p}.outcome", "text", f"Outcome {n}", "Outcome"),
                Field(f"{p}.domain", "dropdown", f"Domain {n}", DOMAIN_PLACEHOLDER, domain_choices),
            ]
        )
    return [
        Heading("Improvement plan"),
        Paragraph(plan.guidance, "Guidance"),
        Table(rows, widths=(5, 30, 15, 14, 22, 14), header=True),
    ]


def audit_layout(config: Config, tool: ToolType, plan_row_count: int | None = None) -> Layout:
    """The audit tool: domains with guidance, criteria, grade and evidence; then the rest."""
    blocks: list[Block] = []
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
        grade_label = "Grade" + (" (or Not applicable, with the reason as evidence)" if domain.allow_na else "")
        blocks.append(
            Table(
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
                        _rich(f"{d}.evidence", f"{domain.title}: evidence", EVIDENCE_PLACEHOLDER),
                    ],
                ],
                widths=(30, 70),
            )
        )
    if tool.overall_judgement:
        blocks += [
            Heading("Overall judgement"),
            Table(
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
                        "Summary of the child's journey and the quality of practice",
                        _rich("overall.summary", "Overall summary"),
                    ],
                    ["Good practice", _rich("overall.good_practice", "Good practice")],
                    ["Areas for development", _rich("overall.development", "Areas for development")],
                ],
                widths=(30, 70),
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
            Table(
                [
                    [
                        "Immediate safeguarding concern identified",
                        Field("concern.immediate", "checkbox", "Immediate safeguarding concern"),
                    ],
                    ["Concern and action taken", _rich("concern.details", "Concern details")],
                    ["Team manager notified on", _date("concern.notified", "Team manager notified on")],
                ],
                widths=(30, 70),
            ),
        ]
    if tool.discussion_record:
        blocks += [
            Heading("Discussion with the worker and team manager"),
            Table(
                [
                    ["Discussed with the worker on", _date("discussion.worker_date", "Discussed with worker on")],
                    [
                        "Discussed with the team manager on",
                        _date("discussion.manager_date", "Discussed with team manager on"),
                    ],
                    ["What was discussed and agreed", _rich("discussion.notes", "Discussion notes")],
                ],
                widths=(30, 70),
            ),
        ]
    if tool.improvement_plan:
        blocks += _plan_blocks(config, tool, plan_row_count)
    blocks += [
        Heading("Completion"),
        Table([["Audit completed on", _date("completion.date", "Audit completed on")]], widths=(30, 70)),
    ]
    return Layout(blocks)


def plan_layout(config: Config, tool: ToolType, plan_row_count: int | None = None) -> Layout:
    """The improvement plan taken to the practitioner discussion."""
    blocks = _plan_blocks(config, tool, plan_row_count)
    blocks += [
        Heading("Practitioner discussion"),
        Table(
            [
                ["Date of discussion", _date("discussion.date", "Date of discussion")],
                ["Present", Field("discussion.present", "text", "Present", TEXT_PLACEHOLDER)],
                ["Agreed actions and comments", _rich("discussion.agreed", "Agreed actions")],
            ],
            widths=(30, 70),
        ),
    ]
    return Layout(blocks)


def layout_for(config: Config, tool: ToolType, kind: DocumentKind, plan_row_count: int | None = None) -> Layout:
    """The layout of a document of ``kind``, with ``plan_row_count`` plan rows if not today's rule."""
    make = audit_layout if kind == "audit" else plan_layout
    return make(config, tool, plan_row_count)


def layout_source(config: Config) -> Callable[[Any], Layout | None]:
    """The layout a document was generated from, rebuilt from the config given its
    identity.  The parser uses it when a form's own field list was lost, to read fields
    by their table cell in files converted from .doc or .odt, and for the choices of forms
    issued before choices were signed; the signed manifest hash decides whether the
    rebuilt layout is the one the form had.  Forms issued before the plan had a row per
    domain had the configured number of rows: that layout is tried too."""

    built: dict[tuple[str, str], list[Layout]] = {}  # once per tool type and kind, not per file

    def lookup(identity: Any) -> Layout | None:
        if identity.tool not in config.tools or identity.document not in ("audit", "plan"):
            return None
        key = (identity.tool, identity.document)
        if key not in built:
            tool = config.tool(identity.tool)
            built[key] = [
                layout_for(config, tool, identity.document),
                layout_for(config, tool, identity.document, config.settings.improvement_plan.rows),
            ]
        candidates = built[key]
        signed = (c for c in candidates if identity.manifest in (c.digest, c.unsigned_choices_digest))
        return next(signed, candidates[0])

    return lookup
