"""ICS export: parses with icalendar and expands (recurring-ical-events) to exactly the listed intervals."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import recurring_ical_events

from gitops.windows.ics import render_ics
from gitops.windows.verdict import evaluate
from tests.fixtures.windows import ISSUE_EXAMPLE, calendar_from, utc


def expand(document: bytes, start: datetime, end: datetime) -> list[tuple[datetime, datetime, bool]]:
    parsed = icalendar.Calendar.from_ical(document)
    events = recurring_ical_events.of(parsed).between(start, end)
    rows = [
        (
            e.decoded("dtstart").astimezone(UTC),
            e.decoded("dtend").astimezone(UTC),
            str(e.get("x-odoo-gitops-open")) == "TRUE",
        )
        for e in events
    ]
    return sorted(rows)


def test_ics_expands_to_the_same_intervals_as_list() -> None:
    calendars = [
        calendar_from(ISSUE_EXAMPLE, "payroll"),
        calendar_from(
            """\
        timezone: America/New_York
        anchors: {quarter: {business_day_of_month: -1, months: [3, 6, 9, 12]}}
        windows: [{id: quarter-end, kind: deny, on: [quarter]}]
        """,
            "us-quarter",
        ),
    ]
    start, end = utc(2026, 1, 1), utc(2027, 1, 1)
    intervals = evaluate(calendars, start, end)
    document = render_ics("prod", intervals, generated_at=utc(2026, 11, 22, 12))
    assert expand(document, start, end) == [(i.start, i.end, i.open) for i in intervals]
    parsed = icalendar.Calendar.from_ical(document)
    closed = [e for e in parsed.walk("VEVENT") if str(e.get("x-odoo-gitops-open")) == "FALSE"]
    assert all(str(e.get("transp")) == "OPAQUE" for e in closed)
    assert len({str(e.get("uid")) for e in parsed.walk("VEVENT")}) == len(intervals)
    assert any("us-quarter/quarter-end" in str(e.get("summary")) for e in closed)


def test_ics_is_deterministic_for_the_same_inputs() -> None:
    calendar = calendar_from(ISSUE_EXAMPLE, "payroll")
    intervals = evaluate([calendar], utc(2026, 3, 1), utc(2026, 4, 1))
    stamp = utc(2026, 11, 22)
    assert render_ics("prod", intervals, generated_at=stamp) == render_ics(
        "prod", intervals, generated_at=stamp
    )
    assert b"BEGIN:VTIMEZONE" not in render_ics("prod", intervals, generated_at=stamp)  # UTC times only
