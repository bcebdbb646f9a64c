"""Business-day arithmetic: weekend, public holidays (the `holidays` package) and company closures."""

from __future__ import annotations

import calendar as stdcal
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from gitops.config.calendars.anchor_types import WEEKDAYS

ONE_DAY = timedelta(days=1)
# Far more than any real run of non-business days; guards against a calendar with no business days at all.
MAX_SEARCH_DAYS = 366


class NoBusinessDayError(ValueError):
    """No business day within a year of the date: the calendar declares every day non-business."""


HolidayKey = tuple[str, str | None, bool, int]  # country, subdivision, observed, year
# Tables computed by an earlier run with the same `holidays` release (gitops.windows.calendar_cache), so a
# command whose calendars were all validated before need not import `holidays` (~0.1 s, every country).
PRELOADED: dict[HolidayKey, frozenset[date]] = {}


@lru_cache(maxsize=512)
def _public_holidays(country: str, subdiv: str | None, observed: bool, year: int) -> frozenset[date]:
    known = PRELOADED.get((country, subdiv, observed, year))
    if known is not None:
        return known
    import holidays  # only for a table not preloaded

    table = holidays.country_holidays(country, subdiv=subdiv, observed=observed, years=year)
    return frozenset(day for day in table if day.year == year)


@dataclass(frozen=True)
class BusinessDays:
    """Which local dates are business days."""

    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday() numbers
    country: str | None = None
    subdiv: str | None = None
    observed: bool = True
    closures: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(
        cls,
        *,
        weekend: list[str],
        country: str | None = None,
        subdiv: str | None = None,
        observed: bool = True,
        closures: list[date] | None = None,
    ) -> BusinessDays:
        return cls(
            weekend=frozenset(WEEKDAYS.index(day) for day in weekend),
            country=country,
            subdiv=subdiv,
            observed=observed,
            closures=frozenset(closures or ()),
        )

    def holiday_dates(self, year: int) -> frozenset[date]:
        if self.country is None:
            return frozenset()
        return _public_holidays(self.country, self.subdiv, self.observed, year)

    def is_business_day(self, day: date) -> bool:
        return (
            day.weekday() not in self.weekend
            and day not in self.closures
            and day not in self.holiday_dates(day.year)
        )

    def step(self, day: date, count: int) -> date:
        """The business day `count` business days after (`count` < 0: before) `day`; `day` itself if 0."""
        direction = ONE_DAY if count > 0 else -ONE_DAY
        remaining, current, walked = abs(count), day, 0
        while remaining:
            current += direction
            walked += 1
            if walked > MAX_SEARCH_DAYS * max(1, abs(count)):
                raise NoBusinessDayError(f"no business day near {day.isoformat()}")
            if self.is_business_day(current):
                remaining -= 1
        return current

    def adjust(self, day: date, rule: str) -> date:
        """Move a non-business `day` to the previous ('preceding') or next ('following') business day."""
        if rule == "none" or self.is_business_day(day):
            return day
        return self.step(day, -1 if rule == "preceding" else 1)

    def business_days_in_month(self, year: int, month: int) -> list[date]:
        last = stdcal.monthrange(year, month)[1]
        return [d for d in (date(year, month, n) for n in range(1, last + 1)) if self.is_business_day(d)]

    def nth_of_month(self, year: int, month: int, nth: int) -> date | None:
        """The `nth` business day of the month (negative: from the end), clamped to the month's business
        days so a short month still yields a day (a freeze never silently disappears); None if the month
        has no business day at all."""
        days = self.business_days_in_month(year, month)
        if not days:
            return None
        index = min(nth, len(days)) - 1 if nth > 0 else max(nth, -len(days))
        return days[index]
