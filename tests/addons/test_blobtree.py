"""gitops.addons.blobtree: one commit served through the AddonFiles calls, against a checkout of the same
commit read with gitops.addons.files.DirFiles (the kernel's answers are the reference)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops.addons.blobtree import AddonBlobs, BlobTree
from gitops.addons.commit_diff import commit_tree
from gitops.addons.files import DirFiles, walk_files
from gitops.gitstore.plumbing import Repository, tree_changes
from tests.fixtures.configrepo import git
from tests.gitstore.test_plumbing import AFTER, BEFORE, _commit_tree

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


def _snapshot(tree: BlobTree) -> tuple[object, ...]:
    """Everything a diff asks of a tree, for every directory and file."""
    leaving = tree.follow_links()
    dirs, files = sorted(tree.trees), sorted(tree.ids)
    return (
        leaving,
        tree.ids,
        tree.trees,
        tree.links,
        tree.targets,
        {d: tree.subdirs(d) for d in dirs},
        {d: sorted(tree.under(d)) for d in dirs},
        {d: tree.listing(d) for d in dirs},
        {f: tree.under(f) for f in files},  # a file holds nothing
        {name: tree.resolve(name) for name in [*dirs, *files, "missing", "x/missing"]},
    )


def _undone_equals_listed(repo: Path, old: dict[str, str | None], new: dict[str, str | None]) -> None:
    first, second = _commit_tree(repo, old), _commit_tree(repo, new)
    store = Repository(repo)
    after = commit_tree(store, second, {})
    undone = BlobTree.undone(after, tree_changes(store, first, second))
    assert _snapshot(undone) == _snapshot(commit_tree(store, first, {}))
    assert _snapshot(after) == _snapshot(commit_tree(store, second, {}))  # the newer tree left as it was


@pytest.mark.parametrize(("old", "new"), [(BEFORE, AFTER), (AFTER, BEFORE), (BEFORE, BEFORE), ({}, AFTER)])
def test_the_older_tree_is_the_newer_one_with_the_differences_undone(
    tmp_path: Path, old: dict[str, str | None], new: dict[str, str | None]
) -> None:
    """Files that become directories and back, links, deleted and added trees, names that sort around
    "/" (x, x.txt, x-y, x/), non-UTF-8 and non-ASCII names: the tree `ls-tree` gives the old commit."""
    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    _undone_equals_listed(repo, old, new)


TREE_NAMES = st.sampled_from(["a", "b", "a.b", "a-b", "sub", "x"])
TREES = st.dictionaries(
    st.lists(TREE_NAMES, min_size=1, max_size=3).map("/".join),
    st.sampled_from(["1", "2", None]),  # None: a link to "sub" (a directory, a file, or nothing)
    max_size=6,
).map(lambda files: {p: t for p, t in files.items() if not any(o.startswith(p + "/") for o in files)})


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(sides=st.lists(TREES, min_size=2, max_size=2))
def test_generated_older_trees_are_the_newer_ones_undone(sides: list[dict[str, str | None]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "r"
        git(Path(tmp), "init", "-q", "-b", "main", str(repo))
        _undone_equals_listed(repo, sides[0], sides[1])


@pytest.mark.parametrize("with_link", [False, True])
def test_plain_names_are_files_as_in_the_checkout_with_or_without_links(
    tmp_path: Path, with_link: bool
) -> None:
    """`is_file` of a name without `.`, `..` or empty parts: looked up as it is in a tree without links,
    followed through links when the tree holds some (a link on the way makes a name a file)."""
    repo = tmp_path / "r"
    for relpath, content in FILES.items():
        (repo / relpath).parent.mkdir(parents=True, exist_ok=True)
        (repo / relpath).write_bytes(content)
    if with_link:
        (repo / "addon" / "lnk").symlink_to("views")
        (repo / "addon" / "file-link.xml").symlink_to("views/v.xml")
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "x")
    tree = commit_tree(Repository(repo), git(repo, "rev-parse", "HEAD").strip(), {})
    assert tree.follow_links() == []
    blobs, checkout = AddonBlobs(tree, "addon", repo / "addon", {}), DirFiles(repo / "addon")
    names = [
        "views/v.xml",
        "views",
        "a.py",
        "a",
        "a/y.py",
        "lnk/v.xml",
        "lnk",
        "file-link.xml",
        "données/é.py",
    ]
    for name in [*names, *names]:  # the second time from `known`
        assert blobs.is_file(name) == checkout.is_file(name), name
    assert blobs.is_file("lnk/v.xml") == blobs.is_file("file-link.xml") == with_link
