"""Freezes: occurrences of deny windows (payroll, month-end close, closures), from the window engine's own
timeline (gitops.windows.verdict.evaluate), so the board never disagrees with `window check`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from gitops.board.model import Freeze
from gitops.config.calendars.calendar import Calendar
from gitops.windows.verdict import evaluate

LOOKAHEAD = timedelta(days=120)


def freezes(
    calendars: Sequence[Calendar], start: datetime, end: datetime, *, timezone: str
) -> tuple[Freeze, ...]:
    """Every deny-window occurrence that overlaps [start, end), by start (its full extent, not clipped)."""
    found: dict[tuple[str, str, datetime], Freeze] = {}
    for interval in evaluate(calendars, start, end):
        for reason in interval.blocked_by:
            if reason.kind != "deny" or reason.start is None or reason.end is None:
                continue
            key = (reason.calendar, reason.window, reason.start)
            found.setdefault(
                key,
                Freeze(
                    calendar=reason.calendar,
                    window=reason.window,
                    start=reason.start,
                    end=reason.end,
                    timezone=timezone,
                ),
            )
    return tuple(sorted(found.values(), key=lambda f: (f.start, f.name)))


def next_freeze(calendars: Sequence[Calendar], now: datetime, *, timezone: str) -> Freeze | None:
    """The freeze in force now, else the next one to start (within LOOKAHEAD); None when there is none."""
    if not calendars:
        return None
    found = freezes(calendars, now, now + LOOKAHEAD, timezone=timezone)
    return found[0] if found else None
