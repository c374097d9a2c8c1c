"""What the quick commands (``status``, ``config check``, ``parse``) need of the config, as
plain data, kept in a cache beside the store so that they need neither pydantic (0.2 s
to import) nor a full validation: ``config_summary(folder, cache)``.

The cache is valid for exactly the config it was made from: its key is every config
file's name and SHA-256 (the folder's ``*.yaml``, read each time: a few kilobytes) and
the code that validates them (this package's sources, by their SHA-256; pydantic,
pydantic-core, PyYAML and holidays, by their package files' size and modification time).
Any change, and the config is loaded and validated in full again, raising its errors as
ever, and the summary is written anew; a config that fails validation is never cached,
so a cached summary never hides an error.  A cache that cannot be read or written is
ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

#: Bump when the summary's shape changes.
FORMAT = 1
#: The libraries whose behaviour decides what a config validates to.
LIBRARIES = ("pydantic", "pydantic_core", "yaml", "holidays")
#: This package's own sources that do (the loader, the models, this module); the caller
#: names the others that go into its summary (``sources``).
SOURCES = ("loader.py", "models.py", "summary.py")


@dataclass(frozen=True)
class ToolSummary:
    id: str
    domains: int
    version: str  # Config.version: the hash of what shapes the tool's forms


@dataclass(frozen=True)
class LimitSummary:
    """The limits ``parse`` applies (config ``limits``)."""

    max_file_mb: int
    max_form_unzipped_mb: int
    conversion_timeout_seconds: float


@dataclass(frozen=True)
class ConfigSummary:
    organisation: str
    tools: tuple[ToolSummary, ...]
    #: organisation.bank_holidays: the UK region whose bank holidays count
    region: str
    #: grade id → working days for the practitioner discussion (``dates.discussion_working_days``)
    discussion_days: Mapping[str, int]
    #: the days for no grade, or a grade the config does not know
    discussion_default: int
    limits: LimitSummary
    #: what else the caller worked out from the config (cached with the rest): plain JSON
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: the cache key of the config it summarises ("" if unknown)
    key: str = field(default="", compare=False)

    def discussion_working_days(self, grade: str | None) -> int:
        """As ``dates.discussion_working_days(settings, grade or "")``."""
        return self.discussion_days.get(grade or "", self.discussion_default)

    def to_json(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation,
            "tools": [[t.id, t.domains, t.version] for t in self.tools],
            "region": self.region,
            "discussion_days": dict(self.discussion_days),
            "discussion_default": self.discussion_default,
            "limits": [self.limits.max_file_mb, self.limits.max_form_unzipped_mb,
                       self.limits.conversion_timeout_seconds],
            "extra": dict(self.extra),
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConfigSummary:
        return cls(
            organisation=str(data["organisation"]),
            tools=tuple(ToolSummary(str(i), int(n), str(v)) for i, n, v in data["tools"]),
            region=str(data["region"]),
            discussion_days={str(g): int(n) for g, n in data["discussion_days"].items()},
            discussion_default=int(data["discussion_default"]),
            limits=LimitSummary(int(data["limits"][0]), int(data["limits"][1]), float(data["limits"][2])),
            extra=dict(data["extra"]),
        )


def _code_key(sources: tuple[Path, ...]) -> list[Any]:
    here = Path(__file__).resolve().parent
    key: list[Any] = []
    for path in [*(here / name for name in SOURCES), *sources]:
        key.append([path.name, hashlib.sha256(path.read_bytes()).hexdigest()])
    for name in LIBRARIES:
        spec = importlib.util.find_spec(name)  # found, not imported
        origin = spec.origin if spec is not None else None
        if origin is None:
            key.append([name, None])
            continue
        stat = os.stat(origin)
        key.append([name, origin, stat.st_size, stat.st_mtime_ns])
    return key


def cache_key(folder: Path, sources: tuple[Path, ...] = ()) -> str:
    """The key of the config in ``folder`` as the code now validates it: every config
    file's name and contents, and the code."""
    files = [[p.name, hashlib.sha256(p.read_bytes()).hexdigest()] for p in sorted(folder.glob("*.yaml"))]
    blob = json.dumps([FORMAT, str(folder.resolve()), files, _code_key(sources)], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _key_or_none(folder: Path, sources: tuple[Path, ...]) -> str | None:
    """The key, or None where a file cannot be read (loading the config then says why)."""
    try:
        return cache_key(folder, sources) if folder.is_dir() else None
    except OSError:
        return None


def _read_cache(cache: Path, key: str) -> ConfigSummary | None:
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        return ConfigSummary.from_json(data["summary"]) if data.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None  # none yet, or unreadable: made again


def _write_cache(cache: Path, key: str, summary: ConfigSummary) -> None:
    """Written whole or not at all (a temporary file renamed), readable by its owner only."""
    blob = json.dumps({"key": key, "summary": summary.to_json()}, ensure_ascii=False).encode("utf-8")
    try:
        fd, name = tempfile.mkstemp(prefix=".config-summary-", dir=cache.parent)  # mode 0o600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(name, cache)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
    except OSError:
        pass  # a read-only workspace: the next command validates again


def config_summary(
    folder: Path, cache: Path | None, make: Callable[[], ConfigSummary], sources: tuple[Path, ...] = ()
) -> ConfigSummary:
    """The summary of the config in ``folder``: from ``cache`` if it was made from this
    very config by this code, else ``make()`` (which loads and validates the config in
    full, raising its errors, and summarises it, reading ``sources`` besides this
    package's own), then cached if ``cache``'s folder exists and the files did not change
    meanwhile."""
    key = _key_or_none(folder, sources) if cache is not None else None
    if cache is not None and key is not None:
        found = _read_cache(cache, key)
        if found is not None:
            return replace(found, key=key)
    summary = make()
    if cache is not None and key is not None:
        summary = replace(summary, key=key)
        remember(folder, cache, summary, sources)
    return summary


def remember(folder: Path, cache: Path, summary: ConfigSummary, sources: tuple[Path, ...] = ()) -> None:
    """Cache ``summary`` (with what was added to its ``extra`` since) if the config is still
    the one it summarises and ``cache``'s folder exists."""
    if summary.key and cache.parent.is_dir() and _key_or_none(folder, sources) == summary.key:
        _write_cache(cache, summary.key, summary)
