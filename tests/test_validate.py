"""Validating returned audits: every rule passes a complete audit and catches the one
thing wrong in a copy of it.  Every form here is generated, filled the way Word fills
it and parsed back, so the rules are tested on the values the parser really gives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from auditdocs.config import Domain, Settings, ToolType, load_config
from auditdocs.config.models import RULES, ValidationSettings
from auditdocs.errors import ConfigError
from auditdocs.forms.layout import evidence_placeholder
from auditdocs.ooxml.fill import fill_form
from auditdocs.returns.findings import Finding
from auditdocs.returns.validate import GuidanceIndex, mentions, shingles, similarity, validate, words
from auditdocs.sample.answers import AUDIT_DATE, EVIDENCE, GRADES, PLAN_ROWS, TICKED, complete_values, plan_row
from auditdocs.workspace import Workspace, bundled_root

Check = Callable[..., list[Finding]]


@pytest.fixture(scope="module")
def config_settings(workspace: Workspace) -> Settings:
    return workspace.config.settings


@pytest.fixture(scope="module")
def tool(workspace: Workspace) -> ToolType:
    return workspace.config.tool("case_file_audit")


@pytest.fixture(scope="module")
def check(audit_form: bytes, parse, tool: ToolType, config_settings: Settings) -> Check:
    """Fill the complete audit with ``changes`` on top (None: leave the field untouched),
    parse it and validate it."""

    def run(changes: dict[str, Any] | None = None, *, settings: Settings | None = None, **kwargs: Any):
        result = parse(fill_form(audit_form, {**complete_values(), **(changes or {})}))
        assert result.status == "ok", result.issues
        kwargs = {"audit_date": AUDIT_DATE, "tool": tool, **kwargs}
        return validate(result.fields, settings=settings or config_settings, **kwargs)

    return run


def domain(tool: ToolType, domain_id: str) -> Domain:
    return next(d for d in tool.domains if d.id == domain_id)


def found(findings: list[Finding]) -> set[tuple[str, str | None, str]]:
    return {(f.rule, f.field, f.severity) for f in findings}


def with_validation(settings: Settings, **changes: Any) -> Settings:
    """Settings with some validation settings changed (validated: named rules replace
    their defaults, the others keep them)."""
    current = {**settings.validation.model_dump(), **changes}
    return settings.model_copy(update={"validation": ValidationSettings.model_validate(current)})


# --- the complete baseline --------------------------------------------------------------


def test_a_complete_consistent_audit_has_no_findings(check: Check) -> None:
    assert check() == []


def test_the_complete_audit_is_a_case_file_audit_form(audit_form: bytes, parse) -> None:
    assert parse(audit_form).identity.tool == "case_file_audit"


# --- one thing wrong -------------------------------------------------------------------

PLAN_1 = "plan.1"
FAILING: list[tuple[str, dict[str, Any], set[tuple[str, str | None, str]]]] = [
    # completeness
    ("ungraded domain", {"domain.plans.grade": None}, {("completeness.grade", "domain.plans.grade", "error")}),
    (
        "not applicable without a reason",
        {"domain.visits.grade": "na", "domain.visits.evidence": None},
        {("completeness.na_reason", "domain.visits.evidence", "error")},
    ),
    (
        "not applicable with a one-word reason",
        {"domain.reviews.grade": "na", "domain.reviews.evidence": "None."},
        {("completeness.na_reason", "domain.reviews.evidence", "error")},
    ),
    (
        "graded without evidence",
        {"domain.reviews.evidence": None},
        {("completeness.evidence", "domain.reviews.evidence", "error")},
    ),
    ("no overall grade", {"overall.grade": None}, {("completeness.overall", "overall.grade", "error")}),
    ("no overall summary", {"overall.summary": None}, {("completeness.overall_summary", "overall.summary", "error")}),
    (
        "no discussion date",
        {"discussion.worker_date": None, "discussion.manager_date": None},
        {("completeness.discussion", "discussion.worker_date", "error")},
    ),
    ("no discussion notes", {"discussion.notes": None}, {("completeness.discussion", "discussion.notes", "error")}),
    # evidence quality
    (
        "evidence too short",
        {"domain.reviews.evidence": "Reviews were on time and effective."},
        {("evidence.min_words", "domain.reviews.evidence", "error")},
    ),
    (
        "the same evidence in two domains",
        {"domain.reviews.evidence": EVIDENCE["visits"]},
        {("evidence.duplicate", "domain.reviews.evidence", "error")},
    ),
    (
        "nearly the same evidence in two domains",
        {"domain.management_oversight.evidence": EVIDENCE["visits"].replace("ten", "fifteen")},
        {("evidence.duplicate", "domain.management_oversight.evidence", "error")},
    ),
    (
        "good grade without good practice",
        {"domain.reviews.evidence": EVIDENCE["reviews"].replace(", which is effective practice", "")},
        {("evidence.good_practice", "domain.reviews.evidence", "warning")},
    ),
    (
        "requires improvement without suggestions",
        {"domain.assessment.evidence": EVIDENCE["assessment"].replace("should seek", "has not sought")},
        {("evidence.suggestions", "domain.assessment.evidence", "warning")},
    ),
    # consistency
    (
        "outstanding overall with an inadequate domain",
        {"overall.grade": "outstanding"},
        {("consistency.overall", "overall.grade", "error")},
    ),
    (
        "good overall with an inadequate domain",
        {"overall.grade": "good"},
        {("consistency.overall", "overall.grade", "error")},
    ),
    (
        "good with too few criteria ticked",
        {f"domain.reviews.criteria.{c}": False for c in TICKED["reviews"][2:]},
        {("consistency.criteria", "domain.reviews.grade", "warning")},
    ),
    (
        "outstanding with no moving-to-outstanding criterion",
        {"domain.voice_of_child.criteria.direct_work": False},
        {("consistency.outstanding", "domain.voice_of_child.grade", "warning")},
    ),
    # improvement plan
    ("plan row without an action", {f"{PLAN_1}.action": None}, {("plan.action", "plan.1.action", "error")}),
    ("vague action", {f"{PLAN_1}.action": "Improve the assessment"}, {("plan.specific", "plan.1.action", "error")}),
    (
        "long but vague action",
        {f"{PLAN_1}.action": "Continue to monitor and ensure improvement"},
        {("plan.specific", "plan.1.action", "error")},
    ),
    ("no owner", {f"{PLAN_1}.owner": None}, {("plan.owner", "plan.1.owner", "error")}),
    ("owner TBC", {f"{PLAN_1}.owner": "TBC"}, {("plan.owner", "plan.1.owner", "error")}),
    ("owner the team", {f"{PLAN_1}.owner": "The team."}, {("plan.owner", "plan.1.owner", "error")}),
    ("no due date", {f"{PLAN_1}.due": None}, {("plan.due", "plan.1.due", "error")}),
    ("due before the audit", {f"{PLAN_1}.due": AUDIT_DATE - timedelta(days=1)}, {("plan.due", "plan.1.due", "error")}),
    ("due on the audit date", {f"{PLAN_1}.due": AUDIT_DATE}, {("plan.due", "plan.1.due", "error")}),
    (
        "due too late",
        {f"{PLAN_1}.due": AUDIT_DATE + timedelta(days=91)},
        {("plan.due_window", "plan.1.due", "error")},
    ),
    ("no outcome", {f"{PLAN_1}.outcome": None}, {("plan.outcome", "plan.1.outcome", "error")}),
    ("outcome too short", {f"{PLAN_1}.outcome": "Done"}, {("plan.outcome", "plan.1.outcome", "error")}),
    (
        "outcome not measurable",
        {f"{PLAN_1}.outcome": "The family feel more supported"},
        {("plan.measurable", "plan.1.outcome", "warning")},
    ),
    (
        "action not linked to a domain",
        {f"{PLAN_1}.domain": None},
        {("plan.domain", "plan.1.domain", "error"), ("plan.required", "domain.assessment.grade", "error")},
    ),
    (
        "inadequate domain without a plan action",
        plan_row(3, (None,) * 5),
        {("plan.required", "domain.recording.grade", "error")},
    ),
    (
        "a row with only a domain chosen is a row",
        {"plan.4.domain": "visits"},
        {
            ("plan.action", "plan.4.action", "error"),
            ("plan.owner", "plan.4.owner", "error"),
            ("plan.due", "plan.4.due", "error"),
            ("plan.outcome", "plan.4.outcome", "error"),
        },
    ),
    # immediate safeguarding concern
    (
        "concern ticked without details",
        {"concern.immediate": True, "concern.notified": AUDIT_DATE},
        {("concern.immediate", "concern.immediate", "warning"), ("concern.details", "concern.details", "error")},
    ),
    (
        "concern ticked without the date the manager was told",
        {"concern.immediate": True, "concern.details": "Bruising seen; team manager told, strategy meeting held."},
        {("concern.immediate", "concern.immediate", "warning"), ("concern.notified", "concern.notified", "warning")},
    ),
]


@pytest.mark.parametrize(("changes", "expected"), [c[1:] for c in FAILING], ids=[c[0] for c in FAILING])
def test_one_thing_wrong_is_found_by_its_rule(check: Check, changes: dict[str, Any], expected: set) -> None:
    assert found(check(changes)) == expected


PASSING: list[tuple[str, dict[str, Any]]] = [
    (
        "not applicable with a reason where allowed",
        {"domain.visits.grade": "na", "domain.visits.evidence": "The case opened in October; no visits were due."},
    ),
    ("discussed with the team manager only", {"discussion.worker_date": None}),
    (
        "evidence quoting one criterion among its own words",
        {"domain.visits.evidence": EVIDENCE["visits"] + " The purpose of the visit is clear."},
    ),
    ("overall as low as the lowest domain", {"overall.grade": "inadequate"}),
    ("good with exactly half the criteria ticked", {"domain.visits.criteria.seen_alone": False}),
    ("owner a named role", {f"{PLAN_1}.owner": "Team manager (North)"}),
    ("due on the last day of the window", {f"{PLAN_1}.due": AUDIT_DATE + timedelta(days=90)}),
    ("outcome with a number", {f"{PLAN_1}.outcome": "Three school views gathered on 2 December"}),
    ("outcome with a measuring word", {f"{PLAN_1}.outcome": "Assessment signed off by the manager"}),
    ("an action for a Good domain too", plan_row(4, (*PLAN_ROWS[0][:4], "visits"))),
    (
        "concern ticked, described and notified",
        {
            "concern.immediate": True,
            "concern.details": "Bruising seen; team manager told, strategy meeting held.",
            "concern.notified": AUDIT_DATE,
        },
    ),
]


@pytest.mark.parametrize("changes", [c[1] for c in PASSING], ids=[c[0] for c in PASSING])
def test_a_sound_variation_has_no_findings(check: Check, changes: dict[str, Any]) -> None:
    findings = check(changes)
    if changes.get("concern.immediate"):
        assert found(findings) == {("concern.immediate", "concern.immediate", "warning")}
    else:
        assert findings == []


def test_not_applicable_where_the_domain_no_longer_allows_it_is_an_error(check: Check, tool: ToolType) -> None:
    # The form offered Not applicable, but the config changed before it came back.
    strict = tool.model_copy(
        update={"domains": [d.model_copy(update={"allow_na": False}) if d.id == "visits" else d for d in tool.domains]}
    )
    changes = {"domain.visits.grade": "na", "domain.visits.evidence": "The case opened in October; no visits were due."}
    assert check(changes, tool=tool) == []
    findings = check(changes, tool=strict)
    assert found(findings) == {("completeness.na_not_allowed", "domain.visits.grade", "error")}
    assert findings[0].message.startswith("Home visits and seeing the child: Not applicable cannot be chosen")


def test_an_overall_grade_below_every_domain_is_queried(check: Check) -> None:
    better_recording = {
        "domain.recording.grade": "good",
        "domain.recording.evidence": EVIDENCE["recording"].replace("The team needs to", "Good practice would")
        + " Consent decisions are clear and well recorded.",
        **{
            f"domain.recording.criteria.{c}": True for c in ("up_to_date", "clear_language", "fact_opinion", "genogram")
        },
    }
    assert check(better_recording) == []
    findings = check({**better_recording, "overall.grade": "inadequate"})
    assert found(findings) == {("consistency.overall_low", "overall.grade", "warning")}
    assert "lower than every domain grade (the best is Outstanding)" in findings[0].message


def test_evidence_that_pastes_the_guidance_back_is_an_error(check: Check, tool: ToolType) -> None:
    guidance = domain(tool, "reviews").guidance  # its "name good practice" passes that rule
    assert found(check({"domain.reviews.evidence": guidance})) == {
        ("evidence.guidance", "domain.reviews.evidence", "error")
    }


def test_evidence_with_another_boxs_placeholder_pasted_in_is_an_error(check: Check, tool: ToolType) -> None:
    """The form's words a screen reader reads out in an empty box are its own words too."""
    pasted = EVIDENCE["reviews"] + " " + evidence_placeholder(domain(tool, "visits").title) + "."
    assert found(check({"domain.reviews.evidence": pasted})) == {
        ("evidence.guidance", "domain.reviews.evidence", "error")
    }


def test_evidence_made_of_the_criteria_ticked_is_an_error(check: Check, tool: ToolType) -> None:
    criteria = domain(tool, "visits").what_good_looks_like
    pasted = "Good practice seen. " + " ".join(c.text for c in criteria)
    assert found(check({"domain.visits.evidence": pasted})) == {
        ("evidence.guidance", "domain.visits.evidence", "error")
    }


def test_evidence_copied_from_another_audit_this_month_is_flagged(check: Check) -> None:
    elsewhere = "The plan for this young person is reviewed monthly and every action has an owner and a date."
    others = {"2026-11-002": [EVIDENCE["plans"]], "2026-11-003": [elsewhere]}
    findings = check(other_evidence=others)
    assert found(findings) == {("evidence.copied", "domain.plans.evidence", "warning")}
    assert "(2026-11-002)" in findings[0].message
    assert check(other_evidence={"2026-11-003": [EVIDENCE["plans"][:40]]}) == []


def test_an_immediate_concern_comes_first(check: Check) -> None:
    findings = check({"concern.immediate": True, "domain.plans.grade": None})
    assert [f.rule for f in findings][:2] == ["concern.immediate", "concern.details"]
    assert "team manager must be notified" in findings[0].message


def test_a_concern_written_out_beside_an_unticked_box_is_flagged_for_qa(check: Check) -> None:
    """Err toward safety (issue 13): the details say there is a concern, the box says not."""
    details = "Bruising seen at the visit; not yet raised with the team manager."
    findings = check({"concern.immediate": False, "concern.details": details})
    assert found(findings) == {("concern.possible", "concern.details", "warning")}
    assert "not ticked" in findings[0].message
    assert check({"concern.immediate": False}) == []


# --- the improvement plan document ------------------------------------------------------


@pytest.fixture(scope="module")
def check_plan(plan_form: bytes, parse, tool: ToolType, config_settings: Settings) -> Check:
    def run(changes: dict[str, Any] | None = None, **kwargs: Any) -> list[Finding]:
        values: dict[str, Any] = {
            "discussion.date": AUDIT_DATE + timedelta(days=5),
            "discussion.present": "Worker, team manager, auditor",
            "discussion.agreed": "Plan agreed as written.",
        }
        for n, row in enumerate(PLAN_ROWS, 1):
            values.update(plan_row(n, row))
        result = parse(fill_form(plan_form, {**values, **(changes or {})}))
        assert result.status == "ok", result.issues
        return validate(result.fields, tool, config_settings, document="plan", audit_date=AUDIT_DATE, **kwargs)

    return run


def test_a_complete_plan_document_has_no_findings(check_plan: Check) -> None:
    assert check_plan() == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"discussion.date": None}, {("plan.discussion_date", "discussion.date", "error")}),
        ({"plan.2.owner": "everyone"}, {("plan.owner", "plan.2.owner", "error")}),
        ({"plan.2.due": AUDIT_DATE + timedelta(days=200)}, {("plan.due_window", "plan.2.due", "error")}),
        (
            {k: v for n in (1, 2, 3) for k, v in plan_row(n, (None,) * 5).items()},
            {("plan.empty", None, "warning")},
        ),
    ],
    ids=["no discussion date", "vague owner", "due too late", "no actions"],
)
def test_a_plan_document_is_checked_for_smart_rows_and_its_discussion(check_plan: Check, changes, expected) -> None:
    assert found(check_plan(changes)) == expected


def test_a_plan_document_needs_no_action_per_domain(check_plan: Check) -> None:
    # Its domain grades are in the audit, not the plan: only rows and the discussion count.
    assert check_plan(plan_row(3, (None,) * 5)) == []


def test_an_unknown_document_kind_is_a_programming_error(tool: ToolType, config_settings: Settings) -> None:
    with pytest.raises(ValueError, match="document must be"):
        validate({}, tool, config_settings, document="letter", audit_date=AUDIT_DATE)


# --- settings change the outcome -------------------------------------------------------


def test_a_rule_turned_off_finds_nothing(check: Check, config_settings: Settings) -> None:
    changes = {"domain.plans.grade": None, f"{PLAN_1}.owner": "TBC"}
    off = with_validation(config_settings, rules={"completeness.grade": "off"})
    assert found(check(changes, settings=off)) == {("plan.owner", "plan.1.owner", "error")}


def test_a_rule_can_be_made_a_warning_or_limited_to_some_tools(check: Check, config_settings: Settings) -> None:
    changes = {f"{PLAN_1}.owner": "TBC"}
    warning = with_validation(config_settings, rules={"plan.owner": {"severity": "warning"}})
    assert found(check(changes, settings=warning)) == {("plan.owner", "plan.1.owner", "warning")}
    elsewhere = with_validation(config_settings, rules={"plan.owner": {"tools": ["thematic_audit"]}})
    assert check(changes, settings=elsewhere) == []


def test_min_evidence_words_changes_the_outcome(check: Check, config_settings: Settings) -> None:
    short = {"domain.reviews.evidence": "Reviews were on time and effective."}
    assert found(check(short, settings=with_validation(config_settings, min_evidence_words=6))) == set()
    strict = check(settings=with_validation(config_settings, min_evidence_words=60))
    assert {f.field for f in strict} == {f"domain.{d}.evidence" for d in GRADES}
    assert {f.rule for f in strict} == {"evidence.min_words"}
    assert "write at least 60" in strict[0].message


def test_the_plan_window_changes_the_outcome(check: Check, config_settings: Settings) -> None:
    assert found(check(settings=with_validation(config_settings, plan_window_days=20))) == {
        ("plan.due_window", "plan.1.due", "error"),
        ("plan.due_window", "plan.2.due", "error"),
    }


def test_overall_may_be_allowed_further_above_the_lowest_domain(check: Check, config_settings: Settings) -> None:
    lenient = with_validation(config_settings, max_overall_above_lowest=2)
    assert check({"overall.grade": "good"}, settings=lenient) == []


# --- the config ------------------------------------------------------------------------


def add_rule_line(folder: Path, line: str) -> None:
    path = folder / "organisation.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\n  rules:\n" in text
    path.write_text(text.replace("\n  rules:\n", f"\n  rules:\n    {line}\n"), encoding="utf-8")


def test_the_shipped_config_writes_out_the_defaults() -> None:
    shipped = load_config(bundled_root() / "config").settings.validation
    assert shipped == ValidationSettings()
    assert set(shipped.rules) == set(RULES)


def test_an_unknown_rule_id_is_refused_naming_it(config_dir: Path) -> None:
    add_rule_line(config_dir, "evidence.min_word: warning")
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("config/organisation.yaml: validation.rules: unknown rule id 'evidence.min_word'")
    assert "known: completeness.grade, " in message


def test_an_unknown_severity_is_refused(config_dir: Path) -> None:
    # Replaces the shipped line: YAML refuses a duplicate key before the model sees it.
    path = config_dir / "organisation.yaml"
    text = path.read_text(encoding="utf-8").replace("evidence.copied: {severity: warning}", "evidence.copied: fatal")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"validation\.rules\.evidence\.copied\.severity: input should be"):
        load_config(config_dir)


def test_a_rule_can_be_turned_off_with_a_bare_off(config_dir: Path) -> None:
    # YAML 1.1 reads a bare `off` as false; it still means "off".
    path = config_dir / "organisation.yaml"
    text = path.read_text(encoding="utf-8").replace("evidence.copied: {severity: warning}", "evidence.copied: off")
    path.write_text(text, encoding="utf-8")
    assert load_config(config_dir).settings.validation.rules["evidence.copied"].severity == "off"


def test_rules_not_named_keep_their_defaults() -> None:
    v = ValidationSettings.model_validate({"rules": {"plan.measurable": {"tools": ["case_file_audit"]}}})
    assert v.rules["plan.measurable"].severity == "warning"
    assert v.rules["plan.measurable"].tools == ["case_file_audit"]
    assert v.rules["completeness.grade"].severity == "error"
    assert len(v.rules) == len(RULES)


# --- text measures and privacy ---------------------------------------------------------


def test_signal_words_match_whole_words_only() -> None:
    assert mentions("The worker did this well.", ["well"])
    assert not mentions("The child's wellbeing is unclear.", ["well"])
    assert mentions("Attendance rises to 90% by March", ["%"])
    assert mentions("It would  BENEFIT from more", ["would benefit"])
    assert mentions("The child’s views", ["child's views"])
    assert not mentions("anything", [])


def test_similarity_is_one_for_the_same_words_and_low_for_different_ones() -> None:
    a = shingles(words(EVIDENCE["visits"]))
    assert similarity(a, shingles(words(EVIDENCE["visits"].upper()))) == 1.0
    assert similarity(a, shingles(words(EVIDENCE["plans"]))) < 0.1
    assert similarity(set(), a) == 0.0


def test_a_guidance_sentence_counts_when_mostly_there_a_criterion_only_as_a_share() -> None:
    guidance = "Read the current plan alongside the assessment it should follow from. Check the aim."
    index = GuidanceIndex.of([guidance], criteria=["The aim of the plan is clearly stated and analysed."])
    own = "I read the file over two days and met the worker, who explained how the family was involved."
    assert not index.pasted(words(own), 0.8, 0.5)
    assert index.pasted(words(own + " Read the current plan alongside the assessment it should follow."), 0.8, 0.5)
    quoted = own + " The aim of the plan is clearly stated and analysed."
    assert not index.pasted(words(quoted), 0.8, 0.5)
    assert GuidanceIndex.of([], criteria=[quoted]).pasted(words(quoted), 0.8, 0.5)


def test_messages_never_quote_the_evidence(check: Check) -> None:
    changes = {f"domain.{d}.evidence": EVIDENCE["visits"] for d in GRADES} | {f"{PLAN_1}.action": "Improve it"}
    findings = check(changes, other_evidence={"2026-11-009": list(EVIDENCE.values())})
    assert len(findings) > 8
    text = " ".join(f.message for f in findings).casefold()
    tokens = words(EVIDENCE["visits"])
    assert not any(" ".join(tokens[i : i + 4]) in text for i in range(len(tokens) - 3))


@hsettings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*sorted(complete_values()), "plan.9.due", "plan.2.domain", "concern.immediate"]),
        st.one_of(st.none(), st.booleans(), st.text(max_size=40), st.dates().map(date.isoformat)),
    )
)
def test_validate_never_fails_on_odd_values(tool: ToolType, config_settings: Settings, fields: dict[str, Any]) -> None:
    findings = validate(fields, tool, config_settings, audit_date=AUDIT_DATE)
    assert all(f.severity in ("error", "warning") and f.rule in RULES and f.message for f in findings)


def test_an_audit_with_every_domain_below_good_can_be_accepted(check, tool, workspace):
    """Every domain below Good needs an action of its own (2.8): the plan has a row per
    domain at least (it had five, so six or more domains below Good could never pass)."""
    from auditdocs.forms.layout import audit_layout

    rows = {f.id.split(".")[1] for f in audit_layout(workspace.config, tool).fields if f.id.startswith("plan.")}
    assert len(rows) >= len(tool.domains) > 5
    changes: dict[str, Any] = {f"domain.{d.id}.grade": "requires_improvement" for d in tool.domains}
    action, owner, days, outcome, _domain = PLAN_ROWS[0]
    for n, d in enumerate(tool.domains, 1):
        changes |= plan_row(n, (f"{action} for {d.title.lower()}", owner, days, outcome, d.id))
    assert not [f for f in check(changes) if f.severity == "error"]
    # one domain without its action is still sent back
    missing = check({**changes, f"plan.{len(tool.domains)}.domain": tool.domains[0].id})
    assert ("plan.required", f"domain.{tool.domains[-1].id}.grade", "error") in found(missing)
