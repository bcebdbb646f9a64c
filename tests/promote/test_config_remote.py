"""promote / pr write to the repository `--config-repo` names — a bare repository is used as is, never its
own `origin` — and a server that refuses pushes to main (branch protection) stops promote loudly."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gitops.cli.main import main
from tests.fixtures.configrepo import git
from tests.fixtures.promote import Stage
from tests.gitstore.test_checkout import PRE_RECEIVE, protect_main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any], str]:
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def branches(bare: Path) -> list[str]:
    return git(bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split()


def test_a_bare_repository_with_an_origin_is_used_as_is(
    stage: Stage, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(stage.repo.remote), str(elsewhere)], check=True)
    git(stage.repo.remote, "remote", "add", "origin", str(elsewhere))
    before = branches(elsewhere)

    code, result, err = run(capsys, "promote", "staging", "prod", "--config-repo", str(stage.repo.remote))
    assert code == 0, err
    assert result["branch"] in branches(stage.repo.remote)
    assert result["pull_request"]["url"].startswith(str(stage.repo.remote))
    code, listed, err = run(capsys, "pr", "list", "--config-repo", str(stage.repo.remote))
    assert code == 0, err
    assert [p["number"] for p in listed["pull_requests"]] == [result["pull_request"]["number"]]
    assert branches(elsewhere) == before  # the bare repository's own origin saw nothing


def test_protected_main_stops_promote_with_exit_3_and_names_the_refusal(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    protect_main(stage.repo.remote, PRE_RECEIVE)
    main_before = git(stage.repo.remote, "rev-parse", "main")

    code, result, err = run(capsys, "promote", "staging", "prod", "--config-repo", str(stage.repo.remote))
    assert code == 3, err
    assert result["error"] == "policy"
    assert result["message"].startswith("main is protected: the server refused the push of '")
    refused = result["message"].split("'")[1]  # the subject of the commit that was not recorded
    assert "audit" in refused.lower() and "prod" in refused
    assert "GH006: Protected branch update failed for refs/heads/main." in result["message"]
    assert "keeps moving" not in err
    assert git(stage.repo.remote, "rev-parse", "main") == main_before  # no audit entry, nothing half-written


def test_errors_in_a_clone_name_repository_paths_and_what_was_read(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = stage.repo.work / "envs" / "prod" / "env.yaml"
    env_file.write_text(env_file.read_text() + "bogus_key: 1\n")
    line = len(env_file.read_text().splitlines())
    head = stage.repo.commit_all("a broken env.yaml")

    code, result, err = run(capsys, "plan", "staging", "prod", "--config-repo", str(stage.repo.remote))
    assert code == 2
    assert result["problems"][0]["file"] == "envs/prod/env.yaml" and result["problems"][0]["line"] == line
    assert f"  envs/prod/env.yaml:{line}: " in err
    assert head  # the config is read from git objects: every path in the message is the repository's own
    assert "odoo-gitops-config-" not in err + json.dumps(result)  # no temporary clone path
