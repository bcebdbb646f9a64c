"""Does each rule of a calendar still occur? A freeze must never silently disappear.

An anchor that yields no date in the ten years from today is refused when the calendar is loaded
(`BYMONTHDAY=32`, February 30, `COUNT=0`, an `UNTIL` before the start, a business day a month never has),
unless it has an explicit end (`UNTIL`, `COUNT`, a `dates` list) that it reached after occurring: then it
has *ended*, which `odoo-gitops window lint` reports (and exits non-zero for).

rrules are iterated with an `until` bound: dateutil would otherwise search up to the year 9999 for a rule
that never matches, for seconds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import islice
from typing import TYPE_CHECKING, Literal

from gitops.config.calendars.anchor_types import DEFAULT_DTSTART, Anchor, parse_rrule
from gitops.config.calendars.anchors import DateRange, occurrences
from gitops.config.calendars.businessdays import BusinessDays

if TYPE_CHECKING:
    from gitops.config.calendars.compiled import Calendar

HORIZON_YEARS = 10
SHOWN = 3
State = Literal["ok", "ended", "never"]


def horizon_end(today: date) -> date:
    """Ten years after `today` (Feb 29 → Feb 28)."""
    try:
        return today.replace(year=today.year + HORIZON_YEARS)
    except ValueError:
        return today.replace(year=today.year + HORIZON_YEARS, day=28)


@dataclass(frozen=True)
class RuleReport:
    """One anchor: its next occurrences from `today` (up to three, within ten years), and when it ended."""

    anchor: str
    upcoming: tuple[DateRange, ...]
    ended_on: date | None = None

    @property
    def state(self) -> State:
        return "ok" if self.upcoming else "ended" if self.ended_on else "never"


def _rrule_days(text: str, start: date, last: date) -> Iterator[date]:
    """Nominal dates of the rule up to `last`, in order; the iteration never goes beyond `last`."""
    rule = parse_rrule(text, start)
    bound = datetime.combine(last, time.max)
    until = rule._until
    limited = rule.replace(until=bound if until is None else min(until, bound), count=None)
    moments = islice(limited, rule._count) if rule._count is not None else iter(limited)
    return (moment.date() for moment in moments)


def _explicit_end(spec: Anchor) -> bool:
    if spec.dates is not None:
        return True
    if spec.rrule is None:
        return False
    rule = parse_rrule(spec.rrule, spec.dtstart or DEFAULT_DTSTART)
    return rule._until is not None or rule._count is not None


def _adjusted(spec: Anchor, business: BusinessDays, first: date, last: date) -> Iterator[date]:
    """rrule and `dates` anchors: distinct adjusted dates on or after `first` of the nominal dates up to
    `last`, in order (both conventions keep the order of dates, so the first ones found are the earliest)."""
    if spec.dates is not None:
        nominal: Iterator[date] = iter(sorted(d for d in spec.dates if d <= last))
    else:
        assert spec.rrule is not None
        nominal = _rrule_days(spec.rrule, spec.dtstart or DEFAULT_DTSTART, last)
    previous = None
    for day in nominal:
        moved = business.adjust(day, spec.adjust)
        if moved >= first and moved != previous:
            yield moved
        previous = moved


def _monthly(spec: Anchor, business: BusinessDays, today: date, end: date) -> list[DateRange]:
    found: list[DateRange] = []
    for year in range(today.year - 1, end.year + 1):  # last year's range may still be running
        found += [r for r in occurrences(spec, business, year) if r[1] >= today and r[0] <= end]
        if len(found) >= SHOWN:
            break
    return found


def rule_report(name: str, spec: Anchor, business: BusinessDays, today: date) -> RuleReport:
    """The next occurrences of anchor `name` from `today`, or when it ended."""
    end = horizon_end(today)
    if spec.business_day_of_month is not None:
        return RuleReport(name, tuple(_monthly(spec, business, today, end)[:SHOWN]))
    ahead = tuple((day, day) for day in islice(_adjusted(spec, business, today, end), SHOWN))
    if ahead or not _explicit_end(spec):
        return RuleReport(name, ahead)
    past = deque(_adjusted(spec, business, date.min, today), maxlen=1)
    return RuleReport(name, (), past[0] if past else None)


def rule_reports(calendar: Calendar, today: date) -> list[RuleReport]:
    """A report per anchor of `calendar`, in file order."""
    return [rule_report(name, spec, calendar.business, today) for name, spec in calendar.anchors.items()]


def never_message(name: str, spec: Anchor, today: date) -> str:
    what = (
        f"rrule {spec.rrule!r}"
        if spec.rrule is not None
        else "its dates"
        if spec.dates is not None
        else ("its business day of the month")
    )
    return (
        f"anchors.{name}: never occurs between {today} and {horizon_end(today)} ({what}); a freeze on it "
        "would silently disappear. Check BYMONTHDAY/BYMONTH (no day 32, no February 30), COUNT, UNTIL "
        "and dtstart"
    )
