"""The two views of a config repository's files answer alike: a directory and a git tree in memory."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gitops.config import store as config_store
from gitops.config.files import DirectoryFiles, Files, TreeFiles
from gitops.gitstore.checkout import ConfigCheckout

LAYOUT = {
    "a.yaml": b"a: 1\n",
    "envs/prod/env.yaml": b"name: prod\n",
    "envs/prod/tenants/t1.yaml": b"t: 1\n",
    "envs/prod/tenants/t2.yaml": b"",
    "deep/er/still/x.txt": b"\x00binary\xff",
    "with space/f.yaml": b"x",
}
PROBES = [
    "",
    ".",
    "a.yaml",
    "envs",
    "envs/",
    "envs/prod",
    "envs/prod/tenants",
    "deep/er",
    "deep/er/still/x.txt",
]
PROBES += ["missing", "envs/missing.yaml", "a.yaml/child", "with space", "with space/f.yaml"]


@pytest.fixture
def views(tmp_path: Path) -> tuple[Files, Files]:
    for rel, data in LAYOUT.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*ident, "commit", "-qm", "c"]):
        subprocess.run(["git", *args], cwd=tmp_path, check=True)
    tree = config_store.tree_files(ConfigCheckout.open(tmp_path), "HEAD", preload=("envs/",))
    return DirectoryFiles(tmp_path), tree


@pytest.mark.parametrize("rel", PROBES)
def test_kind_names_and_read_agree(views: tuple[Files, Files], rel: str) -> None:
    disk, tree = views
    assert tree.kind(rel) == disk.kind(rel)
    assert tree.names(rel) == [n for n in disk.names(rel) if n != ".git"]
    if disk.kind(rel) == "file":
        assert tree.read(rel) == disk.read(rel) == LAYOUT[rel]
    else:
        with pytest.raises(OSError):
            disk.read(rel)
        with pytest.raises(FileNotFoundError):
            tree.read(rel)


def test_files_outside_the_preload_are_fetched_once() -> None:
    fetched: list[str] = []

    def fetch(path: str) -> bytes:
        fetched.append(path)
        return b"late"

    files = TreeFiles({"keys/k.pub": b"id1", "envs/e.yaml": b"id2"}, {"envs/e.yaml": b"early"}, fetch)
    assert files.read("envs/e.yaml") == b"early" and fetched == []
    assert files.read("keys/k.pub") == files.read("keys/k.pub") == b"late"
    assert fetched == ["keys/k.pub"]
    assert files.names("") == ["envs", "keys"] and files.kind("keys") == "dir"
