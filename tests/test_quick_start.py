"""What makes the quick commands quick (issue 15) says what the slow way says.

``store.quick`` reads a SQLite store for ``status`` without SQLAlchemy: the same rows and
types as ``Store``'s methods, on a quarter of real returns.  ``config.summary`` caches
what the quick commands need of the config: the same as the config says, used only while
the config files and the code that validates them are unchanged (so a cached summary
never hides a config error), never written for a config that fails.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditdocs import dates
from auditdocs.cli import main
from auditdocs.config import load_config
from auditdocs.config.summary import cache_key
from auditdocs.errors import ConfigError
from auditdocs.returns.findings import READING_RULE, Finding
from auditdocs.returns.status import month_status
from auditdocs.sample.month import init_workspace
from auditdocs.store.quick import KNOWN_VERSIONS, QuickReader
from auditdocs.store.schema import SCHEMA_VERSION
from auditdocs.store.store import Store
from auditdocs.workspace import Workspace
from tests.conftest import month_workspace
from tests.quarter import MONTHS, Quarter, build_quarter


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> Quarter:
    quarter = build_quarter(init_workspace(tmp_path_factory.mktemp("quick") / "qa"))
    # a return (of an audit not yet returned) with two values read by a fallback, to confirm
    store = quarter.ws.store()
    audit_id = next(r["audit_id"] for r in store.month_status("2026-12") if r["received_at"] is None)
    when = datetime(2026, 12, 20, 10, tzinfo=UTC)
    confirm = Finding("overall.grade", "warning", READING_RULE, "confirm it")
    with store.transaction() as conn:
        receipt = store.record_receipt(conn, sha256="c" * 64, name="x.docx", origin="inbox", received_at=when,
                                       outcome="accepted", audit_id=audit_id)  # fmt: skip
        store.record_submission(conn, receipt_id=receipt, audit_id=audit_id, document="audit", sha256="c" * 64,
                                received_at=when, status="accepted", late=False, urgent=False, converted_from=None,
                                config_version="c", template_version="t", resubmit_by=date(2027, 1, 4),
                                values={"overall.grade": "good", "domain.plans.grade": None},
                                found=[confirm, confirm])  # fmt: skip
    return quarter


def test_the_quick_reads_are_the_stores(quarter: Quarter):
    store = quarter.ws.store()
    quick = QuickReader.open(quarter.ws.state_dir / "store.sqlite")
    assert quick is not None
    assert quick.latest_month() == store.latest_month() == MONTHS[-1]
    asked = [("", "audit", ""), ("overall.grade", "audit", ""), ("discussion.", "plan", ""),
             ("domain.", "audit", ".grade"), ("domain.%", "audit", ""), ("overall_grade", "audit", "")]  # fmt: skip
    for month in (*MONTHS, "2027-01"):
        rows = quick.month_status(month)
        assert rows == store.month_status(month)
        assert [list(r) for r in rows] == [list(r) for r in store.month_status(month)], "the same columns, in order"
        for prefix, document, suffix in asked:
            assert quick.current_values(month, prefix, document, suffix) == store.current_values(
                month, prefix, document, suffix
            )
    rows = [r for m in MONTHS for r in quick.month_status(m)]
    assert any(r["to_confirm"] == 2 for r in rows) and any(r["reaudit_of"] for r in rows)
    assert any(r["resubmit_by"] for r in rows) and any(r["received_at"] is None for r in rows)


def test_status_says_the_same_through_either(quarter: Quarter, monkeypatch: pytest.MonkeyPatch):
    def statuses() -> list[object]:
        return [month_status(Workspace(quarter.ws.root), m, today=date(2027, 1, 8)) for m in (*MONTHS, "2027-01")]

    quick = statuses()
    monkeypatch.setattr(QuickReader, "open", classmethod(lambda cls, path: None))
    assert statuses() == quick
    assert any("discussion" in f for s in quick for r in s.rows for f in r.flags)  # type: ignore[attr-defined]


def test_every_schema_version_is_one_the_quick_reads_know():
    """A new migration is read by ``Store`` until ``store/quick.py`` is checked against it."""
    assert SCHEMA_VERSION in KNOWN_VERSIONS


def test_a_store_not_made_or_not_known_goes_through_the_store(tmp_path: Path):
    ws = Workspace(tmp_path)
    (tmp_path / ".auditdocs").mkdir()
    assert isinstance(ws.reader(), Store), "none yet: made by Store, as ever"
    assert QuickReader.open(ws.state_dir / "store.sqlite") is not None
    with ws.store().transaction() as conn:
        conn.exec_driver_sql("INSERT INTO schema_migrations (version, applied_at) VALUES (99, '2027-01-01')")
    assert QuickReader.open(ws.state_dir / "store.sqlite") is None, "a schema from a later auditdocs"
    assert QuickReader.open(tmp_path / "none.sqlite") is None


# --- the config's summary ----------------------------------------------------------------


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return month_workspace(tmp_path / "qa")


def _check(ws: Workspace) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["config", "check", "--workspace", str(ws.root)])
    return done.exit_code, done.output


def test_the_summary_is_what_the_config_says(ws: Workspace):
    config = ws.config
    made = Workspace(ws.root).config_summary  # validated, summarised and cached
    cached = Workspace(ws.root).config_summary
    assert cached == made
    assert cached.organisation == config.settings.organisation.name
    assert [(t.id, t.domains, t.version) for t in cached.tools] == [
        (t.id, len(t.domains), config.version(t.id)) for t in config.tools.values()
    ]
    for grade in [*(g.id for g in config.settings.grading.grades), None, "", "not-a-grade"]:
        assert cached.discussion_working_days(grade) == dates.discussion_working_days(config.settings, grade or "")
    assert cached.region == config.settings.organisation.bank_holidays
    limits = config.settings.limits
    got = cached.limits
    assert (got.max_file_mb, got.max_form_unzipped_mb, got.conversion_timeout_seconds) == (
        limits.max_file_mb, limits.max_form_unzipped_mb, limits.conversion_timeout_seconds)  # fmt: skip
    assert "bank_holidays" not in cached.extra, "worked out when working days are first counted"
    Workspace(ws.root).with_bank_holidays()
    kept = Workspace(ws.root).config_summary.extra["bank_holidays"]
    this_year = dates.uk_today().year
    assert sorted(map(int, kept)) == list(range(this_year - 2, this_year + 4))
    for year in kept:
        assert kept[year] == sorted(d.isoformat() for d in dates.bank_holidays(cached.region, int(year)))


def test_a_config_changed_in_any_way_is_validated_again(ws: Workspace):
    assert _check(ws)[0] == 0
    path = ws.config_dir / "case_file_audit.yaml"
    good = path.read_bytes()
    stat = path.stat()
    # the same size and modification time, one letter different: still found
    bad = good.replace(b"domains:", b"domainz:", 1)
    assert len(bad) == len(good)
    path.write_bytes(bad)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(ConfigError) as wanted:
        load_config(ws.config_dir)
    assert _check(ws) == (1, f"Error: {wanted.value}\n")
    assert _check(ws) == (1, f"Error: {wanted.value}\n"), "a config that fails is never cached"
    path.write_bytes(good)
    assert _check(ws)[0] == 0
    (ws.config_dir / "extra_tool.yaml").write_text("id: extra_tool\n")
    with pytest.raises(ConfigError) as wanted:
        load_config(ws.config_dir)
    assert _check(ws) == (1, f"Error: {wanted.value}\n"), "a file added"
    (ws.config_dir / "extra_tool.yaml").unlink()
    assert _check(ws)[0] == 0


def test_the_code_that_validates_is_part_of_the_key(ws: Workspace, tmp_path: Path):
    source = tmp_path / "models.py"
    source.write_text("one")
    before = cache_key(ws.config_dir, (source,))
    assert cache_key(ws.config_dir, (source,)) == before
    source.write_text("two")
    assert cache_key(ws.config_dir, (source,)) != before


def test_a_cache_that_is_not_the_configs_is_ignored_and_made_again(ws: Workspace):
    cache = ws.state_dir / "config-summary.json"
    for junk in ("", "{", "[]", json.dumps({"key": "x", "summary": {}}), json.dumps({"summary": None})):
        cache.write_text(junk)
        assert _check(ws)[0] == 0
        assert json.loads(cache.read_text())["summary"]["organisation"] == ws.config.settings.organisation.name
    written = json.loads(cache.read_text())
    written["summary"]["organisation"] = "Another Council"
    written["key"] = "0" * 64  # another config's
    cache.write_text(json.dumps(written))
    assert "Another Council" not in _check(ws)[1]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_the_cache_is_readable_by_its_owner_only(ws: Workspace):
    assert _check(ws)[0] == 0
    assert (ws.state_dir / "config-summary.json").stat().st_mode & 0o077 == 0
