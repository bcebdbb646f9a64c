"""`plan` says what `promote` will do: run both on the same config repo states (real git, local forge)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from gitops.cli.main import main
from gitops.promote.edit import render_release
from tests.fixtures.promote import NOW, Stage

REST = ["globex-consult", "initech-services", "northwind-civil"]


def cli(capsys: pytest.CaptureFixture[str], stage: Stage, *args: str) -> tuple[int, dict[str, Any]]:
    code = main([*args, "--config-repo", str(stage.repo.remote), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def plan(capsys: pytest.CaptureFixture[str], stage: Stage) -> tuple[int, dict[str, Any]]:
    return cli(capsys, stage, "plan", "staging", "prod")


def promote(capsys: pytest.CaptureFixture[str], stage: Stage) -> tuple[int, dict[str, Any]]:
    return cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")


def states(planned: dict[str, Any]) -> list[tuple[str, str]]:
    return [(w["name"], w["state"]) for w in planned["waves"]]


def agree(planned: tuple[int, dict[str, Any]], promoted: tuple[int, dict[str, Any]]) -> None:
    """Same exit code; when promote opens a PR, plan named its wave, its tenants and its approval rule; when
    promote refuses, plan gave exactly its reasons."""
    (plan_code, plan), (promote_code, result) = planned, promoted
    assert plan_code == promote_code, (plan, result)
    assert plan["allowed"] is (promote_code == 0)
    if promote_code == 3:
        assert plan["reasons"] == result["reasons"]
    elif result["action"] == "up-to-date":
        assert plan["up_to_date"] and plan["next_wave"] is None
    else:
        assert plan["next_wave"]["name"] == result["wave"]
        assert plan["next_wave"]["tenants"] == result["tenants"]
        rule = "destructive" if result["destructive"] else result["change_class"]
        assert plan["approvals"]["rule"] == rule


def merge(capsys: pytest.CaptureFixture[str], stage: Stage, number: int) -> None:
    for user in ("cab-ines", "cab-jonas"):
        assert cli(capsys, stage, "pr", "approve", str(number), "--as", user)[0] == 0
    assert cli(capsys, stage, "pr", "merge", str(number))[0] == 0


def freeze(stage: Stage) -> None:
    """Stop the test clock, so plan and promote measure soak times at the same instant."""
    stage.clock.move_to(NOW + timedelta(minutes=10), tick=False)


def verify_canary(stage: Stage, ago: timedelta) -> datetime:
    """Record acme-build's verification `ago` before now (the frozen test clock); returns when."""
    stage.pull()
    path = stage.repo.work / "envs/prod/release.yaml"
    data = yaml.safe_load(path.read_text())
    when = datetime.now(UTC) - ago
    data["tenants"]["acme-build"]["verification"] = {"revision": "a" * 40, "verified_at": when}
    path.write_text(render_release(data))
    stage.repo.commit_all("canary verified")
    return when


def test_plan_and_promote_agree_through_every_wave(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    freeze(stage)
    # before the canary: both take the canary wave
    planned, promoted = plan(capsys, stage), promote(capsys, stage)
    agree(planned, promoted)
    assert planned[1]["next_wave"] == {"name": "canary", "tenants": ["acme-build"], "completes_env": False}
    assert states(planned[1]) == [("canary", "next"), ("rest", "waiting")]
    merge(capsys, stage, promoted[1]["pull_request"]["number"])

    # canary merged, not verified: promote refuses the rest, and plan says so (it said `allowed` before)
    planned, promoted = plan(capsys, stage), promote(capsys, stage)
    agree(planned, promoted)
    assert planned[0] == 3 and states(planned[1]) == [("canary", "done"), ("rest", "blocked")]
    unverified = "wave 'canary': tenant acme-build is not verified yet (odoo-gitops verify)"
    assert planned[1]["reasons"] == [unverified]
    assert planned[1]["waves"][1]["reasons"] == [unverified]
    assert planned[1]["next_wave"]["name"] == "rest"

    # verified an hour ago, soaking for 4h: both refuse with the time left (rounded up to the minute)
    when = verify_canary(stage, timedelta(hours=1, seconds=90))
    planned, promoted = plan(capsys, stage), promote(capsys, stage)
    agree(planned, promoted)
    assert planned[1]["reasons"] == [
        f"wave 'canary': tenant acme-build soaks for 4h after verification ({when.isoformat()}): 2h59m left"
    ]

    # soaked: both take the rest, which completes the environment
    verify_canary(stage, timedelta(hours=5))
    planned, promoted = plan(capsys, stage), promote(capsys, stage)
    agree(planned, promoted)
    assert planned[0] == 0 and states(planned[1]) == [("canary", "done"), ("rest", "next")]
    assert planned[1]["next_wave"] == {"name": "rest", "tenants": REST, "completes_env": True}
    merge(capsys, stage, promoted[1]["pull_request"]["number"])

    # every wave runs the release: nothing to do for either
    planned, promoted = plan(capsys, stage), promote(capsys, stage)
    agree(planned, promoted)
    assert promoted[1]["action"] == "up-to-date"
    assert states(planned[1]) == [("canary", "done"), ("rest", "done")]


def test_an_unsoaked_source_blocks_the_wave_promote_would_open(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    freeze(stage)
    stage.pull()
    path = stage.repo.work / "envs/staging/release.yaml"
    data = yaml.safe_load(path.read_text())
    data["verification"]["verified_at"] = datetime.now(UTC) - timedelta(hours=2)
    path.write_text(render_release(data))
    stage.repo.commit_all("staging verified two hours ago")
    planned, promoted = plan(capsys, stage), promote(capsys, stage)
    agree(planned, promoted)
    assert planned[1]["reasons"] == ["soak time in 'staging' not over: 2h of 1d"]
    assert states(planned[1]) == [("canary", "blocked"), ("rest", "waiting")]
    assert planned[1]["waves"][0]["reasons"] == planned[1]["reasons"]


def test_a_missing_signing_key_is_refused_by_both(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    stage.pull()
    path = stage.repo.work / "envs/prod/env.yaml"
    text = path.read_text()
    path.write_text(text.replace("signing:\n  public_key: keys/cosign.pub\n", ""))
    stage.repo.commit_all("prod without a signing key")
    planned, promoted = plan(capsys, stage), promote(capsys, stage)
    agree(planned, promoted)
    assert planned[1]["reasons"] == [
        "'prod' has no signing.public_key: cannot verify signature or attestation"
    ]
    gates = {g["name"]: g["status"] for g in planned[1]["gates"]}
    assert gates == {"window": "met", "approvals": "pending", "scan": "not met", "signature": "not met"}


def test_explicit_tenants_and_waves_are_chosen_as_promote_chooses(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    code, planned = cli(capsys, stage, "plan", "staging", "prod", "--wave", "rest")
    code_p, promoted = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci", "--wave", "rest")
    agree((code, planned), (code_p, promoted))
    assert planned["reasons"] == ["wave 'canary': tenant acme-build does not run this release yet"]
    code, planned = cli(capsys, stage, "plan", "staging", "prod", "--tenants", "northwind-civil")
    code_p, promoted = cli(
        capsys, stage, "promote", "staging", "prod", "--actor", "ci", "--tenants", "northwind-civil"
    )
    agree((code, planned), (code_p, promoted))
    assert states(planned) == [("canary", "waiting"), ("rest", "waiting")]
    code, planned = cli(capsys, stage, "plan", "staging", "prod", "--wave", "pilot")
    assert code == 2 and "--wave 'pilot': no such wave for 'prod'" in planned["message"]
