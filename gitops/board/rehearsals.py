"""The restore rehearsal of an environment as the CAB view and the board show it: the latest rehearsal on
record (passed or failed, measured RTO and RPO against the env's `recovery` objectives, its age), judged by
the same facts and the same rule the rehearsal gate uses (gitops.gates.rehearsal_facts / prove_backup)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gitops.config.loader import ConfigRepo
from gitops.gates.rehearsal import prove_backup
from gitops.gates.rehearsal_facts import rehearsal_facts


@dataclass(frozen=True, kw_only=True)
class RehearsalView:
    env: str
    state: str  # success: the latest rehearsal counts; pending: none usable yet; failure: disproven
    reason: str
    backup: str | None = None
    passed: bool | None = None
    at: datetime | None = None
    age_seconds: float | None = None
    rto_seconds: float | None = None
    rpo_seconds: float | None = None
    rto_objective_seconds: float | None = None
    rpo_objective_seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "state": self.state,
            "reason": self.reason,
            "backup": self.backup,
            "passed": self.passed,
            "at": self.at.isoformat() if self.at else None,
            "age_seconds": self.age_seconds,
            "rto": {"measured_seconds": self.rto_seconds, "objective_seconds": self.rto_objective_seconds},
            "rpo": {"measured_seconds": self.rpo_seconds, "objective_seconds": self.rpo_objective_seconds},
        }

    def text(self) -> str:
        if self.at is None:
            return f"{self.state}: {self.reason}"
        verdict = "passed" if self.passed else "FAILED"

        def measured(seconds: float | None, objective: float | None) -> str:
            shown = "?" if seconds is None else f"{seconds:g}s"
            return shown + ("" if objective is None else f" (objective {objective:g}s)")

        return (
            f"{self.state}: rehearsal of {self.backup} {verdict}, "
            f"{(self.age_seconds or 0) / 3600:.1f}h ago; "
            f"RTO {measured(self.rto_seconds, self.rto_objective_seconds)}, "
            f"RPO {measured(self.rpo_seconds, self.rpo_objective_seconds)} — {self.reason}"
        )


def rehearsal_view(repo: ConfigRepo, env: str, now: datetime) -> RehearsalView:
    """The latest rehearsal of `env` on main and whether it counts."""
    facts = rehearsal_facts(repo, env, ())
    if not facts.trusted:
        return RehearsalView(env=env, state="failure", reason=facts.problem or "the record cannot be trusted")
    recovery = facts.recovery
    rto = recovery.rto.total_seconds() if recovery else None
    rpo = recovery.rpo.total_seconds() if recovery else None
    if not facts.rehearsals:
        why = "never rehearsed (odoo-gitops backup verify)"
        return RehearsalView(
            env=env, state="pending", reason=why, rto_objective_seconds=rto, rpo_objective_seconds=rpo
        )
    latest = max(facts.rehearsals, key=lambda r: r.at)
    if recovery is None:
        state, reason = "failure", "the environment sets no recovery objectives (recovery: in env.yaml)"
    else:
        proof = prove_backup(latest.backup, facts.rehearsals, recovery, now)
        state, reason = proof.state, proof.reason
    return RehearsalView(
        env=env, state=state, reason=reason, backup=latest.backup, passed=latest.passed, at=latest.at,
        age_seconds=max(0.0, (now - latest.at).total_seconds()), rto_seconds=latest.restore_seconds,
        rpo_seconds=latest.backup_age_seconds, rto_objective_seconds=rto, rpo_objective_seconds=rpo,
    )  # fmt: skip
