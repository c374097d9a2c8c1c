"""Working days under the UK bank-holiday calendars of the ``holidays`` library."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays

_SUBDIVISION = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}


@lru_cache(maxsize=8)
def _calendar(region: str) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv=_SUBDIVISION[region], years=range(2000, 2101))


def is_working_day(day: date, region: str = "england-and-wales") -> bool:
    return day.weekday() < 5 and day not in _calendar(region)


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
