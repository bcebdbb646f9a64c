"""The `rehearsal` gate: a destructive change relies on backups that were proven by a restore rehearsal.

A backup counts only when its latest rehearsal on record passed, ran within the environment's
`recovery.rehearsal_max_age`, and measured a restore time within `recovery.rto` and a backup age within
`recovery.rpo`. A later failed rehearsal overrides an earlier pass; a rehearsal dated in the future, a
missing measurement or an audit log that fails its chain check counts as no rehearsal (fail closed).
The same decision backs rollback readiness (gitops.verify.readiness).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gitops.config.models import Recovery
from gitops.config.types import format_duration, parse_timestamp
from gitops.gates.evidence import Evidence, Gate, GateResult, GateState, Rehearsal, RehearsalFacts

REHEARSAL_KIND = "rehearsal"  # an audit entry kind for rehearsals
RECORD_FILE = "rehearsal.json"  # envs/<env>/rehearsal.json: the latest rehearsal `backup verify` recorded
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class BackupProof:
    backup: str
    state: GateState
    reason: str


def same_backup(rehearsed: str, backup: str) -> bool:
    """A rehearsal names the backup file (`bk-1.dump`), a release the backup id (`bk-1`)."""
    return rehearsed == backup or rehearsed.removesuffix(".dump") == backup.removesuffix(".dump")


def _latest(backup: str, rehearsals: Iterable[Rehearsal]) -> Rehearsal | None:
    mine = [r for r in rehearsals if same_backup(r.backup, backup)]
    return max(mine, key=lambda r: r.at) if mine else None


def _measured(label: str, seconds: float | None, objective: timedelta) -> str | None:
    """Why a measurement misses its objective (None: it meets it)."""
    if seconds is None:
        return f"the rehearsal recorded no {label}"
    if seconds > objective.total_seconds():
        took = format_duration(timedelta(seconds=round(seconds)))
        return f"measured {label} {took} exceeds the objective {format_duration(objective)}"
    return None


def prove_backup(
    backup: str, rehearsals: Sequence[Rehearsal], recovery: Recovery, now: datetime
) -> BackupProof:
    """Does `backup` count? Pending: no usable rehearsal yet (run one); failure: it was disproven."""
    latest = _latest(backup, rehearsals)
    if latest is None:
        return BackupProof(
            backup, "pending", f"backup {backup} was never rehearsed (odoo-gitops backup verify)"
        )
    if latest.at > now + CLOCK_SKEW:
        return BackupProof(
            backup, "failure", f"the rehearsal of {backup} is dated in the future ({latest.at})"
        )
    if not latest.passed:
        why = f": {latest.reason}" if latest.reason else ""
        return BackupProof(backup, "failure", f"the latest rehearsal of {backup} failed{why}")
    if now - latest.at > recovery.rehearsal_max_age:
        age = format_duration(recovery.rehearsal_max_age)
        return BackupProof(
            backup, "pending", f"the rehearsal of {backup} is older than {age}; rehearse again"
        )
    for label, seconds, objective in (
        ("restore time (RTO)", latest.restore_seconds, recovery.rto),
        ("backup age (RPO)", latest.backup_age_seconds, recovery.rpo),
    ):
        missed = _measured(label, seconds, objective)
        if missed:
            return BackupProof(backup, "failure", f"backup {backup}: {missed}")
    return BackupProof(backup, "success", f"backup {backup} rehearsed at {latest.at.isoformat()}")


def prove_backups(facts: RehearsalFacts, now: datetime) -> list[BackupProof]:
    if not facts.trusted:
        return [BackupProof("-", "failure", facts.problem or "the rehearsal record cannot be trusted")]
    if facts.recovery is None:
        return [
            BackupProof("-", "failure", "the environment sets no recovery objectives (recovery: in env.yaml)")
        ]
    if not facts.backups:
        return [BackupProof("-", "pending", "no backup is recorded for this change (promote --backup-id)")]
    return [prove_backup(b, facts.rehearsals, facts.recovery, now) for b in facts.backups]


def _evaluate(evidence: Evidence) -> GateResult:
    if not evidence.destructive:
        return GateResult(name="rehearsal", state="success", detail={"applies": False})
    facts = evidence.rehearsal()
    if facts is None:
        return GateResult(name="rehearsal", state="failure", reasons=("no rehearsal facts for the target",))
    proofs = prove_backups(facts, evidence.now)
    states = [p.state for p in proofs]
    state: GateState = "failure" if "failure" in states else "pending" if "pending" in states else "success"
    reasons = tuple(p.reason for p in proofs if p.state != "success")
    return GateResult(name="rehearsal", state=state, reasons=reasons, detail={"proofs": proofs})


GATE = Gate("rehearsal", frozenset({"merge"}), _evaluate)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


def rehearsal_from(at: str, data: Mapping[str, Any]) -> Rehearsal | None:
    """A rehearsal from a record (`backup verify`'s rehearsal.json, or an audit entry's data with the
    entry's time `at`); None when it is malformed."""
    backup = data.get("backup")
    passed = data.get("passed")
    if not isinstance(backup, str) or not backup or not isinstance(passed, bool):
        return None
    try:
        moment = parse_timestamp(data.get("rehearsed_at") or at)
    except ValueError:
        return None
    problems = data.get("problems")
    reason = "; ".join(map(str, problems)) if isinstance(problems, list) else str(data.get("reason") or "")
    return Rehearsal(
        backup=backup,
        passed=passed,
        at=moment,
        restore_seconds=_number(data.get("rto_seconds", data.get("restore_seconds"))),
        backup_age_seconds=_number(data.get("rpo_seconds", data.get("backup_age_seconds"))),
        reason=reason[:500],
    )


def rehearsals_from(entries: Iterable[tuple[str, str, Mapping[str, Any]]]) -> tuple[Rehearsal, ...]:
    """Rehearsals from (kind, at, data) audit entries; other kinds and malformed entries are skipped."""
    found = (rehearsal_from(at, data) for kind, at, data in entries if kind == REHEARSAL_KIND)
    return tuple(r for r in found if r is not None)
