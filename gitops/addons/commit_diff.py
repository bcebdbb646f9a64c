"""The addons diff between two commits of an addons repository, read straight from git objects.

`diff_commits(repo, old, new)` gives what `diff_addons` gives on checkouts of both commits, without writing
a file: one `git ls-tree -r -t` of the new commit while `git diff-tree -r -t` finds what the old one holds
differently (the old listing is the new one with those differences undone), then one `git cat-file --batch`
for the blobs a parser needs. An
addon whose directory has the same tree id in both commits holds the same bytes, so its checksum is equal on
both sides and it is neither hashed nor parsed (unless a changed addon extends its models); only the
manifests of every addon (discovery validates them all) and the files of addons whose tree ids differ are
read up front, in one batch.

Symbolic links are followed in memory the way the file system follows them in a checkout; an addon holding
one is always read, as the bytes behind a link are not covered by its tree id. A link that leads out of the
repository (absolute, or climbing above its root) names something on the machine, not in the commit: it is
refused, as extracting `git archive` refused it before.
"""

from __future__ import annotations

import contextlib
import gc
import posixpath
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gitops.addons.blobtree import AddonBlobs, BlobTree
from gitops.addons.checksums import DEFAULT_EXCLUDES
from gitops.addons.diff import AddonsDiff, diff_addon_sets
from gitops.addons.discovery import _SKIPPED_DIRS, Addon, AddonSet, addon_set, load_addon, manifest_bytes
from gitops.addons.manifest import MANIFEST, parse_manifest_source
from gitops.errors import ConfigError, ExternalError, Problem
from gitops.gitstore import plumbing


def _join(reldir: str, name: str) -> str:
    return f"{reldir}/{name}" if reldir else name


_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
Changes = list[tuple[str | None, str | None, str]]
Candidate = tuple[str, bool, str]
"""An addon directory as discovery finds it: its path, whether that path is a symbolic link, its real path."""


def candidates(tree: BlobTree, reldir: str = "") -> Iterator[Candidate]:
    """Addon directories (holding a manifest file), in discovery's order: hidden and skipped directories
    are not searched, nor symbolic links to directories (but one holding a manifest is an addon), and
    addons are not searched for nested addons."""
    if tree.locate(reldir, MANIFEST) in tree.ids:
        yield reldir, False, reldir
        return
    for name, is_link in tree.subdirs(reldir):
        if name.startswith(".") or name in _SKIPPED_DIRS:
            continue
        child = _join(reldir, name)
        real = tree.resolve(child) if is_link else child
        if real is not None and tree.locate(real, MANIFEST) in tree.ids:
            yield child, is_link, real
        elif not is_link:
            yield from candidates(tree, child)


def _name(prefix: str) -> str:
    return prefix.rpartition("/")[2]


def _found(tree: BlobTree) -> list[Candidate]:
    """The candidates discovery keeps: real directories first, a second path to the same one dropped."""
    kept: list[Candidate] = []
    seen: set[str] = set()
    for found in sorted(candidates(tree), key=lambda c: c[1]):
        if found[2] not in seen:
            seen.add(found[2])
            kept.append(found)
    return kept


def _once(tree: BlobTree, found: Sequence[Candidate]) -> dict[str, str]:
    """Addon name -> real directory, for names found once and free of symbolic links (a link's target is
    outside the tree id that equal ids vouch for)."""
    counts = Counter(_name(c[0]) for c in found)
    return {
        _name(path): real
        for path, is_link, real in found
        if counts[_name(path)] == 1 and not is_link and not tree.links_under(real)
    }


def unchanged(
    old: BlobTree, new: BlobTree, old_found: Sequence[Candidate], new_found: Sequence[Candidate]
) -> frozenset[str]:
    """Addon names found once on each side whose directories have the same tree id."""
    before, after = _once(old, old_found), _once(new, new_found)
    return frozenset(n for n in before.keys() & after.keys() if old.trees[before[n]] == new.trees[after[n]])


def _wanted(tree: BlobTree, found: Sequence[Candidate], same: frozenset[str]) -> list[str]:
    """Manifests of every addon, and every file of the addons whose tree ids differ."""
    wanted = [p for c in found if (p := tree.locate(c[2], MANIFEST)) is not None]
    for path, _, real in found:
        if _name(path) not in same:
            wanted.extend(tree.under(real))
    return wanted


def link_problems(tree: BlobTree, path: str, real: str) -> list[Problem]:
    """gitops.addons.links' verdict on the links of one addon (every link here resolves inside the tree):
    a link to a directory outside its addon is refused."""
    problems = []
    for link in tree.links_under(real):
        sub = link[len(real) + 1 :] if real else link
        text = tree.targets[link]
        lexical = posixpath.normpath(posixpath.join(posixpath.dirname(sub), text))
        target = tree.resolve(link)
        if target is None:
            problems.append(Problem(_join(path, sub), 0, f"symlink is dangling or loops (-> {text})"))
            continue
        inside = target == real or target.startswith(real + "/") if real else True
        if lexical != ".." and not lexical.startswith("../") and inside:
            continue
        if tree.is_dir(target):
            problems.append(
                Problem(
                    _join(path, sub),
                    0,
                    f"symlinked directory leaves its addon (-> {text}); "
                    "click-odoo-update does not enter it and the image could not hold it",
                )
            )
    return problems


class _Shared:
    """What discovery in the two commits shares. `parsed`: each manifest blob parsed once per name it is
    shown under (most manifests are the same blob in both commits). `loaded`: an addon in `same` (equal
    tree ids, no link in or to it) found at the same place in both commits and shown under the same display
    is loaded once, by the first commit: its manifest's problems, and its data files' checks."""

    def __init__(self, same: frozenset[str], displays: tuple[Path, Path]) -> None:
        self.parsed: dict[Any, Any] = {}
        self.same = same if displays[0] == displays[1] else frozenset()
        self.loaded: dict[str, tuple[Addon | None, list[Problem], dict[str, bool]]] = {}


def _addons(
    tree: BlobTree, found: Sequence[Candidate], display: Path, problems: list[Problem], shared: _Shared
) -> list[Addon]:
    """The addons of one commit (the first commit of a diff first)."""
    addons = []
    for path, _, real in found:
        reused = shared.loaded.get(path) if _name(path) in shared.same else None
        if reused is not None:  # the second commit: no link here (`same`), so no link problem either
            addon, found_problems, known = reused
            problems.extend(found_problems)
            if addon is not None:
                reader = AddonBlobs(tree, real, addon.path, known)
                addons.append(Addon(name=addon.name, path=addon.path, parsed=addon.parsed, reader=reader))
            continue
        problems.extend(link_problems(tree, path, real))
        shown = display / path if path else display
        reader = AddonBlobs(tree, real, shown, {} if _name(path) in shared.same else None)
        key = (tree.ids[tree.locate(real, MANIFEST) or ""], reader.display(MANIFEST))
        if key not in shared.parsed:
            shared.parsed[key] = parse_manifest_source(manifest_bytes(reader), key[1])
        own: list[Problem] = []
        addon = load_addon(shown, own, reader, shared.parsed[key])
        problems.extend(own)
        if reader.known is not None:
            shared.loaded[path] = (addon, own, reader.known)
        if addon is not None:
            addons.append(addon)
    return addons


def _sets(
    sides: Sequence[tuple[BlobTree, Sequence[Candidate], Path]],
    series: str | None,
    known: Sequence[str],
    same: frozenset[str],
) -> list[AddonSet]:
    problems: list[Problem] = []
    sets: list[AddonSet] = []
    shared = _Shared(same, (sides[0][2], sides[1][2]))
    for tree, dirs, display in sides:
        found: list[Problem] = []
        try:
            sets.append(
                addon_set(
                    _addons(tree, dirs, display, found, shared),
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
    leaving = sorted({*old.follow_links(), *new.follow_links()})
    if leaving:  # extracting `git archive` refused these too (tarfile's "data" rules), before any parsing
        raise ConfigError(
            [Problem(link, 0, "symlink leads out of the addons repository") for link in leaving],
            hint="a link in the addons repository must point inside it (a relative target)",
        )
    old_dirs, new_dirs = _found(old), _found(new)
    same = unchanged(old, new, old_dirs, new_dirs)
    new.preload(_wanted(new, new_dirs, same), (old, _wanted(old, old_dirs, same)))  # shared blobs read once
    sides = [(old, old_dirs, displays[0]), (new, new_dirs, displays[1])]
    before, after = _sets(sides, series, known_modules, same)
    return diff_addon_sets(before, after, exclude_patterns=exclude_patterns, same=same)


def commit_tree(repo: plumbing.GitDir, commit: str | None, contents: dict[str, bytes]) -> BlobTree:
    """The tree of `commit` in `repo` (None: an empty tree), reading blobs into `contents`."""
    return _tree(repo, _columns(repo, commit), contents)


def _columns(repo: plumbing.GitDir, commit: str | None, name: str | None = None) -> plumbing.TreeColumns:
    try:
        return plumbing.tree_columns(repo, commit) if commit else plumbing.TreeColumns([], [])
    except ExternalError as exc:
        raise ExternalError(
            f"cannot read commit {name or commit!r} of the addons repository {repo.root}: {exc}"
        ) from None


def _pinned(repo: plumbing.GitDir, commit: str) -> str:
    """The tree id of `commit` (an object id is used as it is: it cannot move), so that two git calls
    read the same tree even when a branch moves between them; `commit` itself when git cannot resolve
    it (the listing then says so, naming it)."""
    if _OBJECT_ID.fullmatch(commit):
        return commit
    try:
        found = plumbing.git(repo, "rev-parse", "--verify", "--end-of-options", f"{commit}^{{tree}}")
    except ExternalError:
        return commit
    return found.stdout.decode("ascii", "replace").strip()


def _changes(repo: plumbing.GitDir, old: str | None, new: str) -> Changes | None:
    try:
        return plumbing.tree_changes(repo, old, new) if old else []
    except ExternalError:
        return None


def _tree(repo: plumbing.GitDir, columns: plumbing.TreeColumns, contents: dict[str, bytes]) -> BlobTree:
    return BlobTree(columns, lambda ids: plumbing.cat_blobs(repo, ids), contents)


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
    from git objects (ConfigError listing every problem; ExternalError when a commit cannot be read).
    The new commit is listed (`ls-tree -r -t`) while `diff-tree` finds what differs in the old one, which
    skips the sub-trees both share: the old tree is the new one with those differences undone."""
    git_dir = plumbing.Repository(repo)
    contents: dict[str, bytes] = {}
    new_tree = _pinned(git_dir, new_commit)  # read twice: both reads must see the same tree
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="addons-tree") as pool:
        listed = pool.submit(_columns, git_dir, new_tree, new_commit)
        changed = pool.submit(_changes, git_dir, old_commit, new_tree)
        new_columns, changes = listed.result(), changed.result()
    # diff-tree failed: ls-tree says which commit is unreadable
    listed_old = _columns(git_dir, old_commit) if old_commit and changes is None else None
    with _collector_paused():
        new = _tree(git_dir, new_columns, contents)
        if listed_old is not None or not old_commit or changes is None:
            old = _tree(git_dir, listed_old or plumbing.TreeColumns([], []), contents)
        else:
            old = BlobTree.undone(new, changes)
        trees = old, new
        try:
            return diff_trees(
                *trees,
                displays=displays,
                series=series,
                known_modules=known_modules,
                exclude_patterns=exclude_patterns,
            )
        finally:  # freed now, not by a full pass of the cycle collector (parsers' closures hold readers)
            for tree in trees:
                tree.release()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Two trees are tens of thousands of small objects without cycles: while they are built, the cycle
    collector would scan the caller's whole heap again and again for nothing (a third of the time inside a
    promotion that holds a 500-tenant config)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
