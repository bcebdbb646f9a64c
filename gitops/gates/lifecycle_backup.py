"""The `lifecycle_backup` gate: a lifecycle change that destroys an environment's data (a refresh overwrites
the target's database, an expire retires a production-data environment) merges only when that environment
has a backup proven by a restore rehearsal under its own recovery objectives.

Which changes need one is the environment's policy on main, decided in gitops.promote.lifecyclefacts
(`LifecycleChange.backup_required`); the backup is the environment's latest rehearsed one, judged by the same
rule as the `rehearsal` gate (gitops.gates.rehearsal.prove_backups). A promotion (no lifecycle change) is not
concerned: success.
"""

from __future__ import annotations

from gitops.gates.evidence import Evidence, Gate, GateResult, GateState, RehearsalFacts
from gitops.gates.rehearsal import prove_backups

NAME = "lifecycle_backup"


def latest_backup(facts: RehearsalFacts) -> RehearsalFacts:
    """The facts with the environment's most recently rehearsed backup as the one the change relies on."""
    if not facts.rehearsals:
        return facts
    latest = max(facts.rehearsals, key=lambda r: r.at)
    return RehearsalFacts((latest.backup,), facts.rehearsals, facts.recovery, facts.trusted, facts.problem)


def _evaluate(evidence: Evidence) -> GateResult:
    change = evidence.lifecycle
    if change is None or not change.backup_required:
        return GateResult(name=NAME, state="success", detail={"applies": False})
    facts = evidence.rehearsal()
    why = change.backup_why or f"the `{change.change}` change needs a backup of {change.env!r}"
    if facts is None:
        return GateResult(name=NAME, state="failure", reasons=(f"{why}: no rehearsal facts",))
    facts = latest_backup(facts)
    if facts.trusted and facts.recovery is not None and not facts.backups:
        reason = f"{why}: no backup of {change.env!r} was rehearsed (odoo-gitops backup verify {change.env})"
        return GateResult(name=NAME, state="pending", reasons=(reason,), detail={"applies": True})
    proofs = prove_backups(facts, evidence.now)
    states = [p.state for p in proofs]
    state: GateState = "failure" if "failure" in states else "pending" if "pending" in states else "success"
    reasons = tuple(f"{why}: {p.reason}" for p in proofs if p.state != "success")
    backup = facts.backups[0] if state == "success" else None
    return GateResult(
        name=NAME, state=state, reasons=reasons, detail={"applies": True, "backup": backup, "env": change.env}
    )


GATE = Gate(NAME, frozenset({"merge"}), _evaluate)
