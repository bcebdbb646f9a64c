"""The gates of a plan: each gate the target stage requires, met / not met / pending as far as a plan can
know before a PR exists, and the approvals the change class asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gitops.config.loader import ConfigRepo, EnvBundle
from gitops.gates.approvals import rule_name
from gitops.promote.stage_seams import WindowCheck, window_state

GateStatusName = Literal["met", "not met", "pending", "checked by promote", "not required"]


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


@dataclass(frozen=True)
class WindowSummary:
    """The target's change-window verdict at plan time, with the next opening in the env's time zone."""

    open: bool
    blocked_by: tuple[str, ...]
    next_open: datetime | None
    open_until: datetime | None
    timezone: str

    def local(self, moment: datetime | None) -> str | None:
        return moment.astimezone(ZoneInfo(self.timezone)).isoformat() if moment else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "blocked_by": list(self.blocked_by),
            "next_open": _iso(self.next_open),
            "next_open_local": self.local(self.next_open),
            "open_until": _iso(self.open_until),
            "timezone": self.timezone,
        }


@dataclass(frozen=True)
class GateStatus:
    """One gate the target stage requires, and whether it is met as far as a plan can know."""

    name: str
    status: GateStatusName
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


def required_approvals(target: EnvBundle, change_class: str | None, destructive: bool) -> dict[str, Any]:
    policy = target.config.gate_policy
    key = rule_name(change_class or "normal", destructive)
    rule = policy.rule(key)
    if rule is None:
        return {"rule": key, "count": 0, "from": [], "require_backup": False}
    return {"rule": key, "count": rule.count, "from": list(rule.from_), "require_backup": rule.require_backup}


def missing_key_reasons(target: EnvBundle, gates: tuple[str, ...]) -> list[str]:
    """Promote's one supply-chain precondition that needs no registry: a key to verify with."""
    needs_scan = "scan" in gates and target.config.scan_policy.required
    if ("signature" in gates or needs_scan) and target.config.signing is None:
        return [f"{target.name!r} has no signing.public_key: cannot verify signature or attestation"]
    return []


def window_summary(repo: ConfigRepo, target: EnvBundle, now: datetime, check: WindowCheck) -> WindowSummary:
    state = window_state(repo, target.name, now, check)
    return WindowSummary(
        open=state.open,
        blocked_by=state.blocked_by,
        next_open=state.next_open,
        open_until=state.open_until,
        timezone=target.config.timezone,
    )


def _when(window: WindowSummary, moment: datetime | None) -> str:
    if moment is None:
        return "not within 400 days"
    local = moment.astimezone(ZoneInfo(window.timezone)).strftime("%Y-%m-%d %H:%M")
    return f"{local} {window.timezone} ({_iso(moment)})"


def _window_gate(window: WindowSummary | None) -> GateStatus:
    if window is None:
        return GateStatus("window", "checked by promote", "the window verdict was not computed")
    if window.open:
        until = f" until {_when(window, window.open_until)}" if window.open_until else ""
        return GateStatus("window", "met", f"open now{until}")
    blocked = f" by {', '.join(window.blocked_by)}" if window.blocked_by else ""
    return GateStatus(
        "window", "not met", f"closed now{blocked}; next opening {_when(window, window.next_open)}"
    )


def _approvals_gate(approvals: dict[str, Any]) -> GateStatus:
    count, sources, rule = approvals.get("count", 0), approvals.get("from", []), approvals.get("rule")
    backup = (
        "; and a recorded database backup (promote --backup-id)" if approvals.get("require_backup") else ""
    )
    if not count:
        return GateStatus(
            "approvals", "met" if not backup else "pending", f"none needed (rule {rule}){backup}"
        )
    who = ", ".join(sources) or "anyone"
    return GateStatus("approvals", "pending", f"needed on the PR: {count} from {who} (rule {rule}){backup}")


def _supply_gate(name: str, target: EnvBundle, missing_key: bool) -> GateStatus:
    where = f"envs/{target.name}/env.yaml"
    if name == "scan" and not target.config.scan_policy.required:
        return GateStatus(name, "not required", f"scan_policy.required is false in {where}")
    if missing_key:
        return GateStatus(name, "not met", f"no signing.public_key in {where}: promote refuses")
    if name == "scan":
        severity = target.config.scan_policy.severity
        return GateStatus(
            name, "checked by promote", f"a passing scan attestation (fail at {severity} and above)"
        )
    return GateStatus(name, "checked by promote", "the image's signature, with the key in signing.public_key")


def gate_statuses(
    target: EnvBundle, gates: tuple[str, ...], approvals: dict[str, Any], window: WindowSummary | None
) -> tuple[GateStatus, ...]:
    """The stage's gates in their pipeline order, each met / not met / pending as far as plan can know."""
    missing_key = bool(missing_key_reasons(target, gates))
    statuses = []
    for name in gates:
        if name == "window":
            statuses.append(_window_gate(window))
        elif name == "approvals":
            statuses.append(_approvals_gate(approvals))
        else:
            statuses.append(_supply_gate(name, target, missing_key))
    return tuple(statuses)
