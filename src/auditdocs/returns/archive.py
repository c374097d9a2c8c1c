"""The raw-file archive: every file received, content-addressed by sha256, owner-only.

A file is archived before anything else is done with it, so nothing received is
ever lost, and archiving the same bytes twice changes nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from auditdocs.files import write_private


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, digest: str) -> Path:
        return self.folder / digest[:2] / digest

    def put(self, data: bytes) -> str:
        digest = sha256(data)
        path = self.path(digest)
        if not path.exists():
            write_private(path, data)
        return digest

    def get(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def __contains__(self, digest: str) -> bool:
        return self.path(digest).exists()
