"""The README's "From Python" example runs as written, and says what it prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def from_python_example() -> str:
    section = README.read_text(encoding="utf-8").split("## From Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README: no python example under 'From Python'"
    return match.group(1)


def test_the_from_python_example_runs(tmp_path: Path) -> None:
    code = from_python_example()
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.startswith("Allocated ") and "documents for" in out
    # the comments in the example say what these lines print
    assert "2026-12-001 needs amendment" in out
    assert "2026-12-001 ok None" in out
    assert "dashboard.html" in out
    assert (tmp_path / "qa-team" / "output" / "2026-12" / "outbox").is_dir()
