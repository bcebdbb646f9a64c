"""Break-glass: turn a closed window verdict into an audited override record.

Pure: the caller supplies the environment, who, when, and whether its policy (the approval gate) allows this
person to override. Without `emergency`, a reason and a ticket, nothing bypasses a freeze. An override is
bounded: it expires when the window reopens, after DEFAULT_TTL at the latest, or at an explicit `expires`
no more than MAX_TTL after the instant it covers.

Every path that breaks glass writes the same audit record: kind `override`, actor = who broke glass,
data = `Override.to_dict()` (plus the caller's context, e.g. the PR), key = `Override.audit_key()`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gitops.config.calendars.zones import holidays_version, tzdata_version
from gitops.errors import PolicyError, UsageError
from gitops.windows.blocks import Reason, iso
from gitops.windows.verdict import WindowVerdict, as_utc

AUDIT_KIND = "override"
DEFAULT_TTL = timedelta(hours=4)
MAX_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Override:
    """Who overrode which closed windows, when, why and under which ticket, with the data versions used."""

    env: str
    who: str
    when: datetime
    at: datetime
    reason: str
    ticket: str
    windows_violated: tuple[Reason, ...]
    tzdata_version: str
    holidays_version: str
    expires: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "who": self.who,
            "when": iso(self.when),
            "at": iso(self.at),
            "expires": iso(self.expires),
            "reason": self.reason,
            "ticket": self.ticket,
            "windows_violated": [r.to_dict() for r in self.windows_violated],
            "tzdata_version": self.tzdata_version,
            "holidays_version": self.holidays_version,
        }

    def audit_key(self) -> str:
        """The same env, ticket and window occurrences are one override, however often it is re-run."""
        windows = json.dumps([r.to_dict() for r in self.windows_violated], sort_keys=True, default=str)
        digest = hashlib.sha256(windows.encode()).hexdigest()[:16]
        return f"break-glass:{self.env}:{self.ticket}:{digest}"


def expiry(verdict: WindowVerdict, expires: datetime | None) -> datetime:
    """When an override of `verdict` ends: `expires` if given (after the instant, within MAX_TTL), else the
    window's reopening, DEFAULT_TTL after the instant at the latest."""
    at = verdict.at
    if expires is None:
        return min(t for t in (verdict.next_open, at + DEFAULT_TTL) if t is not None)
    end = as_utc(expires)
    if not at < end <= at + MAX_TTL:
        raise UsageError(
            f"--expires {iso(end)} must be after {iso(at)} and at most "
            f"{int(MAX_TTL.total_seconds()) // 3600}h later",
            hint="a break-glass override is short-lived; break glass again if the emergency lasts",
        )
    return end


def blank(text: str | None) -> bool:
    """True when `text` shows nothing a person can read: empty, spaces, or only invisible characters
    (zero-width spaces, joiners, soft hyphens, control characters). A reason and a ticket must be readable."""
    return not any(c.isprintable() and not c.isspace() for c in text or "")


def require_emergency_details(*, emergency: bool, reason: str | None, ticket: str | None) -> None:
    """An emergency needs both a reason and a ticket (UsageError, exit 2); details without it are an error."""
    if emergency:
        missing = [name for name, value in (("--reason", reason), ("--ticket", ticket)) if blank(value)]
        if missing:
            raise UsageError(
                f"--emergency needs {' and '.join(missing)}",
                hint="break-glass is audited: say why (--reason) and under which change ticket (--ticket)",
            )
    elif reason or ticket:
        raise UsageError("--reason/--ticket only apply with --emergency")


def break_glass(
    verdict: WindowVerdict,
    *,
    emergency: bool,
    reason: str | None,
    ticket: str | None,
    who: str,
    when: datetime,
    allowed: bool,
    env: str | None = None,
    expires: datetime | None = None,
) -> Override | None:
    """The override for a closed `verdict`, or None when there is nothing to override (open, or no emergency).

    `env` names the environment when the verdict does not (a verdict computed without one); the record
    always carries it. `allowed` is the caller's policy decision (who may break glass); if it says no,
    PolicyError (exit 3).
    """
    require_emergency_details(emergency=emergency, reason=reason, ticket=ticket)
    if not emergency or verdict.open:
        return None
    if not who.strip():
        raise UsageError("break-glass needs to know who is overriding")
    target = (env or verdict.env).strip()
    if not target:
        raise UsageError("break-glass needs to know which environment it overrides")
    if not allowed:
        raise PolicyError(
            f"{who} may not override the closed change window of {verdict.env}",
            reasons=[f"{r.calendar}/{r.window} ({r.kind})" for r in verdict.blocked_by],
        )
    assert reason is not None and ticket is not None
    return Override(
        env=target,
        who=who,
        when=as_utc(when),
        at=verdict.at,
        reason=reason.strip(),
        ticket=ticket.strip(),
        windows_violated=verdict.blocked_by,
        tzdata_version=tzdata_version(),
        holidays_version=holidays_version(),
        expires=expiry(verdict, expires),
    )
