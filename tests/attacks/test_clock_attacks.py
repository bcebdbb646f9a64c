"""The promoter's clock against the gate's (local forge, real git, the real window engine): what promote
checks with the clock of the machine it runs on, the gate checks again with its own (found: a promote run
with a clock a day ahead skipped staging's 24h soak, and the gate never looked)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.fixtures.promote import NOW, Stage, release_data
from tests.gates.test_bypass import CAB, approve, cli


def test_a_promoter_clock_ahead_does_not_skip_the_soak(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: staging verified 1.5.0 an hour ago (its soak is 24h); run promote on a machine whose clock is a
    day ahead, so its soak check passes, then let the CAB approve and the gate (true clock) decide."""
    stage.release("staging", release_data("1.5.0", promoted_from="dev", verified_at=NOW - timedelta(hours=1)))
    code, refused = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 3 and any("soak time in 'staging' not over" in r for r in refused["reasons"]), refused
    stage.move_to(NOW + timedelta(days=1))  # the promoter's clock
    code, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0, result
    number = int(result["pull_request"]["number"])
    stage.move_to(NOW + timedelta(minutes=5))  # the gate's (true) clock: staging has soaked for 1h05
    approve(capsys, stage, number, *CAB)
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert (code, gate["verdict"]["state"]) == (3, "failure"), gate["verdict"]
    # the moved clock keeps running while the test runs: seconds may follow the 1h5m
    reason = gate["verdict"]["reasons"][0]
    expected = r"soak time in 'staging' not over at the gate's clock \(1h5m(\d+s)? of 1d\)"
    assert re.search(expected, reason), reason
    assert cli(capsys, stage, "pr", "merge", str(number))[0] == 3
    stage.move_to(NOW + timedelta(hours=24))  # Wednesday evening: soaked, and the window is open
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert (code, gate["verdict"]["state"]) == (0, "success"), gate["verdict"]["reasons"]
