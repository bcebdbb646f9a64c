"""The typed functions behind `odoo-gitops window …`: load an environment's calendars, then decide."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gitops.errors import UsageError
from gitops.windows.blocks import iso
from gitops.windows.breakglass import Override, break_glass, require_emergency_details
from gitops.windows.load import load_env_calendars
from gitops.windows.verdict import Interval, WindowVerdict, as_utc, check, evaluate, open_until

MAX_LIST_SPAN = timedelta(days=3660)
# Calendars are evaluated per year with a year of look-ahead; rules start in 2000 unless `dtstart` says
# otherwise. Far from datetime.min/max, so nothing on the way can overflow.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def require_supported(moment: datetime, what: str = "the instant") -> datetime:
    """`moment` (with a UTC offset) in UTC, or a UsageError when it lies outside the years we evaluate."""
    try:
        utc = as_utc(moment)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise UsageError(
            f"{what} {moment.isoformat()} is outside the supported range "
            f"{EARLIEST.date()} to {(LATEST - timedelta(days=1)).date()}"
        )
    return utc


@dataclass(frozen=True)
class CheckResult:
    verdict: WindowVerdict
    override: Override | None = None

    @property
    def passes(self) -> bool:
        return self.verdict.open or self.override is not None

    def to_dict(self) -> dict[str, Any]:
        data = self.verdict.to_dict()
        if self.override is not None:
            data["override"] = self.override.to_dict()
        return data


@dataclass(frozen=True)
class NextOpening:
    env: str
    at: datetime
    next_open: datetime | None
    open_until: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "at": iso(self.at),
            "next_open": iso(self.next_open),
            "open_until": iso(self.open_until),
        }


@dataclass(frozen=True)
class Listing:
    env: str
    start: datetime
    end: datetime
    intervals: tuple[Interval, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "from": iso(self.start),
            "to": iso(self.end),
            "intervals": [item.to_dict() for item in self.intervals],
        }


def check_env(
    *,
    config_repo: str | Path,
    env: str,
    at: datetime,
    emergency: bool = False,
    reason: str | None = None,
    ticket: str | None = None,
    who: str = "",
    now: datetime | None = None,
    cached: bool = False,
) -> CheckResult:
    """The verdict for `env` at `at`; with `emergency`, a closed verdict becomes an audited override.
    `cached`: calendars may come from the compiled-calendar cache (windows/calendar_cache.py).

    Until the approval gate (issue 6) supplies who may break glass, any identified caller may.
    """
    require_emergency_details(emergency=emergency, reason=reason, ticket=ticket)
    at = require_supported(at)
    verdict = check(load_env_calendars(config_repo, env, cached=cached), at, env=env)
    override = break_glass(
        verdict, emergency=emergency, reason=reason, ticket=ticket, who=who, when=now or at, allowed=True
    )
    return CheckResult(verdict, override)


def next_env(*, config_repo: str | Path, env: str, at: datetime, cached: bool = False) -> NextOpening:
    at = require_supported(at)
    calendars = load_env_calendars(config_repo, env, cached=cached)
    verdict = check(calendars, at, env=env)
    until = open_until(calendars, verdict.next_open) if verdict.next_open else None
    return NextOpening(env, verdict.at, verdict.next_open, until)


def _span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    low, high = require_supported(start, "--from"), require_supported(end, "--to")
    if high <= low:
        raise UsageError("--to must be after --from")
    if high - low > MAX_LIST_SPAN:
        raise UsageError("the range may span at most 10 years")
    return low, high


def list_env(
    *, config_repo: str | Path, env: str, start: datetime, end: datetime, cached: bool = False
) -> Listing:
    low, high = _span(start, end)
    calendars = load_env_calendars(config_repo, env, cached=cached)
    return Listing(env, low, high, tuple(evaluate(calendars, low, high)))


def ics_env(
    *, config_repo: str | Path, env: str, start: datetime, end: datetime, now: datetime, cached: bool = False
) -> bytes:
    listing = list_env(config_repo=config_repo, env=env, start=start, end=end, cached=cached)
    from gitops.windows.ics import render_ics  # icalendar only for `window ics`

    return render_ics(env, listing.intervals, generated_at=now)
