"""A realistic synthetic quarter (October to December 2026) for the report tests.

Built through the real path: allocations → generate → forms filled as Word does →
ingest with a received date.  Ten audits a month; a case judged Inadequate in October
is re-audited in November (still Inadequate) and December (Requires Improvement); a
second Inadequate case from November is re-audited in December; returns come on time,
late, or with errors and then amended (or not yet); one immediate safeguarding
concern; audits never returned; one accepted audit without its discussion dates
(recorded straight into the store, as the form's validation would not accept it); one
improvement plan returned with its practitioner discussion.
Evidence holds characters that break careless Word, Excel and HTML output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from auditdocs.allocation.record import Allocation
from auditdocs.dates import last_working_day
from auditdocs.forms.generate import document_path, generate
from auditdocs.ooxml.fill import WordStyle, fill_form
from auditdocs.returns.ingest import ingest
from auditdocs.sample.answers import careless, complete_values, discussed_plan
from auditdocs.sample.month import sample_month
from auditdocs.store.store import Store
from auditdocs.workspace import Workspace

MONTHS = ("2026-10", "2026-11", "2026-12")
AS_OF = date(2027, 1, 8)
NASTY = 'Worker & family <script>alert("x")</script> {{ 7*7 }} {% if 1 %}said{% endif %} <b>thanks</b>'
FORMULA = '=HYPERLINK("http://example.invalid","click") '


@dataclass
class Quarter:
    ws: Workspace
    allocations: dict[str, list[Allocation]]
    #: the re-audit chains: case reference → audit ids, oldest first
    chains: dict[str, list[str]] = field(default_factory=dict)
    concern_case: str = ""
    #: the case whose practitioner discussion is recorded (its improvement plan returned)
    discussed_case: str = ""


def values_for(kind: str, audit_date: date) -> dict[str, Any]:
    """Complete answers graded ``kind`` overall: good, requires_improvement, inadequate."""
    v = complete_values(audit_date)
    if kind == "good":
        v["domain.recording.grade"] = "requires_improvement"
        v["overall.grade"] = "good"
    elif kind == "inadequate":
        v["domain.plans.grade"] = "inadequate"
        v["overall.grade"] = "inadequate"
        v["overall.development"] = "Plans and recording are inadequate; the chronology must be rebuilt."
    return v


#: Per month: audit number → (overall kind, how it comes back)
#: how: on_time | late | amended (careless then fixed) | awaiting (careless, not fixed) | none
PLAN = {
    "2026-10": {1: ("inadequate", "on_time"), 2: ("good", "on_time"), 3: ("requires_improvement", "on_time"),
                4: ("good", "late"), 5: ("requires_improvement", "amended"), 6: ("good", "on_time"),
                7: ("requires_improvement", "on_time"), 8: ("good", "on_time"), 9: ("good", "none"),
                10: ("requires_improvement", "on_time")},
    "2026-11": {1: ("inadequate", "on_time"), 2: ("inadequate", "on_time"), 3: ("good", "on_time"),
                4: ("requires_improvement", "late"), 5: ("good", "amended"), 6: ("requires_improvement", "awaiting"),
                7: ("good", "on_time"), 8: ("requires_improvement", "none"), 9: ("good", "direct"),
                10: ("requires_improvement", "on_time")},
    "2026-12": {1: ("requires_improvement", "on_time"), 2: ("inadequate", "late"), 3: ("good", "on_time"),
                4: ("good", "on_time"), 5: ("requires_improvement", "on_time"), 6: ("good", "none"),
                7: ("requires_improvement", "amended"), 8: ("good", "on_time"), 9: ("good", "none"),
                10: ("requires_improvement", "on_time")},
}  # fmt: skip
CONCERN = ("2026-11", 3)


def _allocations() -> dict[str, list[Allocation]]:
    cases, auditors, _ = sample_month()
    out: dict[str, list[Allocation]] = {}
    used = 0
    first_inadequate = cases[0]
    second_inadequate = cases[1]
    for m, month in enumerate(MONTHS):
        year, mon = map(int, month.split("-"))
        due = last_working_day(year, mon)
        rows = []
        for n in range(1, 11):
            if (month, n) in {("2026-10", 1), ("2026-11", 1), ("2026-12", 1)}:
                case = first_inadequate
            elif (month, n) in {("2026-11", 2), ("2026-12", 2)}:
                case = second_inadequate
            else:
                used += 1
                case = cases[1 + used]
            eligible = [a for a in auditors if a.team != case["team"]]
            auditor = eligible[(n + m) % len(eligible)]
            if (month, n) in {("2026-11", 1), ("2026-12", 1), ("2026-12", 2)}:
                auditor = next(a for a in auditors if a.role == "Service manager")  # re-audits: senior manager
            follows = {("2026-11", 1): "2026-10-001", ("2026-12", 1): "2026-11-001", ("2026-12", 2): "2026-11-002"}
            rows.append(
                Allocation(
                    reaudit_of=follows.get((month, n)),
                    audit_id=f"{month}-{n:03d}",
                    month=month,
                    tool="case_file_audit",
                    case_reference=case["case_reference"],
                    child_id=case["child_id"],
                    team=case["team"],
                    worker=case["worker"],
                    team_manager=case["team_manager"],
                    auditor=auditor.name,
                    auditor_email=auditor.email,
                    due_date=due,
                )
            )
        out[month] = rows
    return out


def _values(month: str, n: int, kind: str, audit_date: date, alloc: Allocation) -> dict[str, Any]:
    v = values_for(kind, audit_date)
    if (month, n) == ("2026-11", 7):
        v["overall.good_practice"] = NASTY
        v["domain.visits.evidence"] = FORMULA + v["domain.visits.evidence"]
    if (month, n) == ("2026-11", 10):
        v["overall.good_practice"] = f"+ {alloc.worker} built a trusting relationship; the child's voice is clear."
        v["overall.development"] = "@mention: chronology and genogram need updating."
    if (month, n) == ("2026-12", 3):
        v["overall.good_practice"] = "-Direct work with the child and a trusting relationship with the family."
    if (month, n) == CONCERN:
        v["concern.immediate"] = True
        v["concern.details"] = "Bruising seen at the home visit; raised with the team manager the same day."
        v["concern.notified"] = audit_date
    return v


def build_quarter(ws: Workspace) -> Quarter:
    allocs = _allocations()
    quarter = Quarter(ws, allocs)
    for month in MONTHS:
        generate(ws, allocs[month])
    store = ws.store()
    inbox = ws.root / "inbox"
    for m, month in enumerate(MONTHS):
        due = allocs[month][0].due_date
        batches: dict[datetime, list[Path]] = {}
        on_time = datetime.combine(due - timedelta(days=5), datetime.min.time(), UTC).replace(hour=10)
        late = datetime.combine(due + timedelta(days=3), datetime.min.time(), UTC).replace(hour=10)
        amended_at = datetime.combine(due + timedelta(days=1), datetime.min.time(), UTC).replace(hour=9)
        for n, (kind, how) in PLAN[month].items():
            alloc = allocs[month][n - 1]
            audit_date = due - timedelta(days=6)
            values = _values(month, n, kind, audit_date, alloc)
            form = document_path(ws.output_dir, alloc, "audit").read_bytes()
            if how == "none":
                continue
            if how == "direct":
                _record_without_discussion(store, alloc, values, on_time)
                continue
            first = careless(values) if how in ("amended", "awaiting") else values
            path = inbox / month / f"{alloc.audit_id}.docx"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(fill_form(form, first, WordStyle(seed=n + 10 * m)))
            batches.setdefault(late if how == "late" else on_time, []).append(path)
            if how == "amended":
                fixed = inbox / month / f"{alloc.audit_id} amended.docx"
                fixed.write_bytes(fill_form(form, values, WordStyle(seed=100 + n)))
                batches.setdefault(amended_at, []).append(fixed)
        for when in sorted(batches):
            result = ingest(ws, batches[when], received_at=when)
            bad = [o for o in result.outcomes if o.status not in ("accepted", "needs amendment")]
            assert not bad, [(o.name, o.status, o.reason) for o in bad]
    # One practitioner discussion recorded: an accepted November audit's plan comes back.
    discussed = allocs["2026-11"][6]
    plan = inbox / "2026-11" / f"{discussed.audit_id} plan.docx"
    blank = document_path(ws.output_dir, discussed, "plan").read_bytes()
    plan.write_bytes(fill_form(blank, discussed_plan(date(2026, 12, 1))))
    [outcome] = ingest(ws, [plan], received_at=datetime(2026, 12, 2, 10, tzinfo=UTC)).outcomes
    assert (outcome.status, outcome.document) == ("accepted", "plan"), outcome.reason
    quarter.discussed_case = discussed.case_reference
    first = [allocs[m][0].audit_id for m in MONTHS]
    second = [allocs[m][1].audit_id for m in MONTHS[1:]]
    quarter.chains = {allocs["2026-10"][0].case_reference: first, allocs["2026-11"][1].case_reference: second}
    quarter.concern_case = allocs[CONCERN[0]][CONCERN[1] - 1].case_reference
    return quarter


def _record_without_discussion(store: Store, alloc: Allocation, values: dict[str, Any], when: datetime) -> None:
    stored = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}
    for k in ("discussion.worker_date", "discussion.manager_date"):
        stored[k] = None
    with store.transaction() as conn:
        receipt = store.record_receipt(
            conn, sha256="direct-" + alloc.audit_id, name="direct.docx", origin="test", received_at=when,
            outcome="accepted", audit_id=alloc.audit_id,
        )  # fmt: skip
        store.record_submission(
            conn, receipt_id=receipt, audit_id=alloc.audit_id, document="audit", sha256="direct-" + alloc.audit_id,
            received_at=when, status="accepted", late=False, urgent=False, converted_from=None,
            config_version="test", template_version="test", resubmit_by=None, values=stored, found=[],
        )  # fmt: skip
