"""The calendar file format (`calendars/<name>.yaml`) as pydantic models.

Field validators check what can be checked in isolation (zone names, rrules, weekdays, times, dates);
cross references (a window naming an anchor) are checked by `calendar.parse_calendar`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache
from typing import Annotated, Any, Literal

import holidays
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from gitops.config.calendars.anchor_types import DEFAULT_DTSTART, WEEKDAYS, parse_rrule
from gitops.config.calendars.zones import UnknownZoneError, load_zone

MAX_PAD_BUSINESS_DAYS = 31
MAX_MONTHS_AFTER = 12
MAX_BUSINESS_DAY_OF_MONTH = 23
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\Z")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


def _weekday(value: Any) -> str:
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
        return value.strip().lower()
    raise ValueError(f"unknown weekday {value!r}; use one of {', '.join(WEEKDAYS)}")


def _clock(value: Any) -> time:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        hint = f'"{value // 60:02d}:{value % 60:02d}"'
        raise ValueError(
            f"bad time {value!r}: quote wall-clock times, e.g. {hint} (YAML reads unquoted "
            "19:00 as the number 1140)"
        )
    match = _TIME.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f'bad time {value!r}; expected "HH:MM" (24-hour, 00:00-23:59)')
    return time(int(match.group(1)), int(match.group(2)))


def _day(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"bad date {value!r}; expected YYYY-MM-DD")


Weekday = Annotated[str, BeforeValidator(_weekday)]
Clock = Annotated[time, BeforeValidator(_clock)]
Day = Annotated[date, BeforeValidator(_day)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@lru_cache(maxsize=256)
def _subdivisions(country: str) -> tuple[str, ...] | None:
    """The subdivisions of a country `holidays` supports (None: not supported), as
    holidays.list_supported_countries() gives them, but importing that one country's module instead of all
    of them (~0.4 s on every command that reads a calendar)."""
    from holidays.registry import EntityLoader

    if country not in EntityLoader.get_country_codes(include_aliases=True):
        return None
    return tuple(getattr(holidays, country).subdivisions)


class HolidaySource(_Strict):
    """Public holidays from the `holidays` package."""

    country: StrictStr
    subdiv: StrictStr | None = None
    observed: StrictBool = True

    @model_validator(mode="after")
    def _known(self) -> HolidaySource:
        known = _subdivisions(self.country)
        if known is None:
            raise ValueError(f"unknown holidays country {self.country!r} (ISO 3166 code, e.g. DE, US)")
        if self.subdiv is not None and self.subdiv not in known:
            raise ValueError(
                f"unknown subdivision {self.subdiv!r} of {self.country}; known: {', '.join(known) or 'none'}"
            )
        return self


class BusinessDaysSpec(_Strict):
    weekend: list[Weekday] = Field(default_factory=lambda: ["sat", "sun"])
    holidays: HolidaySource | None = None
    closures: list[Day] = Field(default_factory=list)

    @field_validator("weekend")
    @classmethod
    def _leaves_a_workday(cls, value: list[str]) -> list[str]:
        if len(set(value)) == len(WEEKDAYS):
            raise ValueError("the weekend cannot be the whole week: no day would be a business day")
        return value


class MonthDayRef(_Strict):
    """The n-th business day of the month `months_after` months after the anchor's month."""

    business_day_of_month: StrictInt
    months_after: StrictInt = Field(default=0, ge=0, le=MAX_MONTHS_AFTER)

    @field_validator("business_day_of_month")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        return _check_nth(value)


def _check_nth(value: int) -> int:
    if value == 0 or abs(value) > MAX_BUSINESS_DAY_OF_MONTH:
        raise ValueError(
            f"business_day_of_month must be 1..{MAX_BUSINESS_DAY_OF_MONTH} or "
            f"-1..-{MAX_BUSINESS_DAY_OF_MONTH} (negative counts from the month end), got {value}"
        )
    return value


def _ends_before_start(start: int, through: MonthDayRef) -> bool:
    if through.months_after:
        return False
    end = through.business_day_of_month
    return (start < 0 < end) or ((start > 0) == (end > 0) and end < start)


class AnchorSpec(_Strict):
    """A named date (rrule or explicit dates, shifted to a business day) or a business-day-of-month range."""

    rrule: StrictStr | None = None
    dtstart: Day | None = None
    dates: list[Day] | None = None
    adjust: Literal["preceding", "following", "none"] = "none"
    business_day_of_month: StrictInt | None = None
    months: list[Annotated[StrictInt, Field(ge=1, le=12)]] | None = None
    through: MonthDayRef | None = None

    @field_validator("rrule")
    @classmethod
    def _rrule(cls, value: str | None) -> str | None:
        if value is not None:
            parse_rrule(value, DEFAULT_DTSTART)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> AnchorSpec:
        kinds = [k for k in ("rrule", "dates", "business_day_of_month") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                "an anchor needs exactly one of `rrule`, `dates` or `business_day_of_month`"
                + (f" (got {', '.join(kinds)})" if kinds else "")
            )
        if self.rrule is not None:
            rule = parse_rrule(self.rrule, self.dtstart or DEFAULT_DTSTART)
            if rule._interval > 1 and self.dtstart is None:
                raise ValueError("an rrule with INTERVAL > 1 needs `dtstart` to fix its phase")
        elif self.dtstart is not None:
            raise ValueError("`dtstart` only applies to `rrule` anchors")
        if self.business_day_of_month is not None:
            _check_nth(self.business_day_of_month)
            if self.through is not None and _ends_before_start(self.business_day_of_month, self.through):
                raise ValueError(
                    "`through` ends before the anchor starts in the same month; set months_after"
                )
            if self.adjust != "none":
                raise ValueError(
                    "`adjust` does not apply to business_day_of_month anchors (always business days)"
                )
        else:
            for key in ("months", "through"):
                if getattr(self, key) is not None:
                    raise ValueError(f"`{key}` only applies to business_day_of_month anchors")
        return self


class WindowSpec(_Strict):
    """A deny window (whole days of anchors, padded) or an allow window (start–end on weekdays)."""

    id: StrictStr
    kind: Literal["allow", "deny"]
    on: list[StrictStr] | None = None
    pad_before: StrictInt = Field(default=0, ge=0, le=MAX_PAD_BUSINESS_DAYS)
    pad_after: StrictInt = Field(default=0, ge=0, le=MAX_PAD_BUSINESS_DAYS)
    days: list[Weekday] | None = Field(default=None, min_length=1)
    start: Clock | None = None
    end: Clock | None = None
    business_days_only: StrictBool = False

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"bad window id {value!r}; use letters, digits, '-', '_', '.'")
        return value

    @model_validator(mode="after")
    def _shape(self) -> WindowSpec:
        if self.kind == "deny":
            if not self.on:
                raise ValueError("a deny window needs `on`: the anchors whose days it blocks")
            extra = [k for k in ("days", "start", "end") if getattr(self, k) is not None]
            if extra or self.business_days_only:
                raise ValueError(
                    f"a deny window blocks whole days; remove {', '.join(extra) or 'business_days_only'}"
                )
        else:
            if self.start is None or self.end is None:
                raise ValueError('an allow window needs `start` and `end` ("HH:MM")')
            if self.on is not None or self.pad_before or self.pad_after:
                raise ValueError("`on`, `pad_before` and `pad_after` apply to deny windows only")
        return self


class CalendarSpec(_Strict):
    """One `calendars/<name>.yaml` file."""

    timezone: StrictStr
    business_days: BusinessDaysSpec = Field(default_factory=BusinessDaysSpec)
    anchors: dict[str, AnchorSpec] = Field(default_factory=dict)
    windows: list[WindowSpec] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            load_zone(value)
        except UnknownZoneError:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin") from None
        return value
