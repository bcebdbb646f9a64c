"""The interval engine: open/closed intervals with reasons for a set of calendars, by interval arithmetic.

A time is open when no deny window of any calendar covers it and, for each calendar with allow windows,
one of them covers it. Intervals are computed per UTC year (cached) by sweeping block edges; nothing
here scans minutes, reads the clock or the process time zone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from gitops.config.calendars.compiled import Calendar
from gitops.windows.blocks import Block, Reason, calendar_blocks, iso, year_bounds

SEARCH_HORIZON = timedelta(days=400)


@dataclass(frozen=True)
class Interval:
    """[start, end) in UTC; closed intervals say why (`blocked_by`, sorted)."""

    start: datetime
    end: datetime
    open: bool
    blocked_by: tuple[Reason, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "open": self.open,
            "blocked_by": [reason.to_dict() for reason in self.blocked_by],
        }


@dataclass(frozen=True)
class WindowVerdict:
    """The answer for one instant: open or not, why not, until when, and when it next opens."""

    env: str
    at: datetime
    open: bool
    blocked_by: tuple[Reason, ...] = ()
    open_until: datetime | None = None
    next_open: datetime | None = None
    calendars: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "at": iso(self.at),
            "open": self.open,
            "blocked_by": [reason.to_dict() for reason in self.blocked_by],
            "open_until": iso(self.open_until),
            "next_open": iso(self.next_open),
        }


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive datetime is refused (its meaning would depend on the machine)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no UTC offset; give e.g. 2026-03-08T10:00:00+01:00")
    return moment.astimezone(UTC)


def _sweep(blocks: Sequence[Block], low: datetime, high: datetime) -> list[Interval]:
    """Intervals covering [low, high): between consecutive block edges the set of reasons is constant."""
    events: list[tuple[datetime, int, Reason]] = []
    active: Counter[Reason] = Counter()
    for block in blocks:
        if block.end <= low or block.start >= high:
            continue
        if block.start <= low:
            active[block.reason] += 1
        else:
            events.append((block.start, 1, block.reason))
        if block.end < high:
            events.append((block.end, -1, block.reason))
    events.sort(key=lambda event: event[0])
    intervals: list[Interval] = []
    cursor, index = low, 0
    while cursor < high:
        while index < len(events) and events[index][0] == cursor:
            active[events[index][2]] += events[index][1]
            index += 1
        following = events[index][0] if index < len(events) else high
        reasons = tuple(sorted((r for r, n in active.items() if n > 0), key=Reason.sort_key))
        _append(intervals, Interval(cursor, following, not reasons, reasons))
        cursor = following
    return intervals


def _same_verdict(first: Interval, second: Interval) -> bool:
    return (first.open, first.blocked_by) == (second.open, second.blocked_by)


def _append(intervals: list[Interval], item: Interval) -> None:
    """Append, joining with the previous interval when the verdict (open, reasons) is the same."""
    if item.start >= item.end:
        return
    if intervals and intervals[-1].end == item.start and _same_verdict(intervals[-1], item):
        intervals[-1] = Interval(intervals[-1].start, item.end, item.open, item.blocked_by)
    else:
        intervals.append(item)


@lru_cache(maxsize=4096)
def _year_timeline(calendars: tuple[Calendar, ...], year: int) -> tuple[Interval, ...]:
    blocks = [block for calendar in calendars for block in calendar_blocks(calendar, year)]
    return tuple(_sweep(blocks, *year_bounds(year)))


def evaluate(calendars: Sequence[Calendar], start: datetime, end: datetime) -> list[Interval]:
    """Sorted open/closed intervals covering [start, end) in UTC; adjacent intervals always differ."""
    low, high = as_utc(start), as_utc(end)
    if high <= low:
        return []
    key = tuple(calendars)
    intervals: list[Interval] = []
    for year in range(low.year, (high - timedelta(microseconds=1)).year + 1):
        for item in _year_timeline(key, year):
            if item.end > low and item.start < high:
                _append(
                    intervals, Interval(max(item.start, low), min(item.end, high), item.open, item.blocked_by)
                )
    return intervals


def _forward(calendars: Sequence[Calendar], at: datetime) -> Iterator[Interval]:
    """Intervals from `at` onwards, joined across year boundaries, up to the search horizon."""
    horizon = at + SEARCH_HORIZON
    key = tuple(calendars)
    pending: Interval | None = None
    for year in range(at.year, horizon.year + 1):
        for item in _year_timeline(key, year):
            if item.end <= at or item.start >= horizon:
                continue
            clipped = Interval(max(item.start, at), min(item.end, horizon), item.open, item.blocked_by)
            if pending and pending.end == clipped.start and _same_verdict(pending, clipped):
                pending = Interval(pending.start, clipped.end, clipped.open, clipped.blocked_by)
                continue
            if pending:
                yield pending
            pending = clipped
    if pending:
        yield pending


def next_open(calendars: Sequence[Calendar], at: datetime) -> datetime | None:
    """`at` if open then; else the first open instant after it within 400 days; None if none."""
    moment = as_utc(at)
    return next((item.start for item in _forward(calendars, moment) if item.open), None)


def open_until(calendars: Sequence[Calendar], at: datetime) -> datetime | None:
    """When an open `at` next closes (None: not within 400 days, or not open at `at`)."""
    moment = as_utc(at)
    stretch = _forward(calendars, moment)
    first = next(stretch, None)
    if first is None or not first.open:
        return None
    return next((item.start for item in stretch if not item.open), None)


def check(calendars: Sequence[Calendar], at: datetime, *, env: str = "") -> WindowVerdict:
    """The verdict at `at`: open or closed, the reasons, open_until and next_open."""
    moment = as_utc(at)
    stretch = _forward(calendars, moment)
    current = next(stretch)
    if current.open:
        until = next((item.start for item in stretch if not item.open), None)
        return WindowVerdict(
            env=env,
            at=moment,
            open=True,
            open_until=until,
            next_open=moment,
            calendars=tuple(c.name for c in calendars),
        )
    upcoming = next((item.start for item in stretch if item.open), None)
    return WindowVerdict(
        env=env,
        at=moment,
        open=False,
        blocked_by=current.blocked_by,
        next_open=upcoming,
        calendars=tuple(c.name for c in calendars),
    )


def clear_caches() -> None:
    """Forget cached evaluations (benchmarks measure cold runs with this)."""
    from gitops.config.calendars import businessdays
    from gitops.windows import blocks

    _year_timeline.cache_clear()
    blocks.calendar_blocks.cache_clear()
    blocks._allow_spans_of_local_year.cache_clear()
    businessdays._public_holidays.cache_clear()
