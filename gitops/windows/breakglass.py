"""Break-glass: turn a closed window verdict into an audited override record.

Pure: the caller supplies who, when, and whether its policy (the approval gate) allows this person to
override. Without `emergency`, a reason and a ticket, nothing bypasses a freeze.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gitops.errors import PolicyError, UsageError
from gitops.windows.blocks import Reason, iso
from gitops.windows.engine import WindowVerdict, as_utc
from gitops.windows.zones import holidays_version, tzdata_version


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "who": self.who,
            "when": iso(self.when),
            "at": iso(self.at),
            "reason": self.reason,
            "ticket": self.ticket,
            "windows_violated": [r.to_dict() for r in self.windows_violated],
            "tzdata_version": self.tzdata_version,
            "holidays_version": self.holidays_version,
        }


def require_emergency_details(*, emergency: bool, reason: str | None, ticket: str | None) -> None:
    """An emergency needs both a reason and a ticket (UsageError, exit 2); details without it are an error."""
    if emergency:
        missing = [
            name for name, value in (("--reason", reason), ("--ticket", ticket)) if not (value or "").strip()
        ]
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
) -> Override | None:
    """The override for a closed `verdict`, or None when there is nothing to override (open, or no emergency).

    `allowed` is the caller's policy decision (who may break glass); if it says no, PolicyError (exit 3).
    """
    require_emergency_details(emergency=emergency, reason=reason, ticket=ticket)
    if not emergency or verdict.open:
        return None
    if not who.strip():
        raise UsageError("break-glass needs to know who is overriding")
    if not allowed:
        raise PolicyError(
            f"{who} may not override the closed change window of {verdict.env}",
            reasons=[f"{r.calendar}/{r.window} ({r.kind})" for r in verdict.blocked_by],
        )
    assert reason is not None and ticket is not None
    return Override(
        env=verdict.env,
        who=who,
        when=as_utc(when),
        at=verdict.at,
        reason=reason.strip(),
        ticket=ticket.strip(),
        windows_violated=verdict.blocked_by,
        tzdata_version=tzdata_version(),
        holidays_version=holidays_version(),
    )
