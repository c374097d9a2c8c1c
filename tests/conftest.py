"""Shared fixtures: one workspace and one generated month per test session, and one
LibreOffice run per output format (LibreOffice takes seconds to start)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from auditdocs.allocation.record import Allocation
from auditdocs.allocation.workbook import read_allocation
from auditdocs.forms.generate import FormFactory, generate
from auditdocs.forms.layout import layout_source
from auditdocs.forms.parse import ParsedForm, parse_bytes
from auditdocs.ooxml.convert import find_soffice
from auditdocs.sample.month import init_workspace, sample_allocation_path
from auditdocs.workspace import Workspace, bundled_root

# Found as auditdocs finds it (AUDITDOCS_SOFFICE, where it installs on Windows and macOS, PATH).
SOFFICE = find_soffice()
# CI sets AUDITDOCS_REQUIRE_LIBREOFFICE=1: there a missing soffice fails instead of skipping.
REQUIRE_LO = os.environ.get("AUDITDOCS_REQUIRE_LIBREOFFICE") == "1"


def needs_libreoffice() -> None:
    if SOFFICE is None:
        if REQUIRE_LO:
            pytest.fail("soffice is not installed but AUDITDOCS_REQUIRE_LIBREOFFICE=1")
        pytest.skip("LibreOffice (soffice) is not installed")


def libreoffice_convert(files: list[Path], target: str, outdir: Path, profile: Path) -> dict[str, Path]:
    """Convert files with one headless LibreOffice run; returns {input stem: output path}."""
    needs_libreoffice()
    assert SOFFICE is not None
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    ext = "." + target.split(":")[0]
    out = {f.stem: outdir / (f.stem + ext) for f in files}
    missing = [str(p) for p in out.values() if not p.exists()]
    assert not missing, f"LibreOffice did not write {missing}"
    return out


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the shipped config; the cwd is its parent, so errors say ``config/...``."""
    folder = tmp_path / "config"
    shutil.copytree(bundled_root() / "config", folder)
    monkeypatch.chdir(tmp_path)
    return folder


def month_workspace(root: Path) -> Workspace:
    """A workspace of its own at ``root`` with the sample month generated: for tests that
    write to its store or change its config."""
    workspace = init_workspace(root)
    generate(workspace, read_allocation(sample_allocation_path(workspace)))
    return workspace


def blank_form(ws: Workspace, audit_id: str, kind: str = "audit tool") -> bytes:
    """The document ``generate`` wrote for ``audit_id`` of the sample month."""
    return next(ws.output_dir.glob(f"2026-11/*/{audit_id} * {kind}.docx")).read_bytes()


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return init_workspace(tmp_path_factory.mktemp("ws") / "qa")


@pytest.fixture(scope="session")
def allocations(workspace: Workspace) -> list[Allocation]:
    return read_allocation(sample_allocation_path(workspace))


@pytest.fixture(scope="session")
def generated(workspace: Workspace, allocations: list[Allocation]) -> list[Path]:
    return generate(workspace, allocations)


@pytest.fixture(scope="session")
def key(workspace: Workspace) -> bytes:
    return workspace.key()


@pytest.fixture(scope="session")
def factory(workspace: Workspace, key: bytes) -> FormFactory:
    return FormFactory(workspace.config, workspace.templates_dir, key)


@pytest.fixture(scope="session")
def audit_form(generated: list[Path]) -> bytes:
    """The first generated audit tool (single case file audit), as bytes."""
    return next(p for p in generated if p.name.endswith("audit tool.docx")).read_bytes()


@pytest.fixture(scope="session")
def plan_form(generated: list[Path]) -> bytes:
    return next(p for p in generated if p.name.endswith("improvement plan.docx")).read_bytes()


@pytest.fixture(scope="session")
def parse(key: bytes, workspace: Workspace) -> Callable[[bytes], ParsedForm]:
    """Parse bytes as the workspace does (its key, and its config as the manifest fallback)."""
    layouts = layout_source(workspace.config)
    return lambda data: parse_bytes(data, "returned.docx", key, layouts=layouts)


@pytest.fixture(scope="session")
def lo_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lo-profile")
