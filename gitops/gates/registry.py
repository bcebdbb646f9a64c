"""The gates a pipeline stage can require, by name. The stage's `gates:` list is the only list that plan,
promote, gate check, pr merge and the PR body iterate.

Adding a gate: write one module with a `GATE = Gate(...)` (a name, the phases it applies in, and a pure
function from `Evidence` to a `GateResult`), then add one line to `_MODULES` below and its name to
`GateName` in gitops/config/models.py (config is validated before any stage is imported; a test keeps
the two equal).
"""

from __future__ import annotations

from collections.abc import Sequence

from gitops.config.loader import ConfigRepo
from gitops.gates import approvals, rehearsal, supply, window
from gitops.gates.evidence import Evidence, Gate, GateResult, Phase

_MODULES = (
    window.GATE,
    approvals.GATE,
    supply.SCAN,
    supply.SIGNATURE,
    rehearsal.GATE,
)
GATES: dict[str, Gate] = {gate.name: gate for gate in _MODULES}


def stage_gates(repo: ConfigRepo, env: str) -> tuple[str, ...]:
    """The gates `env`'s pipeline stage lists: the one list every command iterates."""
    stage = repo.pipeline_for(env).stage(env)
    return tuple(stage.gates) if stage is not None else tuple(GATES)


def gate(name: str) -> Gate:
    try:
        return GATES[name]
    except KeyError:
        raise KeyError(f"unknown gate {name!r} (known: {', '.join(sorted(GATES))})") from None


def run_gates(names: Sequence[str], evidence: Evidence) -> list[GateResult]:
    """The results of the named gates that apply in `evidence.phase`, in the stage's order."""
    return [gate(name).evaluate(evidence) for name in names if evidence.phase in gate(name).phases]


def applies(names: Sequence[str], phase: Phase) -> list[str]:
    return [name for name in names if phase in gate(name).phases]
