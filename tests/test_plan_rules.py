"""Improvement plan rules added for the audit cycle (issue 14): a due date on a day nobody
works, and one action copied into five rows.  Forms are generated, filled the way Word
fills them and parsed back, as in test_validate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auditdocs.config import Settings, ToolType, load_config
from auditdocs.ooxml.fill import fill_form
from auditdocs.returns.findings import Finding
from auditdocs.returns.validate import validate
from auditdocs.sample.answers import AUDIT_DATE, PLAN_ROWS, complete_values, discussed_plan, plan_row
from auditdocs.workspace import Workspace

Check = Callable[..., list[Finding]]


@pytest.fixture(scope="module")
def tool(workspace: Workspace) -> ToolType:
    return workspace.config.tool("case_file_audit")


@pytest.fixture(scope="module")
def check(audit_form: bytes, parse, tool: ToolType, workspace: Workspace) -> Check:
    """The complete audit with ``changes`` on top, filled, parsed and validated."""

    def run(changes: dict[str, Any], *, settings: Settings | None = None) -> list[Finding]:
        result = parse(fill_form(audit_form, {**complete_values(), **changes}))
        assert result.status == "ok", result.issues
        return validate(result.fields, tool, settings or workspace.config.settings, audit_date=AUDIT_DATE)

    return run


def found(findings: list[Finding]) -> set[tuple[str, str | None, str]]:
    return {(f.rule, f.field, f.severity) for f in findings}


# --- plan.due_working_day ---------------------------------------------------------------

# AUDIT_DATE is Friday 20 November 2026.
SATURDAY = date(2026, 12, 5)
CHRISTMAS = date(2026, 12, 25)  # a Friday
BOXING_DAY_OBSERVED = date(2026, 12, 28)  # Boxing Day is a Saturday: the bank holiday is Monday 28th


@pytest.mark.parametrize(
    ("due", "what", "instead"),
    [
        (SATURDAY, "is a Saturday", "Friday 4 December 2026"),
        (date(2026, 12, 6), "is a Sunday", "Friday 4 December 2026"),
        (CHRISTMAS, "is a bank holiday", "Thursday 24 December 2026"),
        (BOXING_DAY_OBSERVED, "is a bank holiday", "Thursday 24 December 2026"),
    ],
)
def test_a_due_date_on_a_weekend_or_bank_holiday_is_a_warning(check: Check, due: date, what: str, instead: str):
    findings = check({"plan.1.due": due})
    assert found(findings) == {("plan.due_working_day", "plan.1.due", "warning")}
    message = findings[0].message
    assert message.startswith("Improvement plan row 1: the due date ") and what in message
    assert message.endswith(f"choose a working day, such as {instead}.")


def test_a_working_day_due_date_has_no_finding(check: Check) -> None:
    assert check({"plan.1.due": date(2026, 12, 24)}) == []  # Thursday, Christmas Eve


def test_the_working_day_suggested_is_after_the_audit(check: Check) -> None:
    """Due the Saturday after the audit: the Friday before is the audit day itself, so the
    Monday after is suggested."""
    findings = check({"plan.1.due": date(2026, 11, 21)})
    assert found(findings) == {("plan.due_working_day", "plan.1.due", "warning")}
    assert findings[0].message.endswith("such as Monday 23 November 2026.")


def test_a_due_date_already_wrong_gets_no_working_day_warning_too(check: Check) -> None:
    sunday_before = date(2026, 11, 15)
    assert found(check({"plan.1.due": sunday_before})) == {("plan.due", "plan.1.due", "error")}


def test_the_bank_holidays_are_the_configured_region(check: Check, workspace: Workspace) -> None:
    """St Andrew's Day (Monday 30 November 2026) is a bank holiday in Scotland only."""
    st_andrews = date(2026, 11, 30)
    assert check({"plan.1.due": st_andrews}) == []
    settings = workspace.config.settings
    scotland = settings.model_copy(
        update={"organisation": settings.organisation.model_copy(update={"bank_holidays": "scotland"})}
    )
    assert found(check({"plan.1.due": st_andrews}, settings=scotland)) == {
        ("plan.due_working_day", "plan.1.due", "warning")
    }


def test_a_returned_plan_is_checked_for_working_days_too(plan_form: bytes, parse, tool: ToolType, workspace) -> None:
    discussed = date(2026, 12, 3)
    values = {**discussed_plan(discussed), "plan.1.due": date(2027, 1, 1)}  # New Year's Day
    result = parse(fill_form(plan_form, values))
    assert result.status == "ok", result.issues
    findings = validate(result.fields, tool, workspace.config.settings, document="plan", audit_date=discussed)
    assert found(findings) == {("plan.due_working_day", "plan.1.due", "warning")}


# --- plan.identical ---------------------------------------------------------------------

COPIED = (
    "Visit the child at home every two weeks and record what the child says",
    "Allocated social worker",
    21,
    "Visits recorded on file every two weeks",
)


def _rows(actions: list[str], domains: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for n, (action, domain) in enumerate(zip(actions, domains, strict=True), 1):
        values.update(plan_row(n, (action, COPIED[1], COPIED[2], COPIED[3], domain)))
    return values


DOMAINS = ["assessment", "plans", "recording", "visits", "reviews"]


def test_five_rows_with_the_same_action_are_one_finding(check: Check) -> None:
    actions = [
        COPIED[0],
        COPIED[0].upper(),
        COPIED[0] + ".",
        "  " + COPIED[0].replace(" ", "  "),
        COPIED[0].replace("child says", "child says!"),
    ]
    findings = check(_rows(actions, DOMAINS))
    assert found(findings) == {("plan.identical", "plan.1.action", "error")}
    assert findings[0].message.startswith("Improvement plan rows 1, 2, 3, 4 and 5 have the same action;")
    assert COPIED[0].casefold() not in findings[0].message.casefold()  # messages never quote the form


def test_four_rows_with_the_same_action_are_not_a_finding(check: Check) -> None:
    different = "Hold a strategy discussion with the school and the health visitor this month"
    assert check(_rows([COPIED[0]] * 4 + [different], DOMAINS)) == []


def test_five_copies_among_more_rows_name_only_the_copies(check: Check) -> None:
    other = "Hold a strategy discussion with the school and the health visitor this month"
    actions = [COPIED[0], other, COPIED[0], COPIED[0], other, COPIED[0], COPIED[0]]
    domains = [*DOMAINS, "voice_of_child", "management_oversight"]
    findings = check(_rows(actions, domains))
    assert found(findings) == {("plan.identical", "plan.1.action", "error")}
    assert findings[0].message.startswith("Improvement plan rows 1, 3, 4, 6 and 7 have the same action;")


def test_the_sample_plan_is_not_identical(check: Check) -> None:
    assert len({row[0] for row in PLAN_ROWS}) == len(PLAN_ROWS)
    assert check({}) == []


# --- config -----------------------------------------------------------------------------


def test_the_new_rules_are_in_the_shipped_config_with_their_severities(config_dir: Path) -> None:
    rules = load_config(config_dir).settings.validation.rules
    assert rules["plan.due_working_day"].severity == "warning"
    assert rules["plan.identical"].severity == "error"


def test_the_new_rules_can_be_turned_off(config_dir: Path, check: Check) -> None:
    path = config_dir / "organisation.yaml"
    text = path.read_text(encoding="utf-8")
    for rule in ("plan.due_working_day", "plan.identical"):
        text = text.replace(f"{rule}: {{severity: warning}}", f"{rule}: off")
        text = text.replace(f"{rule}: {{severity: error}}", f"{rule}: off")
    path.write_text(text, encoding="utf-8")
    settings = load_config(config_dir).settings
    assert check({"plan.1.due": SATURDAY, **_rows([COPIED[0]] * 5, DOMAINS)}, settings=settings) == []
