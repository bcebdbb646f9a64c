"""The interval engine against real zones: DST gaps and folds, odd offsets, midnights, month/year ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from gitops.config.calendars.calendar import Calendar
from gitops.windows.verdict import check, evaluate, next_open, open_until
from tests.fixtures.windows import ISSUE_EXAMPLE, calendar_from, utc

Span = tuple[datetime, datetime]


def spans(calendars: list[Calendar], start: datetime, end: datetime, *, opened: bool) -> list[Span]:
    return [(i.start, i.end) for i in evaluate(calendars, start, end) if i.open == opened]


def closed_merged(calendars: list[Calendar], start: datetime, end: datetime) -> list[Span]:
    merged: list[Span] = []
    for first, last in spans(calendars, start, end, opened=False):
        if merged and merged[-1][1] == first:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


def allow_calendar(zone: str, days: str, start: str, end: str, extra: str = "") -> Calendar:
    return calendar_from(f"""\
        timezone: {zone}
        windows:
          - {{id: w, kind: allow, days: [{days}], start: "{start}", end: "{end}"{extra}}}
        """)


def deny_dates(zone: str, *dates: str) -> Calendar:
    listed = ", ".join(f'"{d}"' for d in dates)
    return calendar_from(f"""\
        timezone: {zone}
        anchors:
          days: {{dates: [{listed}]}}
        windows:
          - {{id: freeze, kind: deny, on: [days]}}
        """)


# --- New York: spring-forward gap (02:00 EST -> 03:00 EDT at 07:00Z) and fall-back fold --------------


def test_new_york_gap_allow_window_starting_in_the_gap_shrinks() -> None:
    calendar = allow_calendar("America/New_York", "sun", "02:30", "04:00")
    assert spans([calendar], utc(2026, 3, 8), utc(2026, 3, 9), opened=True) == [
        (utc(2026, 3, 8, 7, 30), utc(2026, 3, 8, 8))  # opens at 03:30 EDT, not at 02:00-ish
    ]
    assert spans([calendar], utc(2026, 3, 15), utc(2026, 3, 16), opened=True) == [
        (utc(2026, 3, 15, 6, 30), utc(2026, 3, 15, 8))  # a normal Sunday: 1 h 30
    ]


def test_new_york_gap_allow_window_ending_in_the_gap_closes_early() -> None:
    calendar = allow_calendar("America/New_York", "sun", "00:30", "02:30")
    assert spans([calendar], utc(2026, 3, 8), utc(2026, 3, 9), opened=True) == [
        (utc(2026, 3, 8, 5, 30), utc(2026, 3, 8, 6, 30))  # closes at 01:30 EST, the earlier reading of 02:30
    ]


def test_new_york_fold_allow_window_opens_at_the_second_0130() -> None:
    calendar = allow_calendar("America/New_York", "sun", "01:30", "03:00")
    assert spans([calendar], utc(2026, 11, 1), utc(2026, 11, 2), opened=True) == [
        (utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 8))
    ]


def test_new_york_fold_overnight_allow_window_closes_at_the_first_0130() -> None:
    calendar = allow_calendar("America/New_York", "sat", "22:00", "01:30")
    assert spans([calendar], utc(2026, 10, 31), utc(2026, 11, 2), opened=True) == [
        (utc(2026, 11, 1, 2), utc(2026, 11, 1, 5, 30))
    ]


def test_new_york_deny_days_are_23_and_25_hours_long() -> None:
    calendar = deny_dates("America/New_York", "2026-03-08", "2026-11-01")
    assert closed_merged([calendar], utc(2026, 1, 1), utc(2027, 1, 1)) == [
        (utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)),
        (utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)),
    ]


# --- Berlin: gap 02:00 CET -> 03:00 CEST (01:00Z, 29 Mar), fold 03:00 CEST -> 02:00 CET (01:00Z, 25 Oct) --


def test_berlin_gap() -> None:
    around = allow_calendar("Europe/Berlin", "sun", "01:00", "04:00")
    assert spans([around], utc(2026, 3, 29), utc(2026, 3, 30), opened=True) == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 2))  # two real hours
    ]
    inside = allow_calendar("Europe/Berlin", "sun", "02:30", "03:30")
    assert spans([inside], utc(2026, 3, 29), utc(2026, 3, 30), opened=True) == []  # shrinks to nothing
    assert check([inside], utc(2026, 3, 29, 1, 15)).open is False


def test_berlin_fold() -> None:
    calendar = allow_calendar("Europe/Berlin", "sun", "02:30", "04:00")
    assert spans([calendar], utc(2026, 10, 25), utc(2026, 10, 26), opened=True) == [
        (utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 3))
    ]
    freeze = deny_dates("Europe/Berlin", "2026-10-25")
    assert closed_merged([freeze], utc(2026, 10, 1), utc(2026, 11, 1)) == [
        (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    ]


# --- Santiago: local midnight does not exist on 2026-09-06 (00:00 -04 -> 01:00 -03 at 04:00Z) ----------


def test_santiago_missing_midnight_grows_the_deny_day() -> None:
    sixth = deny_dates("America/Santiago", "2026-09-06")
    # 00:00 on the 6th reads as 03:00Z or 04:00Z; a deny starts at the earlier one.
    assert closed_merged([sixth], utc(2026, 9, 1), utc(2026, 9, 10)) == [
        (utc(2026, 9, 6, 3), utc(2026, 9, 7, 3))
    ]
    fifth = deny_dates("America/Santiago", "2026-09-05")
    assert closed_merged([fifth], utc(2026, 9, 1), utc(2026, 9, 10)) == [
        (utc(2026, 9, 5, 4), utc(2026, 9, 6, 4))
    ]
    both = deny_dates("America/Santiago", "2026-09-05", "2026-09-06")
    assert closed_merged([both], utc(2026, 9, 1), utc(2026, 9, 10)) == [
        (utc(2026, 9, 5, 4), utc(2026, 9, 7, 3))
    ]


def test_santiago_allow_window_from_the_missing_midnight() -> None:
    calendar = allow_calendar("America/Santiago", "sun", "00:00", "06:00")
    assert spans([calendar], utc(2026, 9, 6), utc(2026, 9, 7), opened=True) == [
        (utc(2026, 9, 6, 4), utc(2026, 9, 6, 9))
    ]


# --- 30- and 45-minute offsets ----------------------------------------------------------------------------


def test_lord_howe_half_hour_dst() -> None:
    days = deny_dates("Australia/Lord_Howe", "2026-04-05", "2026-10-04", "2026-07-01")
    assert closed_merged([days], utc(2026, 1, 1), utc(2027, 1, 1)) == [
        (utc(2026, 4, 4, 13), utc(2026, 4, 5, 13, 30)),  # 24 h 30: +11 -> +10:30
        (utc(2026, 6, 30, 13, 30), utc(2026, 7, 1, 13, 30)),
        (utc(2026, 10, 3, 13, 30), utc(2026, 10, 4, 13)),  # 23 h 30: +10:30 -> +11
    ]
    fold = allow_calendar("Australia/Lord_Howe", "sun", "01:45", "03:00")
    assert spans([fold], utc(2026, 4, 4), utc(2026, 4, 5), opened=True) == [
        (utc(2026, 4, 4, 15, 15), utc(2026, 4, 4, 16, 30))  # the second 01:45 (+10:30)
    ]


def test_kathmandu_quarter_hour_offset() -> None:
    calendar = allow_calendar("Asia/Kathmandu", "mon, tue, wed, thu, fri", "19:00", "23:00")
    assert spans([calendar], utc(2026, 6, 1), utc(2026, 6, 3), opened=True) == [
        (utc(2026, 6, 1, 13, 15), utc(2026, 6, 1, 17, 15)),
        (utc(2026, 6, 2, 13, 15), utc(2026, 6, 2, 17, 15)),
    ]


# --- Windows crossing midnight ----------------------------------------------------------------------------


def test_overnight_allow_window_on_business_days_only() -> None:
    calendar = calendar_from("""\
        timezone: Europe/Berlin
        business_days: {holidays: {country: DE, subdiv: BY}}
        windows:
          - {id: night, kind: allow, days: [fri], start: "22:00", end: "02:00", business_days_only: true}
        """)
    opened = spans([calendar], utc(2026, 3, 30), utc(2026, 4, 13), opened=True)
    # Fri 3 Apr is Good Friday; Fri 10 Apr runs into Saturday.
    assert opened == [(utc(2026, 4, 10, 20), utc(2026, 4, 11))]


def test_equal_start_and_end_is_a_full_day_and_days_join() -> None:
    calendar = allow_calendar("Europe/Berlin", "mon, tue", "06:00", "06:00")
    assert spans([calendar], utc(2026, 6, 1), utc(2026, 6, 8), opened=True) == [
        (utc(2026, 6, 1, 4), utc(2026, 6, 3, 4))
    ]


# --- Month and year ends, payroll, holidays ---------------------------------------------------------------


def test_month_close_across_the_year_end() -> None:
    calendar = calendar_from(ISSUE_EXAMPLE, "payroll")
    verdict = check([calendar], utc(2026, 12, 31, 12), env="production")
    close = [r for r in verdict.blocked_by if r.window == "close"]
    assert close and (close[0].start, close[0].end) == (utc(2026, 12, 28, 23), utc(2027, 1, 5, 23))
    after = check([calendar], utc(2027, 1, 6, 0))
    assert [r.window for r in after.blocked_by] == ["prod-evenings"]  # Epiphany: no evening window either
    # Thu 7 Jan is the pad before the biweekly payroll of Fri 8 Jan (padded through Mon 11): Tue 12 Jan
    assert after.next_open == utc(2027, 1, 12, 18)


def test_payroll_on_a_saturday_25th_with_business_day_pads() -> None:
    calendar = calendar_from(ISSUE_EXAMPLE, "payroll")
    verdict = check([calendar], utc(2026, 4, 25, 12))
    payroll = [r for r in verdict.blocked_by if r.window == "payroll"]
    # Sat 25 Apr -> Fri 24; one business day either side: Thu 23 .. Mon 27, whole local days (CEST)
    assert [(r.start, r.end) for r in payroll] == [(utc(2026, 4, 22, 22), utc(2026, 4, 27, 22))]


def test_us_holiday_observed_in_the_previous_year() -> None:
    calendar = calendar_from("""\
        timezone: America/New_York
        business_days: {holidays: {country: US}}
        anchors:
          month_end: {rrule: "FREQ=MONTHLY;BYMONTHDAY=-1", adjust: preceding}
        windows:
          - {id: month-end, kind: deny, on: [month_end]}
        """)
    assert closed_merged([calendar], utc(2021, 12, 2), utc(2022, 1, 15)) == [
        (utc(2021, 12, 30, 5), utc(2021, 12, 31, 5))  # Fri 31 Dec is New Year (observed)
    ]


def test_february_29_deny() -> None:
    calendar = calendar_from("""\
        timezone: Asia/Tokyo
        anchors:
          leap: {rrule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"}
        windows:
          - {id: leap, kind: deny, on: [leap]}
        """)
    assert closed_merged([calendar], utc(2027, 1, 1), utc(2029, 1, 1)) == [
        (utc(2028, 2, 28, 15), utc(2028, 2, 29, 15))
    ]


def test_deny_beats_allow_and_every_calendar_must_be_open() -> None:
    evenings = allow_calendar("Europe/Berlin", "tue, wed, thu", "19:00", "23:00")
    freeze = deny_dates("America/New_York", "2026-06-03")
    verdict = check([evenings, freeze], utc(2026, 6, 3, 18))
    assert not verdict.open
    assert [(r.calendar, r.kind) for r in verdict.blocked_by] == [("cal", "deny")]
    assert check([evenings, freeze], utc(2026, 6, 4, 18)).open
    assert check([evenings, freeze], utc(2026, 6, 4, 16, 59)).open is False  # 18:59 CEST


# --- Verdicts and searches --------------------------------------------------------------------------------


def test_open_verdict_says_until_when() -> None:
    calendar = allow_calendar("Europe/Berlin", "tue", "19:00", "23:00")
    verdict = check([calendar], utc(2026, 6, 2, 18), env="prod")
    assert (verdict.open, verdict.open_until, verdict.next_open) == (
        True,
        utc(2026, 6, 2, 21),
        utc(2026, 6, 2, 18),
    )
    assert verdict.to_dict() == {
        "env": "prod",
        "at": "2026-06-02T18:00:00Z",
        "open": True,
        "blocked_by": [],
        "open_until": "2026-06-02T21:00:00Z",
        "next_open": "2026-06-02T18:00:00Z",
    }
    closed = check([calendar], utc(2026, 6, 2, 21), env="prod").to_dict()
    assert closed["open"] is False and closed["next_open"] == "2026-06-09T17:00:00Z"
    assert closed["blocked_by"] == [
        {
            "calendar": "cal",
            "window": "w",
            "kind": "outside_allow",
            "from": "2026-06-02T21:00:00Z",
            "to": "2026-06-09T17:00:00Z",
        }
    ]
    assert open_until([calendar], utc(2026, 6, 2, 21)) is None
    assert next_open([calendar], utc(2026, 6, 2, 21)) == utc(2026, 6, 9, 17)


def test_never_open_and_always_open() -> None:
    never = calendar_from("""\
        timezone: UTC
        anchors: {every_day: {rrule: "FREQ=DAILY"}}
        windows: [{id: frozen, kind: deny, on: [every_day]}]
        """)
    verdict = check([never], utc(2026, 5, 1))
    assert (verdict.open, verdict.next_open) == (False, None)
    always = calendar_from("timezone: UTC\n")
    verdict = check([always], utc(2026, 5, 1))
    assert (verdict.open, verdict.open_until, verdict.blocked_by) == (True, None, ())
    assert evaluate([always], utc(2026, 1, 1), utc(2028, 1, 1))[0].end == utc(2028, 1, 1)
    assert check([], utc(2026, 5, 1)).open


def test_evaluate_covers_the_range_and_never_repeats_a_verdict() -> None:
    calendar = calendar_from(ISSUE_EXAMPLE, "payroll")
    start, end = datetime(2026, 3, 1, 10, 7, tzinfo=UTC), utc(2027, 2, 1)
    intervals = evaluate([calendar], start, end)
    assert intervals[0].start == start and intervals[-1].end == end
    for first, second in pairwise(intervals):
        assert first.end == second.start
        assert (first.open, first.blocked_by) != (second.open, second.blocked_by)
    assert evaluate([calendar], end, start) == []


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        check([], datetime(2026, 1, 1))


def test_offsets_in_input_are_respected() -> None:
    calendar = allow_calendar("Europe/Berlin", "tue", "19:00", "23:00")
    from zoneinfo import ZoneInfo

    local = datetime(2026, 6, 2, 19, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert check([calendar], local).open
    assert check([calendar], local - timedelta(seconds=1)).open is False


# --- The machine's TZ never matters -----------------------------------------------------------------------

_PROBE = """
import json, sys
from datetime import datetime, UTC
from gitops.windows.verdict import evaluate, check
from tests.fixtures.windows import ISSUE_EXAMPLE, calendar_from
cal = calendar_from(ISSUE_EXAMPLE, "payroll")
start, end = datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 10, tzinfo=UTC)
rows = [i.to_dict() for i in evaluate([cal], start, end)]
rows.append(check([cal], datetime(2026, 3, 29, 1, 30, tzinfo=UTC)).to_dict())
print(json.dumps(rows))
"""


def _probe_under_tz(tz: str, repo_root: Path) -> object:
    env = {**os.environ, "TZ": tz, "PYTHONPATH": str(repo_root)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_results_do_not_depend_on_the_process_tz(repo_root: Path) -> None:
    baseline = _probe_under_tz("UTC", repo_root)
    assert baseline[-1]["open"] is False  # type: ignore[index]
    for tz in ("America/Los_Angeles", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Kiritimati"):
        assert _probe_under_tz(tz, repo_root) == baseline, tz


def test_results_do_not_depend_on_time_tzset(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    calendar = calendar_from(ISSUE_EXAMPLE, "payroll")
    start, end = utc(2026, 10, 20), utc(2026, 11, 5)
    baseline = [i.to_dict() for i in evaluate([calendar], start, end)]
    try:
        monkeypatch.setenv("TZ", "America/St_Johns")
        time.tzset()
        fresh = calendar_from(ISSUE_EXAMPLE, "payroll")  # new identity: nothing comes from the cache
        assert [i.to_dict() for i in evaluate([fresh], start, end)] == baseline
    finally:
        monkeypatch.undo()
        time.tzset()


def test_nothing_splits_at_the_utc_year_boundary() -> None:
    calendar = calendar_from(ISSUE_EXAMPLE, "payroll")
    boundary = utc(2027, 1, 1)
    intervals = evaluate([calendar], utc(2026, 12, 20), utc(2027, 1, 20))
    assert boundary not in {item.start for item in intervals}
    assert (
        check([calendar], boundary - timedelta(hours=1)).blocked_by == check([calendar], boundary).blocked_by
    )
    weekly = allow_calendar("Asia/Kathmandu", "tue", "10:00", "12:00")
    gap = [i for i in evaluate([weekly], utc(2026, 12, 1), utc(2027, 2, 1)) if i.start <= boundary < i.end]
    assert len(gap) == 1 and gap[0].blocked_by[0].start == utc(2026, 12, 29, 6, 15)
    assert gap[0].blocked_by[0].end == utc(2027, 1, 5, 4, 15)
