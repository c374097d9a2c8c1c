"""Synthetic answers to a single case file audit, for the demo, tests and benchmarks.

A made-up case, written the way a careful auditor writes: evidence in their own words,
grades consistent with the criteria ticked, a SMART plan for every domain that
Requires Improvement or is Inadequate.  No real person or case is described.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

AUDIT_DATE = date(2026, 11, 20)

EVIDENCE = {
    "visits": (
        "Visits were made every ten working days as the child in need plan requires, and the child was "
        "seen alone at four of the six visits. Records describe the bedroom and kitchen and what the "
        "social worker noticed at mealtimes. A strength is that the worker explains what each "
        "observation means for the child's safety."
    ),
    "assessment": (
        "The single assessment from June gathers the parents' account but has nothing from the school "
        "or the health visitor, and the domestic abuse history from 2023 is mentioned without any "
        "analysis. The worker should seek the school's view and link the past incidents to the present "
        "risk before the next review."
    ),
    "plans": (
        "The child in need plan lists eleven actions, several of them tasks for the parents with no "
        "dates. Nobody reading it could tell whether home conditions have changed. I recommend cutting "
        "the plan to four measurable actions, each with a named owner and a target date."
    ),
    "reviews": (
        "Both child in need reviews took place on time and the minutes record the views of the school "
        "nurse, the mother and the grandmother. The second review removed two completed actions and "
        "added support for school attendance, which is effective practice."
    ),
    "voice_of_child": (
        "Drawings and a three houses exercise are on file, and her own words about feeling scared at "
        "night are quoted in the assessment and the plan. The worker wrote her a letter explaining the "
        "conference decision, which is excellent and a real strength of this case."
    ),
    "management_oversight": (
        "Supervision notes from August and October give direction with dates, and the team manager "
        "checked that the referral to family support was made. Oversight at the strategy discussion is "
        "thorough and well reasoned, showing a firm grip on risk throughout the period."
    ),
    "recording": (
        "Case notes for September and October were entered up to five weeks late and the chronology "
        "stops in March. There is no genogram and no case summary, so a new worker could not follow "
        "what has happened. The team needs to bring the chronology up to date and add a summary."
    ),
}
GRADES = {
    "visits": "good",
    "assessment": "requires_improvement",
    "plans": "requires_improvement",
    "reviews": "good",
    "voice_of_child": "outstanding",
    "management_oversight": "good",
    "recording": "inadequate",
}
TICKED = {
    "visits": ["purpose", "who_present", "child_seen", "home_environment", "seen_alone"],
    "assessment": ["parent_views", "strengths_needs", "authorisation"],
    "plans": ["multi_agency", "authorisation"],
    "reviews": ["timescales", "implementation", "people_consulted", "family_contribution", "plan_updated"],
    "voice_of_child": ["seen_regularly", "seen_alone", "wishes_feelings", "lived_experience", "direct_work"],
    "management_oversight": ["regular_supervision", "oversight_recorded", "clear_direction", "risk_reviewed"],
    "recording": ["documents_on_file"],
}
#: (action, owner, days after the audit date, outcome, domain)
PLAN_ROWS = [
    (
        "Update the assessment with the school's and health visitor's views and an analysis of the history",
        "Allocated social worker",
        28,
        "Updated assessment authorised by the team manager and on file",
        "assessment",
    ),
    (
        "Rewrite the child in need plan as four actions with owners and dates",
        "Team manager (North)",
        21,
        "New plan agreed at the next core group and recorded",
        "plans",
    ),
    (
        "Bring the chronology up to date and write a case summary and genogram",
        "Allocated social worker",
        14,
        "Chronology current to within a week, checked in supervision",
        "recording",
    ),
]
PLAN_FIELDS = ("action", "owner", "due", "outcome", "domain")


def plan_row(n: int, row: tuple[Any, ...], audit_date: date = AUDIT_DATE) -> dict[str, Any]:
    """Values for improvement plan row ``n`` from (action, owner, days after the audit date
    or a date or None, outcome, domain)."""
    action, owner, days, outcome, domain = row
    due = audit_date + timedelta(days=days) if isinstance(days, int) else days
    values = (action, owner, due, outcome, domain)
    return {f"plan.{n}.{k}": value for k, value in zip(PLAN_FIELDS, values, strict=True)}


def complete_values(audit_date: date = AUDIT_DATE) -> dict[str, Any]:
    """A case file audit filled in completely and consistently: validates with no findings."""
    values: dict[str, Any] = {}
    for domain, grade in GRADES.items():
        values[f"domain.{domain}.grade"] = grade
        values[f"domain.{domain}.evidence"] = EVIDENCE[domain]
        values.update({f"domain.{domain}.criteria.{c}": True for c in TICKED[domain]})
    values.update(
        {
            "overall.grade": "requires_improvement",
            "overall.summary": "A family supported well by visits, let down by an old assessment and late recording.",
            "overall.good_practice": "Direct work with the child.",
            "overall.development": "Assessment analysis; timely recording.",
            "discussion.worker_date": audit_date - timedelta(days=4),
            "discussion.manager_date": audit_date - timedelta(days=3),
            "discussion.notes": "Findings shared; the worker agreed the plan and the manager will check it.",
            "completion.date": audit_date,
        }
    )
    for n, row in enumerate(PLAN_ROWS, 1):
        values.update(plan_row(n, row, audit_date))
    return values


def discussed_plan(discussed_on: date) -> dict[str, Any]:
    """An improvement plan returned after the practitioner discussion on ``discussed_on``:
    the first SMART action (due four weeks later) and the discussion recorded."""
    return {
        **plan_row(1, PLAN_ROWS[0], discussed_on),
        "discussion.date": discussed_on,
        "discussion.present": "Team manager and worker",
        "discussion.agreed": "Plan agreed.",
    }


def careless(values: dict[str, Any]) -> dict[str, Any]:
    """The same answers as a hurried auditor returns them: one domain left ungraded and
    without evidence, a plan owner 'TBC'.  Validation sends this back for amendment."""
    return {**values, "domain.plans.grade": None, "domain.plans.evidence": None, "plan.3.owner": "TBC"}
