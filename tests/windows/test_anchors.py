"""Anchor occurrences: nominal dates shifted to business days, business-day-of-month ranges."""

from __future__ import annotations

from datetime import date

from gitops.config.calendars.anchors import occurrences
from gitops.config.calendars.businessdays import BusinessDays
from gitops.config.calendars.spec import AnchorSpec

BAVARIA = BusinessDays.of(weekend=["sat", "sun"], country="DE", subdiv="BY", closures=[date(2026, 12, 24)])
US = BusinessDays.of(weekend=["sat", "sun"], country="US")


def days(spec: dict[str, object], business: BusinessDays, year: int) -> list[date]:
    return [first for first, _ in occurrences(AnchorSpec.model_validate(spec), business, year)]


def test_the_25th_on_weekends_and_holidays_moves_to_the_preceding_business_day() -> None:
    paid = days({"rrule": "FREQ=MONTHLY;BYMONTHDAY=25", "adjust": "preceding"}, BAVARIA, 2026)
    assert len(paid) == 12  # shifted, never dropped
    assert date(2026, 4, 24) in paid  # Sat 25 Apr
    assert date(2026, 10, 23) in paid  # Sun 25 Oct
    assert date(2026, 5, 22) in paid  # Mon 25 May is Pentecost Monday
    assert date(2026, 12, 23) in paid  # Fri 25 Dec holiday, 24 Dec closure
    following = days({"rrule": "FREQ=MONTHLY;BYMONTHDAY=25", "adjust": "following"}, BAVARIA, 2026)
    assert date(2026, 12, 28) in following and date(2026, 5, 26) in following
    nominal = days({"rrule": "FREQ=MONTHLY;BYMONTHDAY=25"}, BAVARIA, 2026)
    assert date(2026, 4, 25) in nominal


def test_biweekly_pay_dates_26_or_27_a_year() -> None:
    spec = {"rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "dtstart": "2021-01-01"}
    assert len(days(spec, US, 2021)) == 27  # 2021 has 53 Fridays, the phase catches 1 Jan and 31 Dec
    assert len(days(spec, US, 2022)) == 26
    assert len(days({**spec, "dtstart": "2026-01-02"}, BAVARIA, 2026)) == 26
    # The phase of 2 Jan 2026 reaches Fri 1 Jan 2027, a holiday: that pay date moves back into 2026
    shifted = {**spec, "dtstart": "2026-01-02", "adjust": "preceding"}
    assert days(shifted, BAVARIA, 2027)[0] == date(2026, 12, 31)
    other_phase = {**spec, "dtstart": "2026-01-09", "adjust": "preceding"}
    assert days(other_phase, BAVARIA, 2026)[-1] == date(2026, 12, 23)  # Christmas Friday, closure on 24th


def test_observed_new_year_moves_a_payroll_into_the_previous_year() -> None:
    month_end = days({"rrule": "FREQ=MONTHLY;BYMONTHDAY=-1", "adjust": "preceding"}, US, 2021)
    assert month_end[-1] == date(2021, 12, 30)


def test_february_29_rrule_only_in_leap_years() -> None:
    spec = {"rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"}
    assert days(spec, BAVARIA, 2028) == [date(2028, 2, 29)]
    assert days(spec, BAVARIA, 2027) == []


def test_month_close_runs_through_the_next_month_across_the_year_end() -> None:
    spec = {"business_day_of_month": -3, "through": {"business_day_of_month": 2, "months_after": 1}}
    ranges = occurrences(AnchorSpec.model_validate(spec), BAVARIA, 2026)
    assert len(ranges) == 12
    # 3rd-last business day of Dec (24 closure, 25/26 holidays) through the 2nd of Jan (1 Jan holiday)
    assert ranges[-1] == (date(2026, 12, 29), date(2027, 1, 5))
    assert ranges[1] == (date(2026, 2, 25), date(2026, 3, 3))


def test_quarter_months_only() -> None:
    spec = {"business_day_of_month": 1, "months": [3, 6, 9, 12]}
    assert days(spec, BAVARIA, 2026) == [
        date(2026, 3, 2),
        date(2026, 6, 1),
        date(2026, 9, 1),
        date(2026, 12, 1),
    ]


def test_explicit_dates() -> None:
    spec = {"dates": ["2026-06-14", "2027-01-01"], "adjust": "following"}
    assert days(spec, BAVARIA, 2026) == [date(2026, 6, 15)]
    assert days(spec, BAVARIA, 2027) == [date(2027, 1, 4)]
