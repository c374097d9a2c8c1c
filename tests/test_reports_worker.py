"""A big report's workbook is built in a worker process while the documents are built here,
and a quarter's charts and themes for development by a helper (issue 15): the files are the
same bytes as when everything is built in one process, under fork and under spawn
(Windows' and macOS's only way); an error on either side comes out as it would have; a
worker or helper that dies leaves its work to this process; none is left behind."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from auditdocs.errors import StoreError, TemplateError
from auditdocs.reports import helper, monthly_report, publish, quarterly_report
from auditdocs.reports.content import Document
from auditdocs.sample.month import init_workspace
from tests.quarter import AS_OF, Quarter, build_quarter

MAIN = os.getpid()


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> Quarter:
    return build_quarter(init_workspace(tmp_path_factory.mktemp("worker") / "qa"))


def _reports(quarter: Quarter) -> dict[str, bytes]:
    paths = [*monthly_report(quarter.ws, "2026-12", as_of=AS_OF), *quarterly_report(quarter.ws, "2026Q4", as_of=AS_OF)]
    return {p.name: p.read_bytes() for p in paths}


@pytest.fixture(scope="module")
def in_one_process(quarter: Quarter) -> dict[str, bytes]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUDITDOCS_NOW", "2027-01-08T09:00")  # the files' creation time
        mp.setattr(publish, "WORKER_AUDITS", 10**9)
        return _reports(quarter)


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every report's workbook built by a worker; never in this process (under fork the
    worker inherits this patch, but it is another process)."""
    monkeypatch.setenv("AUDITDOCS_NOW", "2027-01-08T09:00")
    monkeypatch.setattr(publish, "WORKER_AUDITS", 0)
    built = publish._workbook

    def not_here(*args: object) -> bytes:
        assert os.getpid() != MAIN, "the workbook was built in this process"
        return built(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(publish, "_workbook", not_here)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_worker_builds_the_same_files(quarter, in_one_process, worker, monkeypatch, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} here")
    monkeypatch.setenv("AUDITDOCS_START_METHOD", method)
    if method == "spawn":  # a spawned worker imports publish afresh, without the patch: it must still not be here
        monkeypatch.setattr(publish, "_workbook", lambda *args: pytest.fail("the workbook was built in this process"))
    assert _reports(quarter) == in_one_process
    assert multiprocessing.active_children() == []


def test_an_error_in_the_documents_stops_the_worker(quarter, worker, monkeypatch, tmp_path: Path):
    broken = tmp_path / "report.docx"
    broken.write_bytes(b"not a Word template")
    monkeypatch.setattr(publish, "report_template", lambda ws: broken)
    with pytest.raises(TemplateError):
        monthly_report(quarter.ws, "2026-12", as_of=AS_OF)
    assert multiprocessing.active_children() == []


def test_an_error_in_the_worker_comes_out_here(quarter, worker, monkeypatch):
    def fails(*args: object) -> bytes:
        raise StoreError("the worker's error")

    monkeypatch.setattr(publish, "_workbook", fails)  # inherited by the forked worker
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "fork")
    with pytest.raises(StoreError, match="the worker's error"):
        quarterly_report(quarter.ws, "2026Q4", as_of=AS_OF)
    assert multiprocessing.active_children() == []


def test_a_worker_that_dies_leaves_the_workbook_to_this_process(quarter, in_one_process, monkeypatch):
    monkeypatch.setenv("AUDITDOCS_NOW", "2027-01-08T09:00")
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "fork")
    monkeypatch.setattr(publish, "WORKER_AUDITS", 0)
    built = publish._workbook

    def dies_there(*args: object) -> bytes:
        if os.getpid() != MAIN:
            os._exit(3)  # killed: no reply, no clean-up
        return built(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(publish, "_workbook", dies_there)
    assert _reports(quarter) == in_one_process
    assert multiprocessing.active_children() == []


def test_a_quarters_helper_draws_its_charts_and_themes_the_same(quarter, in_one_process, worker, monkeypatch):
    """Under fork the helper draws every chart and works out the themes for development;
    the files are those made in one process."""
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "fork")
    seen: list[tuple[int, int, set[tuple[str, str]]]] = []
    finished = helper.Helper.finished

    def noted(self: helper.Helper, doc: Document) -> Document:
        out = finished(self, doc)
        seen.append((len(self.asked), len(self.drawn), set(self.done)))
        return out

    monkeypatch.setattr(helper.Helper, "finished", noted)
    paths = quarterly_report(quarter.ws, "2026Q4", as_of=AS_OF)
    assert {p.name: p.read_bytes() for p in paths} == {k: v for k, v in in_one_process.items() if "Q4" in k}
    asked, drawn, done = seen[0]
    assert asked == drawn > 0 and done == {("themes", "development")}
    assert multiprocessing.active_children() == []


def test_a_helper_that_dies_leaves_its_work_to_this_process(quarter, in_one_process, worker, monkeypatch):
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "fork")
    monkeypatch.setattr(helper, "_help", lambda *args: os._exit(3))
    paths = quarterly_report(quarter.ws, "2026Q4", as_of=AS_OF)
    assert {p.name: p.read_bytes() for p in paths} == {k: v for k, v in in_one_process.items() if "Q4" in k}
    assert multiprocessing.active_children() == []


def test_the_data_is_left_out_of_collections_while_a_report_is_built(quarter, worker, monkeypatch, tmp_path: Path):
    """A big report's data is frozen (``gc.freeze``) once read, so that Python's cycle
    collector does not walk it again and again (0.5-1 s of a 10,000-audit report's CPU);
    the collector is as it was afterwards, after an error too."""
    import gc

    seen: list[tuple[int, bool]] = []
    lay_out = publish.monthly_document

    def watched(*args: object) -> Document:
        seen.append((gc.get_freeze_count(), gc.isenabled()))
        return lay_out(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(publish, "monthly_document", watched)
    assert gc.get_freeze_count() == 0
    monthly_report(quarter.ws, "2026-12", as_of=AS_OF)
    ((frozen, enabled),) = seen
    assert frozen > 10_000 and enabled, "the data read is frozen; new objects are still collected"
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    broken = tmp_path / "report.docx"
    broken.write_bytes(b"not a Word template")
    monkeypatch.setattr(publish, "report_template", lambda ws: broken)
    with pytest.raises(TemplateError):
        monthly_report(quarter.ws, "2026-12", as_of=AS_OF)
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_big_reports_months_are_read_by_two_processes_alike(quarter, in_one_process, worker, monkeypatch, tmp_path):
    """A big report's first months' values are read by a forked process while this one
    reads the rest (the reading is a big report's part nothing else can run beside): the
    files are the same bytes; a reader that fails leaves the reading to this process."""
    from auditdocs.store import reporting

    readers = tmp_path / "readers"
    read = reporting._values

    def noted(*args: object) -> list[tuple[str, str, str, object]]:
        with readers.open("a") as out:  # a forked reader's memory is its own: noted in a file
            out.write(f"{os.getpid()}\n")
        return read(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(reporting, "_values", noted)
    monkeypatch.setenv("AUDITDOCS_START_METHOD", "fork")
    assert _reports(quarter) == in_one_process
    pids = set(readers.read_text().split())
    assert str(MAIN) in pids and len(pids) > 1, "a forked process read some of the values"

    def fails_there(*args: object) -> list[tuple[str, str, str, object]]:
        if os.getpid() != MAIN:
            raise StoreError("the reader's error")
        return read(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(reporting, "_values", fails_there)
    assert _reports(quarter) == in_one_process
    assert multiprocessing.active_children() == []


def test_a_report_leaves_objects_frozen_before_it_frozen(quarter, worker, monkeypatch):
    """A process that froze its own objects (a pre-forking host) keeps them frozen after a
    report: the report freezes and thaws only what it froze."""
    import gc

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        monthly_report(quarter.ws, "2026-12", as_of=AS_OF)
        assert gc.get_freeze_count() > frozen // 2, "still frozen (the few freed meanwhile leave it)"
    finally:
        gc.unfreeze()


def test_values_of_an_audit_withdrawn_while_they_were_read_are_left_out() -> None:
    """The forked reader's values may be read before this process reads the allocations:
    an audit withdrawn in between has values and no allocation, and is not reported (as
    withdrawn audits never are), rather than stopping the report."""
    from types import SimpleNamespace

    from auditdocs.reports.data import _audits
    from auditdocs.store.reporting import AuditRows

    kept = SimpleNamespace(audit_id="2026-11-001", month="2026-11", tool="case_file_audit", case_reference="NB-1",
                           team="Team A", worker="W", team_manager="M", auditor="A", due_date="2026-11-30",
                           state="issued", reaudit_of=None, child_id="")  # fmt: skip
    values = [("2026-11-001", "audit", "overall.grade", "good"), ("2026-11-002", "audit", "overall.grade", "good")]
    (audit,) = _audits(AuditRows(allocations=[kept], returns=[], values=values))
    assert audit.audit_id == "2026-11-001" and audit.values == {"overall.grade": "good"}
