"""ConfigCheckout against real git: shallow clone, trailers, non-fast-forward, rebuild-and-retry, ancestry."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops.errors import ExternalError
from gitops.promote.repo import ConfigCheckout, NonFastForward
from tests.fixtures.configrepo import ConfigRepoFixture


def test_commit_push_and_race(config_repo: ConfigRepoFixture, tmp_path: Path) -> None:
    a = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "a", depth=1)
    b = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "b", depth=1)
    first = a.update_branch(
        lambda root: (root / "one.txt").write_text("1"), "one", trailers={"Change-Class": "normal"}
    )
    assert first and a.remote_sha("main") == first
    body = subprocess.run(
        ["git", "log", "-1", "--format=%B", first], cwd=a.root, capture_output=True, text=True
    ).stdout
    assert "Change-Class: normal" in body

    (b.root / "two.txt").write_text("2")
    b.commit("two")
    with pytest.raises(NonFastForward):
        b.push("HEAD", "main")
    second = b.update_branch(lambda root: (root / "two.txt").write_text("2"), "two")
    assert second and b.is_ancestor(first, second) and not b.is_ancestor(second, first)
    assert b.update_branch(lambda root: (root / "two.txt").write_text("2"), "no-op") is None


def test_clone_failure_is_external_error(tmp_path: Path) -> None:
    with pytest.raises(ExternalError, match="clone"):
        ConfigCheckout.clone(str(tmp_path / "nope.git"), tmp_path / "x")


def test_secret_in_url_is_redacted(tmp_path: Path) -> None:
    with pytest.raises(ExternalError) as caught:
        ConfigCheckout.clone("https://user:hunter2secret@127.0.0.1:9/repo.git", tmp_path / "x", depth=1)
    assert "hunter2secret" not in str(caught.value)


def test_clone_without_branch_follows_the_remote_head(config_repo: ConfigRepoFixture, tmp_path: Path) -> None:
    subprocess.run(["git", "push", "-q", "origin", "HEAD:refs/heads/trunk"], cwd=config_repo.work, check=True)
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/trunk"], cwd=config_repo.remote, check=True)
    checkout = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "c", branch=None, depth=1)
    assert checkout.branch == "trunk" and checkout.head() == config_repo.head()


def test_remote_heads_lists_branches_by_glob_across_slashes(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    for ref in ("promote/prod/1.5.0-abc-canary", "promote/qa/1.0.0-def", "promoted", "x/promote/prod"):
        subprocess.run(
            ["git", "push", "-q", "origin", f"HEAD:refs/heads/{ref}"], cwd=config_repo.work, check=True
        )
    checkout = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "c", depth=1)
    head = config_repo.head()
    assert checkout.remote_heads("promote/*", "rollback/*") == {
        "promote/prod/1.5.0-abc-canary": head,
        "promote/qa/1.0.0-def": head,
    }
    assert checkout.remote_sha("promoted") == head and checkout.remote_sha("prod") is None
