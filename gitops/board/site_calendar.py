"""The release calendar of an environment, laid out for the site: weeks of local days, each day cut into
open / closed / frozen segments at the env's local wall-clock hours, with holidays, anchors and the pending
promotions placed at their next opening.

Uses the same interval engine as `window list` / `window next` (gitops.windows.verdict); pure: no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gitops.config.calendars.anchors import occurrences
from gitops.config.calendars.calendar import Calendar
from gitops.config.calendars.zones import load_zone
from gitops.windows.verdict import Interval, evaluate, next_open

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Segment:
    """Part of one local day with one verdict; `start`/`end` are local wall-clock times."""

    start: datetime
    end: datetime
    kind: str  # open | closed (outside the allowed windows) | freeze (a deny window)
    reasons: tuple[str, ...]

    @property
    def start_label(self) -> str:
        return self.start.strftime("%H:%M")

    @property
    def end_label(self) -> str:
        return (
            "24:00"
            if self.end.time() == time() and self.end.date() > self.start.date()
            else (self.end.strftime("%H:%M"))
        )

    @property
    def left(self) -> float:
        return round(_hours(self.start_label) / 24 * 100, 3)

    @property
    def width(self) -> float:
        return round(max(_hours(self.end_label) - _hours(self.start_label), 0.0) / 24 * 100, 3)


@dataclass(frozen=True)
class Pending:
    promotion: str
    label: str
    page: str
    at: datetime  # local time of the next opening


@dataclass(frozen=True)
class Day:
    day: date
    segments: tuple[Segment, ...]
    notes: tuple[str, ...]
    pending: tuple[Pending, ...]

    @property
    def is_frozen(self) -> bool:
        return any(segment.kind == "freeze" for segment in self.segments)


@dataclass(frozen=True)
class EnvCalendar:
    env: str
    timezone: str
    weeks: tuple[tuple[Day, ...], ...]


@dataclass(frozen=True)
class PendingPromotion:
    promotion: str
    label: str
    page: str


def _hours(label: str) -> float:
    hours, minutes = label.split(":")
    return int(hours) + int(minutes) / 60


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _kind(interval: Interval) -> str:
    if interval.open:
        return "open"
    return "freeze" if any(reason.kind == "deny" for reason in interval.blocked_by) else "closed"


def _reasons(interval: Interval) -> tuple[str, ...]:
    return tuple(sorted({f"{reason.calendar}/{reason.window}" for reason in interval.blocked_by}))


def day_segments(intervals: Sequence[Interval], day: date, zone: ZoneInfo) -> tuple[Segment, ...]:
    """The intervals clipped to local `day` (its real length: 23 or 25 hours on a DST change)."""
    low, high = _local_midnight(day, zone), _local_midnight(day + ONE_DAY, zone)
    segments = []
    for interval in intervals:
        start, end = max(interval.start, low), min(interval.end, high)
        if start < end:
            segments.append(
                Segment(start.astimezone(zone), end.astimezone(zone), _kind(interval), _reasons(interval))
            )
    return tuple(segments)


def _anchor_notes(calendars: Iterable[Calendar], years: Iterable[int]) -> dict[date, set[str]]:
    notes: dict[date, set[str]] = {}
    for calendar in calendars:
        for year in years:
            for day in calendar.business.holiday_dates(year):
                notes.setdefault(day, set()).add("public holiday")
            for day in calendar.business.closures:
                notes.setdefault(day, set()).add("company closure")
            for name, spec in calendar.anchors.items():
                for first, last in occurrences(spec, calendar.business, year):
                    for offset in range((last - first).days + 1):
                        notes.setdefault(first + offset * ONE_DAY, set()).add(f"{calendar.name}: {name}")
    return notes


def env_calendar(
    *,
    env: str,
    timezone: str,
    calendars: Sequence[Calendar],
    now: datetime,
    weeks: int,
    pending: Sequence[PendingPromotion] = (),
) -> EnvCalendar:
    """`weeks` weeks of local days from the Monday of `now`'s local week, in the env's time zone."""
    zone = load_zone(timezone)
    local_now = now.astimezone(zone)
    first = local_now.date() - local_now.weekday() * ONE_DAY
    last = first + weeks * 7 * ONE_DAY
    intervals = evaluate(calendars, _local_midnight(first, zone), _local_midnight(last, zone))
    notes = _anchor_notes(calendars, range(first.year, last.year + 1))
    opening = next_open(calendars, now) if pending else None
    marks = _pending_marks(pending, opening, zone)
    days = [
        Day(
            day,
            day_segments(intervals, day, zone),
            tuple(sorted(notes.get(day, ()))),
            tuple(mark for mark in marks if mark.at.date() == day),
        )
        for day in (first + offset * ONE_DAY for offset in range(weeks * 7))
    ]
    return EnvCalendar(env, timezone, tuple(tuple(days[i : i + 7]) for i in range(0, len(days), 7)))


def _pending_marks(
    pending: Sequence[PendingPromotion], opening: datetime | None, zone: ZoneInfo
) -> tuple[Pending, ...]:
    if opening is None:
        return ()
    return tuple(Pending(p.promotion, p.label, p.page, opening.astimezone(zone)) for p in pending)
