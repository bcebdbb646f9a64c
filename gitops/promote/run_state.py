"""What a run writes besides the release itself (first promotion time, backup, emergency), and what a
re-run of the same promotion keeps from an earlier run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gitops.config.models import BackupRecord, EmergencyDeclaration
from gitops.errors import UsageError
from gitops.promote.promotion import Install, PromoteOptions
from gitops.windows.breakglass import blank


@dataclass(frozen=True, kw_only=True)
class RunState:
    """What this run writes besides the release itself: when it was first promoted (kept across re-runs),
    the backup recorded for it and the emergency it declares."""

    promoted_at: datetime
    backup: BackupRecord | None = None
    emergency: EmergencyDeclaration | None = None


def prior_run(data: Mapping[str, Any] | None, install: Install) -> dict[str, Any]:
    """What an earlier run of this promotion recorded and a re-run keeps: `promoted_at` (so a re-run changes
    nothing), the backup and the emergency declaration (never silently dropped)."""
    if not data:
        return {}
    ours = [data] if data.get("image") == install.image and install.completes_env else []
    ours += [
        s for t, s in (data.get("tenants") or {}).items() if t in install.tenants and isinstance(s, dict)
    ]
    ours = [s for s in ours if s.get("image") == install.image]
    if not ours:
        return {}
    stamps = [s["promoted_at"] for s in ours if isinstance(s.get("promoted_at"), datetime)]
    backups = [s["backup"] for s in ours if isinstance(s.get("backup"), dict)]
    if install.completes_env and isinstance(data.get("backup"), dict):
        backups.insert(0, data["backup"])
    return {
        "promoted_at": max(stamps) if stamps else None,
        "backup": backups[0] if backups else None,
        "emergency": data.get("emergency") if isinstance(data.get("emergency"), dict) else None,
    }


def run_state(options: PromoteOptions, prior: Mapping[str, Any], now: datetime, notes: list[str]) -> RunState:
    """This run's promoted_at, backup and emergency: the options given, else what an earlier run recorded."""
    backup = _backup(options, prior, now)
    emergency = None
    if options.emergency_reason is not None or options.emergency_ticket is not None:
        reason = (options.emergency_reason or "").strip()
        if blank(reason):
            raise UsageError("--emergency needs a non-blank REASON (and --ticket ID)")
        emergency = EmergencyDeclaration(
            reason=reason,
            ticket=None if blank(options.emergency_ticket) else (options.emergency_ticket or "").strip(),
        )
    elif prior.get("emergency") and not options.no_emergency:
        emergency = EmergencyDeclaration.model_validate(prior["emergency"])
        notes.append(
            f"kept the emergency declared by an earlier run (ticket {emergency.ticket}); "
            "--no-emergency drops it"
        )
    return RunState(promoted_at=prior.get("promoted_at") or now, backup=backup, emergency=emergency)


def _backup(options: PromoteOptions, prior: Mapping[str, Any], now: datetime) -> BackupRecord | None:
    earlier = BackupRecord.model_validate(prior["backup"]) if prior.get("backup") else None
    if not options.backup_id:
        return earlier
    if earlier is not None and earlier.id == options.backup_id:
        return earlier  # recording the same backup again changes nothing
    return BackupRecord(id=options.backup_id, completed_at=now, location=options.backup_location)
