"""ConfigCheckout against real git: shallow clone, trailers, non-fast-forward, rebuild-and-retry, ancestry."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops.errors import EXIT_EXTERNAL, EXIT_POLICY, ExternalError
from gitops.gitstore.checkout import (
    AccessDenied,
    ConfigCheckout,
    NonFastForward,
    ProtectedBranch,
    classify_rejection,
)
from tests.fixtures.configrepo import ConfigRepoFixture, git
from tests.fixtures.githttp import GitHttp


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


# ---------------------------------------------------------------- rejected pushes are classified

PRE_RECEIVE = """#!/bin/sh
while read old new ref; do
  if [ "$ref" = refs/heads/main ]; then
    echo "GH006: Protected branch update failed for $ref." >&2
    exit 1
  fi
done
"""
UPDATE = """#!/bin/sh
if [ "$1" = refs/heads/main ]; then echo "direct pushes to main are not allowed" >&2; exit 1; fi
"""


def protect_main(remote: Path, hook: str) -> None:
    path = remote / "hooks" / ("pre-receive" if "while read" in hook else "update")
    path.write_text(hook)
    path.chmod(0o755)


@pytest.mark.parametrize("hook", [PRE_RECEIVE, UPDATE], ids=["pre-receive", "update"])
def test_a_push_the_server_refuses_is_protected_not_a_race(
    config_repo: ConfigRepoFixture, tmp_path: Path, hook: str
) -> None:
    protect_main(config_repo.remote, hook)
    checkout = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "c", depth=1)
    (checkout.root / "x.txt").write_text("x")
    checkout.commit("x")
    with pytest.raises(ProtectedBranch) as caught:
        checkout.update_branch(lambda root: (root / "x.txt").write_text("x"), "x")
    assert caught.value.exit_code == EXIT_POLICY
    assert caught.value.message.startswith("main is protected: the server refused the push of 'x'")
    expected = "GH006: Protected branch update failed" if hook is PRE_RECEIVE else "not allowed"
    assert expected in caught.value.message and "hook declined" in caught.value.message
    assert config_repo.head() == git(config_repo.remote, "rev-parse", "main")  # nothing was written
    checkout.push("HEAD", "promote/prod/x")  # other branches are still open to pushes
    assert git(config_repo.remote, "rev-parse", "promote/prod/x") == checkout.head()


def test_a_lost_race_is_still_non_fast_forward_and_retried(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    a = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "a", depth=1)
    b = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "b", depth=1)
    a.update_branch(lambda root: (root / "a.txt").write_text("a"), "a")
    sha = b.repo.git.rev_parse("HEAD")
    (b.root / "b.txt").write_text("b")
    b.commit("b")
    with pytest.raises(NonFastForward):
        b.push("HEAD", "main")
    with pytest.raises(NonFastForward):  # a lease on a stale value
        b.push("HEAD", "main", force_with_lease=sha)


def test_refused_credentials_are_access_denied_naming_the_remote_without_them(
    git_http: GitHttp, config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    (git_http.root / "config.git").symlink_to(config_repo.remote)
    wrong = git_http.url("config.git", user="ci", password="wrong-PLANTED-5e6f")
    with pytest.raises(AccessDenied) as caught:
        ConfigCheckout.clone(wrong, tmp_path / "a", depth=1)
    assert caught.value.exit_code == EXIT_EXTERNAL
    assert f"git clone http://127.0.0.1:{git_http.port}/config.git: access denied" in caught.value.message
    assert "wrong-PLANTED" not in caught.value.render()

    reader = git_http.url("config.git", user="reader", password=git_http.users["reader"])
    checkout = ConfigCheckout.clone(reader, tmp_path / "b", depth=1)  # reading is allowed
    (checkout.root / "r.txt").write_text("r")
    checkout.commit("r")
    with pytest.raises(AccessDenied) as caught:
        checkout.push("HEAD", "main")
    assert "403" in caught.value.message and "push to main" in caught.value.message
    assert git_http.users["reader"] not in caught.value.render()


def test_clone_paths_in_errors_read_as_repository_paths(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    checkout = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "clone", depth=1)
    error = ExternalError(f"cannot read {checkout.root / 'audit' / 'prod.jsonl'}:2")
    assert error.message == "cannot read audit/prod.jsonl:2"
    assert error.read_from == [f"{config_repo.remote} (main at {config_repo.head()[:12]})"]


GITHUB_PROTECTED = """To https://github.com/acme/config.git
!\tHEAD:refs/heads/main\t[remote rejected] (protected branch hook declined)
Done
remote: error: GH006: Protected branch update failed for refs/heads/main.
remote: error: Changes must be made through a pull request.
error: failed to push some refs to 'https://github.com/acme/config.git'"""
GITLAB_PROTECTED = """!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)
remote: GitLab: You are not allowed to push code to protected branches on this project."""
HOOK_SAYS_PERMISSION = """!\tHEAD:refs/heads/main\t[remote rejected] (hook declined)
remote: Permission denied: main only takes merges"""
MOVED = """!\tHEAD:refs/heads/main\t[rejected] (fetch first)
hint: Updates were rejected because the remote contains work that you do not have locally."""
STALE = "!\tabc:refs/heads/promote/x\t[rejected] (stale info)"
LOCK_RACE = (
    "!\tHEAD:refs/heads/main\t[remote rejected] (cannot lock ref 'refs/heads/main': is at 1 but expected 2)"
)
GITHUB_403 = (
    "remote: Permission to acme/config.git denied to ci-bot.\n"
    "fatal: unable to access 'https://github.com/acme/config.git/': The requested URL returned error: 403"
)
HTTP_401 = "fatal: Authentication failed for 'https://git.example.com/config.git/'"
SSH_DENIED = "git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository."


@pytest.mark.parametrize(
    ("output", "kind", "said"),
    [
        (GITHUB_PROTECTED, ProtectedBranch, "GH006: Protected branch update failed for refs/heads/main."),
        (GITLAB_PROTECTED, ProtectedBranch, "not allowed to push code to protected branches"),
        (HOOK_SAYS_PERMISSION, ProtectedBranch, "main only takes merges"),
        (MOVED, NonFastForward, "the remote branch moved"),
        (STALE, NonFastForward, "the remote branch moved"),
        (LOCK_RACE, NonFastForward, "the remote branch moved"),
        (GITHUB_403, None, ""),
        (HTTP_401, None, ""),
        (SSH_DENIED, None, ""),
        ("fatal: the remote end hung up unexpectedly", None, ""),
    ],
    ids=["github", "gitlab", "hook", "moved", "stale-lease", "lock-race", "403", "401", "ssh", "transient"],
)
def test_rejections_are_classified_by_what_the_server_said(output: str, kind: type | None, said: str) -> None:
    error = classify_rejection(output, "main")
    assert (type(error) if error else None) is kind
    if error is not None:
        assert said in error.message
    if kind is ProtectedBranch:
        assert error is not None and error.message.startswith(
            "main is protected: the server refused the push"
        )


def test_a_hook_that_says_the_branch_moved_is_a_race() -> None:
    output = (
        "remote: ! [rejected] (non-fast-forward)\n"
        "!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)"
    )
    assert isinstance(classify_rejection(output, "main"), NonFastForward)
