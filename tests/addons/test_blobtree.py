"""gitops.addons.blobtree: one commit served through the AddonFiles calls, against a checkout of the same
commit read with gitops.addons.files.DirFiles (the kernel's answers are the reference)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gitops.addons.blobtree import AddonBlobs
from gitops.addons.commit_diff import commit_tree
from gitops.addons.files import DirFiles, walk_files
from gitops.gitstore.plumbing import Repository

FILES = {
    "addon/__manifest__.py": b"{}",
    "addon/a.py": b"a",
    "addon/a.b/x.py": b"dot dir",
    "addon/a/y.py": b"plain dir",
    "addon/a-b": b"dash file",
    "addon/views/v.xml": b"<odoo/>",
    "addon/.hidden/h.py": b"hidden",
    "addon/données/é.py": "é".encode(),
    "other/data.xml": b"<odoo/>",
}
NAMES = [
    "views/v.xml", "views//v.xml", "./views/v.xml", "views/./v.xml", "views/../views/v.xml", "a.py/",
    "views/", "views", "a.py/../a.py", "../other/data.xml", "../../other/data.xml", "../addon/a.py", ".",
    "..", "", "missing.xml", "views/missing/../v.xml", "/etc/hostname", "données/é.py",
]  # fmt: skip


@pytest.fixture(scope="module")
def commit(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    repo = tmp_path_factory.mktemp("blobtree")
    for relpath, content in FILES.items():
        (repo / relpath).parent.mkdir(parents=True, exist_ok=True)
        (repo / relpath).write_bytes(content)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x"}  # fmt: skip
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "files"]):
        subprocess.run(["git", "-C", str(repo), *args], env=env, check=True)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True)
    return repo, head.stdout.strip()


def both(commit: tuple[Path, str]) -> tuple[AddonBlobs, DirFiles]:
    repo, sha = commit
    tree = commit_tree(Repository(repo), sha, {})
    return AddonBlobs(tree, "addon", repo / "addon"), DirFiles(repo / "addon")


@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith("/")])
def test_names_resolve_like_the_kernel_in_a_checkout(commit: tuple[Path, str], name: str) -> None:
    blobs, checkout = both(commit)
    assert blobs.is_file(name) == checkout.is_file(name)
    try:
        expected: bytes | type[OSError] = checkout.read(name)
    except OSError:
        expected = OSError
    try:
        got: bytes | type[OSError] = blobs.read(name)
    except OSError:
        got = OSError
    assert got == expected


def test_absolute_names_never_reach_the_host(commit: tuple[Path, str]) -> None:
    blobs, _ = both(commit)
    assert not blobs.is_file("/etc/hostname")
    with pytest.raises(FileNotFoundError):
        blobs.read("/etc/hostname")


def test_listings_and_walk_order_equal_the_checkouts(commit: tuple[Path, str]) -> None:
    blobs, checkout = both(commit)
    for reldir in ("", "a", "a.b", "views", ".hidden", "données", "missing", "a.py"):
        assert blobs.listing(reldir) == checkout.listing(reldir), reldir
    assert list(walk_files(blobs)) == list(walk_files(checkout))
    assert blobs.display("views/v.xml") == checkout.display("views/v.xml")
