"""The addons diff between two commits of an addons repository, read straight from git objects.

`diff_commits(repo, old, new)` gives what `diff_addons` gives on checkouts of both commits, without writing
a file: one `git ls-tree -r -t` per commit, then `git cat-file --batch` for the blobs a parser needs. An
addon whose directory has the same tree id in both commits holds the same bytes, so its checksum is equal on
both sides and it is neither hashed nor parsed (unless a changed addon extends its models); only the
manifests of every addon (discovery validates them all) and the files of addons whose tree ids differ are
read up front, in one batch.

A symbolic link makes the bytes of an addon depend on more than its tree id, and where it points is decided
by the file system: a commit holding one is reported with `HasLinks`, and the caller diffs checkouts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gitops.addons.blobtree import AddonBlobs, BlobTree
from gitops.addons.checksums import DEFAULT_EXCLUDES
from gitops.addons.diff import AddonsDiff, diff_addon_sets
from gitops.addons.discovery import _SKIPPED_DIRS, Addon, AddonSet, addon_set, load_addon, manifest_bytes
from gitops.addons.manifest import MANIFEST, parse_manifest_source
from gitops.errors import ConfigError, ExternalError, Problem
from gitops.gitstore import plumbing


class HasLinks(Exception):
    """A commit holds symbolic links: diff checkouts instead (the file system resolves them)."""


def _join(reldir: str, name: str) -> str:
    return f"{reldir}/{name}" if reldir else name


def candidates(tree: BlobTree, reldir: str = "") -> Iterator[str]:
    """Addon directories (holding a manifest file), in discovery's order: hidden and skipped directories
    are not searched, addons are not searched for nested addons."""
    if _join(reldir, MANIFEST) in tree.ids:
        yield reldir
        return
    for name, _ in tree.dirs[reldir][1]:
        if name.startswith(".") or name in _SKIPPED_DIRS:
            continue
        child = _join(reldir, name)
        if _join(child, MANIFEST) in tree.ids:
            yield child
        else:
            yield from candidates(tree, child)


def _name(prefix: str) -> str:
    return prefix.rpartition("/")[2]


def _once(dirs: Sequence[str]) -> dict[str, str]:
    """Addon name -> directory, for names found once (a duplicate is a discovery error anyway)."""
    counts = Counter(_name(p) for p in dirs)
    return {_name(p): p for p in dirs if counts[_name(p)] == 1}


def unchanged(
    old: BlobTree, new: BlobTree, old_dirs: Sequence[str], new_dirs: Sequence[str]
) -> frozenset[str]:
    """Addon names found once on each side whose directories have the same tree id."""
    before, after = _once(old_dirs), _once(new_dirs)
    return frozenset(n for n in before.keys() & after.keys() if old.trees[before[n]] == new.trees[after[n]])


def _wanted(tree: BlobTree, dirs: Sequence[str], same: frozenset[str]) -> list[str]:
    """Manifests of every addon, and every file of the addons whose tree ids differ."""
    wanted = [_join(p, MANIFEST) for p in dirs]
    for prefix in dirs:
        if _name(prefix) not in same:
            wanted.extend(tree.under(prefix))
    return wanted


def _addons(
    tree: BlobTree, dirs: Sequence[str], display: Path, problems: list[Problem], parsed: dict[Any, Any]
) -> list[Addon]:
    """The addons of one commit; `parsed` (shared by both commits) keeps each manifest blob parsed once
    per name it is shown under: most manifests are the same blob in both commits."""
    found = []
    for prefix in dirs:
        path = display / prefix if prefix else display
        reader = AddonBlobs(tree, prefix, path)
        key = (tree.ids[_join(prefix, MANIFEST)], reader.display(MANIFEST))
        if key not in parsed:
            parsed[key] = parse_manifest_source(manifest_bytes(reader), key[1])
        addon = load_addon(path, problems, reader, parsed[key])
        if addon is not None:
            found.append(addon)
    return found


def _sets(
    sides: Sequence[tuple[BlobTree, Sequence[str], Path]], series: str | None, known: Sequence[str]
) -> list[AddonSet]:
    problems: list[Problem] = []
    sets: list[AddonSet] = []
    parsed: dict[Any, Any] = {}
    for tree, dirs, display in sides:
        found: list[Problem] = []
        try:
            sets.append(
                addon_set(
                    _addons(tree, dirs, display, found, parsed),
                    [display],
                    series=series,
                    known_modules=known,
                    problems=found,
                )
            )
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems, hint="fix the manifests listed above")
    return sets


def diff_trees(
    old: BlobTree,
    new: BlobTree,
    *,
    displays: tuple[Path, Path] = (Path(), Path()),
    series: str | None = None,
    known_modules: Sequence[str] = (),
    exclude_patterns: Sequence[str] = DEFAULT_EXCLUDES,
) -> AddonsDiff:
    """Diff two commits' trees; messages name files under `displays` (old, new): repository-relative by
    default, or where checkouts of the two commits would be."""
    if old.links or new.links:
        raise HasLinks(f"{len(old.links | new.links)} symbolic link(s)")
    old_dirs, new_dirs = list(candidates(old)), list(candidates(new))
    same = unchanged(old, new, old_dirs, new_dirs)
    old.preload(_wanted(old, old_dirs, same))
    new.preload(_wanted(new, new_dirs, same))  # the blobs both commits share were read just above
    before, after = _sets([(old, old_dirs, displays[0]), (new, new_dirs, displays[1])], series, known_modules)
    return diff_addon_sets(before, after, exclude_patterns=exclude_patterns, same=same)


def commit_tree(repo: plumbing.GitDir, commit: str | None, contents: dict[bytes, bytes]) -> BlobTree:
    """The tree of `commit` in `repo` (None: an empty tree), reading blobs into `contents`."""
    try:
        entries = plumbing.tree_entries(repo, commit) if commit else []
    except ExternalError as exc:
        raise ExternalError(
            f"cannot read commit {commit!r} of the addons repository {repo.root}: {exc}"
        ) from None
    return BlobTree(entries, lambda ids: plumbing.cat_blobs(repo, ids), contents)


def diff_commits(
    repo: Path,
    old_commit: str | None,
    new_commit: str,
    *,
    displays: tuple[Path, Path] = (Path(), Path()),
    series: str | None = None,
    known_modules: Sequence[str] = (),
    exclude_patterns: Sequence[str] = DEFAULT_EXCLUDES,
) -> AddonsDiff:
    """The addons diff from `old_commit` (None: nothing) to `new_commit` of the repository at `repo`, read
    from git objects. `HasLinks` when either commit holds a symbolic link."""
    git_dir = plumbing.Repository(repo)
    contents: dict[bytes, bytes] = {}
    return diff_trees(
        commit_tree(git_dir, old_commit, contents),
        commit_tree(git_dir, new_commit, contents),
        displays=displays,
        series=series,
        known_modules=known_modules,
        exclude_patterns=exclude_patterns,
    )
