"""Three months of the cycle as a QA team runs it (issue 14): November 2026 to January
2027 through the command line, on a clock set for each step (``AUDITDOCS_NOW``).  Each
numbered defect of the issue is asserted where it showed, so that it stays fixed:

 1  an audit with six domains below Good is accepted
 2  a returned plan is judged against its audit, its feedback goes to the team manager,
    and a discussion on time is not late
 3  an Inadequate re-audit returned after the next month was allocated is followed
 4  a re-audit is added to an issued month and only it is generated and sent
 5  one discussion deadline for send, chase, status and the report
 6  a hand edit cannot move an issued audit to another case
 7  init points to allocate; --month defaults to the latest month allocated
 8  the learning bulletin counts case file audits only
 9  an amendment returned after its resubmission date is late
10  a supervision audit graded Inadequate is not listed as re-audited
11  generate checks hand edits against the auditors allocate used
"""

from __future__ import annotations

import email
import email.message
import email.policy
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from auditdocs.allocation.allocate import allocation_path, read_checked_allocation
from auditdocs.allocation.record import COLUMNS, Allocation
from auditdocs.cli import main
from auditdocs.dates import CLOCK_VARIABLE, discussion_due, uk_date
from auditdocs.forms.generate import document_path
from auditdocs.ooxml.fill import fill_form
from auditdocs.sample.answers import PLAN_ROWS, careless, complete_values, discussed_plan, plan_row
from auditdocs.workspace import Workspace


class Team:
    """A QA officer at the command line, on a clock they set."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runner = CliRunner()
        self.clock = "2026-10-30T09:00"

    def at(self, when: str) -> Team:
        self.clock = when
        return self

    def run(self, *args: str, ok: bool = True) -> Result:
        result = self.runner.invoke(main, [*args, "-w", str(self.root)], env={CLOCK_VARIABLE: self.clock})
        if ok:
            assert result.exit_code == 0, f"{args}: {result.output}"
        return result

    @property
    def ws(self) -> Workspace:
        return Workspace.open(self.root)

    def allocations(self, month: str) -> list[Allocation]:
        return read_checked_allocation(self.ws, allocation_path(self.ws, month))

    def give_back(self, alloc: Allocation, values: dict[str, Any], kind: str = "audit", name: str = "") -> Result:
        """The form filled in as ``values`` and ingested now."""
        inbox = self.root / "inbox" / self.clock.replace(":", "")
        inbox.mkdir(parents=True, exist_ok=True)
        path = inbox / f"{name or alloc.audit_id} {kind}.docx"
        blank = document_path(self.ws.output_dir, alloc, kind)
        if kind == "plan":  # the team manager's copy, prefilled by send
            sent = sorted((self.ws.output_dir / alloc.month / "discussion").glob(f"*/{alloc.audit_id} *.docx"))
            blank = sent[-1] if sent else blank
        path.write_bytes(fill_form(blank.read_bytes(), values))
        return self.run("ingest", str(path), ok=False)


def docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", z.read("word/document.xml").decode()))


def body(path: Path) -> str:
    """The text of a message kept as .eml."""
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    part = message.get_body(("plain",))
    assert isinstance(part, email.message.EmailMessage)
    return str(part.get_content())


def inadequate(day: date) -> dict[str, Any]:
    return {**complete_values(day), "overall.grade": "inadequate", "domain.plans.grade": "inadequate"}


def six_below_good(day: date, tool_domains: list[str]) -> dict[str, Any]:
    """Every domain Requires Improvement, each with its own plan action (defect 1)."""
    values = complete_values(day)
    action, owner, days, outcome, _domain = PLAN_ROWS[0]
    for n, domain in enumerate(tool_domains, 1):
        values[f"domain.{domain}.grade"] = "requires_improvement"
        values |= plan_row(n, (f"{action} for the {domain} domain", owner, days, outcome, domain), day)
    return values


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    root = tmp_path_factory.mktemp("cycle") / "qa"
    team = Team(root)
    out = team.at("2026-10-30T09:00").runner.invoke(main, ["init", str(root)], env={CLOCK_VARIABLE: team.clock})
    assert out.exit_code == 0
    # Defect 7: init points to the real cycle, for the month to come.
    assert "auditdocs allocate --month 2026-11" in out.output and "then auditdocs generate" in out.output
    yield team


def test_three_months_of_the_cycle(quarter: Team) -> None:
    team = quarter
    ws = team.ws
    domains = [d.id for d in ws.config.tool("case_file_audit").domains]

    # --- November: allocate, generate, send ----------------------------------------------
    team.at("2026-11-02T09:00").run("allocate", "--month", "2026-11", "--seed", "11")
    out = team.run("generate")  # defect 7: the latest month allocated, not the sample
    assert "output/2026-11" in out.output.replace("\\", "/")
    team.run("send")
    november = team.allocations("2026-11")
    cfa = [a for a in november if a.tool == "case_file_audit"]
    first, six, sloppy = cfa[0], cfa[1], cfa[2]

    # Returns on 20 November: Inadequate, six domains below Good (defect 1), careless.
    team.at("2026-11-20T10:00")
    assert "accepted" in team.give_back(first, inadequate(date(2026, 11, 19))).output
    assert f"{six.audit_id} accepted" in team.give_back(six, six_below_good(date(2026, 11, 19), domains)).output
    out = team.give_back(sloppy, careless(complete_values(date(2026, 11, 19)))).output
    assert "needs amendment" in out
    rows = ws.store().month_status("2026-11")
    assert next(r["resubmit_by"] for r in rows if r["audit_id"] == sloppy.audit_id) == date(2026, 11, 25)
    # Defect 9: the amendment comes back two days after its resubmission date.
    team.at("2026-11-27T09:00")
    amended = team.give_back(sloppy, complete_values(date(2026, 11, 19)), name=f"{sloppy.audit_id} v2")
    assert "accepted" in amended.output
    current = [s for s in ws.store().submissions_of(sloppy.audit_id) if s["is_current"]]
    assert current[0]["late"] is True

    # Defect 5: send tells the team manager the one deadline, from acceptance.
    team.at("2026-11-23T09:00")
    out = team.run("send").output
    due_six = discussion_due(ws.config.settings, "requires_improvement", date(2026, 11, 20))
    discussion_mail = ws.output_dir / "2026-11" / "outbox" / f"discussion {six.audit_id}.eml"
    assert f"discussion {six.audit_id}.eml" in out and uk_date(due_six) in body(discussion_mail)
    status = team.run("status", "--month", "2026-11").output
    assert uk_date(due_six) in next(line for line in status.splitlines() if line.startswith(six.audit_id))

    # ... and chase counts from the same day: the Inadequate one's discussion is overdue.
    team.at("2026-12-01T09:00").run("chase", "--month", "2026-11")
    due_first = discussion_due(ws.config.settings, "inadequate", date(2026, 11, 20))
    chasers = list((ws.output_dir / "2026-11" / "chasers" / "2026-12-01").glob("* discussion.eml"))
    text = " ".join(body(p) for p in chasers)
    assert f"{first.audit_id} (case {first.case_reference}" in text and f"due {uk_date(due_first)}" in text
    assert six.audit_id not in text  # not due until after today

    # --- December: the re-audit, supervision audits ----------------------------------------
    team.at("2026-12-01T09:00")
    short = team.run("allocate", "--month", "2026-12", "--seed", "12", ok=False)
    assert short.exit_code == 1 and "not enough auditor capacity for 2026-12" in short.output
    # December's list of auditors, with one more audit each (not the list named in config).
    wb = load_workbook(ws.sample_dir / "auditors.xlsx")
    for row in wb.worksheets[0].iter_rows(min_row=2):
        row[4].value = int(row[4].value) + 1
    wb.save(team.root / "auditors december.xlsx")
    team.run("allocate", "--month", "2026-12", "--seed", "12", "--auditors", str(team.root / "auditors december.xlsx"))
    december = team.allocations("2026-12")
    (reaudit,) = [a for a in december if a.reaudit_of]
    assert (reaudit.case_reference, reaudit.reaudit_of) == (first.case_reference, first.audit_id)
    team.run("generate")  # defect 11: checked against December's list, kept in the workbook
    # The re-audit says so: the audit it repeats, its grade and its plan's actions.
    with zipfile.ZipFile(document_path(ws.output_dir, reaudit, "audit")) as z:
        form = re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode())
    assert first.audit_id in form and "Inadequate" in form and PLAN_ROWS[0][0] in form
    team.run("send")

    # Defect 2: the plan of the six-domain audit comes back after an on-time discussion.
    team.at(f"{due_six:%Y-%m-%d}T15:00")
    out = team.give_back(six, discussed_plan(due_six), kind="plan").output
    assert "accepted" in out and "not after the audit" not in out
    plan = [s for s in ws.store().submissions_of(six.audit_id) if s["document"] == "plan"]
    assert plan and plan[-1]["late"] is False

    # Defect 10: a supervision audit graded Inadequate is no case to re-audit.
    supervision = next(a for a in december if a.tool == "supervision_audit")
    sup_values = {
        k: v for k, v in inadequate(date(2026, 12, 10)).items() if not k.startswith("domain.") and k != "overall.grade"
    }
    for d in ws.config.tool("supervision_audit").domains:
        sup_values |= {f"domain.{d.id}.grade": "inadequate", f"domain.{d.id}.evidence": complete_values()[
            "domain.visits.evidence"]}  # fmt: skip
    sup_values["overall.grade"] = "inadequate"
    team.at("2026-12-10T10:00").give_back(supervision, sup_values)

    # --- January: allocated before the re-audit comes back ---------------------------------
    team.at("2026-12-28T09:00").run("allocate", "--month", "2027-01", "--seed", "13")
    january = team.allocations("2027-01")
    assert not [a for a in january if a.reaudit_of]
    team.run("generate")
    team.run("send")
    # Defect 3: the re-audit comes back Inadequate in January.
    team.at("2027-01-05T10:00")
    assert "accepted" in team.give_back(reaudit, inadequate(date(2027, 1, 4))).output
    # Defect 4: added to the issued month; only it is generated and sent.
    out = team.run("allocate", "--month", "2027-01", "--add", ok=False)
    if "not enough Senior manager capacity" in out.output:
        wb = load_workbook(allocation_path(ws, "2027-01"))
        for row in wb["Auditors"].iter_rows(min_row=2):
            if row[2].value == "Senior manager":
                row[4].value = int(row[4].value) + 1
        wb.save(allocation_path(ws, "2027-01"))
        out = team.run("allocate", "--month", "2027-01", "--add")
    assert out.exit_code == 0, out.output
    (added,) = [a for a in team.allocations("2027-01") if a.reaudit_of]
    assert (added.case_reference, added.reaudit_of) == (first.case_reference, reaudit.audit_id)
    out = team.run("generate").output
    assert "Wrote 2 documents for 1 audits" in out
    sent = team.run("send").output
    assert sent.count("draft:") == 1 and added.auditor in sent

    # Defect 6: moving an issued audit to another case is refused.
    path = allocation_path(ws, "2027-01")
    wb = load_workbook(path)
    wb["Allocation"].cell(2, COLUMNS.index("case_reference") + 1, "NB-00000")
    wb.save(path)
    out = team.run("generate", ok=False)
    assert out.exit_code == 1 and "an issued audit keeps its case" in out.output

    # --- the reports -------------------------------------------------------------------------
    team.at("2027-01-10T09:00")
    team.run("report", "monthly", "--month", "2026-12")
    team.run("report", "quarterly", "--quarter", "2026Q4")
    report = docx_text(ws.output_dir / "reports" / "2026-12" / "2026-12 audit highlights report.docx")
    # Defect 10: the re-audit chain is the case file audit's; the supervision audit is not in it.
    chains = report.split("Inadequate cases and their re-audits", 1)[1].split("Immediate safeguarding concerns", 1)[0]
    assert f"{first.case_reference} Dec 2026 re-audit 1" in chains and supervision.case_reference not in chains
    # Defect 8: the bulletin counts case file audits as such, the other tools by name.
    bulletin = docx_text(ws.output_dir / "reports" / "2026Q4" / "2026Q4 learning bulletin.docx")
    returned_cfa = [first, six, sloppy, reaudit]
    assert f"{len(returned_cfa)} case file audits were returned" in bulletin
    assert "Other audits returned: Supervision Audit (1)" in bulletin
