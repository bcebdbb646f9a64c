"""Approvals that lose their standing through main (local forge, real git, real window engine): the policy
that judges a PR is read from main at every check, so a reviewer who leaves the CAB after approving, or an
approval older than the TTL by a minute, no longer counts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fixtures.promote import NOW, Stage
from tests.gates.test_bypass import CAB, approve, cli


def promoted(stage: Stage, capsys: pytest.CaptureFixture[str]) -> int:
    code, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0, result
    number = int(result["pull_request"]["number"])
    approve(capsys, stage, number, *CAB)
    return number


def test_a_reviewer_removed_from_the_cab_after_approving_no_longer_counts(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    number = promoted(stage, capsys)
    stage.pull()
    env_yaml = stage.repo.work / "envs/prod/env.yaml"
    old = "cab: [cab-ines, cab-jonas, cab-kofi, cab-lena]"
    assert old in env_yaml.read_text()
    env_yaml.write_text(env_yaml.read_text().replace(old, "cab: [cab-ines, cab-kofi, cab-lena]"))
    stage.repo.commit_all("cab-jonas leaves the CAB (a reviewed change on main)")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    verdict = gate["verdict"]
    assert (code, verdict["state"]) == (3, "pending"), verdict
    [ignored] = verdict["approvals"]["ignored"]
    assert (ignored["user"], ignored["reason"]) == ("cab-jonas", "not in cab")
    code, _ = cli(capsys, stage, "pr", "merge", str(number))
    assert code == 3


# the clock ticks (the approvals land a few seconds after NOW): a minute either side of the 72h TTL
@pytest.mark.parametrize(
    ("age", "counted"), [(timedelta(hours=72, minutes=-1), 2), (timedelta(hours=72, minutes=1), 0)]
)
def test_the_approval_ttl_edge(
    stage: Stage, capsys: pytest.CaptureFixture[str], age: timedelta, counted: int
) -> None:
    number = promoted(stage, capsys)
    stage.move_to(NOW + age)
    _, gate = cli(capsys, stage, "gate", "check", str(number), "--no-publish")
    approvals = gate.get("verdict", (gate.get("report") or {}).get("verdict", {}))["approvals"]
    assert len(approvals["counted"]) == counted, approvals
    if not counted:
        assert all("expired" in i["reason"] for i in approvals["ignored"]), approvals
