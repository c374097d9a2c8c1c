"""Files as users see them: paths shown relative to where they are, names safe on every
desktop, and everything auditdocs writes readable by its owner only."""

from __future__ import annotations

import os
import re
from pathlib import Path


def display(path: Path | str) -> str:
    """A path as users should read it: relative to the current folder when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]+')


def safe_name(text: str) -> str:
    """A file or folder name that is safe on Windows, macOS and Linux."""
    name = _UNSAFE.sub("_", text).strip(" .")
    return name[:80] or "_"


def private_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parents, each readable by its owner only
    (``mkdir(parents=True)`` gives the parents the default mode, like ``mkdir -p``)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir(mode=0o700, exist_ok=True)


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, atomically (temp file + rename)."""
    private_folder(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # O_BINARY: on Windows a descriptor from os.open is in text mode unless told, and
    # would write each \n of a .docx or .xlsx as \r\n.  The mode is POSIX's: Windows
    # ignores it (see the README on what keeps files private there).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
