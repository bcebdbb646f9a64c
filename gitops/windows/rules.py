"""Does each rule of a calendar still occur? A freeze must never silently disappear.

An anchor that yields no date in the ten years from today is refused when the calendar is loaded
(`BYMONTHDAY=32`, February 30, `COUNT=0`, an `UNTIL` before the start, a business day a month never has),
unless it has an explicit end (`UNTIL`, `COUNT`, a `dates` list) that it reached after occurring: then it
has *ended*, which `odoo-gitops window lint` reports (and exits non-zero for).

rrules are iterated with an `until` bound: dateutil would otherwise search up to the year 9999 for a rule
that never matches, for seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Literal

from gitops.windows.anchors import DateRange, occurrences
from gitops.windows.businessdays import BusinessDays
from gitops.windows.model import DEFAULT_DTSTART, AnchorSpec, parse_rrule

if TYPE_CHECKING:
    from gitops.windows.calendar import Calendar

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


@lru_cache(maxsize=1024)
def _rrule_dates(text: str, start: date, first: date, last: date) -> tuple[date, ...]:
    """Nominal dates of the rule in [first, last], iterating no further than `last`."""
    rule = parse_rrule(text, start)
    bound = datetime.combine(last, time.max)
    until = rule._until
    limited = rule.replace(until=bound if until is None else min(until, bound), count=None)
    moments = islice(limited, rule._count) if rule._count is not None else iter(limited)
    return tuple(day for moment in moments if (day := moment.date()) >= first)


def _explicit_end(spec: AnchorSpec) -> bool:
    if spec.dates is not None:
        return True
    if spec.rrule is None:
        return False
    rule = parse_rrule(spec.rrule, spec.dtstart or DEFAULT_DTSTART)
    return rule._until is not None or rule._count is not None


def _dated(spec: AnchorSpec, business: BusinessDays, first: date, last: date) -> list[DateRange]:
    """rrule and `dates` anchors: adjusted dates whose nominal date lies in [first, last]."""
    if spec.dates is not None:
        nominal: tuple[date, ...] = tuple(d for d in spec.dates if first <= d <= last)
    else:
        assert spec.rrule is not None
        nominal = _rrule_dates(spec.rrule, spec.dtstart or DEFAULT_DTSTART, first, last)
    return [(day, day) for day in sorted({business.adjust(d, spec.adjust) for d in nominal})]


def _monthly(spec: AnchorSpec, business: BusinessDays, today: date, end: date) -> list[DateRange]:
    found: list[DateRange] = []
    for year in range(today.year - 1, end.year + 1):  # last year's range may still be running
        found += [r for r in occurrences(spec, business, year) if r[1] >= today and r[0] <= end]
        if len(found) >= SHOWN:
            break
    return found


def rule_report(name: str, spec: AnchorSpec, business: BusinessDays, today: date) -> RuleReport:
    """The next occurrences of anchor `name` from `today`, or when it ended."""
    end = horizon_end(today)
    if spec.business_day_of_month is not None:
        return RuleReport(name, tuple(_monthly(spec, business, today, end)[:SHOWN]))
    ahead = [r for r in _dated(spec, business, today.replace(day=1), end) if r[1] >= today]
    if ahead:
        return RuleReport(name, tuple(ahead[:SHOWN]))
    start = (spec.dtstart or DEFAULT_DTSTART) if spec.rrule is not None else date.min
    past = _dated(spec, business, start, today) if _explicit_end(spec) else []
    return RuleReport(name, (), past[-1][1] if past else None)


def rule_reports(calendar: Calendar, today: date) -> list[RuleReport]:
    """A report per anchor of `calendar`, in file order."""
    return [rule_report(name, spec, calendar.business, today) for name, spec in calendar.anchors.items()]


def never_message(name: str, spec: AnchorSpec, today: date) -> str:
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
