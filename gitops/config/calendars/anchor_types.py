"""Calendar basics that need no pydantic: weekday names, RRULE compilation, and the shape of an anchor that
the engine evaluates (a validated `spec.AnchorSpec`, or `PlainAnchor` rebuilt from the compiled-calendar
cache of `gitops.windows.calendar_cache`, which keeps pydantic and `holidays` off `window check`'s path)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dateutil import rrule

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class MonthDay(Protocol):
    """The n-th business day of the month `months_after` months after the anchor's month."""

    @property
    def business_day_of_month(self) -> int: ...

    @property
    def months_after(self) -> int: ...


class Anchor(Protocol):
    """What the engine reads of an anchor (`spec.AnchorSpec` documents the fields)."""

    @property
    def rrule(self) -> str | None: ...

    @property
    def dtstart(self) -> date | None: ...

    @property
    def dates(self) -> Sequence[date] | None: ...

    @property
    def adjust(self) -> str: ...

    @property
    def business_day_of_month(self) -> int | None: ...

    @property
    def months(self) -> Sequence[int] | None: ...

    @property
    def through(self) -> MonthDay | None: ...


@dataclass(frozen=True)
class PlainMonthDay:
    business_day_of_month: int
    months_after: int = 0


@dataclass(frozen=True)
class PlainAnchor:
    """An anchor already validated (by `spec.AnchorSpec`), held without pydantic."""

    rrule: str | None = None
    dtstart: date | None = None
    dates: tuple[date, ...] | None = None
    adjust: str = "none"
    business_day_of_month: int | None = None
    months: tuple[int, ...] | None = None
    through: PlainMonthDay | None = None


@lru_cache(maxsize=1024)
def parse_rrule(text: str, start: date) -> rrule.rrule:
    """Compile an RRULE value (without DTSTART) anchored at local midnight of `start`."""
    from dateutil import rrule  # ~20 ms: not needed when the cache recorded the rule's dates

    body = text.strip().removeprefix("RRULE:")
    if "\n" in body or "DTSTART" in body.upper():
        raise ValueError(
            "give only the RRULE value (e.g. FREQ=MONTHLY;BYMONTHDAY=25); use `dtstart` for the start"
        )
    try:
        rule = rrule.rrulestr(body, dtstart=datetime.combine(start, time()), ignoretz=True)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"bad rrule {text!r}: {exc or type(exc).__name__}") from None
    if not isinstance(rule, rrule.rrule):  # pragma: no cover - rrulestr returns a set only with forceset
        raise ValueError(f"bad rrule {text!r}: expected one RRULE")
    if rule._freq in (rrule.HOURLY, rrule.MINUTELY, rrule.SECONDLY):
        raise ValueError(f"bad rrule {text!r}: anchors are dates, so FREQ must be DAILY or coarser")
    reason = _impossible(rule)
    if reason:
        raise ValueError(f"bad rrule {text!r}: {reason}")
    return rule


_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: in leap years


def _out_of_range(values: tuple[int, ...] | None, limit: int) -> int | None:
    return next((v for v in values or () if not 1 <= abs(v) <= limit), None)


def _impossible(rule: rrule.rrule) -> str | None:
    """Why the rule can never match, when that shows in its parts (dateutil would accept it and then
    search until the year 9999 for a date, finding none: a freeze on it would silently disappear)."""
    month_days = tuple(rule._bymonthday) + tuple(rule._bynmonthday)
    for part, values, limit in (
        ("BYMONTHDAY", month_days, 31),
        ("BYYEARDAY", rule._byyearday, 366),
        ("BYWEEKNO", rule._byweekno, 53),
    ):
        bad = _out_of_range(values, limit)
        if bad is not None:
            return f"{part}={bad} can never match (allowed: 1..{limit} or -{limit}..-1)"
    months = rule._bymonth or range(1, 13)
    if month_days and not any(abs(d) <= _DAYS_IN_MONTH[m - 1] for d in month_days for m in months):
        names = ",".join(map(str, months))
        days = ",".join(map(str, month_days))
        return f"BYMONTH={names} has no day BYMONTHDAY={days} (like February 30): it can never match"
    return None


DEFAULT_DTSTART = date(2000, 1, 1)
