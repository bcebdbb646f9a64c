"""What closes a calendar, as UTC intervals with reasons ("blocks"), computed per UTC year and cached.

A deny block is one occurrence of a deny window: the whole local days of an anchor occurrence, widened by
pad business days. An outside-allow block is a gap between the calendar's allow intervals (only for
calendars that have allow windows). Edges that fall on ambiguous or missing wall-clock times resolve
toward closed (zones.wall_to_utc).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any

from gitops.config.calendars.anchors import occurrences
from gitops.config.calendars.businessdays import ONE_DAY
from gitops.config.calendars.compiled import AllowRule, Calendar, DenyRule
from gitops.config.calendars.zones import wall_to_utc

MIDNIGHT = time(0, 0)
Span = tuple[datetime, datetime]


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a 'Z' suffix."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Reason:
    """Why a time is closed: one deny-window occurrence, or a gap between a calendar's allow windows.

    `start`/`end` (JSON `from`/`to`) are the full extent of that occurrence or gap, in UTC; None when a
    gap has no allow window within about a year on that side.
    """

    calendar: str
    window: str
    kind: str  # "deny" | "outside_allow"
    start: datetime | None
    end: datetime | None

    def sort_key(self) -> tuple[str, str, str, datetime, datetime]:
        return (
            self.calendar,
            self.window,
            self.kind,
            self.start or datetime.min.replace(tzinfo=UTC),
            self.end or datetime.max.replace(tzinfo=UTC),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "calendar": self.calendar,
            "window": self.window,
            "kind": self.kind,
            "from": iso(self.start),
            "to": iso(self.end),
        }


@dataclass(frozen=True)
class Block:
    """A closed span [start, end) in UTC and its reason."""

    start: datetime
    end: datetime
    reason: Reason


def year_bounds(year: int) -> Span:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def _whole_days(calendar: Calendar, first: date, last: date) -> Span:
    """The local days first..last as UTC; a deny grows over ambiguous midnights."""
    start = wall_to_utc(first, MIDNIGHT, calendar.zone, toward="earliest")
    return start, wall_to_utc(last + ONE_DAY, MIDNIGHT, calendar.zone, toward="latest")


def _deny_spans(calendar: Calendar, rule: DenyRule, years: range) -> set[Span]:
    spans = set()
    for anchor in rule.anchors:
        for year in years:
            for first, last in occurrences(calendar.anchors[anchor], calendar.business, year):
                spans.add(
                    _whole_days(
                        calendar,
                        calendar.business.step(first, -rule.pad_before),
                        calendar.business.step(last, rule.pad_after),
                    )
                )
    return spans


def deny_blocks(calendar: Calendar, year: int) -> list[Block]:
    """Deny blocks that overlap UTC `year` (anchors of neighbouring years can reach into it)."""
    low, high = year_bounds(year)
    blocks = []
    for rule in calendar.deny:
        for start, end in _deny_spans(calendar, rule, range(year - 2, year + 2)):
            if start < high and end > low and start < end:
                blocks.append(Block(start, end, Reason(calendar.name, rule.id, "deny", start, end)))
    return blocks


def _allow_on(calendar: Calendar, rule: AllowRule, day: date) -> Span | None:
    if day.weekday() not in rule.weekdays:
        return None
    if rule.business_days_only and not calendar.business.is_business_day(day):
        return None
    end_day = day + ONE_DAY if rule.end <= rule.start else day
    # An allow window shrinks over ambiguous wall-clock times: open as late, close as early as possible.
    start = wall_to_utc(day, rule.start, calendar.zone, toward="latest")
    end = wall_to_utc(end_day, rule.end, calendar.zone, toward="earliest")
    return (start, end) if start < end else None


@lru_cache(maxsize=512)
def _allow_spans_of_local_year(calendar: Calendar, year: int) -> tuple[Span, ...]:
    spans = []
    day = date(year, 1, 1)
    while day.year == year:
        for rule in calendar.allow:
            span = _allow_on(calendar, rule, day)
            if span:
                spans.append(span)
        day += ONE_DAY
    return tuple(sorted(spans))


def merge(spans: list[Span]) -> list[Span]:
    """Union of spans, sorted; touching spans join."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def outside_allow_blocks(calendar: Calendar, year: int) -> list[Block]:
    """Gaps between allow intervals that overlap UTC `year`, with their full extent as the reason.

    Allow intervals are gathered for the local years around `year`; a gap reaching the edge of that
    horizon (no allow window for about a year) reports None on that side.
    """
    if not calendar.allow:
        return []
    low, high = year_bounds(year)
    spans = merge([s for y in range(year - 1, year + 2) for s in _allow_spans_of_local_year(calendar, y)])
    horizon_low, horizon_high = year_bounds(year - 1)[0] - timedelta(days=1), year_bounds(year + 1)[1]
    edges: list[tuple[datetime | None, datetime | None]] = [(None, horizon_low), *spans, (horizon_high, None)]
    window = ",".join(rule.id for rule in calendar.allow)
    blocks = []
    for (_, start), (end, _) in pairwise(edges):
        assert start is not None and end is not None
        if start < high and end > low and start < end:
            reason = Reason(
                calendar.name,
                window,
                "outside_allow",
                None if start is horizon_low else start,
                None if end is horizon_high else end,
            )
            blocks.append(Block(start, end, reason))
    return blocks


@lru_cache(maxsize=1024)
def calendar_blocks(calendar: Calendar, year: int) -> tuple[Block, ...]:
    """Every block of `calendar` overlapping UTC `year`, sorted by start."""
    blocks = deny_blocks(calendar, year) + outside_allow_blocks(calendar, year)
    return tuple(sorted(set(blocks), key=lambda b: (b.start, b.end, b.reason.sort_key())))
