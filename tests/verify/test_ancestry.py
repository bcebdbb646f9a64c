"""gitops/verify/ancestry.py: the revision rule on a real git config repository: the promoted commit or a
descendant of it on the branch proves the promotion; an older commit, a commit off the branch or an unknown
one does not; a commit newer than the clone is fetched once."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.errors import UsageError
from gitops.gitstore.checkout import ConfigCheckout
from gitops.verify.ancestry import GitAncestry
from tests.fixtures.configrepo import ConfigRepoFixture, git


def commit(repo: ConfigRepoFixture, name: str, *, push_to: str | None = "main") -> str:
    (repo.work / f"{name}.txt").write_text(name)
    git(repo.work, "add", "-A")
    git(repo.work, "commit", "-q", "-m", name)
    if push_to:
        git(repo.work, "push", "-q", "origin", f"HEAD:{push_to}")
    return repo.head()


@pytest.fixture
def history(config_repo: ConfigRepoFixture, tmp_path: Path) -> tuple[ConfigRepoFixture, dict[str, str], Path]:
    shas = {"older": config_repo.head(), "promoted": commit(config_repo, "promoted")}
    return config_repo, shas, tmp_path / "clone"


def rule(repo: ConfigRepoFixture, dest: Path, sha: str) -> GitAncestry:
    checkout = ConfigCheckout.clone(str(repo.remote), dest, working_tree=False)
    return GitAncestry(checkout, sha, branch_ref="origin/main")


def test_the_promoted_commit_and_its_descendants_on_the_branch_prove_it(
    history: tuple[ConfigRepoFixture, dict[str, str], Path],
) -> None:
    repo, shas, dest = history
    after = commit(repo, "after")
    accepts = rule(repo, dest, shas["promoted"])
    accepts.check_known()
    assert accepts(shas["promoted"]) is True
    assert accepts(after) is True
    assert accepts(shas["older"]) is False  # an older release still reconciled


def test_a_commit_newer_than_the_clone_is_fetched_once(
    history: tuple[ConfigRepoFixture, dict[str, str], Path],
) -> None:
    repo, shas, dest = history
    accepts = rule(repo, dest, shas["promoted"])
    newer = commit(repo, "newer")
    assert accepts(newer) is True
    assert accepts._fetched is True


def test_a_descendant_off_the_branch_or_an_unknown_commit_does_not_prove_it(
    history: tuple[ConfigRepoFixture, dict[str, str], Path],
) -> None:
    repo, shas, dest = history
    git(repo.work, "checkout", "-q", "-b", "side")
    side = commit(repo, "side", push_to="side")
    accepts = rule(repo, dest, shas["promoted"])
    assert accepts(side) is False  # descends from the promoted commit, but main never had it
    assert accepts("0" * 40) is False


def test_a_promoted_commit_not_on_the_branch_is_refused_early(
    history: tuple[ConfigRepoFixture, dict[str, str], Path],
) -> None:
    repo, _, dest = history
    git(repo.work, "checkout", "-q", "-b", "side")
    side = commit(repo, "side", push_to="side")
    with pytest.raises(UsageError) as caught:
        rule(repo, dest, side).check_known()
    assert caught.value.message == f"revision {side} is not on origin/main of the config repository"
