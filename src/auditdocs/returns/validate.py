"""Check a parsed audit or improvement plan against the audit framework's rules.

Pure functions over a parsed form's fields: no I/O.  Every finding carries a rule id
from ``settings.validation.rules`` (which sets its severity, or turns it off, and the
tool types it applies to) and a message for the auditor that names the domain by its
title and says what to do.  Messages never quote evidence: logs must not hold it.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Collection, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, lru_cache
from types import MappingProxyType

from auditdocs.config.models import Domain, Settings, ToolType, ValidationSettings
from auditdocs.dates import is_working_day
from auditdocs.forms.layout import EVIDENCE_PLACEHOLDER, TEXT_PLACEHOLDER, Wording, evidence_placeholder, wording
from auditdocs.returns.findings import POSSIBLE_CONCERN, Finding, Severity
from auditdocs.text import norm

Value = str | bool | None
Shingle = tuple[str, ...]

_NO_OTHERS: Mapping[str, Sequence[str]] = MappingProxyType({})
_PLAN_FIELD = re.compile(r"^plan\.(\d+)\.(action|owner|due|outcome|domain)$")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
#: Shingles are runs of this many words: long enough that everyday pairs ("of the")
#: do not make two different texts look alike.
_SHINGLE = 3
#: Guidance sentences shorter than this are matched only through the share of the
#: evidence they cover: an auditor may rightly write "the plan is SMART".
_MIN_SENTENCE_WORDS = 6
#: Texts this short are not compared across audits ("No concerns." is no copy), nor
#: measured by their share of guidance words (four words of "Reviews were on time and
#: effective." are a run in the guidance, but it is the auditor's own sentence).
_MIN_COMPARE_WORDS = 10
#: This many plan rows (or more) with the same action are one action copied into every
#: row, not a plan (2.8): two or three may rightly share an action linked to different
#: domains, five do not.
IDENTICAL_ACTIONS = 5


# --- text measures ----------------------------------------------------------------


def _normal(text: str) -> str:
    """Compared as :func:`norm` does, with a typographic apostrophe read as a plain one."""
    return norm(text.replace("\u2019", "'"))


def words(text: str) -> list[str]:
    """The words of a text, lower-cased, apostrophes kept ("child's")."""
    return _WORD.findall(_normal(text))


def shingles(tokens: Sequence[str], k: int = _SHINGLE) -> set[Shingle]:
    """The set of runs of ``k`` consecutive words (the whole text if shorter)."""
    if len(tokens) < k:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}


def similarity(a: Set[Shingle], b: Set[Shingle]) -> float:
    """Jaccard resemblance of two shingle sets: 1.0 for the same text."""
    return len(a & b) / len(a | b) if a and b else 0.0


def mentions(text: str, phrases: Iterable[str]) -> bool:
    """Whether ``text`` holds any of ``phrases`` as whole words ("well" is not in "wellbeing")."""
    parts = []
    for phrase in phrases:
        p = _normal(phrase)
        if p:
            head = r"(?<![^\W_])" if p[0].isalnum() else ""
            tail = r"(?![^\W_])" if p[-1].isalnum() else ""
            parts.append(head + re.escape(p) + tail)
    return bool(parts) and re.search("|".join(parts), _normal(text)) is not None


@dataclass(frozen=True)
class GuidanceIndex:
    """The form's own words (guidance, criteria, placeholders), for spotting them pasted back."""

    sentences: tuple[frozenset[Shingle], ...]
    shingles: frozenset[Shingle]

    @classmethod
    def of(cls, texts: Iterable[str], criteria: Iterable[str] = ()) -> GuidanceIndex:
        """``texts`` count whole sentences and runs of words; ``criteria`` only runs, since
        an auditor may rightly write one ("The purpose of the visit is clear.")."""
        sentences: list[frozenset[Shingle]] = []
        every: set[Shingle] = set()
        for text in texts:
            for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
                tokens = words(sentence)
                every |= shingles(tokens)
                if len(tokens) >= _MIN_SENTENCE_WORDS:
                    sentences.append(frozenset(shingles(tokens)))
        for text in criteria:
            every |= shingles(words(text))
        return cls(tuple(sentences), frozenset(every))

    def pasted(self, tokens: Sequence[str], containment: float, share: float) -> bool:
        """True if the text holds ``containment`` of any guidance sentence, or if
        ``share`` of its words sit in runs that also occur in the guidance."""
        own = shingles(tokens)
        if any(len(s & own) >= containment * len(s) for s in self.sentences):
            return True
        if len(tokens) < _MIN_COMPARE_WORDS:
            return False
        covered = [False] * len(tokens)
        for i in range(len(tokens) - _SHINGLE + 1):
            if tuple(tokens[i : i + _SHINGLE]) in self.shingles:
                covered[i : i + _SHINGLE] = [True] * _SHINGLE
        return sum(covered) >= share * len(tokens)


class CopyIndex:
    """Evidence texts found again by resemblance, without comparing a text with each one.

    Two shingle sets whose Jaccard resemblance is at least ``t`` share a shingle among
    the first ``|A| - ceil(t |A|) + 1`` of each, taken in any one fixed order (prefix
    filtering: Chaudhuri, Ganti and Kaushik, ICDE 2006; Bayardo, Ma and Srikant, WWW
    2007).  So only those first shingles are indexed and looked up, and the few texts
    found are measured exactly: the findings are those of comparing with every text.
    The order puts rare shingles first, so that the runs of words every auditor writes
    ("the child was seen alone") are seldom looked up: how often each shingle is held is
    counted again whenever the index has doubled, and the index rebuilt in the new order,
    so the cost of a look-up does not grow with the month.  Shingles are held as their
    hashes (two different runs of words sharing a 64-bit hash is not a practical risk).
    """

    _FIRST_ORDERING = 64  # texts held when the order is first counted

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._texts: list[tuple[str, array[int]] | None] = []  # None: replaced since
        self._postings: dict[int, list[int]] = {}
        self._of_audit: dict[str, list[int]] = {}
        self._held = 0  # texts held (not replaced)
        self._rank: dict[int, int] = {}  # shingle -> how many texts held it at the last count, if more than one
        self._counted_at = 0  # texts held at the last count

    @classmethod
    def of(cls, evidence: Mapping[str, Sequence[str]], threshold: float) -> CopyIndex:
        index = cls(threshold)
        for audit_id, texts in evidence.items():
            index.replace(audit_id, texts)
        return index

    def __len__(self) -> int:
        return self._held

    def _prefix(self, hashes: Collection[int]) -> list[int]:
        # The least overlap a resemblance of t allows, rounded down a hair: a prefix one
        # longer than needed costs a lookup, one shorter could miss a copy.
        overlap = max(1, math.ceil(self.threshold * len(hashes) - 1e-9))
        rank = self._rank.get
        return sorted(hashes, key=lambda h: (rank(h, 0), h))[: len(hashes) - overlap + 1]

    def _post(self, number: int, hashes: array[int]) -> None:
        for h in self._prefix(hashes):
            self._postings.setdefault(h, []).append(number)

    def replace(self, audit_id: str, texts: Iterable[str]) -> None:
        """Hold ``texts`` as the audit's evidence, instead of any held before (a new
        version); texts too short to compare are not held."""
        for number in self._of_audit.pop(audit_id, ()):
            self._texts[number] = None  # its postings are skipped until the next rebuild
            self._held -= 1
        numbers = []
        for text in texts:
            tokens = words(text)
            if len(tokens) < _MIN_COMPARE_WORDS:
                continue
            hashes = array("q", sorted(set(map(hash, shingles(tokens)))))
            numbers.append(len(self._texts))
            self._texts.append((audit_id, hashes))
            self._post(numbers[-1], hashes)
        if numbers:
            self._of_audit[audit_id] = numbers
            self._held += len(numbers)
        if self._held >= max(self._FIRST_ORDERING, 2 * self._counted_at):
            self._rebuild()

    def _rebuild(self) -> None:
        """Count how many texts hold each shingle, and index every text again in that order."""
        import numpy as np  # only here: counting a month's shingles in C, in little memory

        held = [t for t in self._texts if t is not None]
        every = np.concatenate([np.frombuffer(hashes, dtype=np.int64) for _, hashes in held])
        shingle, count = np.unique(every, return_counts=True)
        common = count > 1
        self._rank = dict(zip(shingle[common].tolist(), count[common].tolist(), strict=True))
        self._texts, self._postings, self._of_audit = [], {}, {}
        for audit_id, hashes in held:
            self._of_audit.setdefault(audit_id, []).append(len(self._texts))
            self._texts.append((audit_id, hashes))
            self._post(len(self._texts) - 1, hashes)
        self._counted_at = self._held

    def source(self, own: Set[Shingle], exclude: str | None = None) -> str | None:
        """The audit (not ``exclude``) holding the text most like ``own``, if any is at
        least ``threshold`` alike; the lowest id among equals."""
        hashes = frozenset(map(hash, own))
        if not hashes:
            return None
        candidates = {n for h in self._prefix(hashes) for n in self._postings.get(h, ())}
        best: tuple[float, str] | None = None
        for number in candidates:
            held = self._texts[number]
            if held is None or held[0] == exclude:
                continue
            audit_id, theirs = held
            if len(hashes) < self.threshold * len(theirs) - 1e-9 or len(theirs) < self.threshold * len(hashes) - 1e-9:
                continue  # sizes too far apart to be that alike
            common = len(hashes.intersection(theirs))
            alike = common / (len(hashes) + len(theirs) - common)
            if alike >= self.threshold and (best is None or (-alike, audit_id) < (-best[0], best[1])):
                best = (alike, audit_id)
        return best[1] if best else None


def tool_guidance(tool: ToolType, settings: Settings) -> GuidanceIndex:
    """Every text the form itself shows the auditor: guidance, placeholders, criteria."""
    texts = [tool.intro, settings.improvement_plan.guidance, EVIDENCE_PLACEHOLDER, TEXT_PLACEHOLDER]
    texts += [domain.guidance for domain in tool.domains]
    texts += [evidence_placeholder(domain.title) for domain in tool.domains]
    return _guidance(tuple(texts), tuple(c.text for domain in tool.domains for c in domain.criteria))


@lru_cache(maxsize=32)  # the same few tools in every return of a batch: indexed once each
def _guidance(texts: tuple[str, ...], criteria: tuple[str, ...]) -> GuidanceIndex:
    return GuidanceIndex.of(texts, criteria=criteria)


# --- the checker ------------------------------------------------------------------


def _day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


def _iso(value: Value) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


@dataclass
class _Check:
    fields: Mapping[str, Value]
    tool: ToolType
    settings: Settings
    findings: list[Finding] = field(default_factory=list)

    @property
    def v(self) -> ValidationSettings:
        return self.settings.validation

    @cached_property
    def words(self) -> Wording:
        """The tool's own words (what its evidence is about), for the messages."""
        return wording(self.settings, self.tool)

    def active(self, rule: str) -> bool:
        setting = self.v.rules[rule]
        return setting.severity != "off" and (setting.tools is None or self.tool.id in setting.tools)

    def flag(self, rule: str, field_id: str | None, message: str) -> None:
        if self.active(rule):
            severity: Severity = "error" if self.v.rules[rule].severity == "error" else "warning"
            self.findings.append(Finding(field_id, severity, rule, message))

    def text(self, field_id: str) -> str | None:
        value = self.fields.get(field_id)
        return (value.strip() or None) if isinstance(value, str) else None

    def label(self, grade_id: str) -> str:
        return self.settings.grading.label_of(grade_id)


def validate(
    fields: Mapping[str, Value],
    tool: ToolType,
    settings: Settings,
    *,
    document: str = "audit",
    audit_date: date,
    other_evidence: Mapping[str, Sequence[str]] | CopyIndex = _NO_OTHERS,
    audit_id: str | None = None,
    guidance_texts: Sequence[str] = (),
) -> list[Finding]:
    """Findings for one parsed document (``ParsedForm.fields``) of ``tool``.

    ``audit_date`` is the date the audit is judged against (its completion date, or
    the day it came back); ``other_evidence`` maps the month's other audit ids to their
    evidence texts, or indexes the month's evidence (a :class:`CopyIndex`, in which the
    audit's own, ``audit_id``, is passed over), to spot copying; ``guidance_texts`` defaults to the form's own.
    An immediate safeguarding concern always comes first.
    """
    if document not in ("audit", "plan"):
        raise ValueError(f"document must be 'audit' or 'plan', not {document!r}")
    check = _Check(fields, tool, settings)
    if document == "audit":
        _concern(check)
        guidance = GuidanceIndex.of(guidance_texts) if guidance_texts else tool_guidance(tool, settings)
        graded = _domains(check, guidance, other_evidence, audit_id)
        _overall(check, graded)
        _discussion(check)
        if tool.improvement_plan:
            _plan(check, audit_date, graded)
    else:
        _plan(check, audit_date, None)
        if fields.get("discussion.date") is None:
            check.flag(
                "plan.discussion_date",
                "discussion.date",
                "The date of the practitioner discussion is missing: enter the date the plan was discussed.",
            )
    return check.findings


def _concern(check: _Check) -> None:
    if not check.tool.immediate_concern:
        return
    if check.fields.get("concern.immediate") is not True:
        # Err toward safety: a concern written out beside an unticked box may be one.
        if check.text("concern.details") is not None:
            check.flag(
                POSSIBLE_CONCERN,
                "concern.details",
                "A concern is described but the immediate safeguarding concern box is not ticked: "
                "tick it if this is an immediate concern; the Quality Assurance team will check with you.",
            )
        return
    check.flag(
        "concern.immediate",
        "concern.immediate",
        "An immediate safeguarding concern is recorded: the team manager must be notified at once, "
        "if they have not been already.",
    )
    if check.text("concern.details") is None:
        check.flag(
            "concern.details",
            "concern.details",
            "An immediate safeguarding concern is ticked but not described: say what the concern is "
            "and what action was taken.",
        )
    if check.fields.get("concern.notified") is None:
        check.flag(
            "concern.notified",
            "concern.notified",
            "An immediate safeguarding concern is ticked: enter the date you told the team manager.",
        )


def _domains(
    check: _Check, guidance: GuidanceIndex, other_evidence: Mapping[str, Sequence[str]] | CopyIndex, own_id: str | None
) -> dict[str, int]:
    """Check each domain's grade, evidence and criteria; return the rank of each graded one."""
    v, scale = check.v, check.settings.grading
    ranks = {g.id: g.rank for g in scale.grades}
    top = max(ranks.values())
    graded: dict[str, int] = {}
    written: list[tuple[Domain, set[Shingle], int]] = []
    for domain in check.tool.domains:
        d, title = f"domain.{domain.id}", domain.title
        grade = check.fields.get(f"{d}.grade")
        evidence = check.text(f"{d}.evidence")
        if grade == scale.not_applicable.id:
            if not domain.allow_na:
                check.flag(
                    "completeness.na_not_allowed",
                    f"{d}.grade",
                    f"{title}: Not applicable cannot be chosen for this domain; choose a grade.",
                )
            elif len(words(evidence or "")) < v.min_na_reason_words:
                check.flag(
                    "completeness.na_reason",
                    f"{d}.evidence",
                    f"{title}: marked Not applicable without a reason; say in the evidence box why it "
                    "does not apply to this case.",
                )
            continue
        if not isinstance(grade, str) or grade not in ranks:
            either = " (or Not applicable, with the reason in the evidence box)" if domain.allow_na else ""
            check.flag("completeness.grade", f"{d}.grade", f"{title}: no grade chosen; choose a grade{either}.")
            continue
        rank = graded[domain.id] = ranks[grade]
        label = check.label(grade)
        _criteria(check, domain, label, rank, top)
        if evidence is None:
            check.flag(
                "completeness.evidence",
                f"{d}.evidence",
                f"{title}: graded {label} but no evidence is written; give the evidence for the grade "
                "in your own words.",
            )
            continue
        tokens = words(evidence)
        if len(tokens) < v.min_evidence_words:
            check.flag(
                "evidence.min_words",
                f"{d}.evidence",
                f"{title}: the evidence has {len(tokens)} words; write at least {v.min_evidence_words}, "
                f"saying what you found in {check.words.about} and what it means.",
            )
        if check.active("evidence.guidance") and guidance.pasted(tokens, v.guidance_containment, v.guidance_share):
            check.flag(
                "evidence.guidance",
                f"{d}.evidence",
                f"{title}: the evidence repeats the form's guidance or criteria; replace it with what you "
                f"found in {check.words.about}, in your own words.",
            )
        if rank >= v.good_rank and not mentions(evidence, v.good_practice_signals):
            check.flag(
                "evidence.good_practice",
                f"{d}.evidence",
                f"{title}: graded {label} but the evidence names no good practice; say what was done well.",
            )
        if rank < v.good_rank and not mentions(evidence, v.suggestion_signals):
            check.flag(
                "evidence.suggestions",
                f"{d}.evidence",
                f"{title}: graded {label} but the evidence gives no suggestions; say what should be done differently.",
            )
        written.append((domain, shingles(tokens), len(tokens)))
    _duplicates(check, written, other_evidence, own_id)
    return graded


def _criteria(check: _Check, domain: Domain, label: str, rank: int, top: int) -> None:
    if rank < check.v.good_rank:
        return
    d, title = f"domain.{domain.id}", domain.title
    good = domain.what_good_looks_like
    seen = sum(check.fields.get(f"{d}.criteria.{c.id}") is True for c in good)
    if seen < check.v.min_good_criteria_ratio * len(good):
        check.flag(
            "consistency.criteria",
            f"{d}.grade",
            f"{title}: graded {label} but only {seen} of the {len(good)} 'what good looks like' criteria "
            "are ticked; tick the ones you saw, or review the grade.",
        )
    outstanding = domain.moving_to_outstanding
    if rank >= top and outstanding and not any(check.fields.get(f"{d}.criteria.{c.id}") is True for c in outstanding):
        check.flag(
            "consistency.outstanding",
            f"{d}.grade",
            f"{title}: graded {label} but no 'moving to outstanding' criterion is ticked; tick the ones "
            "you saw, or review the grade.",
        )


def _duplicates(
    check: _Check,
    written: list[tuple[Domain, set[Shingle], int]],
    other_evidence: Mapping[str, Sequence[str]] | CopyIndex,
    own_id: str | None,
) -> None:
    """The same evidence in two domains, or evidence copied from another audit this month."""
    threshold = check.v.duplicate_similarity
    for n, (domain, own, _) in enumerate(written):
        twin = next((other for other, theirs, _ in written[:n] if similarity(own, theirs) >= threshold), None)
        if twin is not None:
            check.flag(
                "evidence.duplicate",
                f"domain.{domain.id}.evidence",
                f"{domain.title}: the evidence is the same as for {twin.title}; each domain needs its own evidence.",
            )
    if not check.active("evidence.copied"):
        return
    if not isinstance(other_evidence, CopyIndex):
        if not other_evidence:
            return
        other_evidence = CopyIndex.of(other_evidence, threshold)
    for domain, own, count in written:
        if count < _MIN_COMPARE_WORDS:
            continue
        source = other_evidence.source(own, exclude=own_id)
        if source is not None:
            check.flag(
                "evidence.copied",
                f"domain.{domain.id}.evidence",
                f"{domain.title}: the evidence is almost the same as in another audit this month "
                f"({source}); write evidence about {check.words.about}.",
            )


def _overall(check: _Check, graded: dict[str, int]) -> None:
    if not check.tool.overall_judgement:
        return
    v, ranks = check.v, {g.id: g.rank for g in check.settings.grading.grades}
    grade = check.fields.get("overall.grade")
    if not isinstance(grade, str) or grade not in ranks:
        check.flag("completeness.overall", "overall.grade", "No overall grade chosen; choose the overall grade.")
    if check.text("overall.summary") is None:
        check.flag(
            "completeness.overall_summary",
            "overall.summary",
            f"The overall summary is empty; summarise {check.words.summary} behind the overall grade.",
        )
    if not isinstance(grade, str) or grade not in ranks or not graded:
        return
    titles = {d.id: d.title for d in check.tool.domains}
    by_rank = {g.rank: g.label for g in check.settings.grading.grades}
    rank, label = ranks[grade], check.label(grade)
    lowest_id = min(graded, key=graded.__getitem__)
    lowest, best = graded[lowest_id], max(graded.values())
    if rank > lowest + v.max_overall_above_lowest:
        ceiling = max((r for r in by_rank if r <= lowest + v.max_overall_above_lowest), default=lowest)
        check.flag(
            "consistency.overall",
            "overall.grade",
            f"The overall grade {label} is too high: {titles[lowest_id]} is graded {by_rank[lowest]}. "
            f"Choose an overall grade no higher than {by_rank[ceiling]}, or review the domain grades.",
        )
    elif rank < lowest and best - rank > v.max_overall_below_best:
        check.flag(
            "consistency.overall_low",
            "overall.grade",
            f"The overall grade {label} is lower than every domain grade (the best is {by_rank[best]}); "
            "check the overall grade, or explain in the summary why it is lower.",
        )


def _discussion(check: _Check) -> None:
    if not check.tool.discussion_record:
        return
    if check.fields.get("discussion.worker_date") is None and check.fields.get("discussion.manager_date") is None:
        check.flag(
            "completeness.discussion",
            "discussion.worker_date",
            "No discussion with the worker or team manager is recorded; enter the date you discussed the "
            "audit with them.",
        )
    if check.text("discussion.notes") is None:
        check.flag(
            "completeness.discussion",
            "discussion.notes",
            "Say what was discussed and agreed with the worker and team manager.",
        )


def _filled(value: Value) -> bool:
    return value is True or (isinstance(value, str) and bool(value.strip()))


def _plan(check: _Check, audit_date: date, graded: dict[str, int] | None) -> None:
    """SMART rows; with domain grades (an audit), an action for each domain below Good."""
    v = check.v
    rows: dict[int, dict[str, Value]] = {}
    for field_id, value in check.fields.items():
        if m := _PLAN_FIELD.match(field_id):
            rows.setdefault(int(m[1]), {})[m[2]] = value
    used = {n: row for n, row in sorted(rows.items()) if any(_filled(x) for x in row.values())}
    vague_actions = {_normal(w) for w in v.vague_action_words}
    vague_owners = {_normal(w) for w in v.vague_owners}
    domains = {d.id: d.title for d in check.tool.domains}
    for n, row in used.items():
        p, where = f"plan.{n}", f"Improvement plan row {n}"
        action = check.text(f"{p}.action")
        if action is None:
            check.flag("plan.action", f"{p}.action", f"{where}: no action; say exactly what will be done.")
        elif len([w for w in words(action) if w not in vague_actions]) < v.min_action_words:
            check.flag(
                "plan.specific",
                f"{p}.action",
                f"{where}: the action is not specific; say exactly what will be done, in at least "
                f"{v.min_action_words} words besides general ones like 'improve' or 'ensure'.",
            )
        owner = check.text(f"{p}.owner")
        if owner is None:
            check.flag("plan.owner", f"{p}.owner", f"{where}: no owner; name the person or role who will do it.")
        elif _normal(owner).rstrip(".") in vague_owners:
            check.flag(
                "plan.owner",
                f"{p}.owner",
                f"{where}: '{owner[:12]}' does not name an owner; name the person or role who will do it.",
            )
        _due(check, f"{p}.due", where, row.get("due"), audit_date)
        outcome = check.text(f"{p}.outcome")
        if outcome is None or len(words(outcome)) < v.min_outcome_words:
            what = "no outcome" if outcome is None else "the outcome is too short"
            check.flag(
                "plan.outcome",
                f"{p}.outcome",
                f"{where}: {what}; say what will show the action has been achieved.",
            )
        elif not re.search(r"\d", outcome) and not mentions(outcome, v.measurable_signals):
            check.flag(
                "plan.measurable",
                f"{p}.outcome",
                f"{where}: the outcome does not say how it will be measured; add a number, a date, or what "
                "will be recorded or reviewed.",
            )
        if row.get("domain") not in domains:
            check.flag("plan.domain", f"{p}.domain", f"{where}: no domain; choose the domain this action improves.")
    _identical(check, used)
    if graded is None:
        if not used:
            check.flag("plan.empty", None, "The improvement plan has no actions; add the actions agreed.")
        return
    linked = {row.get("domain") for row in used.values()}
    for domain in check.tool.domains:
        rank = graded.get(domain.id)
        if rank is not None and rank < v.good_rank and domain.id not in linked:
            grade = check.fields.get(f"domain.{domain.id}.grade")
            check.flag(
                "plan.required",
                f"domain.{domain.id}.grade",
                f"{domain.title}: graded {check.label(str(grade))} but no improvement plan action is linked "
                f"to it; add at least one action with '{domain.title}' as its domain.",
            )


def _identical(check: _Check, rows: Iterable[int]) -> None:
    """Rows whose actions are the same words (ignoring case, spacing and punctuation)."""
    same: dict[tuple[str, ...], list[int]] = {}
    for n in rows:
        tokens = tuple(words(check.text(f"plan.{n}.action") or ""))
        if tokens:
            same.setdefault(tokens, []).append(n)
    for numbers in same.values():
        if len(numbers) >= IDENTICAL_ACTIONS:
            listed = ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
            check.flag(
                "plan.identical",
                f"plan.{numbers[0]}.action",
                f"Improvement plan rows {listed} have the same action; give each row its own action, saying "
                "exactly what will be done to improve the domain it is linked to.",
            )


def _working_day_near(due: date, after: date, region: str) -> date:
    """The working day before ``due`` if it is still after ``after``, else the one after ``due``."""
    day = due - timedelta(days=1)
    while not is_working_day(day, region):
        day -= timedelta(days=1)
    if day > after:
        return day
    day = due + timedelta(days=1)
    while not is_working_day(day, region):
        day += timedelta(days=1)
    return day


def _due(check: _Check, field_id: str, where: str, value: Value, audit_date: date) -> None:
    due = _iso(value)
    if not _filled(value):
        check.flag("plan.due", field_id, f"{where}: no due date; choose the date it will be done by.")
    elif due is None:
        check.flag("plan.due", field_id, f"{where}: the due date is not a date; choose it with the date picker.")
    elif due <= audit_date:
        check.flag(
            "plan.due",
            field_id,
            f"{where}: the due date {_day(due)} is not after the audit ({_day(audit_date)}); choose a later date.",
        )
    elif due > audit_date + timedelta(days=check.v.plan_window_days):
        latest = audit_date + timedelta(days=check.v.plan_window_days)
        check.flag(
            "plan.due_window",
            field_id,
            f"{where}: the due date {_day(due)} is more than {check.v.plan_window_days} days after the audit; "
            f"choose a date by {_day(latest)}, or split the action into steps.",
        )
    region = check.settings.organisation.bank_holidays
    if due is not None and due > audit_date and not is_working_day(due, region):
        what = f"a {due:%A}" if due.weekday() >= 5 else "a bank holiday"
        near = _working_day_near(due, audit_date, region)
        check.flag(
            "plan.due_working_day",
            field_id,
            f"{where}: the due date {_day(due)} is {what}, not a working day; choose a working day, "
            f"such as {near:%A} {_day(near)}.",
        )


__all__ = ["CopyIndex", "GuidanceIndex", "mentions", "shingles", "similarity", "tool_guidance", "validate", "words"]
