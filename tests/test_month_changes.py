"""Changing a month after it is issued (issue 14, defects 4 and 6): audits added by hand or
by ``allocate --add``, another auditor for an audit not yet returned, withdrawals; only
what changed is generated and sent; what an issued or returned audit is about never
changes; the 12-month rule holds for rows added by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditdocs.allocation.allocate import allocate, allocation_path, read_checked_allocation
from auditdocs.allocation.changes import withdraw
from auditdocs.allocation.lists import read_auditors, read_cases
from auditdocs.allocation.record import COLUMNS, Allocation
from auditdocs.allocation.workbook import allocation_about
from auditdocs.cli import main
from auditdocs.errors import DataError
from auditdocs.forms.generate import DOCUMENT_KINDS, document_path, generate_month
from auditdocs.mail.messages import Delivery, Skipped
from auditdocs.mail.send import send
from auditdocs.returns.ingest import ACCEPTED, AMEND, REJECTED, ingest
from auditdocs.sample.month import init_workspace
from auditdocs.workspace import Workspace
from tests.test_allocate import edited, return_audit

MONTH = "2027-01"


@pytest.fixture
def issued(tmp_path: Path) -> tuple[Workspace, list[Allocation]]:
    """A month allocated, generated and sent (drafts)."""
    ws = init_workspace(tmp_path / "qa")
    result = allocate(ws, MONTH, seed=1, scheduled=False)
    generate_month(ws, MONTH)
    assert all(isinstance(d, Delivery) for d in send(ws, MONTH))
    return ws, result.allocations


def append_row(path: Path, alloc: Allocation) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb["Allocation"].append([getattr(alloc, c) for c in COLUMNS])
    wb.save(path)


def mtimes(ws: Workspace, allocs: list[Allocation]) -> dict[Path, int]:
    return {
        document_path(ws.output_dir, a, k): document_path(ws.output_dir, a, k).stat().st_mtime_ns
        for a in allocs
        for k in DOCUMENT_KINDS
    }


def fresh_case(ws: Workspace, taken: list[Allocation], auditor_team: str) -> Allocation:
    """A case of the list not audited this month and outside ``auditor_team``, as a new row."""
    cases = read_cases(ws.sample_dir / "cases.xlsx", ws.config.settings.imports.cases)
    used = {a.case_reference for a in taken}
    case = next(c for c in cases if c.case_reference not in used and c.team != auditor_team)
    return case.draft("case_file_audit", MONTH, taken[0].due_date)


def test_a_row_added_by_hand_is_generated_and_sent_alone(issued: tuple[Workspace, list[Allocation]]) -> None:
    ws, allocs = issued
    path = allocation_path(ws, MONTH)
    auditors = read_auditors(ws.sample_dir / "auditors.xlsx", ws.config.settings.imports.auditors)
    before = mtimes(ws, allocs)
    # Someone with capacity left, outside the new case's team.
    load = {a.name: sum(x.auditor == a.name for x in allocs) for a in auditors}
    who = next(a for a in auditors if load[a.name] < a.capacity and a.role != "Senior manager")
    draft = fresh_case(ws, allocs, who.team)
    added = Allocation(**{**draft.__dict__, "audit_id": f"{MONTH}-900", "auditor": who.name,
                          "auditor_email": who.email})  # fmt: skip
    append_row(path, added)

    result = generate_month(ws, MONTH)
    assert [a.audit_id for a in result.plan.new] == [added.audit_id]
    assert len(result.plan.unchanged) == len(allocs)
    assert len(result.paths) == 2 and all(p.exists() for p in result.paths)
    assert mtimes(ws, allocs) == before  # the issued forms were not written again

    out = send(ws, MONTH)
    sent = [d for d in out if isinstance(d, Delivery)]
    assert len(sent) == 1 and who.email in sent[0].to
    assert sent[0].path.name.endswith(" forms (2).eml" if load[who.name] else " forms.eml")
    body = sent[0].path.read_text(encoding="utf-8", errors="replace")
    assert added.audit_id in body and all(a.audit_id not in body for a in allocs)
    assert {s.to for s in out if isinstance(s, Skipped)} >= {a.auditor for a in allocs} - {who.name}
    # Sending again sends nothing new.
    assert not [d for d in send(ws, MONTH) if isinstance(d, Delivery)]


def test_another_auditor_for_an_audit_not_yet_returned(issued: tuple[Workspace, list[Allocation]]) -> None:
    ws, allocs = issued
    path = allocation_path(ws, MONTH)
    target = allocs[1]
    auditors = read_auditors(ws.sample_dir / "auditors.xlsx", ws.config.settings.imports.auditors)
    load = {a.name: sum(x.auditor == a.name for x in allocs) for a in auditors}
    cover = next(
        a
        for a in auditors
        if a.name != target.auditor
        and load[a.name] < a.capacity
        and a.team != target.team
        and a.name not in (target.team_manager, target.worker)
    )
    edited(path, path, {(3, "auditor"): cover.name, (3, "auditor_email"): cover.email})
    result = generate_month(ws, MONTH)
    ((before, now),) = result.plan.reissued
    assert (before.auditor, now.auditor) == (target.auditor, cover.name)
    assert any(f"auditor {target.auditor} → {cover.name}" in line for line in result.plan.lines())
    assert document_path(ws.output_dir, now, "audit").exists()
    events = ws.store().events_of(MONTH)[target.audit_id]
    assert [kind for _at, kind, _d in events] == ["issued", "sent", "reissued"]
    stored = ws.store().allocation(target.audit_id)
    assert stored is not None and stored[0].auditor == cover.name and stored[1] == "issued"
    sent = [d for d in send(ws, MONTH) if isinstance(d, Delivery)]
    assert len(sent) == 1 and cover.email in sent[0].to
    assert target.audit_id in sent[0].path.read_text(encoding="utf-8", errors="replace")


def test_an_issued_audit_keeps_its_case_and_a_returned_one_does_not_change(
    issued: tuple[Workspace, list[Allocation]], tmp_path: Path
) -> None:
    """Defect 6: a hand edit moving an issued or accepted audit to another case is refused."""
    ws, allocs = issued
    path = allocation_path(ws, MONTH)
    other = fresh_case(ws, allocs, "nobody")
    moved = edited(path, tmp_path / "moved.xlsx", {(2, "case_reference"): other.case_reference})
    with pytest.raises(DataError) as exc:
        generate_month(ws, MONTH, allocation=moved)
    assert f"audit {allocs[0].audit_id}: case_reference was {allocs[0].case_reference!r} when issued" in str(exc.value)
    assert "an issued audit keeps its case" in str(exc.value)
    assert f"auditdocs withdraw {allocs[0].audit_id} --reason" in str(exc.value)

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert return_audit(ws, allocs[0], "good", date(2027, 1, 20), inbox) in (ACCEPTED, AMEND)
    auditors = read_auditors(ws.sample_dir / "auditors.xlsx", ws.config.settings.imports.auditors)
    cover = next(a for a in auditors if a.name != allocs[0].auditor and a.team != allocs[0].team)
    changed = edited(path, tmp_path / "changed.xlsx", {(2, "auditor"): cover.name, (2, "auditor_email"): cover.email})
    with pytest.raises(DataError, match=rf"audit {allocs[0].audit_id}: auditor was .* but the audit has been returned"):
        generate_month(ws, MONTH, allocation=changed, auditors=ws.sample_dir / "auditors.xlsx")
    # Nothing was written by the refused runs.
    stored = ws.store().allocation(allocs[0].audit_id)
    assert stored is not None and stored[0] == allocs[0]


def test_a_row_added_by_hand_keeps_the_12_month_rule(issued: tuple[Workspace, list[Allocation]]) -> None:
    """Defect 6: a case audited in the months before cannot be added by hand (a re-audit can)."""
    ws, allocs = issued
    feb = "2027-02"
    result = allocate(ws, feb, seed=2, scheduled=False)
    path = allocation_path(ws, feb)
    again = allocs[0]
    auditors = {a.name: a for a in read_auditors(ws.sample_dir / "auditors.xlsx", ws.config.settings.imports.auditors)}
    row = next(
        r
        for r, a in enumerate(result.allocations, 2)
        if auditors[a.auditor].team != again.team and a.auditor not in (again.team_manager, again.worker)
    )
    edited(path, path, {(row, "case_reference"): again.case_reference, (row, "child_id"): again.child_id,
                        (row, "team"): again.team, (row, "worker"): again.worker,
                        (row, "team_manager"): again.team_manager})  # fmt: skip
    with pytest.raises(DataError) as exc:
        generate_month(ws, feb)
    assert f"case {again.case_reference} was audited in {MONTH}" in str(exc.value)
    assert "allocation.exclude_months" in str(exc.value)


def test_an_issued_row_removed_from_the_workbook_is_refused_until_withdrawn(
    issued: tuple[Workspace, list[Allocation]], tmp_path: Path
) -> None:
    ws, allocs = issued
    path = allocation_path(ws, MONTH)
    gone = allocs[2]
    from openpyxl import load_workbook

    wb = load_workbook(path)
    wb["Allocation"].delete_rows(4)
    wb.save(path)
    with pytest.raises(DataError, match=rf"{gone.audit_id} \(case {gone.case_reference}\) is issued but not in the "):
        generate_month(ws, MONTH)

    runner = CliRunner()
    out = runner.invoke(main, ["withdraw", gone.audit_id, "--reason", "case closed", "-w", str(ws.root)])
    assert out.exit_code == 0, out.output
    assert f"Withdrew {gone.audit_id}" in out.output
    assert generate_month(ws, MONTH).paths == []
    assert gone.audit_id not in {a.audit_id for a, _s in ws.store().month_allocations(MONTH)}
    assert ws.store().events_of(MONTH)[gone.audit_id][-1][1:] == ("withdrawn", "case closed")

    # Its forms, returned anyway, are not counted.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    from auditdocs.ooxml.fill import fill_form
    from auditdocs.sample.answers import complete_values

    form = inbox / "late.docx"
    blank = document_path(ws.output_dir, gone, "audit").read_bytes()
    form.write_bytes(fill_form(blank, complete_values(date(2027, 1, 20))))
    (outcome,) = ingest(ws, [form], received_at=datetime(2027, 1, 20, 9, tzinfo=UTC)).outcomes
    assert outcome.status == REJECTED and "was withdrawn" in (outcome.reason or "")
    with pytest.raises(DataError, match="withdrawn already"):
        withdraw(ws.store(), [gone.audit_id], "again")
    returned = allocs[0]
    assert return_audit(ws, returned, "good", date(2027, 1, 21), inbox) in (ACCEPTED, AMEND)
    with pytest.raises(DataError, match="has been returned"):
        withdraw(ws.store(), [returned.audit_id], "too late")


def test_allocate_add_puts_a_late_re_audit_into_an_issued_month(tmp_path: Path) -> None:
    """Defect 4: the re-audit graded Inadequate after the month was issued is added to it."""
    ws = init_workspace(tmp_path / "qa")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    december = allocate(ws, "2026-12", seed=1, scheduled=False)
    generate_month(ws, "2026-12")
    january = allocate(ws, MONTH, seed=2, scheduled=False)
    generate_month(ws, MONTH)
    send(ws, MONTH)
    first = december.allocations[0]
    assert return_audit(ws, first, "inadequate", date(2027, 1, 6), inbox) in (ACCEPTED, AMEND)

    with pytest.raises(DataError, match=r"already issued .* --add"):
        allocate(ws, MONTH, seed=2, replace_existing=True)
    runner = CliRunner()
    out = runner.invoke(main, ["allocate", "--month", MONTH, "--add", "-w", str(ws.root)])
    assert out.exit_code == 1 and "not enough Senior manager capacity for 2027-01" in out.output
    # The QA officer raises the senior manager's capacity in the workbook's Auditors sheet.
    from openpyxl import load_workbook

    wb = load_workbook(allocation_path(ws, MONTH))
    for row in wb["Auditors"].iter_rows(min_row=2):
        if row[2].value == "Senior manager":
            row[4].value = int(row[4].value) + 2
    wb.save(allocation_path(ws, MONTH))
    out = runner.invoke(main, ["allocate", "--month", MONTH, "--add", "-w", str(ws.root)])
    assert out.exit_code == 0, out.output
    assert "Added 1 re-audits to 2027-01" in out.output
    workbook = read_checked_allocation(ws, allocation_path(ws, MONTH))
    assert workbook[: len(january.allocations)] == january.allocations
    (added,) = workbook[len(january.allocations) :]
    assert (added.case_reference, added.reaudit_of) == (first.case_reference, first.audit_id)
    assert added.audit_id == f"{MONTH}-{len(january.allocations) + 1:03d}"
    assert any(str(row[0]).startswith("Added") for row in allocation_about(allocation_path(ws, MONTH)))

    result = generate_month(ws, MONTH)
    assert [a.audit_id for a in result.plan.new] == [added.audit_id]
    sent = [d for d in send(ws, MONTH) if isinstance(d, Delivery)]
    assert len(sent) == 1 and added.auditor_email in sent[0].to
    # Adding again adds nothing: the case has its re-audit this month.
    again = runner.invoke(main, ["allocate", "--month", MONTH, "--add", "-w", str(ws.root)])
    assert again.exit_code == 0 and "Added 0 re-audits" in again.output
    # February does not re-audit it again as if January had none.
    february = allocate(ws, "2027-02", seed=3, scheduled=False)
    assert february.reaudits == []
