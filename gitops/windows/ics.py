"""iCalendar export of an environment's freezes and change windows.

Every interval of `evaluate` becomes one VEVENT with UTC times (no VTIMEZONE: the DST handling, which
resolves toward closed, is already applied), so a calendar app shows exactly what `window list` says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import icalendar

from gitops import __version__
from gitops.windows.blocks import Reason, iso
from gitops.windows.verdict import Interval, as_utc

PRODID = f"-//odoo-gitops//windows {__version__}//EN"


def _describe(reason: Reason) -> str:
    label = "deny window" if reason.kind == "deny" else "outside allow window(s)"
    return (
        f"{reason.calendar}: {label} {reason.window} ({iso(reason.start) or '…'} – {iso(reason.end) or '…'})"
    )


def _event(env: str, item: Interval, stamp: datetime) -> icalendar.Event:
    event = icalendar.Event()
    digest = hashlib.sha256(f"{env}|{iso(item.start)}|{iso(item.end)}|{item.open}".encode()).hexdigest()[:32]
    event.add("uid", f"{digest}@odoo-gitops")
    event.add("dtstamp", stamp)
    event.add("dtstart", item.start)
    event.add("dtend", item.end)
    if item.open:
        event.add("summary", f"{env}: change window open")
        event.add("transp", "TRANSPARENT")
        event.add("categories", ["change-window"])
    else:
        windows = sorted({f"{r.calendar}/{r.window}" for r in item.blocked_by})
        event.add("summary", f"{env}: changes frozen ({', '.join(windows)})")
        event.add("transp", "OPAQUE")
        event.add("categories", ["change-freeze"])
        event.add("description", "\n".join(_describe(r) for r in item.blocked_by))
    event.add("x-odoo-gitops-open", "TRUE" if item.open else "FALSE")
    return event


def render_ics(env: str, intervals: Sequence[Interval], *, generated_at: datetime) -> bytes:
    """An iCalendar document (RFC 5545) with one event per open or closed interval."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{env} change windows")
    stamp = as_utc(generated_at)
    for item in intervals:
        calendar.add_component(_event(env, item, stamp))
    return bytes(calendar.to_ical())
