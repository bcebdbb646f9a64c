"""The symlink game on a lifecycle PR (local forge, real git): an audited `env extend` whose changed file is
then turned into a symlink whose target string is the file's own text (the blob, hence the content key, is
the audited one). The gate must fail, as for promotion PRs (tests/attacks/test_content_attacks.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.attacks.test_content_attacks import as_symlink, push_tree_edit
from tests.fixtures.configrepo import ConfigRepoFixture
from tests.lifecycle.helpers import run
from tests.lifecycle.test_attacks import LATER, approve, assert_held


def test_an_extend_pr_whose_file_becomes_a_symlink_fails(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, proposed, err = run(capsys, config_repo, "env", "extend", "staging", "--until", LATER)
    assert code == 0, err
    number, branch = proposed["pull_request"]["number"], proposed["branch"]
    approve(capsys, config_repo, number, "cab-ines")
    code, _, err = run(capsys, config_repo, "gate", "check", str(number))
    assert code == 0, err  # the audited extend passes with staging's rule
    push_tree_edit(config_repo.remote, tmp_path, branch, as_symlink("envs/staging/env.yaml"))
    approve(capsys, config_repo, number, "cab-jonas")  # a fresh approval of the new head
    assert_held(capsys, config_repo, number, reason="envs/staging/env.yaml is a symlink at the head")
