"""Content games against the gate of a promotion PR (local forge, real git): the head changes a file by
means other than its text (a symlink or a gitlink in place of a file), case and path variants, a head that
is an ancestor of main. Each starts from a real, fully approved promotion PR and asserts that `gate check`
does not say success and `pr merge` refuses."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.configrepo import git
from tests.fixtures.promote import Stage
from tests.gates.test_bypass import CAB, approve, cli

Edit = Callable[[Path], None]


def push_tree_edit(remote: Path, tmp: Path, branch: str, edit: Edit, *, start: str | None = None) -> None:
    """Mallory edits the index of a clone of the PR branch with plumbing (no `git add`) and pushes."""
    work = tmp / "mallory"
    if not work.exists():
        subprocess.run(["git", "clone", "-q", str(remote), str(work)], check=True)
    git(work, "fetch", "-q", "origin", start or branch)
    git(work, "checkout", "-q", "-B", branch, "FETCH_HEAD")
    edit(work)
    git(work, "commit", "-q", "--allow-empty", "--author=mallory <mallory@example.com>", "-m", "tweak")
    git(work, "push", "-q", "-f", "origin", f"HEAD:refs/heads/{branch}")


def hash_object(work: Path, text: str) -> str:
    out = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=work, input=text, text=True,
                         capture_output=True, check=True)  # fmt: skip
    return out.stdout.strip()


def as_symlink(path: str) -> Edit:
    """`path` becomes a symlink whose target string is the file's own text: the blob is byte-identical, so
    a gate reading blobs sees the promoted content, but a checkout has a dangling link, not the file."""

    def edit(work: Path) -> None:
        blob = git(work, "rev-parse", f"HEAD:{path}")
        git(work, "update-index", "--cacheinfo", f"120000,{blob},{path}")

    return edit


def as_gitlink(path: str) -> Edit:
    def edit(work: Path) -> None:
        commit = git(work, "rev-parse", "HEAD")
        git(work, "update-index", "--force-remove", path)
        git(work, "update-index", "--add", "--cacheinfo", f"160000,{commit},{path}")

    return edit


def symlink_to(path: str, target: str) -> Edit:
    def edit(work: Path) -> None:
        blob = hash_object(work, target)
        git(work, "update-index", "--cacheinfo", f"120000,{blob},{path}")

    return edit


def remove_file(path: str) -> Edit:
    def edit(work: Path) -> None:
        git(work, "update-index", "--force-remove", path)

    return edit


def add_file(path: str, text: str) -> Edit:
    def edit(work: Path) -> None:
        blob = hash_object(work, text)
        git(work, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")

    return edit


@dataclass(frozen=True)
class Case:
    id: str
    edit: Edit
    reason: str
    start: str | None = None  # where Mallory's commit starts (default: the PR head)


TENANT = "envs/prod/tenants/acme-build.yaml"
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 120\n"
CASES = [
    Case("release-yaml-as-symlink", as_symlink("envs/prod/release.yaml"),
         "envs/prod/release.yaml is a symlink at the head"),
    Case("tenant-file-as-symlink", as_symlink(TENANT), f"{TENANT} is a symlink at the head"),
    Case("values-symlink-to-staging", symlink_to("envs/prod/values.yaml", "../staging/values.yaml"),
         "envs/prod/values.yaml is a symlink at the head"),
    Case("tenant-file-as-gitlink", as_gitlink(TENANT), f"{TENANT} is a submodule (gitlink) at the head"),
    Case("case-variant-env-dir", add_file("envs/Prod/values.yaml", "replicaCount: 9\n"),
         "the PR edits envs/Prod/values.yaml, which a promotion to 'prod' may not edit"),
    Case("case-variant-tenant", add_file("envs/prod/tenants/Acme-build.yaml", "replicaCount: 9\n"),
         "the PR edits envs/prod/tenants/Acme-build.yaml"),
    Case("gitattributes-filter", add_file(".gitattributes", "*.yaml filter=evil\n"),
         "the PR edits .gitattributes"),
    Case("path-with-a-newline", add_file("envs/prod/tenants/acme-build.yaml\n.yaml", "a: 1\n"),
         "which a promotion to 'prod' may not edit"),
    Case("tenant-file-as-lfs-pointer", add_file(TENANT, LFS_POINTER),
         f"{TENANT} changes keys other than image and release"),
    Case("tenant-file-deleted", remove_file(TENANT), f"{TENANT} changes keys other than image and release"),
    Case("head-is-an-ancestor-of-main", lambda _w: None, "holds content no `odoo-gitops promote` run",
         start="main~1"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_content_game(case: Case, stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0, result
    number, branch = result["pull_request"]["number"], result["branch"]
    approve(capsys, stage, number, *CAB)
    start = case.start
    if start is not None and start.startswith("main"):
        start = git(stage.repo.remote, "rev-parse", start)
        git(stage.repo.remote, "branch", "-f", "attack-start", start)
        start = "attack-start"
    push_tree_edit(stage.repo.remote, tmp_path, branch, case.edit, start=start)
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    verdict = gate["verdict"]
    assert (code, verdict["state"]) == (3, "failure"), verdict
    assert any(case.reason in r for r in verdict["reasons"]), verdict["reasons"]
    before = git(stage.repo.remote, "rev-parse", "main")
    code, merged = cli(capsys, stage, "pr", "merge", str(number))
    assert code == 3, merged
    changed = git(stage.repo.remote, "diff", "--name-only", before, "main").split()
    assert all(p.startswith("audit/") for p in changed), changed
