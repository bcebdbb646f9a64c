"""Parsing and validation of calendars/<name>.yaml: every problem at once, each with file:line."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from gitops.config.calendars.calendar import parse_calendar
from gitops.config.yamlsafe import parse_yaml
from gitops.errors import ConfigError
from tests.fixtures.windows import ISSUE_EXAMPLE, calendar_from


def problems_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ConfigError) as caught:
        calendar_from(text, "bad")
    assert all(p.file == "calendars/bad.yaml" for p in caught.value.problems)
    return [(p.line, p.message) for p in caught.value.problems]


def test_issue_example_parses_into_rules() -> None:
    calendar = calendar_from(ISSUE_EXAMPLE, "payroll")
    assert calendar.name == "payroll"
    assert calendar.timezone == "Europe/Berlin"
    assert [rule.id for rule in calendar.deny] == ["payroll", "close"]
    assert calendar.deny[0].anchors == ("payroll_monthly", "payroll_biweekly")
    assert (calendar.deny[0].pad_before, calendar.deny[0].pad_after) == (1, 1)
    evenings = calendar.allow[0]
    assert (evenings.start, evenings.end, evenings.business_days_only) == (time(19), time(23), True)
    assert evenings.weekdays == {1, 2, 3}
    assert calendar.business.weekend == {5, 6}
    assert calendar.business.closures == {date(2026, 12, 24)}
    assert (calendar.business.country, calendar.business.subdiv) == ("DE", "BY")


def test_bad_zone_is_reported_on_its_line() -> None:
    found = problems_of("""\
        # comment
        timezone: Europe/Munich
        """)
    assert len(found) == 1
    assert found[0][0] == 2
    assert "unknown time zone 'Europe/Munich'" in found[0][1]


def test_all_problems_are_reported_at_once_with_their_lines() -> None:
    found = problems_of("""\
        timezone: America/New_York
        business_days:
          weekend: [sat, sunday]
          closures: ["2026-13-01"]
        anchors:
          pay: {rrule: "FREQ=MONTLY;BYMONTHDAY=25"}
          close:
            business_day_of_month: -3
        windows:
          - id: evenings
            kind: allow
            days: [tue]
            start: 19:00
            end: "25:00"
          - id: freeze
            kind: deny
            on: [pay, payday]
        """)
    lines = dict(found)
    assert "unknown weekday 'sunday'" in lines[3]
    assert "bad date '2026-13-01'" in lines[4]
    assert "bad rrule" in lines[6]
    assert "bad time 1140" in lines[13] and '"19:00"' in lines[13]
    assert "bad time '25:00'" in lines[14]
    assert "unknown anchor 'payday' (known: close, pay)" in lines[17]
    assert len(found) == 6


def test_unknown_anchor_is_reported_on_the_line_of_the_item() -> None:
    found = problems_of("""\
        timezone: UTC
        anchors:
          pay: {rrule: "FREQ=MONTHLY;BYMONTHDAY=25"}
        windows:
          - id: freeze
            kind: deny
            on:
              - pay
              - payday
        """)
    assert found == [(9, "windows.0.on.1: unknown anchor 'payday' (known: pay)")]


def test_unknown_keys_are_refused() -> None:
    found = problems_of("""\
        timezone: UTC
        windows:
          - {id: w, kind: allow, start: "10:00", end: "11:00", colour: red}
        """)
    assert found[0][0] == 3
    assert "colour: unknown key" in found[0][1]


@pytest.mark.parametrize(
    ("anchor", "message"),
    [
        ('{rrule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"}', "INTERVAL > 1 needs `dtstart`"),
        ('{rrule: "FREQ=HOURLY"}', "DAILY or coarser"),
        ("{business_day_of_month: 0}", "business_day_of_month must be"),
        ("{business_day_of_month: -3, through: {business_day_of_month: 2}}", "ends before the anchor starts"),
        ("{business_day_of_month: 5, through: {business_day_of_month: 3}}", "ends before the anchor starts"),
        ("{business_day_of_month: 5, adjust: following}", "`adjust` does not apply"),
        ('{dates: ["2026-02-30"]}', "bad date"),
        ("{adjust: preceding}", "exactly one of"),
        ('{rrule: "FREQ=MONTHLY", dtstart: "2026-01-01", dates: ["2026-01-02"]}', "exactly one of"),
    ],
)
def test_bad_anchors(anchor: str, message: str) -> None:
    found = problems_of(f"timezone: UTC\nanchors:\n  a: {anchor}\n")
    assert found[0][0] == 3
    assert message in found[0][1]


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ('{id: w, kind: deny, start: "10:00"}', "needs `on`"),
        ('{id: w, kind: allow, start: "10:00"}', "needs `start` and `end`"),
        ('{id: w, kind: allow, start: "10:00", end: "11:00", pad_before: 1}', "deny windows only"),
        ('{id: "w x", kind: allow, start: "10:00", end: "11:00"}', "bad window id"),
        ('{id: w, kind: maybe, start: "10:00", end: "11:00"}', "kind"),
        ('{id: w, kind: allow, start: "7pm", end: "11:00"}', "bad time '7pm'"),
    ],
)
def test_bad_windows(window: str, message: str) -> None:
    found = problems_of(f"timezone: UTC\nwindows:\n  - {window}\n")
    assert found[0][0] == 3
    assert message in found[0][1]


def test_unknown_holiday_country_and_subdivision() -> None:
    assert (
        "unknown holidays country 'XX'"
        in problems_of("timezone: UTC\nbusiness_days:\n  holidays: {country: XX}\n")[0][1]
    )
    found = problems_of("timezone: UTC\nbusiness_days:\n  holidays: {country: DE, subdiv: ZZ}\n")
    assert found[0][0] == 3 and "unknown subdivision 'ZZ' of DE" in found[0][1]


def test_duplicate_window_ids() -> None:
    found = problems_of("""\
        timezone: UTC
        windows:
          - {id: w, kind: allow, start: "10:00", end: "11:00"}
          - {id: w, kind: allow, start: "12:00", end: "13:00"}
        """)
    assert found == [(4, "windows.1.id: duplicate window id 'w'")]


def test_a_document_that_is_not_a_mapping() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_calendar(parse_yaml("- just\n- a list\n", "calendars/x.yaml"), "x")
    assert caught.value.problems[0].file == "calendars/x.yaml"


def test_missing_timezone() -> None:
    assert "timezone: required key is missing" in problems_of("windows: []\n")[0][1]


def test_a_whole_week_weekend_and_empty_days_are_refused() -> None:
    found = problems_of("""\
        timezone: UTC
        business_days:
          weekend: [mon, tue, wed, thu, fri, sat, sun]
        windows:
          - {id: w, kind: allow, days: [], start: "10:00", end: "11:00"}
        """)
    assert [line for line, _ in found] == [3, 5]
    assert "cannot be the whole week" in found[0][1]


def test_the_documented_example_is_valid(repo_root: Path) -> None:
    text = (repo_root / "docs" / "windows.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    calendar = parse_calendar(parse_yaml(example, "docs/windows.md"), "documented")
    assert {"quarter_close", "go_live_freeze"} <= set(calendar.anchors)
    assert [rule.id for rule in calendar.deny] == ["payroll", "close"]


@pytest.mark.parametrize(
    ("line3", "message"),
    [
        ('  - {id: w, kind: allow, start: "10:00", end: "11:00", business_days_only: "no"}', "valid boolean"),
        ('  - {id: w, kind: allow, start: "10:00", end: "11:00", business_days_only: 1}', "valid boolean"),
        ('  - {id: w, kind: deny, on: [a], pad_before: "1"}', "valid integer"),
        ("  - {id: w, kind: deny, on: [a], pad_after: true}", "valid integer"),
        ('  - {id: w, kind: allow, start: "10:00\\n", end: "11:00"}', "bad time"),
        ('  - {id: "w\\n", kind: allow, start: "10:00", end: "11:00"}', "bad window id"),
        ("  - {id: w, kind: deny, on: [7]}", "valid string"),
    ],
)
def test_window_values_are_never_coerced(line3: str, message: str) -> None:
    found = problems_of(f'timezone: UTC\nwindows:\n{line3}\nanchors:\n  a: {{dates: ["2030-01-01"]}}\n')
    assert found[0][0] == 3 and message in found[0][1], found


@pytest.mark.parametrize(
    ("anchor", "message"),
    [
        ('{business_day_of_month: "5"}', "valid integer"),
        ("{business_day_of_month: 5, months: [true]}", "valid integer"),
        ('{business_day_of_month: 5, months: ["3"]}', "valid integer"),
        ("{rrule: 42}", "valid string"),
        ("{dates: [20261224]}", "bad date"),
    ],
)
def test_anchor_values_are_never_coerced(anchor: str, message: str) -> None:
    found = problems_of(f"timezone: UTC\nanchors:\n  a: {anchor}\n")
    assert found[0][0] == 3 and message in found[0][1], found


def test_holiday_observed_must_be_a_boolean() -> None:
    found = problems_of("timezone: UTC\nbusiness_days:\n  holidays: {country: DE, observed: 'no'}\n")
    assert found[0][0] == 3 and "valid boolean" in found[0][1]
