"""The quick commands stay quick: ``status``, ``config check`` and ``parse`` of a form load
only the libraries they need (``bench/bench_startup.py`` times them).  Each command runs in
a fresh interpreter, which then lists the heavy libraries it imported: a module-level import
of openpyxl, SQLAlchemy or python-docx on their path fails here, not in a stopwatch.

Once the config has been validated, its summary is cached (``config/summary.py``): while
the config is unchanged, these commands need neither pydantic nor PyYAML, ``status`` reads
a SQLite store without SQLAlchemy (``store/quick.py``) and counts working days without the
``holidays`` library."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from auditdocs.workspace import Workspace
from tests.conftest import month_workspace

#: Libraries that each take tens of milliseconds or more to import.
HEAVY = frozenset(
    {"openpyxl", "xlsxwriter", "matplotlib", "numpy", "PIL", "docx", "docxtpl", "docxcompose", "jinja2",
     "lxml", "sqlalchemy", "psycopg", "pydantic", "yaml", "holidays"}
)  # fmt: skip

#: Run a command as `auditdocs` would, then print the heavy libraries now imported.
RUN = """
import json, sys
from auditdocs.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def heavy_imports(ws: Workspace, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args], cwd=ws.root, capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1])) & HEAVY


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return month_workspace(tmp_path_factory.mktemp("startup") / "qa")


def test_the_command_line_itself_imports_nothing_heavy(ws: Workspace) -> None:
    assert heavy_imports(ws, "--help") == set()


def _without_summary(ws: Workspace) -> None:
    (ws.state_dir / "config-summary.json").unlink(missing_ok=True)


def test_config_check_validates_in_full_once_then_needs_nothing_heavy(ws: Workspace) -> None:
    _without_summary(ws)
    assert heavy_imports(ws, "config", "check") == {"pydantic", "yaml"}, "the config validated"
    assert heavy_imports(ws, "config", "check") == set(), "its summary, while the config is unchanged"


def test_parse_of_a_form_reads_only_the_form(ws: Workspace) -> None:
    form = next(ws.output_dir.glob("2026-11/*/* audit tool.docx"))
    _without_summary(ws)
    assert heavy_imports(ws, "parse", str(form)) == {"pydantic", "yaml", "lxml"}
    assert heavy_imports(ws, "parse", str(form)) == {"lxml"}, "no config, no store"


def test_status_loads_nothing_heavy_once_the_config_is_known(ws: Workspace) -> None:
    # Without --month it finds the latest month, without the allocation workbook code.
    _without_summary(ws)
    loaded = heavy_imports(ws, "status")
    assert loaded >= {"pydantic", "yaml", "holidays"}, "the config validated, its summary made"
    assert loaded <= {"pydantic", "yaml", "holidays"}, "a SQLite store read without SQLAlchemy"
    assert heavy_imports(ws, "status") == set()


def test_status_of_a_store_not_yet_made_goes_through_the_store(ws: Workspace, tmp_path: Path) -> None:
    copy = Workspace(tmp_path / "qa")
    shutil.copytree(ws.root, copy.root, ignore=shutil.ignore_patterns("store.sqlite*", "config-summary.json"))
    assert heavy_imports(copy, "config", "check") == {"pydantic", "yaml"}
    # the store made, as ever, and the bank holidays worked out, the first time after the config changed
    assert heavy_imports(copy, "status", "--month", "2026-11") == {"sqlalchemy", "holidays"}
    assert (copy.state_dir / "store.sqlite").stat().st_size > 0
    assert heavy_imports(copy, "status", "--month", "2026-11") == set()


def test_the_heavy_libraries_are_found(ws: Workspace) -> None:
    """The check above would see a library that came back (a failure it is for)."""
    assert heavy_imports(ws, "report", "--help") == set()
    assert {"openpyxl"} <= heavy_imports(ws, "allocate", "--month", "2026-11")


def test_the_fast_yaml_parser_reads_the_config_as_the_slow_one(ws: Workspace) -> None:
    from auditdocs.config import loader

    for path in sorted(Path(ws.config_dir).glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        fast = loader.yaml.load(text, Loader=loader._FastUniqueKeyLoader)
        assert fast == loader.yaml.load(text, Loader=loader._UniqueKeyLoader), path.name


def test_a_report_counts_working_days_from_the_cached_bank_holidays(ws: Workspace) -> None:
    """Reports count working days (discussions due, amendments overdue) with the bank
    holidays kept in the config's summary: working them out costs a big report 0.15 s."""
    _without_summary(ws)
    first = heavy_imports(ws, "report", "monthly", "--month", "2026-11")
    assert "holidays" in first, "worked out once, the first time after the config changed"
    assert "holidays" not in heavy_imports(ws, "report", "monthly", "--month", "2026-11")
