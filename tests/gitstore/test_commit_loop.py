"""The one commit loop against real git (a bare repository as the remote): a writer that moves the branch
between our read and our push, a server that refuses the push, an edit that changes nothing, a run that
died between writing its commit and pushing it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.errors import EXIT_POLICY, ExternalError, PolicyError
from gitops.gitstore.checkout import ConfigCheckout, ProtectedBranch
from gitops.gitstore.commit_loop import Changes, Tip, commit, push_with_lease
from tests.fixtures.configrepo import ConfigRepoFixture, git
from tests.gitstore.test_checkout import PRE_RECEIVE, protect_main

LOG = "notes/log.txt"


def clone(config_repo: ConfigRepoFixture, dest: Path) -> ConfigCheckout:
    return ConfigCheckout.clone(str(config_repo.remote), dest, depth=1, working_tree=False)


def appending(line: str, seen: list[bytes | None]) -> Callable[[Tip], Changes]:
    """An edit that appends `line` to LOG, recording what it found there on each run."""

    def edit(tip: Tip) -> Changes:
        before = tip.read([LOG])[LOG]
        seen.append(before)
        return {LOG: (before or b"") + line.encode() + b"\n"}

    return edit


def remote_file(config_repo: ConfigRepoFixture, branch: str, path: str) -> str:
    return git(config_repo.remote, "show", f"{branch}:{path}")


def test_a_writer_moving_the_branch_between_read_and_push_makes_the_edit_run_again_on_the_new_tip(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    ours, theirs = clone(config_repo, tmp_path / "a"), clone(config_repo, tmp_path / "b")
    seen: list[bytes | None] = []
    their_edit, ours_edit = appending("theirs", []), appending("ours", seen)

    def edit(tip: Tip) -> Changes:
        if not seen:  # the other writer lands after we read the tip, before we push
            commit(theirs, "main", their_edit, message="theirs")
        return ours_edit(tip)

    done = commit(ours, "main", edit, message="ours")
    assert done.pushed and done.sha == git(config_repo.remote, "rev-parse", "main")
    assert seen == [None, b"theirs\n"]  # run again, on the tip the other writer left
    assert remote_file(config_repo, "main", LOG) == "theirs\nours"  # both changes survive
    parents = git(config_repo.remote, "log", "--format=%s", "-3", "main").splitlines()
    assert parents == ["ours", "theirs", "Example config repository"]


def test_a_push_the_server_refuses_is_an_error_and_never_retried(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    protect_main(config_repo.remote, PRE_RECEIVE)
    before = git(config_repo.remote, "rev-parse", "main")
    seen: list[bytes | None] = []
    with pytest.raises(ProtectedBranch) as caught:
        commit(clone(config_repo, tmp_path / "a"), "main", appending("x", seen), message="x")
    assert caught.value.exit_code == EXIT_POLICY and "GH006" in caught.value.message
    assert seen == [None]  # one attempt: a refusal is not a race
    assert git(config_repo.remote, "rev-parse", "main") == before


def test_an_edit_that_changes_nothing_commits_and_pushes_nothing(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    checkout = clone(config_repo, tmp_path / "a")
    head = git(config_repo.remote, "rev-parse", "main")
    pushes: list[str] = []
    real_push = checkout.push

    def push(ref: str, branch: str, *, force_with_lease: str | None = None) -> None:
        pushes.append(ref)
        real_push(ref, branch, force_with_lease=force_with_lease)

    checkout.push = push  # type: ignore[method-assign]
    assert commit(checkout, "main", lambda tip: {}, message="no-op").pushed is False
    assert commit(checkout, "main", lambda tip: None, message="no-op").sha == head
    same: dict[str, bytes | None] = {
        "pipelines/odoo.yaml": (config_repo.work / "pipelines/odoo.yaml").read_bytes()
    }
    idempotent = commit(checkout, "main", lambda tip: None if tip.read(same) == same else same, message="x")
    assert idempotent.sha == head and not idempotent.pushed
    assert pushes == [] and git(config_repo.remote, "rev-parse", "main") == head
    absent = commit(checkout, "no-such-branch", lambda tip: {}, message="x")
    assert absent.sha is None and not absent.pushed
    assert git(config_repo.remote, "branch", "--list", "no-such-branch") == ""


def test_a_run_that_died_after_writing_its_commit_but_before_the_push_reruns_cleanly(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    checkout = clone(config_repo, tmp_path / "a")
    real_push = checkout.push

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process dies: the commit object exists, nothing was pushed

    checkout.push = crash  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        commit(checkout, "main", appending("once", []), message="once")
    assert git(config_repo.remote, "rev-parse", "main") == config_repo.head()
    checkout.push = real_push  # type: ignore[method-assign]
    seen: list[bytes | None] = []
    done = commit(checkout, "main", appending("once", seen), message="once")
    assert done.pushed and seen == [None]  # built again on the remote's tip, not on the lost commit
    assert remote_file(config_repo, "main", LOG) == "once"
    log = git(config_repo.remote, "log", "--format=%s", "main").splitlines()
    assert log == ["once", "Example config repository"]  # one commit, no duplicate


def test_a_new_branch_is_created_with_an_empty_lease_and_deletes_files(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    checkout = clone(config_repo, tmp_path / "a")
    main = config_repo.head()
    done = commit(
        checkout,
        "topic",
        lambda tip: {"pipelines/odoo.yaml": None, "new.txt": b"n\n"},
        message="topic",
        parent=lambda lease: lease or main,
    )
    assert done.pushed and git(config_repo.remote, "rev-parse", "topic") == done.sha
    files = git(config_repo.remote, "ls-tree", "-r", "--name-only", "topic").splitlines()
    assert "new.txt" in files and "pipelines/odoo.yaml" not in files
    assert git(config_repo.remote, "rev-parse", "topic^") == main


def test_a_branch_that_keeps_moving_gives_up_with_the_callers_error(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    ours, theirs = clone(config_repo, tmp_path / "a"), clone(config_repo, tmp_path / "b")
    runs: list[int] = []

    def build(lease: str | None) -> str:
        runs.append(1)
        commit(theirs, "main", appending(f"theirs {len(runs)}", []), message="theirs")
        return git(ours.root, "commit-tree", "-p", str(lease), "-m", "ours", f"{lease}^{{tree}}")

    with pytest.raises(PolicyError, match="keeps moving"):
        push_with_lease(
            ours, "main", build, attempts=3, backoff=0, gave_up=lambda: PolicyError("keeps moving")
        )
    assert len(runs) == 3
    with pytest.raises(ExternalError, match="could not push main after 2 attempts"):
        push_with_lease(ours, "main", build, attempts=2, backoff=0)


def test_work_meanwhile_runs_on_every_commit_while_it_is_pushed_and_a_race_repeats_it(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    ours, theirs = clone(config_repo, tmp_path / "a"), clone(config_repo, tmp_path / "b")
    seen: list[bytes | None] = []
    their_edit, ours_edit = appending("theirs", []), appending("ours", seen)
    read: list[tuple[str, str]] = []

    def edit(tip: Tip) -> Changes:
        if not seen:  # the other writer lands after we read the tip, before we push
            commit(theirs, "main", their_edit, message="theirs")
        return ours_edit(tip)

    def meanwhile(sha: str) -> None:  # reads the commit being pushed from the local objects
        read.append((sha, git(ours.root, "show", f"{sha}:{LOG}")))

    done = commit(ours, "main", edit, message="ours", meanwhile=meanwhile)
    assert done.pushed and done.sha == git(config_repo.remote, "rev-parse", "main")
    assert [text for _, text in read] == ["ours", "theirs\nours"]  # the rejected commit, then the pushed one
    assert read[-1][0] == done.sha and read[0][0] != done.sha


def test_an_error_meanwhile_surfaces_after_the_push_finished(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    def meanwhile(sha: str) -> None:
        raise ValueError(f"cannot hash {sha[:7]}")

    with pytest.raises(ValueError, match="cannot hash"):
        commit(
            clone(config_repo, tmp_path / "a"), "main", appending("x", []), message="x", meanwhile=meanwhile
        )
    assert remote_file(config_repo, "main", LOG) == "x"  # the push was not cut short
