"""Plumbing reads and writes against real git: blobs by path, commits built without a working tree."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops.errors import ExternalError
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout
from tests.fixtures.configrepo import ConfigRepoFixture, git


@pytest.fixture
def checkout(config_repo: ConfigRepoFixture, tmp_path: Path) -> ConfigCheckout:
    return ConfigCheckout.clone(str(config_repo.remote), tmp_path / "c", depth=1)


def _committed_listing(repo: Path) -> list[list[bytes]]:
    """Commit the work tree; git's own `ls-tree -r -t -z` of it, as [meta, path] pairs."""
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "x")
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "-t", "-z", "HEAD"], cwd=repo, capture_output=True, check=True
    ).stdout
    return [line.split(b"\t", 1) for line in listing.split(b"\0") if line]


def test_read_blobs_returns_exact_bytes_and_none_for_what_is_absent(checkout: ConfigCheckout) -> None:
    paths = [
        "envs/prod/tenants/acme-build.yaml",
        "envs/prod/values.yaml",
        "pipelines/odoo.yaml",
        "envs/prod/no-such.yaml",
        "no-such-dir/x.yaml",
        "envs/prod",  # a tree, not a file
    ]
    blobs = plumbing.read_blobs(checkout, "refs/remotes/origin/main", paths)
    assert list(blobs) == paths
    for path in paths[:3]:
        assert blobs[path] == (checkout.root / path).read_bytes(), path
    assert blobs["envs/prod/no-such.yaml"] is None and blobs["no-such-dir/x.yaml"] is None
    assert blobs["envs/prod"] is None
    assert plumbing.read_blob(checkout, "no-such-ref", "pipelines/odoo.yaml") is None


def test_commit_files_writes_on_top_of_the_parent_and_leaves_the_checkout_alone(
    checkout: ConfigCheckout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Ada Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ada@example.com")
    head = checkout.head()
    files = {"envs/prod/values.yaml": b"image: {}\r\n", "new dir/with space.yaml": b"\xef\xbb\xbfa: 1\n"}
    sha = plumbing.commit_files(
        checkout, head, files, "Subject\n\nBody.\n\nTrailer-Key: v\n", ref="refs/heads/x"
    )
    assert git(checkout.root, "rev-parse", "refs/heads/x") == sha
    assert git(checkout.root, "rev-parse", f"{sha}^") == head
    assert plumbing.read_blobs(checkout, sha, list(files)) == files
    changed = git(checkout.root, "diff", "--name-only", head, sha).splitlines()
    assert changed == ["envs/prod/values.yaml", "new dir/with space.yaml"]
    assert git(checkout.root, "log", "-1", "--format=%an <%ae>%n%B", sha) == (
        "Ada Author <ada@example.com>\nSubject\n\nBody.\n\nTrailer-Key: v"
    )
    assert checkout.head() == head and git(checkout.root, "status", "--porcelain") == ""

    root = plumbing.commit_files(checkout, None, {"only.txt": b"x"}, "root")
    assert git(checkout.root, "ls-tree", "--name-only", root) == "only.txt"
    assert git(checkout.root, "rev-list", "--count", root) == "1"


@pytest.mark.parametrize("path", ["", "/abs.yaml", "a\nb", '"quoted'])
def test_commit_files_refuses_paths_git_would_misread(checkout: ConfigCheckout, path: str) -> None:
    with pytest.raises(ExternalError, match="not a plain repository path"):
        plumbing.commit_files(checkout, checkout.head(), {path: b"x"}, "m")


def test_identity_follows_the_environment_and_dates_are_current(
    checkout: ConfigCheckout, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    names = []
    for name in ("First Bot", "Second Bot", "First Bot"):
        monkeypatch.setenv("GIT_AUTHOR_NAME", name)
        sha = plumbing.commit_files(checkout, checkout.head(), {"f.txt": name.encode()}, "m")
        names.append(git(checkout.root, "log", "-1", "--format=%an|%at|%ct", sha))
    assert [n.split("|")[0] for n in names] == ["First Bot", "Second Bot", "First Bot"]
    stamps = [int(t) for n in names for t in n.split("|")[1:]]
    assert all(abs(t - time.time()) < 60 for t in stamps)


def test_identities_asked_early_are_the_ones_a_commit_writes_and_a_failure_waits_for_the_commit(
    checkout: ConfigCheckout, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Early Bot")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Early Committer")
    plumbing.warm_idents(checkout)
    assert len(checkout.idents) == 2
    sha = plumbing.commit_files(checkout, checkout.head(), {"f.txt": b"x"}, "m")
    assert git(checkout.root, "log", "-1", "--format=%an|%cn", sha) == "Early Bot|Early Committer"
    assert len(checkout.idents) == 2  # asked once

    strict = ConfigCheckout.clone(str(checkout.remote_url()), checkout.root.parent / "strict", depth=1)
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(var, "")
    git(strict.root, "config", "user.useConfigOnly", "true")
    monkeypatch.setenv("HOME", str(checkout.root.parent))  # no global identity either
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    plumbing.warm_idents(strict)  # no identity: nothing raised here
    assert strict.idents == {}
    with pytest.raises(ExternalError):
        plumbing.commit_files(strict, strict.head(), {"f.txt": b"x"}, "m")


def test_a_criss_cross_history_has_several_merge_bases_and_is_refused(checkout: ConfigCheckout) -> None:
    """`git merge` merges several merge bases into a virtual one, so a gate that diffs a head against one
    base does not see what the merge applies (a found bypass): such a head is named and refused."""
    root = checkout.root
    main = git(root, "rev-parse", "HEAD")
    tree = git(root, "rev-parse", "HEAD^{tree}")
    left = git(root, "commit-tree", tree, "-p", main, "-m", "left")
    right = git(root, "commit-tree", tree, "-p", main, "-m", "right")
    merged_on_main = git(root, "commit-tree", tree, "-p", left, "-p", right, "-m", "main merges a PR")
    crafted_head = git(root, "commit-tree", tree, "-p", right, "-p", left, "-m", "the PR merges them back")
    bases = plumbing.merge_bases(checkout, merged_on_main, crafted_head)
    assert sorted(bases) == sorted([left, right])
    problem = plumbing.criss_cross_problem(bases, crafted_head)
    assert problem is not None and "2 merge bases" in problem and crafted_head[:12] in problem

    linear = git(root, "commit-tree", tree, "-p", merged_on_main, "-m", "an honest PR commit")
    assert plumbing.merge_bases(checkout, merged_on_main, linear) == [merged_on_main]
    assert plumbing.criss_cross_problem([merged_on_main], linear) is None


def test_tree_columns_list_every_entry_whatever_its_name(tmp_path: Path) -> None:
    """Names with spaces, tabs, newlines and non-UTF-8 bytes, a symbolic link and a sub-tree: the same
    entries `git ls-tree -r -t` prints, in its order."""
    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    names = ["a b.txt", "tab\there", "new\nline", "dir/x 1.py", "dir/sub/y"]
    for name in names:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(name)
    (repo / os.fsdecode(b"latin\xe9")).write_text("x")
    (repo / "link").symlink_to("dir/sub")
    expected = _committed_listing(repo)
    columns = plumbing.tree_columns(plumbing.Repository(repo), "HEAD")  # a name with a tab: split per entry
    entries = list(zip(columns.metas, columns.paths, strict=True))
    assert entries == [(meta.decode(), os.fsdecode(path)) for meta, path in expected]
    assert columns.links  # "link" is one
    paths = {path for _, path in entries}
    assert {*names, "dir", "dir/sub", "link", os.fsdecode(b"latin\xe9")} == paths
    assert next(meta for meta, path in entries if path == "link").startswith("120000 blob ")
    (repo / "tab\there").rename(repo / "no-tab")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "no tab")  # no tab anywhere: the one-split path
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "-t", "-z", "HEAD"], cwd=repo, capture_output=True, check=True
    ).stdout
    plain = [line.split(b"\t", 1) for line in listing.split(b"\0") if line]
    columns = plumbing.tree_columns(plumbing.Repository(repo), "HEAD")
    assert list(zip(columns.metas, columns.paths, strict=True)) == [
        (meta.decode(), os.fsdecode(path)) for meta, path in plain
    ]
    assert columns.links
    (repo / "link").unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "no link")  # BlobTree then looks for none
    assert not plumbing.tree_columns(plumbing.Repository(repo), "HEAD").links


def _commit_tree(repo: Path, files: dict[str, str | None]) -> str:
    """Replace the work tree by `files` (None: a symbolic link to `sub`) and commit it."""
    for entry in repo.iterdir():
        if entry.name != ".git":
            subprocess.run(["rm", "-rf", str(entry)], check=True)
    for name, text in files.items():
        path = repo / os.fsdecode(name.encode("utf-8", "surrogateescape"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to("sub") if text is None else path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "x", "--allow-empty")
    return git(repo, "rev-parse", "HEAD").strip()


BEFORE = {
    "x": "file",
    "x.txt": "a",
    "x-y/z": "b",
    "sub/f": "1",
    "sub/deep/g": "2",
    "gone/a/b": "3",
    "link": "not yet",
    "a b": "s",
    "latin\udce9/f": "4",
    "é/f": "5",
    "keep/k": "6",
    "y/inner": "7",
}
AFTER = {
    "x/inner": "now a dir",
    "x.txt": "a",
    "x-y/z": "b",
    "sub/f": "changed",
    "link": None,
    "a b": "s",
    "new/dir/file": "8",
    "latin\udce9/f": "4",
    "é/f": "changed",
    "keep/k": "6",
    "y": "now a file",
}


@pytest.mark.parametrize(("old", "new"), [(BEFORE, AFTER), (AFTER, BEFORE), (BEFORE, BEFORE), ({}, AFTER)])
def test_tree_changes_are_every_entry_that_differs(
    tmp_path: Path, old: dict[str, str | None], new: dict[str, str | None]
) -> None:
    """Every path whose entry differs, sub-trees included, with each side's "<mode> <type> <id>" as
    `ls-tree` prints it (None where absent; a file that becomes a directory is a deletion and an addition).
    tests/addons/test_blobtree.py undoes them into the older tree."""
    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    first, second = _commit_tree(repo, old), _commit_tree(repo, new)
    store = plumbing.Repository(repo)
    columns = [plumbing.tree_columns(store, commit) for commit in (first, second)]
    listed = [dict(zip(side.paths, side.metas, strict=True)) for side in columns]
    changes = plumbing.tree_changes(store, first, second)
    assert (changes == []) == (old == new)
    found: dict[str, tuple[set[str], set[str]]] = {}
    for before, after, path in changes:
        sides = found.setdefault(path, (set(), set()))
        sides[0].update([before] if before else [])
        sides[1].update([after] if after else [])
    differing = {
        path for path in listed[0].keys() | listed[1].keys() if listed[0].get(path) != listed[1].get(path)
    }
    assert found == {
        path: tuple({side[path]} if path in side else set() for side in listed) for path in differing
    }


def test_evidence_reads_empty_large_and_unreadable_objects_from_memory(tmp_path: Path) -> None:
    """The listing, the changes and the blobs are read from a file git writes in memory: an empty output,
    blobs of any size (empty, larger than a pipe's buffer) and a ref git cannot read (its own message)."""
    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    git(repo, "commit", "-q", "--allow-empty", "-m", "empty")
    store = plumbing.Repository(repo)
    assert plumbing.tree_columns(store, "HEAD") == plumbing.TreeColumns([], [], False)
    assert plumbing.tree_changes(store, "HEAD", "HEAD") == []
    big = os.urandom(300_000)
    (repo / "big").write_bytes(big)
    (repo / "empty").write_bytes(b"")
    (repo / "nl").write_bytes(b"\n\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "files")
    columns = plumbing.tree_columns(store, "HEAD")
    ids = [meta.rpartition(" ")[2].encode() for meta in columns.metas]
    assert columns.paths == ["big", "empty", "nl"]
    assert plumbing.cat_blobs(store, [*ids, ids[0]]) == [big, b"", b"\n\n", big]
    with pytest.raises(ExternalError, match=r"^git ls-tree failed \(exit 128\): .*no-such-ref"):
        plumbing.tree_columns(store, "no-such-ref")
    with pytest.raises(ExternalError, match=r"^git diff-tree failed \(exit 128\): .*no-such-ref"):
        plumbing.tree_changes(store, "HEAD", "no-such-ref")


def test_tree_changes_never_read_the_checkouts_index(tmp_path: Path) -> None:
    """diff-tree reads the index of a checkout before anything else (megabytes in a large addons
    repository) though a raw diff of two trees never uses it: here it is not read at all, so even a
    corrupt one changes nothing."""
    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    first, second = _commit_tree(repo, BEFORE), _commit_tree(repo, AFTER)
    store = plumbing.Repository(repo)
    expected = plumbing.tree_changes(store, first, second)
    assert expected
    (repo / ".git" / "index").write_bytes(b"DIRC not an index")
    with pytest.raises(subprocess.CalledProcessError):  # what git itself makes of it
        subprocess.run(["git", "diff-tree", "-r", first, second], cwd=repo, check=True, capture_output=True)
    assert plumbing.tree_changes(store, first, second) == expected
    assert not list(repo.glob("odoo-gitops-*"))  # the index it is given instead: nowhere, nothing made


@pytest.mark.parametrize("slice_chars", [1, 60, 1 << 18])
def test_tree_columns_are_the_same_whatever_the_slices_the_listing_is_decoded_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slice_chars: int
) -> None:
    """The listing is decoded a slice of whole entries at a time: one entry per slice, a few, or all, and
    a slice with a tab in a path (split per entry) next to slices without, give the listing `git` prints."""
    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    names = [f"d{i}/f{i}.txt" for i in range(12)] + ["tab\there", "new\nline", "zz/é.py"]
    for name in names:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(name)
    (repo / os.fsdecode(b"latin\xe9")).write_text("x")
    expected = _committed_listing(repo)
    monkeypatch.setattr(plumbing, "_SLICE", slice_chars)
    columns = plumbing.tree_columns(plumbing.Repository(repo), "HEAD")
    assert list(zip(columns.metas, columns.paths, strict=True)) == [
        (meta.decode(), os.fsdecode(path)) for meta, path in expected
    ]
    assert not columns.links


def test_without_memory_files_git_writes_into_a_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where `memfd_create` is refused (or missing), the same answers come through a temporary file."""
    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    first, second = _commit_tree(repo, BEFORE), _commit_tree(repo, AFTER)
    store = plumbing.Repository(repo)
    expected = (plumbing.tree_columns(store, second), plumbing.tree_changes(store, first, second))
    ids = [meta.rpartition(" ")[2].encode() for meta in expected[0].metas if " blob " in meta]

    def refused(*_: object) -> int:
        raise OSError(38, "Function not implemented")

    blobs = plumbing.cat_blobs(store, ids)
    monkeypatch.setattr(os, "memfd_create", refused)
    assert (plumbing.tree_columns(store, second), plumbing.tree_changes(store, first, second)) == expected
    assert plumbing.cat_blobs(store, ids) == blobs


def test_a_cat_file_answer_that_ends_early_is_an_error_not_a_misread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextlib.contextmanager
    def one_of_two(*_args: object, **_kw: object) -> Iterator[bytes]:
        yield b"a" * 40 + b" blob 3\nxyz\n"

    monkeypatch.setattr(plumbing, "_output", one_of_two)
    with pytest.raises(ExternalError, match="1 of 2 objects"):
        plumbing.cat_blobs(plumbing.Repository(tmp_path), [b"a" * 40, b"b" * 40])
