"""Business-day arithmetic against the real `holidays` package."""

from __future__ import annotations

from datetime import date

import pytest

from gitops.config.calendars.businessdays import BusinessDays, NoBusinessDayError

US = BusinessDays.of(weekend=["sat", "sun"], country="US")
BAVARIA = BusinessDays.of(weekend=["sat", "sun"], country="DE", subdiv="BY", closures=[date(2026, 12, 24)])


def test_us_new_year_2022_is_observed_on_friday_2021_12_31() -> None:
    assert not US.is_business_day(date(2021, 12, 31))
    assert US.step(date(2022, 1, 3), -1) == date(2021, 12, 30)  # back over the weekend and the observed day
    assert US.adjust(date(2022, 1, 1), "preceding") == date(2021, 12, 30)
    assert US.adjust(date(2022, 1, 1), "following") == date(2022, 1, 3)


def test_regional_holidays_and_closures() -> None:
    assert not BAVARIA.is_business_day(date(2026, 1, 6))  # Epiphany, Bavaria only
    assert BusinessDays.of(weekend=["sat", "sun"], country="DE", subdiv="BE").is_business_day(
        date(2026, 1, 6)
    )
    assert not BAVARIA.is_business_day(date(2026, 12, 24))  # company closure
    assert BAVARIA.adjust(date(2026, 12, 25), "preceding") == date(2026, 12, 23)
    assert BAVARIA.adjust(date(2026, 12, 25), "following") == date(2026, 12, 28)
    assert BAVARIA.adjust(date(2026, 12, 25), "none") == date(2026, 12, 25)


def test_step_counts_only_business_days_and_zero_is_identity() -> None:
    friday = date(2026, 3, 6)
    assert BAVARIA.step(friday, 1) == date(2026, 3, 9)
    assert BAVARIA.step(friday, 5) == date(2026, 3, 13)
    assert BAVARIA.step(date(2026, 3, 9), -1) == friday
    assert BAVARIA.step(date(2026, 3, 7), 0) == date(2026, 3, 7)
    # Across Easter 2026 (Good Friday 3 Apr, Easter Monday 6 Apr)
    assert BAVARIA.step(date(2026, 4, 2), 1) == date(2026, 4, 7)


def test_custom_weekend() -> None:
    gulf = BusinessDays.of(weekend=["fri", "sat"])
    assert not gulf.is_business_day(date(2026, 3, 6))
    assert gulf.is_business_day(date(2026, 3, 8))


def test_nth_business_day_of_month_from_start_and_end() -> None:
    assert BAVARIA.nth_of_month(2026, 1, 1) == date(2026, 1, 2)  # 1 Jan holiday
    assert BAVARIA.nth_of_month(2026, 1, 2) == date(2026, 1, 5)
    assert BAVARIA.nth_of_month(2026, 12, -1) == date(2026, 12, 31)
    assert BAVARIA.nth_of_month(2026, 12, -4) == date(2026, 12, 28)
    assert BAVARIA.nth_of_month(2026, 12, -5) == date(2026, 12, 23)  # 24 closure, 25/26 holidays
    assert BAVARIA.nth_of_month(2026, 2, 30) == date(2026, 2, 27)  # clamped, never dropped


def test_february_29() -> None:
    assert BAVARIA.nth_of_month(2028, 2, -1) == date(2028, 2, 29)
    assert BAVARIA.nth_of_month(2027, 2, -1) == date(2027, 2, 26)
    assert len(BAVARIA.business_days_in_month(2028, 2)) == 21


def test_a_calendar_without_business_days_fails_loudly() -> None:
    never = BusinessDays.of(weekend=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    with pytest.raises(NoBusinessDayError):
        never.step(date(2026, 1, 1), 1)
    assert never.nth_of_month(2026, 1, 1) is None
