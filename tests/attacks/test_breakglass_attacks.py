"""Attacks on the emergency (break-glass) path, against the real CLI (local forge, real git, the real window
engine): an emergency is a short-lived licence to pass a closed window, bound to the PR's content, its
environment and the ECAB, never a standing one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures.promote import NOW, Stage
from tests.gates.test_bypass import approve, audit, cli

EMERGENCY = ("--emergency", "payroll export broken", "--ticket", "INC-7")
SUNDAY = NOW + timedelta(days=4, hours=18)  # Sunday 13:30 in Berlin: weekend and payroll freeze, closed


def declared(stage: Stage, capsys: pytest.CaptureFixture[str], *extra: str) -> int:
    code, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot", *extra)
    assert code == 0, result
    return int(result["pull_request"]["number"])


def overrides(stage: Stage) -> list[object]:
    return [e for e in audit(stage, "prod") if e.kind == "override"]


@pytest.mark.parametrize(
    ("declared_before", "state", "overridden"),
    [(timedelta(hours=23), "success", True), (timedelta(hours=25), "pending", False)],
)
def test_an_emergency_declared_days_ago_does_not_pass_todays_freeze(
    stage: Stage,
    capsys: pytest.CaptureFixture[str],
    declared_before: timedelta,
    state: str,
    overridden: bool,
) -> None:
    """Attack: declare an emergency while the window is open (nothing to break), let it sit, and merge with a
    fresh ECAB approval in a later freeze. An override lasts 24h at most (gitops.windows.breakglass.MAX_TTL),
    counted from the audited promote run that declared the emergency."""
    stage.move_to(SUNDAY - declared_before)
    number = declared(stage, capsys, *EMERGENCY)
    stage.move_to(SUNDAY)
    approve(capsys, stage, number, "cto-paula")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    verdict = gate["verdict"]
    assert (code, verdict["state"], verdict["window_overridden"]) == (
        0 if overridden else 3,
        state,
        overridden,
    ), verdict["reasons"]
    assert len(overrides(stage)) == (1 if overridden else 0)
    if not overridden:
        assert any("declared at" in r and "older than 24h" in r for r in verdict["reasons"]), verdict
        code, _ = cli(capsys, stage, "pr", "merge", str(number))
        assert code == 3
