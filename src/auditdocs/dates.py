"""Dates as the framework counts them: months (``YYYY-MM``), quarters, UK calendar days,
and working days under the UK bank-holiday calendars of the ``holidays`` library."""

from __future__ import annotations

import calendar
import os
import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from auditdocs.errors import UsageError

if TYPE_CHECKING:
    from auditdocs.config.models import Settings

_SUBDIVISION = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}

# --- dates as people write them ----------------------------------------------------------

_DATE_FORMATS = (
    "%d/%m/%Y",
    "%d/%m/%y",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y-%m-%d",
    "%d %B %Y",
    "%d %b %Y",
    "%A, %d %B %Y",
    "%A %d %B %Y",
    "%B %d, %Y",
)
_ORDINAL = re.compile(r"(?<=\d)(st|nd|rd|th)\b", re.I)


def parse_uk_date(text: str) -> date | None:
    """A date as a UK user writes it: 05/12/2026, 5 December 2026, 2026-12-05..."""
    cleaned = _ORDINAL.sub("", " ".join(text.split())).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


# --- months and quarters ----------------------------------------------------------------

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.IGNORECASE)


def is_month(text: str) -> bool:
    return bool(_MONTH.fullmatch(text))


def check_month(month: str) -> str:
    """A month as users give it: YYYY-MM (spaces around it ignored), or a usage error."""
    if not _MONTH.fullmatch(month.strip()):
        raise UsageError(f"{month!r} is not a month (use YYYY-MM, e.g. 2026-11)")
    return month.strip()


def parse_quarter(text: str) -> tuple[str, list[str]]:
    """'2026Q4' → ('2026Q4', ['2026-10', '2026-11', '2026-12'])."""
    m = _QUARTER.match(text.strip())
    if not m:
        raise UsageError(f"quarter {text!r}: use YYYYQn, e.g. 2026Q4")
    year, q = int(m.group(1)), int(m.group(2))
    return f"{year}Q{q}", [f"{year}-{3 * (q - 1) + n:02d}" for n in (1, 2, 3)]


def quarter_of(month: str) -> str:
    """'2026-11' → '2026Q4' (calendar quarters, as :func:`parse_quarter` reads them)."""
    year, mon = map(int, month.split("-"))
    return f"{year}Q{(mon - 1) // 3 + 1}"


def shift_month(month: str, months: int) -> str:
    """'2026-11' shifted by -1 → '2026-10'."""
    year, mon = map(int, month.split("-"))
    return (date(year, mon, 1) + relativedelta(months=months)).strftime("%Y-%m")


def month_label(month: str, short: bool = False) -> str:
    """'2026-11' → 'November 2026' (short: 'Nov 2026')."""
    year, mon = map(int, month.split("-"))
    return date(year, mon, 1).strftime("%b %Y" if short else "%B %Y")


def uk_date(day: date) -> str:
    """A date as UK readers write it: 30/11/2026."""
    return day.strftime("%d/%m/%Y")


# --- UK days and working days ----------------------------------------------------------

#: Deadlines are UK calendar days: a return due on 30 June and sent at 00:30 BST on 1 July
#: (23:30 on 30 June in UTC) is late.
UK = ZoneInfo("Europe/London")


def uk_day(moment: datetime) -> date:
    """The UK calendar day of ``moment`` (a time without a zone is UTC, as the store gives it back)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UK).date()


#: The clock: set to an ISO 8601 time (``2026-12-03T10:00``, UTC unless it says) to run
#: the cycle as of that moment, for scenario tests over several months or to replay one.
CLOCK_VARIABLE = "AUDITDOCS_NOW"


def now() -> datetime:
    """The time now (UTC), or the time in ``AUDITDOCS_NOW`` when it is set."""
    fixed = os.environ.get(CLOCK_VARIABLE)
    if not fixed:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(fixed)
    except ValueError:
        raise UsageError(f"{CLOCK_VARIABLE}={fixed!r} is not a time; use ISO 8601, e.g. 2026-12-03T10:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def uk_today() -> date:
    return uk_day(now())


#: (region, year) → that year's bank holidays, worked out once per process (or given by
#: the workspace's config cache, ``known_bank_holidays``).
_BANK_HOLIDAYS: dict[tuple[str, int], frozenset[date]] = {}


def bank_holidays(region: str, year: int) -> frozenset[date]:
    """The bank holidays (substitute days included) of ``region`` in ``year``."""
    found = _BANK_HOLIDAYS.get((region, year))
    if found is None:
        subdivision = _SUBDIVISION[region]
        # Imported here: `holidays` takes 0.1 s to import, which only the commands that
        # count working days need; and only the years asked for are worked out.
        import holidays

        listed = holidays.country_holidays("GB", subdiv=subdivision, years=year)
        found = _BANK_HOLIDAYS[(region, year)] = frozenset(day for day in listed if day.year == year)
    return found


def known_bank_holidays(region: str, year: int, days: frozenset[date]) -> None:
    """Take ``days`` as the bank holidays of ``region`` in ``year`` (as ``bank_holidays``
    worked them out before, kept in a cache), so this process need not import ``holidays``."""
    _BANK_HOLIDAYS.setdefault((region, year), days)


def is_working_day(day: date, region: str = "england-and-wales") -> bool:
    return day.weekday() < 5 and day not in bank_holidays(region, day.year)


@lru_cache(maxsize=4096)  # a report works out a deadline for each of thousands of audits, from a few days
def add_working_days(start: date, days: int, region: str = "england-and-wales") -> date:
    """The date ``days`` working days after ``start`` (start itself not counted)."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day, region):
            days -= 1
    return day


def last_working_day(year: int, month: int, region: str = "england-and-wales") -> date:
    day = date(year, month, calendar.monthrange(year, month)[1])
    while not is_working_day(day, region):
        day -= timedelta(days=1)
    return day


def first_working_day(year: int, month: int, region: str = "england-and-wales") -> date:
    day = date(year, month, 1)
    while not is_working_day(day, region):
        day += timedelta(days=1)
    return day


# --- the framework's deadlines (2.2, 2.10, 2.11), from config ---------------------------


def audit_due(settings: Settings, month: str, issued: date | None = None) -> date:
    """When an audit of ``month`` is due: the last working day of the month (2.2), or
    ``audit_due_working_days`` working days from issue (default: the month's first
    working day)."""
    year, mon = map(int, month.split("-"))
    region = settings.organisation.bank_holidays
    deadlines = settings.deadlines
    if deadlines.audit_due == "working_days":
        start = issued or first_working_day(year, mon, region)
        return add_working_days(start, deadlines.audit_due_working_days, region)
    return last_working_day(year, mon, region)


def discussion_working_days(settings: Settings, grade: str) -> int:
    """Working days for the practitioner discussion after an audit graded ``grade`` (2.10).

    A grade without its own rule takes the rule of the nearest grade below it that has
    one (Outstanding: Good's), or, below every rule, the shortest."""
    days = settings.deadlines.discussion_working_days
    if grade in days:
        return days[grade]
    ranks = {g.id: g.rank for g in settings.grading.grades}
    rank = ranks.get(grade)
    below = sorted(((ranks[g], n) for g, n in days.items() if rank is not None and ranks[g] < rank), reverse=True)
    if below:
        return below[0][1]
    return min(days.values(), default=10)


def discussion_due(settings: Settings, grade: str | None, accepted: date) -> date:
    """When the team manager and worker must have discussed the findings (2.10): working
    days by the overall grade, counted from the day the audit was accepted (its plan then
    goes to the team manager).  The one rule for send, chase, ingest and the reports."""
    days = discussion_working_days(settings, grade or "")
    return add_working_days(accepted, days, settings.organisation.bank_holidays)


def resubmission_due(settings: Settings, returned: date) -> date:
    """When an audit sent back for amending must come back (2.11)."""
    deadlines = settings.deadlines
    return add_working_days(returned, deadlines.amendment_working_days, settings.organisation.bank_holidays)
