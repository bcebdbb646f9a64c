"""A calendar rule that can never occur is an error with file:line; one that has ended is reported, with
the next occurrences of every rule (what `window lint` prints)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops.config.calendars.calendar import parse_calendar
from gitops.config.calendars.rules import rule_reports
from gitops.config.yamlsafe import parse_yaml
from gitops.errors import ConfigError
from tests.fixtures.windows import ISSUE_EXAMPLE

TODAY = date(2026, 12, 2)
PAYROLL = """\
timezone: Europe/Berlin
business_days:
  holidays: {country: DE, subdiv: BY}
  closures: ["2026-12-24"]
anchors:
  payroll_monthly: {rrule: "%s", adjust: preceding}
windows:
  - {id: payroll, kind: deny, on: [payroll_monthly], pad_before: 1, pad_after: 1}
"""


def _parse(text: str, today: date = TODAY):  # type: ignore[no-untyped-def]
    return parse_calendar(parse_yaml(text, "calendars/payroll.yaml"), "payroll", today=today)


def _problems(text: str, today: date = TODAY) -> list[tuple[str, int, str]]:
    with pytest.raises(ConfigError) as caught:
        _parse(text, today)
    return [(p.file, p.line, p.message) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY=32 can never match"),
        ("FREQ=MONTHLY;BYMONTHDAY=25,-32", "BYMONTHDAY=-32 can never match"),
        ("FREQ=MONTHLY;BYMONTHDAY=32;COUNT=5", "BYMONTHDAY=32 can never match"),
        ("FREQ=YEARLY;BYYEARDAY=367", "BYYEARDAY=367 can never match"),
        ("FREQ=YEARLY;BYWEEKNO=54;BYDAY=MO", "BYWEEKNO=54 can never match"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "like February 30"),
        ("FREQ=MONTHLY;BYMONTH=4,6;BYMONTHDAY=31,-31", "like February 30"),
        ("FREQ=MONTHLY;BYMONTHDAY=25;COUNT=0", "never occurs between 2026-12-02 and 2036-12-02"),
        ("FREQ=MONTHLY;BYMONTHDAY=25;UNTIL=19000101", "never occurs between 2026-12-02 and 2036-12-02"),
    ],
)
def test_a_payroll_rule_that_never_occurs_is_an_error_on_its_line(rule: str, why: str) -> None:
    ((file, line, message),) = _problems(PAYROLL % rule)
    assert (file, line) == ("calendars/payroll.yaml", 6)
    assert "payroll_monthly" in message and why in message


def test_a_rule_that_matches_some_months_is_fine() -> None:
    calendar = _parse(PAYROLL % "FREQ=YEARLY;BYMONTH=2,3;BYMONTHDAY=30")
    (report,) = rule_reports(calendar, TODAY)
    assert report.upcoming[0] == (date(2027, 3, 30), date(2027, 3, 30))


@pytest.mark.parametrize(
    ("anchor", "why"),
    [
        ("{dates: []}", "never occurs"),
        ('{rrule: "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1", dtstart: "2090-01-01"}', "never occurs"),
    ],
)
def test_other_anchors_that_never_occur(anchor: str, why: str) -> None:
    text = f"timezone: UTC\nanchors:\n  a: {anchor}\nwindows:\n  - {{id: w, kind: deny, on: [a]}}\n"
    ((file, line, message),) = _problems(text)
    assert (file, line) == ("calendars/payroll.yaml", 3) and why in message


def test_every_impossible_rule_is_reported_at_once() -> None:
    text = (
        "timezone: UTC\nanchors:\n"
        '  a: {rrule: "FREQ=MONTHLY;BYMONTHDAY=32"}\n'
        '  b: {rrule: "FREQ=MONTHLY;BYMONTHDAY=25"}\n'
        '  c: {rrule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}\n'
    )
    assert [line for _, line, _ in _problems(text)] == [3, 5]


def test_a_business_day_a_short_month_lacks_is_clamped_not_lost() -> None:
    calendar = _parse("timezone: UTC\nanchors:\n  a: {business_day_of_month: 22, months: [2]}\n")
    (report,) = rule_reports(calendar, TODAY)
    assert report.upcoming[0] == (date(2027, 2, 26), date(2027, 2, 26))  # the last business day


def test_past_dates_have_ended() -> None:
    calendar = _parse('timezone: UTC\nanchors:\n  go_live: {dates: ["2019-05-01", "2026-11-30"]}\n')
    (report,) = rule_reports(calendar, TODAY)
    assert (report.state, report.ended_on) == ("ended", date(2026, 11, 30))


def test_an_ended_rule_loads_and_is_reported_as_ended() -> None:
    calendar = _parse(PAYROLL % "FREQ=MONTHLY;BYMONTHDAY=25;UNTIL=20200101")
    (report,) = rule_reports(calendar, TODAY)
    assert (report.anchor, report.state, report.upcoming) == ("payroll_monthly", "ended", ())
    assert report.ended_on == date(2019, 12, 24)  # the 25th was a holiday: moved to the day before


def test_a_rule_with_a_future_until_is_ok_until_it_ends() -> None:
    text = PAYROLL % "FREQ=MONTHLY;BYMONTHDAY=25;UNTIL=20270301"
    (report,) = rule_reports(_parse(text), TODAY)
    assert report.state == "ok"
    assert [first for first, _ in report.upcoming] == [
        date(2026, 12, 23),
        date(2027, 1, 25),
        date(2027, 2, 25),
    ]
    later = date(2027, 6, 1)
    (report,) = rule_reports(_parse(text, later), later)
    assert (report.state, report.ended_on) == ("ended", date(2027, 2, 25))


def test_the_next_three_occurrences_of_every_rule() -> None:
    calendar = parse_calendar(parse_yaml(ISSUE_EXAMPLE, "calendars/payroll.yaml"), "payroll", today=TODAY)
    reports = {r.anchor: r for r in rule_reports(calendar, TODAY)}
    assert list(reports) == ["payroll_monthly", "payroll_biweekly", "month_close"]
    assert all(r.state == "ok" and len(r.upcoming) == 3 for r in reports.values())
    # Dec 25 is Christmas, the 24th a closure: the pay date moves back to Wednesday the 23rd
    assert reports["payroll_monthly"].upcoming[0] == (date(2026, 12, 23), date(2026, 12, 23))
    assert reports["payroll_biweekly"].upcoming[:2] == ((date(2026, 12, 11),) * 2, (date(2026, 12, 23),) * 2)
    # the November close is still running today; December's starts on the third-last business day
    assert reports["month_close"].upcoming[:2] == (
        (date(2026, 11, 26), date(2026, 12, 2)),
        (date(2026, 12, 29), date(2027, 1, 5)),
    )
    assert all(last >= TODAY for r in reports.values() for _, last in r.upcoming)


_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    month=st.integers(min_value=1, max_value=12),
    day=st.integers(min_value=-40, max_value=40).filter(bool),
    freq=st.sampled_from(["YEARLY", "MONTHLY"]),
)
def test_a_month_day_rule_loads_exactly_when_it_can_occur(month: int, day: int, freq: str) -> None:
    text = PAYROLL % f"FREQ={freq};BYMONTH={month};BYMONTHDAY={day}"
    if abs(day) > _DAYS[month - 1]:
        ((_, line, message),) = _problems(text)
        assert line == 6 and "can never match" in message
        return
    (report,) = rule_reports(_parse(text), TODAY)
    assert report.state == "ok" and len(report.upcoming) == 3  # Feb 29: 2028, 2032, 2036
    assert all(TODAY <= first <= date(2036, 12, 2) for first, _ in report.upcoming)
