"""One source for every view: on the examples (real git config repo, PRs on the local forge, the real window
engine), `status`, `pr show` and the board model show, for every wave and every open PR, exactly the states
`plan` and `gate check` give — through a whole canary → rest promotion, a closed window, a failing gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.board.collect import read_board
from gitops.forge.protocol import ForgeSettings
from gitops.promote.edit import render_release
from tests.fixtures.promote import CLOSED, NOW, Stage
from tests.gates.test_bypass import approve, cli, push_to_branch, replace_in

TENANTS = ("acme-build", "globex-consult", "initech-services", "northwind-civil")


def compare(stage: Stage, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """Assert that every view agrees with plan and gate check; return prod's cell states."""
    _, plan = cli(capsys, stage, "plan", "staging", "prod")
    _, status = cli(capsys, stage, "status")
    prod = next(e for e in status["envs"] if e["name"] == "prod")
    assert prod["promotion"]["waves"] == plan["waves"]
    assert prod["promotion"]["allowed"] == plan["allowed"]
    assert prod["promotion"]["refusals"] == plan["reasons"]
    assert prod["window"]["open"] == plan["window"]["open"]
    if not plan["window"]["open"]:  # when open, next_open is "now", which the clock moves on from
        assert prod["window"]["next_open_local"] == plan["window"]["next_open_local"]
        assert prod["window"]["blocked_by"] == plan["window"]["blocked_by"]
    _, listed = cli(capsys, stage, "pr", "list")
    assert sorted(p["number"] for p in prod["pull_requests"]) == sorted(
        p["number"] for p in listed["pull_requests"]
    )
    for pull in prod["pull_requests"]:
        number = str(pull["number"])
        _, gate = cli(capsys, stage, "gate", "check", number, "--no-publish")
        verdict = gate["verdict"]
        assert (pull["gate"], pull["reasons"], pull["description"]) == (
            verdict["state"], verdict["reasons"], verdict["description"],
        )  # fmt: skip
        assert pull["approvals"] == {
            "counted": len(verdict["approvals"]["counted"]),
            "needed": verdict["approvals"]["required"],
        }
        assert pull["wave"] == gate["wave"]
        _, shown = cli(capsys, stage, "pr", "show", number)
        assert shown["gate"]["state"] == verdict["state"]
        assert shown["cab"]["missing"] == (
            "; ".join(verdict["reasons"]) if verdict["state"] != "success" else ""
        )
        states = {c["tenant"]: c["state"] for c in prod["cells"] if c["tenant"] in pull["covers"]}
        expected = "blocked" if verdict["state"] == "failure" else "promoting"
        assert set(states.values()) == {expected}, (states, verdict["state"])
    model = read_board(
        str(stage.repo.remote), ForgeSettings(kind="local", actor="x"), now=datetime.now(UTC), envs=["prod"]
    )
    assert {c.tenant: c.state for c in model.env("prod").cells} == {
        c["tenant"]: c["state"] for c in prod["cells"]
    }
    return {c["tenant"]: c["state"] for c in prod["cells"]}


def verify_canary(stage: Stage, at: datetime) -> None:
    stage.pull()
    path = stage.repo.work / "envs/prod/release.yaml"
    data = yaml.safe_load(path.read_text())
    canary = data["tenants"]["acme-build"]
    canary["verification"] = {
        "revision": "a" * 40,
        "verified_at": at,
        "digest": canary["image"].split("@")[1],
    }
    path.write_text(render_release(data))
    stage.repo.commit_all("canary verified")


def test_every_wave_through_a_canary_and_the_rest(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert compare(stage, capsys) == dict.fromkeys(TENANTS, "verified")  # nothing open yet: canary next

    code, canary = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0
    number = canary["pull_request"]["number"]
    states = compare(stage, capsys)  # pending: approvals
    assert (states["acme-build"], states["globex-consult"]) == ("promoting", "verified")

    approve(capsys, stage, number, "cab-ines", "cab-jonas")
    compare(stage, capsys)  # success

    stage.move_to(CLOSED)
    compare(stage, capsys)  # pending: the payroll freeze

    stage.move_to(NOW)
    merged = cli(capsys, stage, "pr", "merge", str(number))
    assert merged[0] == 0, merged
    states = compare(stage, capsys)  # canary done but not verified: rest blocked, the canary drifted
    assert states["acme-build"] == "drifted"
    _, plan = cli(capsys, stage, "plan", "staging", "prod")
    assert [w["state"] for w in plan["waves"]] == ["done", "blocked"]

    verify_canary(stage, NOW)
    compare(stage, capsys)  # the canary soaks: rest still blocked
    stage.move_to(NOW + timedelta(hours=4, minutes=1))
    code, rest = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert (code, rest["wave"]) == (0, "rest")
    states = compare(stage, capsys)
    assert states == {"acme-build": "verified", **dict.fromkeys(TENANTS[1:], "promoting")}


def test_a_failing_gate_blocks_its_cells(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, canary = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0
    edit = replace_in("envs/prod/env.yaml", "count: 2", "count: 0")
    push_to_branch(stage, canary["branch"], edit, tmp=tmp_path)
    states = compare(stage, capsys)  # failure: the PR edits env.yaml
    assert states == {"acme-build": "blocked", **dict.fromkeys(TENANTS[1:], "verified")}


def test_the_model_carries_the_gate_engines_own_values(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    code, canary = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0
    board = read_board(str(stage.repo.remote), ForgeSettings(kind="local", actor="x"), now=datetime.now(UTC))
    pull = board.pull(canary["pull_request"]["number"])
    assert pull is not None and pull.verdict is not None and pull.facts is not None
    _, gate = cli(capsys, stage, "gate", "check", str(pull.number), "--no-publish")
    mine: dict[str, Any] = pull.verdict.to_dict()
    for key in ("state", "reasons", "rule", "content_hash", "approvals", "backup", "gates"):
        assert mine[key] == gate["verdict"][key], key
    assert (pull.facts.target, pull.facts.wave, pull.covers) == ("prod", "canary", ("acme-build",))
