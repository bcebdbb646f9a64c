"""Lifecycle PRs through the promotion gate engine (gate check / pr approve / pr merge on the local forge):
approvals per the env's policy on main, the proposer cannot approve, approvals bound to the content, facts
from the branch and the audited lifecycle run (never the body), audit first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.configrepo import ConfigRepoFixture, git
from tests.lifecycle.helpers import add_env, audit, run, yaml_at

LATER = (datetime.now(UTC).date() + timedelta(days=180)).isoformat()
BRANCH = "lifecycle/extend/staging"
ACME = ("--masking", "default", "--tenant", "acme-build")


def _gate(capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture, number: int) -> tuple[int, Any, str]:
    return run(capsys, repo, "gate", "check", str(number))


def _approve(capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture, number: int, user: str) -> None:
    code, _, err = run(capsys, repo, "pr", "approve", str(number), "--as", user)
    assert code == 0, err


def _verdict(out: dict[str, Any], err: str) -> dict[str, Any]:
    found = out.get("verdict") or (out.get("report") or {}).get("verdict")
    assert isinstance(found, dict), (out, err)
    return found


def _forge_commit(repo: ConfigRepoFixture, branch: str, path: str, text: str) -> None:
    """Someone pushes an edit of their own to the lifecycle branch (git, not odoo-gitops)."""
    git(repo.work, "fetch", "-q", "origin", branch)
    git(repo.work, "checkout", "-q", "-B", "forged", "FETCH_HEAD")
    (repo.work / path).write_text(text)
    git(repo.work, "commit", "-q", "-am", "forged")
    git(repo.work, "push", "-q", "origin", f"HEAD:{branch}")
    git(repo.work, "checkout", "-q", "main")


def test_an_extend_pr_is_gated_by_the_envs_policy_and_merged_when_approved(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    code, proposed, err = run(capsys, config_repo, "env", "extend", "staging", "--until", LATER)
    assert code == 0, err
    number = proposed["pull_request"]["number"]
    code, out, err = _gate(capsys, config_repo, number)
    verdict = _verdict(out, err)
    assert code == 3 and verdict["state"] == "pending" and verdict["rule"] == "normal"
    _approve(capsys, config_repo, number, "ci-bot")  # who proposed it
    _approve(capsys, config_repo, number, "rel-maria")  # not in cab
    code, out, err = _gate(capsys, config_repo, number)
    ignored = {i["user"]: i["reason"] for i in _verdict(out, err)["approvals"]["ignored"]}
    assert code == 3 and "may not approve their own" in ignored["ci-bot"] and "cab" in ignored["rel-maria"]
    _approve(capsys, config_repo, number, "cab-ines")
    code, out, err = _gate(capsys, config_repo, number)
    assert code == 0, err
    assert [a["user"] for a in out["verdict"]["approvals"]["counted"]] == ["cab-ines"]
    code, shown, err = run(capsys, config_repo, "pr", "show", str(number))
    assert code == 0, err
    assert shown["cab"]["missing"] == "" and shown["cab"]["rehearsal"]["env"] == "staging"
    gates = [e for e in audit(config_repo, "staging") if e.kind == "gate" and e.data["pr"] == number]
    assert [g.data["state"] for g in gates] == ["pending", "success"]  # one entry per distinct verdict
    code, out, err = run(capsys, config_repo, "pr", "merge", str(number))
    assert code == 0, err
    assert str(yaml_at(config_repo, "main", "envs/staging/env.yaml")["expires"]) == LATER
    assert [e.data["pr"] for e in audit(config_repo, "staging") if e.kind == "merge"] == [number]


def test_a_lifecycle_pr_edited_outside_its_change_fails_the_gate(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, proposed, err = run(capsys, config_repo, "env", "extend", "staging", "--until", LATER)
    assert code == 0, err
    number = proposed["pull_request"]["number"]
    _approve(capsys, config_repo, number, "cab-ines")
    assert _gate(capsys, config_repo, number)[0] == 0
    values = (config_repo.work / "envs/staging/values.yaml").read_text()
    _forge_commit(config_repo, BRANCH, "envs/staging/values.yaml", values + "replicas: 9\n")
    code, out, err = _gate(capsys, config_repo, number)
    verdict = _verdict(out, err)
    assert code == 3 and verdict["state"] == "failure"
    reasons = "\n".join(verdict["reasons"])
    assert "edits envs/staging/values.yaml, which an `extend` change of 'staging' may not" in reasons
    assert "no `odoo-gitops env extend` run pushed" in reasons
    assert "stale" in verdict["approvals"]["ignored"][0]["reason"]  # the approval was of other content
    code, _, err = run(capsys, config_repo, "pr", "merge", str(number))
    assert code == 3 and "cannot be merged" in err
    assert "replicas" not in (yaml_at(config_repo, "main", "envs/staging/values.yaml") or {})


def test_a_lifecycle_branch_pushed_by_hand_matches_no_audited_run(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """A branch named like a lifecycle PR, opened by hand: the body and branch claim nothing trusted."""
    add_env(config_repo, "jv-north", expires=LATER)
    code, proposed, err = run(capsys, config_repo, "env", "extend", "jv-north", "--until", "2099-01-01")
    assert code == 0, err
    number = proposed["pull_request"]["number"]
    env = (config_repo.work / "envs/jv-north/env.yaml").read_text()
    _forge_commit(
        config_repo, "lifecycle/extend/jv-north", "envs/jv-north/env.yaml", env + "# same change?\n"
    )
    code, out, err = _gate(capsys, config_repo, number)
    verdict = _verdict(out, err)
    assert code == 3 and verdict["state"] == "failure"
    assert any("no `odoo-gitops env extend` run" in r for r in verdict["reasons"])


def test_a_create_pr_is_governed_by_its_templates_policy_on_main(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The new env's own env.yaml is in the PR (its author could write any policy there): the policy that
    counts is the template's on main, named by the audited run."""
    args = ("env", "create", "training", "--from", "staging", "--owner", "rel-omar", "--expires", LATER)
    code, proposed, err = run(capsys, config_repo, *args, "--purpose", "training")
    assert code == 0, err
    number = proposed["pull_request"]["number"]
    code, out, err = _gate(capsys, config_repo, number)
    verdict = _verdict(out, err)
    assert code == 3 and verdict["state"] == "pending", verdict
    assert (verdict["rule"], verdict["approvals"]["from"]) == ("normal", ["cab"])
    _approve(capsys, config_repo, number, "cab-jonas")
    code, out, err = _gate(capsys, config_repo, number)
    assert code == 0, err
    env = (config_repo.work / "envs/dev/env.yaml").read_text()
    git(config_repo.work, "fetch", "-q", "origin", "lifecycle/create/training")
    git(config_repo.work, "checkout", "-q", "-B", "forged", "FETCH_HEAD")
    (config_repo.work / "envs/prod-copy").mkdir()
    (config_repo.work / "envs/prod-copy/env.yaml").write_text(env)
    git(config_repo.work, "add", "-A")
    git(config_repo.work, "commit", "-q", "-m", "sneak another env in")
    git(config_repo.work, "push", "-q", "origin", "HEAD:lifecycle/create/training")
    git(config_repo.work, "checkout", "-q", "main")
    code, out, err = _gate(capsys, config_repo, number)
    reasons = _verdict(out, err)["reasons"]
    assert code == 3 and any("creates envs/prod-copy/env.yaml, which an `create`" in r for r in reasons)


def test_a_refresh_pr_counts_under_the_destructive_rule(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    code, proposed, err = run(capsys, config_repo, "refresh", "prod", "staging", *ACME)
    assert code == 0, err
    code, out, err = _gate(capsys, config_repo, proposed["pull_request"]["number"])
    verdict = _verdict(out, err)
    assert code == 3 and verdict["state"] == "pending"
    assert (verdict["rule"], verdict["approvals"]["required"]) == ("destructive", 2)
