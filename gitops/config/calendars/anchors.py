"""Anchor occurrences: the local date ranges an anchor names in a given year.

Nominal dates come first (rrule, explicit dates, n-th business day of a month); a business-day
convention is then applied in code, so a holiday moves the date instead of dropping it (rruleset.exdate
would drop it).
"""

from __future__ import annotations

from datetime import date, datetime, time

from gitops.config.calendars.anchor_types import DEFAULT_DTSTART, Anchor, parse_rrule
from gitops.config.calendars.businessdays import BusinessDays

DateRange = tuple[date, date]  # first and last local date, inclusive


RruleYear = tuple[str, date, int]  # rrule text, dtstart, year
# The dates of rrule anchors in the years an earlier run recorded (gitops.windows.calendar_cache), so a
# command whose calendars were validated before need not import dateutil nor iterate from the start.
PRELOADED: dict[RruleYear, tuple[date, ...]] = {}


def rrule_dates(text: str, start: date, year: int) -> tuple[date, ...]:
    """The dates in `year` of the rrule `text` anchored at `start` (before any business-day adjustment)."""
    known = PRELOADED.get((text, start, year))
    if known is not None:
        return known
    rule = parse_rrule(text, start)
    first, last = datetime(year, 1, 1), datetime.combine(date(year, 12, 31), time())
    return tuple(moment.date() for moment in rule.between(first, last, inc=True))


def _nominal_dates(spec: Anchor, year: int) -> list[date]:
    if spec.dates is not None:
        return [day for day in spec.dates if day.year == year]
    assert spec.rrule is not None
    return list(rrule_dates(spec.rrule, spec.dtstart or DEFAULT_DTSTART, year))


def _month_plus(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _month_ranges(spec: Anchor, business: BusinessDays, year: int) -> list[DateRange]:
    assert spec.business_day_of_month is not None
    ranges = []
    for month in spec.months or range(1, 13):
        first = business.nth_of_month(year, month, spec.business_day_of_month)
        if first is None:
            continue
        last = first
        if spec.through is not None:
            end_year, end_month = _month_plus(year, month, spec.through.months_after)
            last = business.nth_of_month(end_year, end_month, spec.through.business_day_of_month) or first
        ranges.append((first, max(first, last)))
    return ranges


def occurrences(spec: Anchor, business: BusinessDays, year: int) -> list[DateRange]:
    """Date ranges of the anchor whose nominal date (or month) lies in `year`, after adjustment."""
    if spec.business_day_of_month is not None:
        return _month_ranges(spec, business, year)
    days = {business.adjust(day, spec.adjust) for day in _nominal_dates(spec, year)}
    return [(day, day) for day in sorted(days)]
