"""A lifecycle PR that overwrites or deletes an environment's data is a change its windows govern:
a refresh of staging waits out staging's payroll freeze like a promotion to staging does (found by attacking:
the refresh PR merged during the freeze with approvals and a rehearsed backup, the window never asked).
Real CLI, local forge, real git, the real window engine; the clock is pinned by time-machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.fixtures.configrepo import ConfigRepoFixture
from tests.lifecycle.helpers import run, yaml_at
from tests.lifecycle.test_gate_edges import _refresh, approve, gate, rehearse

FREEZE = datetime(2026, 12, 11, 10, 0, tzinfo=UTC)  # a payroll Friday: staging's `payroll` calendar is closed
REOPENS = datetime(2026, 12, 14, 23, 0, tzinfo=UTC)  # Tuesday 00:00 in Berlin, the business day after


def test_a_refresh_waits_out_the_targets_freeze(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with time_machine.travel(FREEZE, tick=True) as clock:
        number = _refresh(capsys, config_repo)
        approve(capsys, config_repo, number, "cab-ines", "cab-jonas")
        rehearse(config_repo, "staging")
        code, verdict = gate(capsys, config_repo, number)
        assert (code, verdict["state"]) == (3, "pending"), verdict
        [window] = [g for g in verdict["gates"] if g["name"] == "window"]
        assert window["state"] == "pending" and "blocked by payroll" in window["reasons"][0], window
        code, _, err = run(capsys, config_repo, "pr", "merge", str(number))
        assert code == 3 and "cannot be merged" in err
        assert "refresh" not in yaml_at(config_repo, "main", "envs/staging/env.yaml")
        clock.move_to(REOPENS + timedelta(minutes=1))
        rehearse(config_repo, "staging")  # the rehearsal stays within its max age
        code, verdict = gate(capsys, config_repo, number)
        assert (code, verdict["state"]) == (0, "success"), verdict["reasons"]
