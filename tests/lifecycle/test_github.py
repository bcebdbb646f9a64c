"""The lifecycle PRs on the other forge: PyGithub against the loopback GitHub server (every body it returns
validated against GitHub's schemas), backed by the real bare config repository."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gitops.cli.main import main
from tests.fixtures.configrepo import ConfigRepoFixture, git
from tests.fixtures.github import SLUG, FakeGitHub, start_fake_github
from tests.lifecycle.helpers import add_env, audit

TOKEN = "ci-bot-token"


@pytest.fixture
def github(config_repo: ConfigRepoFixture) -> Iterator[FakeGitHub]:
    fake, httpd = start_fake_github(config_repo.remote, {TOKEN: "ci-bot"})
    yield fake
    httpd.shutdown()
    httpd.server_close()
    fake.validate_pending()
    assert fake.validation_errors == []


def gh(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    repo: ConfigRepoFixture,
    fake: FakeGitHub,
    *args: str,
) -> tuple[int, dict[str, Any], str]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    argv = [*args, "--config-repo", str(repo.remote), "--forge", "github", "--github-url", fake.host]
    code = main([*argv, "--github-repo", SLUG, "--actor", "ci-bot", "--json"])
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
    return code, json.loads(out.out) if out.out.strip() else {}, out.err


def test_expire_create_and_refresh_open_github_prs_once(
    config_repo: ConfigRepoFixture, github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    add_env(config_repo, "jv-north", expires="2026-01-31", owner="dev-bob")
    code, result, err = gh(capsys, monkeypatch, config_repo, github, "env", "expire")
    assert code == 0, err
    (pull,) = github.pulls.values()
    assert (pull.head, pull.user) == ("lifecycle/expire/jv-north", "ci-bot")
    assert "@dev-bob" in pull.body and "odoo-gitops:lifecycle" in pull.labels
    head = git(config_repo.remote, "rev-parse", pull.head)
    assert [s["state"] for s in github.statuses[head]] == ["pending"]
    assert result["expired"][0]["pull_request"]["url"].endswith(f"/{SLUG}/pull/{pull.number}")

    code, again, _ = gh(capsys, monkeypatch, config_repo, github, "env", "expire")
    assert (code, again["expired"][0]["action"]) == (0, "unchanged")
    assert len(github.pulls) == 1
    assert len([e for e in audit(config_repo, "jv-north") if e.kind == "lifecycle"]) == 1

    until = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    args = ("env", "create", "uat", "--from", "staging", "--owner", "rel-omar", "--expires", until)
    code, created, err = gh(capsys, monkeypatch, config_repo, github, *args, "--purpose", "uat")
    assert code == 0 and created["action"] == "created", err
    assert github.pulls[created["pull_request"]["number"]].reviewers == ["cab-ines", "cab-jonas", "cab-kofi"]

    refresh = ("refresh", "prod", "staging", "--masking", "default", "--tenant", "acme-build")
    code, refreshed, err = gh(capsys, monkeypatch, config_repo, github, *refresh)
    assert code == 0 and refreshed["action"] == "created", err
    assert len(github.pulls) == 3


def test_a_lifecycle_pr_is_gated_and_merged_on_github(
    config_repo: ConfigRepoFixture, capsys: Any, monkeypatch: Any
) -> None:
    """gate check and pr merge evaluate an `env extend` PR on GitHub: the proposer cannot approve, a cab
    member's approval counts, the status is published after the audit entry, the merge is audited."""
    fake, httpd = start_fake_github(config_repo.remote, {TOKEN: "ci-bot", "cab-token": "cab-ines"})
    try:
        until = (datetime.now(UTC).date() + timedelta(days=200)).isoformat()
        code, result, err = gh(
            capsys, monkeypatch, config_repo, fake, "env", "extend", "staging", "--until", until
        )
        assert code == 0, err
        number = result["pull_request"]["number"]
        head = git(config_repo.remote, "rev-parse", "lifecycle/extend/staging")
        # GitHub itself refuses the proposer's approval (422): nothing to count
        assert gh(capsys, monkeypatch, config_repo, fake, "pr", "approve", str(number))[0] != 0
        code, out, err = gh(capsys, monkeypatch, config_repo, fake, "gate", "check", str(number))
        assert code == 3 and [s["state"] for s in fake.statuses[head]][-1] == "pending"
        monkeypatch.setenv("GITHUB_TOKEN", "cab-token")
        argv = ["pr", "approve", str(number), "--config-repo", str(config_repo.remote), "--forge", "github"]
        argv += ["--github-url", fake.host, "--github-repo", SLUG, "--json"]
        assert main(argv) == 0, capsys.readouterr().err
        capsys.readouterr()
        code, out, err = gh(capsys, monkeypatch, config_repo, fake, "gate", "check", str(number))
        assert code == 0, err
        assert [a["user"] for a in out["verdict"]["approvals"]["counted"]] == ["cab-ines"]
        assert fake.statuses[head][-1]["state"] == "success"
        code, out, err = gh(capsys, monkeypatch, config_repo, fake, "pr", "merge", str(number))
        assert code == 0, err
        assert [e.kind for e in audit(config_repo, "staging")][-2:] == ["gate", "merge"]
        fake.validate_pending()
        assert fake.validation_errors == []
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_an_env_create_pr_on_github_shows_its_cab_view_and_its_merge_is_repaired_once(
    config_repo: ConfigRepoFixture, capsys: Any, monkeypatch: Any
) -> None:
    """pr show gives the CAB view of a create PR (its env is not on main yet); the merge commit names the
    kind; a crash between the merge and its audit entry is repaired by the next command, once."""
    from tests.lifecycle.test_gate_edges import crash_after_merge, merges

    fake, httpd = start_fake_github(config_repo.remote, {TOKEN: "ci-bot", "cab-token": "cab-jonas"})
    try:
        until = (datetime.now(UTC).date() + timedelta(days=60)).isoformat()
        args = ("env", "create", "qa-2", "--from", "staging", "--owner", "rel-omar", "--expires", until)
        code, created, err = gh(capsys, monkeypatch, config_repo, fake, *args, "--purpose", "uat")
        assert code == 0, err
        number = created["pull_request"]["number"]
        code, shown, err = gh(capsys, monkeypatch, config_repo, fake, "pr", "show", str(number))
        assert code == 0, err
        assert (
            shown["gate"]["state"] == "pending"
            and "needs 1 more approval from cab" in shown["cab"]["missing"]
        )
        monkeypatch.setenv("GITHUB_TOKEN", "cab-token")
        argv = ["pr", "approve", str(number), "--config-repo", str(config_repo.remote), "--forge", "github"]
        assert main([*argv, "--github-url", fake.host, "--github-repo", SLUG, "--json"]) == 0
        capsys.readouterr()
        code, shown, err = gh(capsys, monkeypatch, config_repo, fake, "pr", "show", str(number))
        assert code == 0 and shown["cab"]["missing"] == "", err
        assert [(r["user"], r["counted"]) for r in shown["reviews"]] == [("cab-jonas", True)]
        with monkeypatch.context() as patch:
            crash_after_merge(patch)
            code, _, err = gh(capsys, monkeypatch, config_repo, fake, "pr", "merge", str(number))
        assert code == 1 and "killed" in err
        assert fake.pulls[number].merged_at is not None
        message = git(config_repo.remote, "log", "-1", "--format=%s", fake.pulls[number].merge_sha or "")
        assert message == f"Merge env create qa-2 (#{number})"
        assert merges(config_repo, "qa-2", number) == []
        for verb in (("gate", "check"), ("pr", "merge")):
            code, _, err = gh(capsys, monkeypatch, config_repo, fake, *verb, str(number))
            assert code == 2 and "merged" in err
        [entry] = merges(config_repo, "qa-2", number)
        assert (entry.data["repaired"], entry.data["change"]) == (True, "create")
        assert entry.data["merge_commit"] == fake.pulls[number].merge_sha
        fake.validate_pending()
        assert fake.validation_errors == []
    finally:
        httpd.shutdown()
        httpd.server_close()
