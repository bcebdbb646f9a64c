"""gitops/gates/window.py: the `window` gate: open passes, closed waits (saying why and until when), no
verdict fails; the emergency path may override a closed window, never a missing verdict."""

from __future__ import annotations

from datetime import UTC, datetime

from gitops.config.models import GatePolicy
from gitops.gates.evidence import Emergency, Evidence, WindowState
from gitops.gates.window import GATE, window_reason

NOW = datetime(2026, 12, 22, 18, 30, tzinfo=UTC)
REOPENS = datetime(2027, 1, 12, 18, 0, tzinfo=UTC)


def evidence(window: WindowState | None, emergency: Emergency | None = None) -> Evidence:
    return Evidence(
        phase="merge", policy=GatePolicy(), change_class="normal", destructive=False,
        window=lambda: window, emergency=emergency, now=NOW,
    )  # fmt: skip


def test_the_reason_names_the_blocking_windows_and_the_next_opening() -> None:
    closed = WindowState(open=False, blocked_by=("payroll/freeze", "holidays/xmas"), next_open=REOPENS)
    assert window_reason(closed) == (
        "outside a change window (blocked by payroll/freeze, holidays/xmas); "
        "next open 2027-01-12T18:00:00+00:00"
    )
    assert window_reason(WindowState(open=False)) == "outside a change window; no open window ahead"


def test_open_passes_closed_waits_and_none_fails() -> None:
    assert GATE.phases == frozenset({"merge"})
    opened = GATE.evaluate(evidence(WindowState(open=True)))
    assert (opened.state, opened.reasons) == ("success", ())
    closed = WindowState(open=False, blocked_by=("payroll/freeze",), next_open=REOPENS)
    waiting = GATE.evaluate(evidence(closed))
    assert (waiting.state, waiting.reasons) == ("pending", (window_reason(closed),))
    assert waiting.detail["overridable"] is False
    missing = GATE.evaluate(evidence(None, Emergency("payroll broken", "INC-7")))
    assert (missing.state, missing.reasons) == ("failure", ("no window verdict for the target",))


def test_only_a_declared_emergency_makes_a_closed_window_overridable() -> None:
    closed = WindowState(open=False, blocked_by=("payroll/freeze",))
    result = GATE.evaluate(evidence(closed, Emergency("payroll broken", "INC-7")))
    assert result.state == "pending"  # still not open: the policy decides on the override
    assert result.detail == {"window": closed, "overridable": True}
