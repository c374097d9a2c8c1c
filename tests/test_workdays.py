"""Deadlines in working days under the UK bank-holiday calendars (framework 2.2, 2.10,
2.11): Christmas and New Year, Easter, substitute days, and Scotland's 2 January."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from auditdocs.config import Settings
from auditdocs.dates import (
    add_working_days,
    audit_due,
    discussion_due,
    discussion_working_days,
    first_working_day,
    is_working_day,
    last_working_day,
    resubmission_due,
    uk_day,
)
from auditdocs.workspace import Workspace


@pytest.fixture(scope="module")
def settings(workspace: Workspace) -> Settings:
    return workspace.config.settings


def in_region(settings: Settings, region: str, **deadlines: object) -> Settings:
    return settings.model_copy(
        update={
            "organisation": settings.organisation.model_copy(update={"bank_holidays": region}),
            "deadlines": settings.deadlines.model_copy(update=deadlines),
        }
    )


def test_an_amendment_over_christmas_skips_the_bank_holidays_and_the_weekend(settings: Settings) -> None:
    # Wed 23/12/2026 + 3: Thu 24 (1); Fri 25 Christmas; weekend; Mon 28 Boxing Day
    # (substitute: the 26th is a Saturday); Tue 29 (2); Wed 30 (3).
    assert resubmission_due(settings, date(2026, 12, 23)) == date(2026, 12, 30)


def test_boxing_day_on_a_saturday_moves_to_monday() -> None:
    assert date(2026, 12, 26).weekday() == 5
    assert not is_working_day(date(2026, 12, 28))
    assert is_working_day(date(2026, 12, 29))


def test_easter_monday_is_a_holiday_in_england_but_not_in_scotland() -> None:
    # Thu 02/04/2026 + 1: Good Friday (3rd) everywhere, Easter Monday (6th) not in Scotland.
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert add_working_days(date(2026, 4, 2), 1, "northern-ireland") == date(2026, 4, 7)
    assert add_working_days(date(2026, 4, 2), 1, "scotland") == date(2026, 4, 6)


def test_scotland_keeps_the_second_of_january(settings: Settings) -> None:
    assert add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 2)
    assert add_working_days(date(2025, 12, 31), 1, "scotland") == date(2026, 1, 5)
    assert resubmission_due(in_region(settings, "scotland"), date(2025, 12, 31)) == date(2026, 1, 7)


def test_an_audit_is_due_on_the_last_working_day_of_the_month(settings: Settings) -> None:
    assert audit_due(settings, "2026-11") == date(2026, 11, 30)
    assert audit_due(settings, "2026-12") == date(2026, 12, 31)
    # Monday 31 August 2026 is the summer bank holiday in England, not in Scotland.
    assert audit_due(settings, "2026-08") == date(2026, 8, 28)
    assert audit_due(in_region(settings, "scotland"), "2026-08") == date(2026, 8, 31)
    assert last_working_day(2027, 1) == date(2027, 1, 29)


def test_an_audit_can_be_due_working_days_from_issue(settings: Settings) -> None:
    england = in_region(settings, "england-and-wales", audit_due="working_days", audit_due_working_days=10)
    scotland = in_region(settings, "scotland", audit_due="working_days", audit_due_working_days=10)
    # Issued on the month's first working day by default: Mon 4 January 2027 in England;
    # in Scotland the 1st, the 2nd (a Saturday, so Mon 4th instead) are holidays: Tue 5th.
    assert first_working_day(2027, 1) == date(2027, 1, 4)
    assert first_working_day(2027, 1, "scotland") == date(2027, 1, 5)
    assert audit_due(england, "2027-01") == date(2027, 1, 18)
    assert audit_due(scotland, "2027-01") == date(2027, 1, 19)
    assert audit_due(england, "2026-12", issued=date(2026, 12, 14)) == date(2026, 12, 30)


def test_the_discussion_is_due_sooner_for_an_inadequate_audit(settings: Settings) -> None:
    audited = date(2026, 12, 18)  # a Friday
    assert discussion_due(settings, "inadequate", audited) == date(2026, 12, 29)
    assert discussion_due(settings, "requires_improvement", audited) == date(2027, 1, 6)
    assert discussion_due(settings, "good", audited) == date(2027, 1, 6)


def test_outstanding_takes_goods_rule_when_it_has_none(settings: Settings) -> None:
    assert "outstanding" not in settings.deadlines.discussion_working_days
    assert discussion_working_days(settings, "outstanding") == 10
    quick = in_region(settings, "england-and-wales", discussion_working_days={"inadequate": 5, "good": 7})
    assert discussion_working_days(quick, "outstanding") == 7
    assert discussion_working_days(quick, "requires_improvement") == 5  # the nearest rule below
    assert discussion_working_days(quick, "unknown") == 5  # the shortest


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), date(2026, 7, 1)),  # 00:30 BST: the next day in the UK
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), date(2026, 11, 30)),  # GMT: the same day
        (datetime(2026, 6, 30, 23, 30), date(2026, 7, 1)),  # no zone (as the store gives it back): UTC
        (datetime(2026, 7, 1, 0, 30, tzinfo=timezone(timedelta(hours=2))), date(2026, 6, 30)),  # sent from Paris
    ],
)
def test_the_day_of_a_return_is_the_uk_day(moment, day):
    assert uk_day(moment) == day
