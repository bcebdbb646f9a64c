"""Terminal injection: text an attacker controls (a PR title anyone can set on GitHub, a path name in a
pushed commit) must not reach a terminal as escape sequences or carriage returns that restyle, clear or
overwrite what a reviewer reads. Real CLI, loopback GitHub and local forge, real git."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.cli.main import main
from tests.attacks.github_helpers import Pr
from tests.attacks.test_content_attacks import add_file, push_tree_edit
from tests.fixtures.github import SLUG
from tests.fixtures.promote import Stage
from tests.gates.test_bypass import cli

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b[H\r#1    merged  all approved\x9b31m\x07"


def assert_clean(text: str) -> None:
    assert not any(c in text for c in "\x1b\x9b\r\x07"), repr(text)


def test_a_pr_title_with_escape_sequences_reaches_no_terminal(pr: Pr) -> None:
    pr.fake.pulls[pr.number].title = "routine" + HOSTILE
    pr.monkeypatch.setenv("GITHUB_TOKEN", "cab-ines-token")
    argv = ["pr", "list", "--config-repo", str(pr.stage.repo.remote), "--forge", "github"]
    code = main([*argv, "--github-url", pr.fake.host, "--github-repo", SLUG])
    out = pr.capsys.readouterr()
    assert code == 0, out.err
    assert f"#{pr.number}" in out.out and "routine?]0;pwned?" in out.out
    assert_clean(out.out + out.err)


def test_a_path_name_with_escape_sequences_reaches_no_terminal(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0, result
    number, branch = result["pull_request"]["number"], result["branch"]
    push_tree_edit(stage.repo.remote, tmp_path, branch, add_file("envs/prod/x" + HOSTILE + ".yaml", "a: 1\n"))
    for verb in (["gate", "check"], ["pr", "merge"]):
        code = main([*verb, str(number), "--config-repo", str(stage.repo.remote)])
        out = capsys.readouterr()
        assert code == 3, out.err
        assert "which a promotion to 'prod' may not edit" in out.out + out.err
        assert_clean(out.out + out.err)
