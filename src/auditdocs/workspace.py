"""A workspace: the folder a QA team works in (config/, templates/, sample/, output/).

``auditdocs init DIR`` creates one from the bundled config and templates.  The
workspace's secret key (``.auditdocs/secret.key``) signs every document it issues.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from auditdocs.errors import UsageError

# The config (pydantic) and the store (SQLAlchemy) are imported when first used: most of a
# command's start otherwise, and `parse` and `config check` never open the store.  The
# quick commands read the config's summary (cached) and a SQLite store directly instead.
if TYPE_CHECKING:
    from auditdocs.config import Config
    from auditdocs.config.summary import ConfigSummary
    from auditdocs.store import Store
    from auditdocs.store.quick import StatusReads

#: The month of the synthetic sample that ``auditdocs init`` writes into ``sample/``.
SAMPLE_MONTH = "2026-11"
#: The years around this one whose bank holidays the config's summary keeps (before,
#: after): other years are worked out when asked for.
HOLIDAY_YEARS = (2, 3)


def bundled_root() -> Path:
    """Where the shipped config/ and templates/ live: inside the wheel, or the repo."""
    packaged = Path(str(resources.files("auditdocs"))) / "_bundled"
    if (packaged / "config").is_dir():
        return packaged
    repo = Path(__file__).resolve().parents[2]
    if (repo / "config").is_dir() and (repo / "templates").is_dir():
        return repo
    raise UsageError("the bundled config and templates are missing; reinstall auditdocs")


@dataclass
class Workspace:
    root: Path
    _config: Config | None = field(default=None, repr=False)
    _stores: dict[str, Store] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: Path | None = None) -> Workspace:
        root = Path(path) if path is not None else Path.cwd()
        if not (root / "config").is_dir():
            raise UsageError(
                f"{root}: not an auditdocs workspace (no config/ folder); "
                "run `auditdocs init DIR` or pass --workspace DIR"
            )
        return cls(root)

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def sample_dir(self) -> Path:
        return self.root / "sample"

    @property
    def sample_allocation(self) -> Path:
        """The sample month's allocation workbook (``sample/allocation-2026-11.xlsx``)."""
        return self.sample_dir / f"allocation-{SAMPLE_MONTH}.xlsx"

    @property
    def state_dir(self) -> Path:
        return self.root / ".auditdocs"

    @cached_property
    def config(self) -> Config:
        from auditdocs.config import load_config

        return load_config(self.config_dir)

    @cached_property
    def config_summary(self) -> ConfigSummary:
        """What the quick commands need of the config (``config.summary``): from the cache
        in ``.auditdocs/`` while the config and the code are those it was made from, else
        from the config loaded and validated in full (its errors raised as ever).  The
        region's bank holidays come with it once ``with_bank_holidays`` has added them."""
        from auditdocs import dates
        from auditdocs.config.summary import config_summary

        summary = config_summary(self.config_dir, self._summary_cache, self._summarise, self._summary_sources)
        for year, days in summary.extra.get("bank_holidays", {}).items():
            dates.known_bank_holidays(summary.region, int(year), frozenset(map(date.fromisoformat, days)))
        return summary

    @property
    def _summary_cache(self) -> Path:
        return self.state_dir / "config-summary.json"

    @property
    def _summary_sources(self) -> tuple[Path, ...]:
        from auditdocs import dates

        return (Path(__file__), Path(dates.__file__))

    def _summarise(self) -> ConfigSummary:
        from auditdocs.config.summary import ConfigSummary, LimitSummary, ToolSummary
        from auditdocs.dates import discussion_working_days

        config = self.config
        settings = config.settings
        grades = {g.id for g in settings.grading.grades} | set(settings.deadlines.discussion_working_days)
        limits = settings.limits
        return ConfigSummary(
            organisation=settings.organisation.name,
            tools=tuple(ToolSummary(t.id, len(t.domains), config.version(t.id)) for t in config.tools.values()),
            region=settings.organisation.bank_holidays,
            discussion_days={g: discussion_working_days(settings, g) for g in sorted(grades)},
            discussion_default=discussion_working_days(settings, ""),
            limits=LimitSummary(limits.max_file_mb, limits.max_form_unzipped_mb, limits.conversion_timeout_seconds),
        )

    def with_bank_holidays(self) -> ConfigSummary:
        """The config's summary with the region's bank holidays of the years around this
        one, so that working days are counted without importing ``holidays``: the first
        time after the config changed they are worked out (``dates.bank_holidays``) and
        added to the cache."""
        from dataclasses import replace

        from auditdocs.config.summary import remember
        from auditdocs.dates import bank_holidays, uk_today

        summary = self.config_summary
        if "bank_holidays" not in summary.extra:
            this_year = uk_today().year
            years = range(this_year - HOLIDAY_YEARS[0], this_year + HOLIDAY_YEARS[1] + 1)
            days = {str(y): sorted(d.isoformat() for d in bank_holidays(summary.region, y)) for y in years}
            summary = replace(summary, extra={**summary.extra, "bank_holidays": days})
            remember(self.config_dir, self._summary_cache, summary, self._summary_sources)
            self.__dict__["config_summary"] = summary
        return summary

    @property
    def key_path(self) -> Path:
        return self.state_dir / "secret.key"

    def key(self, create: bool = False) -> bytes:
        """The workspace's signing key; created on first use when ``create``."""
        if not self.key_path.exists():
            if not create:
                raise UsageError(
                    f"{self.key_path}: no workspace key, so forms cannot be checked; "
                    "run commands in the workspace that issued the forms"
                )
            self.state_dir.mkdir(mode=0o700, exist_ok=True)
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
        text = self.key_path.read_text().strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) < 16:
            raise UsageError(f"{self.key_path}: not a valid key; restore it from backup")
        return key

    def reader(self) -> StatusReads:
        """What ``status`` reads the store through: a SQLite store at a known schema read
        directly (``store.quick``: no SQLAlchemy to import), else the store itself (which
        creates or migrates it, as ever)."""
        path = self.state_dir / "store.sqlite"
        if not os.environ.get("AUDITDOCS_DATABASE_URL") and f"sqlite:///{path}" not in self._stores:
            from auditdocs.store.quick import QuickReader

            quick = QuickReader.open(path)
            if quick is not None:
                return quick
        return self.store()

    def store(self) -> Store:
        """The workspace's store: ``$AUDITDOCS_DATABASE_URL`` or .auditdocs/store.sqlite."""
        url = os.environ.get("AUDITDOCS_DATABASE_URL")
        if not url:
            self.state_dir.mkdir(mode=0o700, exist_ok=True)
            path = self.state_dir / "store.sqlite"
            # Created owner-only before SQLite opens it (its -wal and -shm files take its mode).
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            url = f"sqlite:///{path}"
        # One Store (and one migration check) per workspace object and database.
        if url not in self._stores:
            from auditdocs.store import Store

            self._stores[url] = Store(url)
        return self._stores[url]


def create_workspace(root: Path) -> Workspace:
    """Create a workspace folder with the bundled config and templates, output/ and a key
    (``auditdocs init`` adds the sample month: :func:`auditdocs.sample.month.init_workspace`)."""
    root = Path(root)
    if (root / "config").exists():
        raise UsageError(f"{root}: already a workspace (config/ exists); nothing was changed")
    root.mkdir(parents=True, exist_ok=True)
    source = bundled_root()
    shutil.copytree(source / "config", root / "config")
    shutil.copytree(source / "templates", root / "templates")
    (root / "output").mkdir(exist_ok=True, mode=0o700)  # returns, feedback and reports go here
    (root / ".gitignore").write_text("output/\n.auditdocs/\n")
    ws = Workspace(root)
    ws.key(create=True)
    return ws
