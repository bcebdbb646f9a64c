"""The `local` forge against real git: PRs as JSON on `odoo-gitops/forge` of a bare remote, written with a
lease (a concurrent writer makes us retry, never overwrite), idempotent re-runs, merges pushed to main."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.errors import UsageError, register_secret
from gitops.forge import local
from gitops.forge.local import FORGE_BRANCH, LocalForge
from gitops.forge.protocol import CommitStatus, ForgeSettings, ListsAllPulls, PullRequest
from gitops.gitstore.checkout import ConfigCheckout
from tests.fixtures.configrepo import ConfigRepoFixture, git

HEAD = "promote/prod/1.5.1"


def open_forge(
    repo: ConfigRepoFixture, where: Path, actor: str = "ci-bot", url: str | None = None
) -> LocalForge:
    checkout = ConfigCheckout.clone(str(repo.remote), where, working_tree=False)
    return LocalForge(checkout, actor=actor, url=url or str(repo.remote))


def push_branch(
    repo: ConfigRepoFixture, branch: str = HEAD, *, author: str = "Dev One <dev1@example.com>"
) -> str:
    """A commit on `branch` (from main) pushed to the remote: the head of a PR."""
    git(repo.work, "checkout", "-q", "-B", branch, "main")
    (repo.work / "envs/prod/NOTE.txt").write_text(f"change on {branch}\n")
    git(repo.work, "add", "-A")
    git(repo.work, "commit", "-q", "--author", author, "-m", f"change on {branch}")
    git(repo.work, "push", "-q", "-f", "origin", f"{branch}:{branch}")
    sha = git(repo.work, "rev-parse", "HEAD")
    git(repo.work, "checkout", "-q", "main")
    return sha


def forge_head(repo: ConfigRepoFixture) -> str:
    return git(repo.remote, "rev-parse", f"refs/heads/{FORGE_BRANCH}")


def open_pull(forge: LocalForge, head: str = HEAD, **extra: object) -> PullRequest:
    fields: dict[str, object] = {"title": "Promote 1.5.1 to prod", "body": "why", "labels": ["env:prod"]}
    fields.update(extra)
    return forge.create_pull(head=head, base="main", reviewers=["cab-ines", "ci-bot"], **fields)  # type: ignore[arg-type]


@pytest.fixture
def forge(config_repo: ConfigRepoFixture, tmp_path: Path) -> LocalForge:
    return open_forge(config_repo, tmp_path / "clone-a")


def test_a_pr_is_a_json_file_on_a_branch_that_shares_no_history_with_main(
    config_repo: ConfigRepoFixture, forge: LocalForge
) -> None:
    sha = push_branch(config_repo)
    pull = open_pull(forge, labels=["env:prod", "cab-required", "env:prod"])
    assert (pull.number, pull.state, pull.head, pull.base, pull.head_sha) == (1, "open", HEAD, "main", sha)
    assert (pull.author, pull.labels) == ("ci-bot", ("cab-required", "env:prod"))
    assert pull.url == f"{config_repo.remote}#pr-1"
    assert git(config_repo.remote, "ls-tree", "--name-only", "-r", FORGE_BRANCH) == "prs/1.json"
    no_common_commit = subprocess.run(["git", "merge-base", FORGE_BRANCH, "main"], cwd=config_repo.remote)
    assert no_common_commit.returncode == 1
    stored = git(config_repo.remote, "show", f"{FORGE_BRANCH}:prs/1.json")
    assert '"reviewers": [\n    "cab-ines"\n  ]' in stored  # the actor never reviews their own PR


def test_re_opening_the_same_head_returns_the_open_pr_and_writes_nothing(
    config_repo: ConfigRepoFixture, forge: LocalForge
) -> None:
    push_branch(config_repo)
    first = open_pull(forge)
    before = forge_head(config_repo)
    assert open_pull(forge, title="another title") == first
    assert forge_head(config_repo) == before
    assert forge.update_pull(first, title=first.title, body=first.body, labels=first.labels) == first
    assert forge_head(config_repo) == before
    updated = forge.update_pull(first, title="New title", body="new body", labels=["b", "a"])
    assert (updated.title, updated.body, updated.labels) == ("New title", "new body", ("a", "b"))
    assert forge_head(config_repo) != before


def test_a_writer_that_lost_the_race_reloads_and_keeps_the_other_writers_change(
    config_repo: ConfigRepoFixture, forge: LocalForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    push_branch(config_repo)
    number = open_pull(forge).number
    other = open_forge(config_repo, tmp_path / "clone-b", actor="someone-else")
    original: Callable[[], object] = forge._load
    raced: list[str] = []

    def load_then_lose_the_race() -> object:
        loaded = original()
        if not raced:  # after we read the store, another writer pushes first
            raced.append(forge_head(config_repo))
            other.comment(number, "from the other writer")
        return loaded

    monkeypatch.setattr(forge, "_load", load_then_lose_the_race)
    forge.comment(number, "from us")
    assert forge_head(config_repo) != raced[0]
    assert forge.comments(number) == ["from the other writer", "from us"]
    assert git(config_repo.remote, "rev-list", "--count", FORGE_BRANCH) == "3"  # open, theirs, ours


def test_approval_needs_a_reviewer_an_open_pr_and_is_bound_to_the_head(
    config_repo: ConfigRepoFixture, forge: LocalForge
) -> None:
    sha = push_branch(config_repo)
    number = open_pull(forge).number
    with pytest.raises(UsageError, match="--as USER"):
        forge.approve(number, user=None, body="")
    review = forge.approve(number, user="cab-ines", body="ok")
    assert (review.id, review.user, review.state, review.commit_id) == (1, "cab-ines", "APPROVED", sha)
    assert [(r.user, r.commit_id) for r in forge.reviews(number)] == [("cab-ines", sha)]
    forge.close_pull(number)
    with pytest.raises(UsageError, match="is closed; only open PRs can be approved"):
        forge.approve(number, user="cab-jonas", body="")
    with pytest.raises(UsageError, match=f"no pull request #99 on the local forge \\({FORGE_BRANCH}\\)"):
        forge.get_pull(99)


def test_statuses_are_kept_per_head_and_an_unchanged_status_writes_nothing(
    config_repo: ConfigRepoFixture, forge: LocalForge
) -> None:
    sha = push_branch(config_repo)
    open_pull(forge)
    forge.set_status(sha, CommitStatus("odoo-gitops/gate", "pending", "waiting"))
    before = forge_head(config_repo)
    forge.set_status(sha, CommitStatus("odoo-gitops/gate", "pending", "waiting"))
    assert forge_head(config_repo) == before
    forge.set_status(sha, CommitStatus("odoo-gitops/gate", "success", "2 of 2 approvals"))
    assert forge.statuses(sha) == [CommitStatus("odoo-gitops/gate", "success", "2 of 2 approvals")]
    assert forge.statuses("0" * 40) == []


def test_closed_prs_are_listed_only_on_request(config_repo: ConfigRepoFixture, forge: LocalForge) -> None:
    push_branch(config_repo)
    push_branch(config_repo, "promote/prod/1.5.2")
    first = open_pull(forge)
    second = open_pull(forge, head="promote/prod/1.5.2")
    forge.close_pull(first.number)
    closed = forge_head(config_repo)
    forge.close_pull(first.number)  # closing again changes nothing
    assert forge_head(config_repo) == closed
    assert [p.number for p in forge.open_pulls(base="main")] == [second.number]
    assert forge.open_pulls(base="other") == []
    assert isinstance(forge, ListsAllPulls)
    assert [(p.number, p.state) for p in forge.all_pulls()] == [(1, "closed"), (2, "open")]


def test_read_file_and_commit_authors_come_from_git(
    config_repo: ConfigRepoFixture, forge: LocalForge
) -> None:
    sha = push_branch(config_repo, author="Dev One <dev1@example.com>")
    number = open_pull(forge).number
    assert forge.read_file(sha, "envs/prod/NOTE.txt") == f"change on {HEAD}\n"
    assert forge.read_file(sha, "envs/prod/absent.yaml") is None
    assert forge.read_file("f" * 40, "envs/prod/env.yaml") is None  # a commit the remote never had
    assert forge.commit_authors(number) == ["Dev One", "dev1@example.com"]


def test_merge_is_a_no_ff_merge_pushed_to_main_and_recorded(
    config_repo: ConfigRepoFixture, forge: LocalForge
) -> None:
    sha = push_branch(config_repo)
    pull = open_pull(forge)
    assert forge.merge_commit(pull.number) is None
    merge = forge.merge_pull(pull, message="Merge promotion #1")
    assert git(config_repo.remote, "rev-parse", "main") == merge
    assert git(config_repo.remote, "rev-parse", "main^2") == sha
    merged = forge.get_pull(pull.number)
    assert (merged.state, merged.head_sha, forge.merge_commit(pull.number)) == ("merged", sha, merge)


def test_secrets_and_url_credentials_never_reach_the_store(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    register_secret("s3cr3t-token-value")
    forge = open_forge(config_repo, tmp_path / "c", url="https://bot:s3cr3t-token-value@git.example/cfg")
    push_branch(config_repo)
    pull = open_pull(forge, title="leak s3cr3t-token-value", body="body s3cr3t-token-value")
    forge.comment(pull.number, "and s3cr3t-token-value here")
    stored = git(config_repo.remote, "show", f"{FORGE_BRANCH}:prs/1.json")
    assert "s3cr3t-token-value" not in stored + pull.url
    assert pull.url == "https://git.example/cfg#pr-1"


def test_the_factory_builds_the_forge_on_the_sessions_clone(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    build = local.factory(ForgeSettings(kind="local"), remote=str(config_repo.remote), actor="ines")
    checkout = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "c", working_tree=False)
    forge = build(checkout)
    assert isinstance(forge, LocalForge)
    assert (forge.whoami(), forge.checkout, forge.url) == ("ines", checkout, str(config_repo.remote))
    assert local.clone_url("https://git.example/cfg.git") == "https://git.example/cfg.git"
