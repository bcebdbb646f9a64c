"""`env create`, `env extend`, `env expire` against a real config repository and the local forge: the right
PRs, the right files on their branches, audited, and never duplicated by a re-run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.configrepo import ConfigRepoFixture, git
from tests.lifecycle.helpers import add_env, at_branch, audit, load_branch, open_pulls, run, yaml_at

SOON = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()
LATER = (datetime.now(UTC).date() + timedelta(days=180)).isoformat()


def test_env_create_opens_one_pr_adding_the_env_from_its_template(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ("env", "create", "training", "--from", "staging", "--owner", "rel-omar", "--expires", SOON)
    code, result, err = run(capsys, config_repo, *args, "--purpose", "training")
    assert code == 0, err
    assert (result["action"], result["branch"]) == ("created", "lifecycle/create/training")
    env = yaml_at(config_repo, result["branch"], "envs/training/env.yaml")
    assert (env["name"], env["namespace"], env["reconcile"]["name"]) == (
        "training",
        "odoo-training",
        "odoo-training",
    )
    assert (env["owner"], env["purpose"], str(env["expires"])) == ("rel-omar", "training", SOON)
    assert env["calendars"] == ["payroll"] and env["gate_policy"]["reviewers"] == ["cab"]
    values = at_branch(config_repo, result["branch"], "envs/training/values.yaml")
    assert values is not None and "odoo-training-database" in values and "staging" not in values
    assert at_branch(config_repo, result["branch"], "envs/training/release.yaml") is None
    config = load_branch(config_repo, result["branch"], tmp_path / "branch")
    assert [s.env for s in config.pipelines["odoo"].stages] == ["dev", "staging", "prod", "training"]
    # the template's comments survive
    assert "# Staging: a neutralized copy" in (
        at_branch(config_repo, result["branch"], "envs/training/env.yaml") or ""
    )
    (pull,) = open_pulls(config_repo, tmp_path)
    assert "@rel-omar" in pull.body and "1 approval(s) from cab" in pull.body
    assert "lifecycle:create" in pull.labels
    (entry,) = [e for e in audit(config_repo, "training") if e.kind == "lifecycle"]
    assert entry.data["change"] == "create" and entry.data["pr"] == pull.number

    code, again, _ = run(capsys, config_repo, *args, "--purpose", "training")
    assert (code, again["action"], again["pushed"]) == (0, "unchanged", False)
    assert len(open_pulls(config_repo, tmp_path / "again")) == 1
    assert len([e for e in audit(config_repo, "training") if e.kind == "lifecycle"]) == 1


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("staging", "--from", "prod"), 2, "already exists"),
        (("qa", "--from", "nowhere"), 2, "unknown environment 'nowhere'"),
        (("Bad_Name", "--from", "dev"), 2, "not a valid name"),
        (("qa", "--from", "dev", "--expires", "2020-01-01"), 2, "not in the future"),
        (("qa", "--from", "dev", "--expires", "31.12.2030"), 2, "expected a date"),
        (("qa", "--from", "dev", "--owner", "two words"), 2, "owner"),
    ],
)
def test_env_create_refuses_bad_requests_before_pushing_anything(
    config_repo: ConfigRepoFixture,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    code: int,
    needle: str,
) -> None:
    extra = [] if "--owner" in args else ["--owner", "dev-bob"]
    extra += [] if "--expires" in args else ["--expires", SOON]
    found, _, err = run(capsys, config_repo, "env", "create", *args, *extra)
    assert found == code and needle in err, err
    assert git(config_repo.remote, "branch", "--list", "lifecycle/*") == ""


def test_env_extend_moves_the_date_and_production_refuses(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    add_env(config_repo, "jv-north", expires=SOON)
    code, _, err = run(capsys, config_repo, "env", "extend", "jv-north", "--until", LATER)
    assert code == 0, err
    assert (
        str(yaml_at(config_repo, "lifecycle/extend/jv-north", "envs/jv-north/env.yaml")["expires"]) == LATER
    )
    (pull,) = open_pulls(config_repo, tmp_path)
    assert "@dev-bob" in pull.body and f"to {LATER}" in pull.body
    assert run(capsys, config_repo, "env", "extend", "jv-north", "--until", LATER)[1]["action"] == "unchanged"
    code, _, err = run(capsys, config_repo, "env", "extend", "jv-north", "--until", SOON)
    assert code == 2 and "does not extend" in err
    code, _, err = run(capsys, config_repo, "env", "extend", "prod", "--until", LATER)
    assert code == 3 and "production" in err


def test_env_expire_opens_one_pr_per_expired_env_that_retires_it(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    add_env(config_repo, "jv-north", expires=yesterday, owner="dev-bob")
    add_env(config_repo, "training-q1", expires="2026-01-31", owner="dev-chen")
    add_env(config_repo, "uat-next", expires=SOON)
    code, result, err = run(capsys, config_repo, "env", "expire")
    assert code == 0, err
    assert sorted(r["env"] for r in result["expired"]) == ["jv-north", "training-q1"]
    pulls = {p.head: p for p in open_pulls(config_repo, tmp_path)}
    assert set(pulls) == {"lifecycle/expire/jv-north", "lifecycle/expire/training-q1"}
    assert "@dev-chen" in pulls["lifecycle/expire/training-q1"].body
    branch = "lifecycle/expire/jv-north"
    assert at_branch(config_repo, branch, "envs/jv-north/env.yaml") is None
    assert at_branch(config_repo, branch, "envs/training-q1/env.yaml") is not None  # its own PR retires it
    config = load_branch(config_repo, branch, tmp_path / "branch")
    assert "jv-north" not in config.envs
    assert [s.env for s in config.pipelines["odoo"].stages] == [
        "dev",
        "staging",
        "prod",
        "training-q1",
        "uat-next",
    ]
    assert [e.data["change"] for e in audit(config_repo, "jv-north") if e.kind == "lifecycle"] == ["expire"]
    # the scheduled workflow runs again the next day: nothing new
    code, again, _ = run(capsys, config_repo, "env", "expire")
    assert code == 0 and [r["action"] for r in again["expired"]] == ["unchanged", "unchanged"]
    assert len(open_pulls(config_repo, tmp_path / "again")) == 2
    assert len([e for e in audit(config_repo, "jv-north") if e.kind == "lifecycle"]) == 1


def test_env_expire_with_nothing_expired_opens_nothing(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, result, _ = run(capsys, config_repo, "env", "expire")
    assert (code, result) == (0, {"expired": []})
    assert open_pulls(config_repo, tmp_path) == []


def test_expiring_an_env_another_env_refreshes_from_is_refused_before_any_push(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    add_env(config_repo, "jv-north", expires="2026-01-31")
    staging = config_repo.work / "envs" / "staging" / "env.yaml"
    staging.write_text(
        staging.read_text() + "refresh: {source: jv-north, masking: masking/default.yaml, requested_by: x, "
        "requested_at: 2026-11-24T10:00:00Z}\n"
    )
    config_repo.commit_all("staging refreshes from jv-north")
    code, _, err = run(capsys, config_repo, "env", "expire")
    assert code == 2 and "refresh.source: 'jv-north' is not an environment" in err
    assert git(config_repo.remote, "branch", "--list", "lifecycle/*") == ""


def test_a_crash_after_the_push_is_finished_by_the_rerun(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from gitops.config.loader import load_config
    from gitops.gitstore.checkout import ConfigCheckout
    from gitops.lifecycle.branch import push_change
    from gitops.lifecycle.envs import extend_request

    add_env(config_repo, "jv-north", expires=SOON)
    # the first run pushed its branch and died before opening the PR
    request = extend_request(
        load_config(config_repo.work), "jv-north", date.fromisoformat(LATER), today=date.today()
    )
    checkout = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "crashed", working_tree=False)
    push_change(checkout, request.branch, request.changes, "env: extend jv-north (crashed run)")
    code, result, err = run(capsys, config_repo, "env", "extend", "jv-north", "--until", LATER)
    assert code == 0, err
    assert (result["action"], result["pushed"]) == ("created", False)
    assert len(open_pulls(config_repo, tmp_path)) == 1
    assert len([e for e in audit(config_repo, "jv-north") if e.kind == "lifecycle"]) == 1
