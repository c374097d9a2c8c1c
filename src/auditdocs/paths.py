"""Paths as users should read them: relative to the current folder when inside it."""

from __future__ import annotations

from pathlib import Path


def display(path: Path | str) -> str:
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)
