"""The calendar's layout: days cut at local midnight (23- and 25-hour days included), deny windows as
freezes, holidays and anchors named, pending promotions at the engine's next opening."""

from __future__ import annotations

from datetime import UTC, date, timedelta

from gitops.board.site_calendar import PendingPromotion, env_calendar
from gitops.windows.verdict import next_open
from tests.board_site.conftest import DST_CALENDAR, NOW
from tests.fixtures.windows import calendar_from

NEW_YORK = """\
timezone: America/New_York
business_days: {weekend: [sat, sun], holidays: {country: US}}
windows:
  - {id: nights, kind: allow, days: [mon, tue, wed, thu, fri, sat, sun], start: "01:00", end: "04:00"}
"""


def _days(weeks: int = 8, timezone: str = "Europe/Berlin", text: str = DST_CALENDAR, **kw: object) -> dict:
    calendar = calendar_from(text, "cal")
    layout = env_calendar(
        env="prod",
        timezone=timezone,
        calendars=(calendar,),
        now=NOW,
        weeks=weeks,
        **kw,  # type: ignore[arg-type]
    )
    return {day.day: day for week in layout.weeks for day in week}


def test_weeks_start_on_the_monday_of_now_in_the_env_zone() -> None:
    days = _days(weeks=2)
    assert min(days) == date(2026, 3, 16) and max(days) == date(2026, 3, 29)
    assert len(days) == 14


def test_every_day_is_covered_from_midnight_to_midnight() -> None:
    for day in _days().values():
        labels = [(s.start_label, s.end_label) for s in day.segments]
        assert labels[0][0] == "00:00" and labels[-1][1] == "24:00", day.day
        real = sum((s.end.astimezone(UTC) - s.start.astimezone(UTC) for s in day.segments), timedelta())
        expected = timedelta(hours=23 if day.day == date(2026, 3, 29) else 24)
        assert real == expected, day.day


def test_freeze_days_and_evening_window_across_berlin_dst() -> None:
    days = _days()
    for day in (date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)):
        assert [(s.kind, s.start_label, s.end_label, s.reasons) for s in days[day].segments] == [
            ("freeze", "00:00", "24:00", ("cal/evenings", "cal/spring-freeze"))
        ]
        assert days[day].is_frozen
    for day in (date(2026, 3, 24), date(2026, 3, 31)):
        assert [(s.kind, s.start_label, s.end_label) for s in days[day].segments] == [
            ("closed", "00:00", "19:00"),
            ("open", "19:00", "23:00"),
            ("closed", "23:00", "24:00"),
        ]
    assert "cal: freeze_days" in days[date(2026, 3, 29)].notes


def test_new_york_falls_back_on_its_own_sunday() -> None:
    days = _days(weeks=40, timezone="America/New_York", text=NEW_YORK)
    fall_back = days[date(2026, 11, 1)]  # 25 hours: 01:00-02:00 happens twice
    assert [(s.kind, s.start_label, s.end_label) for s in fall_back.segments] == [
        ("closed", "00:00", "01:00"),
        ("open", "01:00", "04:00"),
        ("closed", "04:00", "24:00"),
    ]
    real = sum((s.end.astimezone(UTC) - s.start.astimezone(UTC) for s in fall_back.segments), timedelta())
    assert real == timedelta(hours=25)
    # the engine resolves the ambiguous 01:00 toward closed (its second occurrence): 3 real hours open
    assert fall_back.segments[1].end.astimezone(UTC) - fall_back.segments[1].start.astimezone(UTC) == (
        timedelta(hours=3)
    )
    assert "public holiday" in days[date(2026, 11, 26)].notes  # Thanksgiving


def test_holidays_are_named_on_their_day() -> None:
    days = _days(weeks=8)
    assert "public holiday" in days[date(2026, 4, 3)].notes  # Good Friday in Bavaria
    assert "public holiday" in days[date(2026, 4, 6)].notes  # Easter Monday
    assert "public holiday" not in days[date(2026, 4, 7)].notes


def test_pending_promotions_sit_at_the_next_opening() -> None:
    pending = (PendingPromotion("7", "staging → prod canary", "promotion-7.html"),)
    days = _days(pending=pending)
    marked = [(d, m.at.strftime("%H:%M")) for d, day in days.items() for m in day.pending]
    calendar = calendar_from(DST_CALENDAR, "cal")
    opening = next_open([calendar], NOW)
    assert opening is not None
    assert marked == [(opening.astimezone(days[date(2026, 3, 24)].segments[0].start.tzinfo).date(), "19:00")]


NEVER = """\
timezone: UTC
anchors:
  every: {rrule: FREQ=DAILY}
windows:
  - {id: always, kind: deny, on: [every]}
"""


def test_no_pending_mark_when_the_window_never_opens() -> None:
    pending = (PendingPromotion("7", "x", "promotion-7.html"),)
    days = _days(text=NEVER, timezone="UTC", pending=pending)
    assert all(day.is_frozen and not day.pending for day in days.values())
