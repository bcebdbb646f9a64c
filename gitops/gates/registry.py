"""The gates a pipeline stage can require, by name. The stage's `gates:` list is the only list that plan,
promote, gate check, pr merge and the PR body iterate.

Adding a gate: write one module with a `GATE = Gate(...)` (a name, the phases it applies in, and a pure
function from `Evidence` to a `GateResult`), then add one line to `_MODULES` below. Nothing else: a stage's
`gates:` list is checked against this registry here (config/ cannot import it), and an unknown name is
reported with its pipeline file and line.
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops.config.loader import ConfigRepo
from gitops.errors import ConfigError, Problem
from gitops.gates import approvals, lifecycle_backup, rehearsal, supply, window
from gitops.gates.evidence import Evidence, Gate, GateResult, Phase

_MODULES = (
    window.GATE,
    approvals.GATE,
    supply.SCAN,
    supply.SIGNATURE,
    rehearsal.GATE,
)
GATES: dict[str, Gate] = {gate.name: gate for gate in _MODULES}
# gates only lifecycle PRs run (gitops.promote.lifecyclefacts.LIFECYCLE_GATES): a stage cannot list them
LIFECYCLE_ONLY: dict[str, Gate] = {g.name: g for g in (lifecycle_backup.GATE,)}


def stage_gates(repo: ConfigRepo, env: str) -> tuple[str, ...]:
    """The gates `env`'s pipeline stage lists: the one list every command iterates. A name the registry does
    not know is a config error naming the pipeline file and line (exit 2), never a silent skip."""
    pipeline = repo.pipeline_for(env)
    index = pipeline.index_of(env)
    stage = pipeline.stage(env)
    if stage is None or index is None:
        return tuple(GATES)
    unknown = [(j, name) for j, name in enumerate(stage.gates) if name not in GATES]
    if unknown:
        doc = repo.pipeline_docs.get(pipeline.name)
        known = ", ".join(sorted(GATES))
        raise ConfigError(
            [
                doc.problem(
                    ("stages", index, "gates", j),
                    f"gate {name!r} is not a gate odoo-gitops knows (known: {known})",
                )
                if doc is not None
                else Problem(
                    f"pipelines/{pipeline.name}.yaml", 0, f"gate {name!r} is unknown (known: {known})"
                )
                for j, name in unknown
            ]
        )
    return tuple(stage.gates)


def gate(name: str) -> Gate:
    found = GATES.get(name) or LIFECYCLE_ONLY.get(name)  # read at call time: a registered line counts at once
    if found is not None:
        return found
    raise KeyError(f"unknown gate {name!r} (known: {', '.join(sorted(GATES))})")


def run_gates(names: Sequence[str], evidence: Evidence) -> list[GateResult]:
    """The results of the named gates that apply in `evidence.phase`, in the stage's order."""
    return [gate(name).evaluate(evidence) for name in names if evidence.phase in gate(name).phases]


def applies(names: Sequence[str], phase: Phase) -> list[str]:
    return [name for name in names if phase in gate(name).phases]
