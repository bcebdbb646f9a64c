"""The `window` gate: the target's change window is open now (the emergency path may override it)."""

from __future__ import annotations

from datetime import timedelta

from gitops.gates.evidence import Evidence, Gate, GateResult, WindowState
from gitops.windows.breakglass import MAX_TTL

# how far ahead of the gate's clock a declaration may be dated (the machine that ran promote wrote the time)
CLOCK_SKEW = timedelta(minutes=5)


def window_reason(window: WindowState) -> str:
    blocked = f" (blocked by {', '.join(window.blocked_by)})" if window.blocked_by else ""
    when = f"; next open {window.next_open.isoformat()}" if window.next_open else "; no open window ahead"
    return f"outside a change window{blocked}{when}"


def stale_emergency(evidence: Evidence) -> str | None:
    """Why the declared emergency may not override a closed window now (None: it may, or none declared).
    Break-glass is short-lived: an emergency declared days ago, maybe while the window was open, is no
    licence to pass today's freeze."""
    emergency = evidence.emergency
    if emergency is None:
        return None
    hours = int(MAX_TTL.total_seconds()) // 3600
    again = "declare it again (promote --emergency REASON --ticket ID, a new ticket or reason)"
    if emergency.declared_at is None:
        return f"the emergency has no audited declaration time, so it cannot override the window; {again}"
    if emergency.declared_at - evidence.now > CLOCK_SKEW:
        return (
            f"the emergency is declared at {emergency.declared_at.isoformat()}, in the future (a clock ahead "
            f"cannot lengthen break-glass), so it does not override the window; {again}"
        )
    if evidence.now - emergency.declared_at > MAX_TTL:
        return (
            f"the emergency declared at {emergency.declared_at.isoformat()} is older than {hours}h "
            f"and no longer overrides the window; {again}"
        )
    return None


def _evaluate(evidence: Evidence) -> GateResult:
    state = evidence.window()
    if state is None:
        return GateResult(name="window", state="failure", reasons=("no window verdict for the target",))
    if state.open:
        return GateResult(name="window", state="success", detail={"window": state})
    stale = stale_emergency(evidence)
    return GateResult(
        name="window",
        state="pending",
        reasons=(window_reason(state), *([stale] if stale else [])),
        detail={"window": state, "overridable": evidence.emergency is not None and stale is None},
    )


GATE = Gate("window", frozenset({"merge"}), _evaluate)
