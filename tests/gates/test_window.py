"""gitops/gates/window.py: the `window` gate: open passes, closed waits (saying why and until when), no
verdict fails; the emergency path may override a closed window, never a missing verdict."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gitops.config.models import GatePolicy
from gitops.gates.evidence import Emergency, Evidence, WindowState
from gitops.gates.window import GATE, stale_emergency, window_reason

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
    result = GATE.evaluate(evidence(closed, Emergency("payroll broken", "INC-7", NOW - timedelta(hours=1))))
    assert result.state == "pending"  # still not open: the policy decides on the override
    assert result.detail == {"window": closed, "overridable": True}


# break-glass is short-lived: 24h from the audited declaration (gitops.windows.breakglass.MAX_TTL), and an
# emergency whose declaration time is unknown overrides nothing
@pytest.mark.parametrize(
    ("declared_at", "overridable", "why"),
    [
        (NOW, True, None),
        (NOW - timedelta(hours=24), True, None),
        (NOW - timedelta(hours=24, seconds=1), False, "older than 24h"),
        (NOW - timedelta(days=30), False, "older than 24h"),
        (None, False, "no audited declaration time"),
        (NOW + timedelta(minutes=5), True, None),  # clocks differ a little
        (NOW + timedelta(minutes=6), False, "in the future"),
        (NOW + timedelta(days=30), False, "in the future"),  # promote run on a machine whose clock is ahead
    ],
)
def test_a_stale_or_undated_emergency_overrides_nothing(
    declared_at: datetime | None, overridable: bool, why: str | None
) -> None:
    closed = WindowState(open=False, blocked_by=("payroll/freeze",))
    declared = evidence(closed, Emergency("payroll broken", "INC-7", declared_at))
    result = GATE.evaluate(declared)
    assert result.state == "pending"
    assert result.detail["overridable"] is overridable
    problem = stale_emergency(declared)
    assert (problem is None) is (why is None)
    if why is not None:
        assert problem is not None and why in problem
        assert result.reasons[-1] == problem
