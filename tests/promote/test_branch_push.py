"""A promotion branch pushed with the one commit loop, against real git: created on main, left alone when a
re-run has nothing new, refreshed on its own head (reusing the earlier run's release.yaml) until main
changes one of its files, and rebuilt and retried when another writer moved it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops.gitstore.checkout import ConfigCheckout
from gitops.promote.branch_push import push_promotion_branch
from tests.fixtures.configrepo import ConfigRepoFixture, git

BRANCH = "promote/prod/9.9.9-test"
RELEASE, VALUES = "envs/prod/release.yaml", "envs/prod/values.yaml"
PATHS = [RELEASE, VALUES]


def clone(config_repo: ConfigRepoFixture, dest: Path) -> ConfigCheckout:
    return ConfigCheckout.clone(str(config_repo.remote), dest, working_tree=False)


class Edit:
    """Writes release.yaml with `version` (and a run counter carried over from an earlier run's file)."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.calls: list[tuple[Mapping[str, bytes | None], Mapping[str, Any] | None]] = []

    def __call__(
        self, files: Mapping[str, bytes | None], earlier: Mapping[str, Any] | None
    ) -> dict[str, bytes]:
        self.calls.append((files, earlier))
        runs = int(earlier.get("runs", 0)) if earlier else 0
        release = f"version: {self.version}\nruns: {runs + 1 if earlier is None else runs}\n".encode()
        return {} if files[RELEASE] == release else {RELEASE: release}


def push(checkout: ConfigCheckout, edit: Edit, **kw: Any) -> tuple[str, bool]:
    return push_promotion_branch(
        checkout, BRANCH, PATHS, edit, message="Promote 9.9.9", trailers={"Odoo-Gitops-Env": "prod"}, **kw
    )


def remote(config_repo: ConfigRepoFixture, *args: str) -> str:
    return git(config_repo.remote, *args)


def test_first_run_creates_the_branch_on_main_and_a_rerun_pushes_nothing(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    checkout = clone(config_repo, tmp_path / "a")
    edit = Edit("9.9.9")
    head, pushed = push(checkout, edit)
    assert pushed and remote(config_repo, "rev-parse", BRANCH) == head
    assert remote(config_repo, "rev-parse", f"{head}^") == config_repo.head()
    assert remote(config_repo, "show", f"{head}:{RELEASE}") == "version: 9.9.9\nruns: 1"
    assert "Odoo-Gitops-Env: prod" in remote(config_repo, "log", "-1", "--format=%B", head)
    assert edit.calls[0][1] is None  # no earlier run
    assert edit.calls[0][0][VALUES] == (config_repo.work / VALUES).read_bytes()  # the bytes on main

    again = Edit("9.9.9")
    assert push(clone(config_repo, tmp_path / "b"), again) == (head, False)
    assert again.calls[0][1] == {"version": "9.9.9", "runs": 1}  # the earlier run's release, reused
    assert remote(config_repo, "rev-parse", BRANCH) == head


def test_a_refresh_builds_on_the_branch_until_main_changes_one_of_its_files(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    first, _ = push(clone(config_repo, tmp_path / "a"), Edit("9.9.9"))
    (config_repo.work / "unrelated.txt").write_text("main moves on elsewhere\n")
    config_repo.commit_all("unrelated")
    refreshed, pushed = push(clone(config_repo, tmp_path / "b"), Edit("9.9.10"))
    assert pushed and remote(config_repo, "rev-parse", f"{refreshed}^") == first  # on the branch's own head

    (config_repo.work / VALUES).write_text((config_repo.work / VALUES).read_text() + "# touched\n")
    main = config_repo.commit_all("main changes values.yaml")
    rebuilt, pushed = push(clone(config_repo, tmp_path / "c"), Edit("9.9.10"))
    assert pushed and remote(config_repo, "rev-parse", f"{rebuilt}^") == main  # rebuilt on main
    assert remote(config_repo, "show", f"{rebuilt}:{VALUES}").endswith("# touched")


def test_known_heads_spare_asking_the_remote_and_a_moved_branch_is_rebuilt(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    first, _ = push(clone(config_repo, tmp_path / "a"), Edit("9.9.9"))
    ours, theirs = clone(config_repo, tmp_path / "b"), clone(config_repo, tmp_path / "c")
    stale = {BRANCH: first}
    moved: list[str] = []

    class Racing(Edit):
        def __call__(
            self, files: Mapping[str, bytes | None], earlier: Mapping[str, Any] | None
        ) -> dict[str, bytes]:
            if not moved:  # another run of the promotion lands between our read and our push
                moved.append(push(theirs, Edit("9.9.11"))[0])
            return super().__call__(files, earlier)

    edit = Racing("9.9.12")
    head, pushed = push(ours, edit, known_heads=stale)
    assert pushed and len(edit.calls) == 2
    assert edit.calls[1][1] == {"version": "9.9.11", "runs": 1}  # re-read from the branch as it moved
    assert remote(config_repo, "rev-parse", f"{head}^") == moved[0]
    assert remote(config_repo, "show", f"{BRANCH}:{RELEASE}") == "version: 9.9.12\nruns: 1"
