"""The `window` gate: the target's change window is open now (the emergency path may override it)."""

from __future__ import annotations

from gitops.gates.evidence import Evidence, Gate, GateResult, WindowState


def window_reason(window: WindowState) -> str:
    blocked = f" (blocked by {', '.join(window.blocked_by)})" if window.blocked_by else ""
    when = f"; next open {window.next_open.isoformat()}" if window.next_open else "; no open window ahead"
    return f"outside a change window{blocked}{when}"


def _evaluate(evidence: Evidence) -> GateResult:
    state = evidence.window()
    if state is None:
        return GateResult(name="window", state="failure", reasons=("no window verdict for the target",))
    if state.open:
        return GateResult(name="window", state="success", detail={"window": state})
    return GateResult(
        name="window",
        state="pending",
        reasons=(window_reason(state),),
        detail={"window": state, "overridable": evidence.emergency is not None},
    )


GATE = Gate("window", frozenset({"merge"}), _evaluate)
