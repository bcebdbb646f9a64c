"""One commit of an addons repository held as git objects: the tree listing in memory, blob contents read
in batches (`git cat-file --batch`) only when a parser or the checksums ask, and kept.

`AddonBlobs` serves one addon directory of it through the `AddonFiles` calls (gitops.addons.files), so the
manifest, model, migration and checksum code reads git objects exactly as it reads a directory; nothing is
written to disk. Paths from manifests (`data` files) are resolved like the kernel would in a checkout:
`.` and `..` step through directories only, and nothing resolves above the repository's root.
"""

from __future__ import annotations

import collections
import errno
import itertools
import operator
import os
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from gitops.addons.files import Listing
from gitops.gitstore.plumbing import TreeColumns

Change = tuple[str | None, str | None, str]

LINK_MODE = "120000"
Loader = Callable[[list[bytes]], list[bytes]]


def _is_blob(meta: str) -> bool:
    return " blob " in meta


def _plain(name: str) -> bool:
    """A relative name without an empty, "." or ".." part, and no trailing slash: pathlib leaves it as it
    is, and it names what it says unless a symbolic link is on the way."""
    return bool(name) and name[0] not in "./" and "/." not in name and "//" not in name and name[-1] != "/"


def _missing(path: str) -> OSError:
    return FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)


class BlobTree:
    """The files, directories and symbolic links of one commit. `ids` maps a file's path to its
    "<mode> <type> <object id>", `trees` a directory's ("" is the root); equal ids hold equal bytes.

    `contents` maps a file's id -> bytes and may be shared between the two commits of a diff: a file the
    commits share is read once. A directory's listing is made when first asked for (`listing`): only the
    directories a diff reads are listed."""

    def __init__(self, columns: TreeColumns, load: Loader, contents: dict[str, bytes]) -> None:
        metas, paths, maybe_links = columns
        # a tree, or a submodule's commit (an empty directory in a checkout): the type's first letter
        # follows the six digits of the mode ("100644 blob <id>")
        blobs = [meta[7] == "b" for meta in metas]
        trees = list(map(operator.not_, blobs))
        self._order = list(itertools.compress(paths, blobs))  # git's order: a subtree is contiguous
        self.ids = dict(zip(self._order, itertools.compress(metas, blobs), strict=True))
        tree_paths = list(itertools.compress(paths, trees))
        self.trees = dict(zip(tree_paths, itertools.compress(metas, trees), strict=True))
        self.trees[""] = ""
        # directory -> index in _order of its first file (the number of files listed before it)
        before = itertools.accumulate(blobs, initial=0)
        self._first = dict(zip(tree_paths, itertools.compress(before, trees), strict=True))
        self._first[""] = 0
        self.links: set[str] = set()
        if maybe_links:  # most repositories hold none: the listing says so
            links = map(str.startswith, itertools.compress(metas, blobs), itertools.repeat(LINK_MODE))
            self.links.update(itertools.compress(self._order, links))
        self.targets: dict[str, str] = {}  # symbolic link -> its target, once `follow_links` read them
        # directory -> names of its sub-directories (a directory without any: absent), sorted when asked
        self._children: dict[str, list[str]] = collections.defaultdict(list)
        for parent, _, name in map(str.rpartition, tree_paths, itertools.repeat("/")):
            self._children[parent].append(name)
        self._subdirs: dict[str, list[tuple[str, bool]]] = {}  # what `subdirs` answered
        self._link_dirs: set[str] = set()  # links to directories: listed with the directories
        self._listings: dict[str, Listing] = {}
        self._load = load
        self.contents = contents
        self._base: BlobTree | None = None  # `undone`: the files below a directory are the base's, patched
        self._gone: set[str] = set()
        self._extra: list[str] = []

    @classmethod
    def undone(cls, after: BlobTree, changes: Iterable[Change]) -> BlobTree:
        """The tree of an older commit made from the newer one's (`after`) and the (meta before, meta
        after, path) of every entry that differs between the two (`git diff-tree -r -t`): what the newer
        commit holds differently is taken out, what the older one held put back. The maps are copies of
        `after`'s (a few hundred changes among tens of thousands of entries); it shares `after`'s reader."""
        tree = cls.__new__(cls)
        tree.ids, tree.trees, tree.links = dict(after.ids), dict(after.trees), set(after.links)
        tree._children = dict(after._children)  # a list is copied before it changes (`_child_list`)
        tree._order, tree._first, tree.targets, tree._link_dirs, tree._listings = [], {}, {}, set(), {}
        tree._subdirs = {}
        tree._load, tree.contents, tree._base = after._load, after.contents, after
        tree._gone, tree._extra = set(), []
        copied: set[str] = set()
        changes = list(changes)
        for before, now, path in changes:  # out first: a path can be a file in one and a directory in other
            if now is None:
                continue
            if _is_blob(now):
                del tree.ids[path]
                tree.links.discard(path)
                if before is None or not _is_blob(before):
                    tree._gone.add(path)
            else:
                del tree.trees[path]
                if before is None or _is_blob(before):
                    parent, _, name = path.rpartition("/")
                    if parent in tree._children:  # else gone already, with its parent
                        tree._child_list(parent, copied).remove(name)
                    tree._children.pop(path, None)
        for before, now, path in changes:
            if before is None:
                continue
            if _is_blob(before):
                tree.ids[path] = before
                if before.startswith(LINK_MODE):
                    tree.links.add(path)
                if now is None or not _is_blob(now):
                    tree._extra.append(path)
            else:
                tree.trees[path] = before
                if now is None or _is_blob(now):
                    parent, _, name = path.rpartition("/")
                    tree._child_list(parent, copied).append(name)
        return tree

    def _child_list(self, path: str, copied: set[str]) -> list[str]:
        if path not in copied:
            copied.add(path)
            self._children[path] = list(self._children.get(path, ()))
        return self._children[path]

    def release(self) -> None:
        """Let go of the listing and the contents read, once the diff is made: a reader that a reference
        cycle keeps alive then holds nothing big."""
        for held in (self.ids, self.trees, self._first, self._children, self._subdirs, self._listings):
            held.clear()
        self.contents.clear()
        self._order, self.links, self.targets, self._link_dirs = [], set(), {}, set()
        self._base, self._gone, self._extra = None, set(), []

    def is_dir(self, path: str) -> bool:
        return path in self.trees

    def subdirs(self, path: str) -> list[tuple[str, bool]]:
        """The sorted (name, is a symbolic link) of the directory `path`'s sub-directories."""
        if path not in self._subdirs:
            found = [(name, False) for name in self._children.get(path, ())]
            parent = path + "/" if path else ""
            found += [
                (link[len(parent) :], True) for link in self._link_dirs if link.rpartition("/")[0] == path
            ]
            self._subdirs[path] = sorted(found)
        return self._subdirs[path]

    def listing(self, path: str) -> Listing | None:
        """The directory `path`'s sorted file names and sub-directories, or None when not a directory."""
        if path not in self.trees:
            return None
        if path not in self._listings:
            self._list_below(path)
        return self._listings[path]

    def _list_below(self, path: str) -> None:
        """List `path` and the directories below it holding files, in one pass over the files below it
        (a walk asks for them next)."""
        names: dict[str, list[str]] = {path: []}
        for file in self.under(path):
            if file not in self._link_dirs:
                parent, _, name = file.rpartition("/")
                if parent in names:
                    names[parent].append(name)
                else:
                    names[parent] = [name]
        for directory, files in names.items():
            if directory not in self._listings:
                files.sort()
                self._listings[directory] = (files, self.subdirs(directory))

    def under(self, prefix: str) -> list[str]:
        """Every file path below the directory `prefix` ("" is the root), in no particular order."""
        if self._base is not None:
            start = prefix + "/" if prefix else ""
            kept = [path for path in self._base.under(prefix) if path not in self._gone]
            return kept + [path for path in self._extra if path.startswith(start)]
        if not prefix:
            return list(self._order)
        order, start = self._order, prefix + "/"
        first = end = self._first.get(prefix, len(order))  # indexed: islice would step to it one by one
        while end < len(order) and order[end].startswith(start):
            end += 1
        return order[first:end]

    def preload(self, paths: Iterable[str], other: tuple[BlobTree, Iterable[str]] | None = None) -> None:
        """Read the blobs of `paths` (and of `other`'s paths: a tree sharing `contents` and repository)
        that are not read yet: one `cat-file --batch`."""
        ids = [self.ids[p] for p in paths]
        if other is not None:
            ids.extend(other[0].ids[p] for p in other[1])
        wanted = list(dict.fromkeys(oid for oid in ids if oid not in self.contents))
        if wanted:
            loaded = self._load([oid.rpartition(" ")[2].encode() for oid in wanted])  # "<mode> <type> <oid>"
            self.contents.update(zip(wanted, loaded, strict=True))

    def read(self, path: str, *, batch: str) -> bytes:
        """The bytes of the file `path`; when unread, the unread files under `batch` are read with it."""
        oid = self.ids.get(path)
        if oid is None:
            raise (
                IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
                if path in self.trees
                else (_missing(path))
            )
        if oid not in self.contents:
            self.preload([path, *self.under(batch)])
        return self.contents[oid]

    def follow_links(self) -> list[str]:
        """Read the symbolic links and list a link to a directory as a directory flagged as a link (what
        `os.scandir` reports); a dangling or looping link stays a file, as there. Returns the links that
        lead out of the commit (absolute, or above its root): what they name depends on the machine."""
        if not self.links:
            return []
        self.preload(self.links)
        self.targets = {p: self.contents[self.ids[p]].decode("utf-8", "surrogateescape") for p in self.links}
        self._link_dirs = {path for path in self.links if self.resolve(path) in self.trees}
        self._listings.clear()
        self._subdirs.clear()  # listed again with the links to directories
        return sorted(path for path in self.links if self.leaves(path))

    def leaves(self, link: str) -> bool:
        """True when `link`'s target is absolute or climbs above the root as written."""
        text = self.targets[link]
        lexical = posixpath.normpath(posixpath.join(posixpath.dirname(link), text))
        return text.startswith("/") or lexical == ".." or lexical.startswith("../")

    def resolve(self, path: str) -> str | None:
        """The real path of `path` (every symbolic link followed), or None when it does not exist."""
        real = self.locate("", path)
        return real if real is not None and (real in self.trees or real in self.ids) else None

    def locate(self, base: str, name: str, hops: int = 0) -> str | None:
        """The path `name` (relative to the directory `base`) names, symbolic links followed, or None when
        it cannot exist: an absolute name, a step through something that is not a directory, above the
        root, or through a dangling or looping link."""
        if _plain(name) and hops <= 40:
            joined = f"{base}/{name}" if base else name  # no step to resolve: only a link could move it
            if joined in self.trees or (joined in self.ids and joined not in self.targets):
                return joined
        if name.startswith("/") or hops > 40:
            return None
        parts = base.split("/") if base else []
        for part in name.split("/"):
            if "/".join(parts) not in self.trees:
                return None
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            elif part not in ("", "."):
                parts.append(part)
                if (joined := "/".join(parts)) in self.targets:
                    real = self.locate("/".join(parts[:-1]), self.targets[joined], hops + 1)
                    if real is None or (real not in self.trees and real not in self.ids):
                        return None
                    parts = real.split("/") if real else []
        if name.endswith(("/", "/.", "/..")) or name in (".", ".."):
            return "/".join(parts) if "/".join(parts) in self.trees else None
        return "/".join(parts)

    def links_under(self, prefix: str) -> list[str]:
        """The symbolic links stored below the directory `prefix`."""
        start = prefix + "/" if prefix else ""
        return sorted(path for path in self.links if path.startswith(start))


@dataclass(frozen=True)
class AddonBlobs:
    """One addon directory (`prefix` in `tree`) read through the AddonFiles calls; messages name its
    files under `display` (what a checkout of the commit at that place would show)."""

    tree: BlobTree
    prefix: str
    display_path: Path
    known: dict[str, bool] | None = field(default=None, compare=False)
    """`is_file` answers for paths that cannot leave the addon (no `..`, not absolute), when the readers of
    one addon in both commits share them: its directory has the same tree id in both and holds no link."""

    def _path(self, relpath: str) -> str:
        return f"{self.prefix}/{relpath}" if self.prefix and relpath else (self.prefix or relpath)

    def listing(self, reldir: str) -> Listing | None:
        return self.tree.listing(self._path(reldir))

    def read(self, relpath: str) -> bytes:
        # DirFiles reads `top / relpath`: pathlib drops "." parts, empty parts and a trailing slash first
        path = self.tree.locate(self.prefix, relpath if _plain(relpath) else str(PurePosixPath(relpath)))
        if path is None:
            raise _missing(self.display(relpath))
        return self.tree.read(path, batch=self.prefix)

    def is_file(self, relpath: str) -> bool:
        known = self.known
        if known is not None and (answer := known.get(relpath)) is not None:
            return answer
        tree = self.tree
        if not tree.targets and _plain(relpath):  # no link on any way: the name is the path (`locate`)
            found = (f"{self.prefix}/{relpath}" if self.prefix else relpath) in tree.ids
        else:
            path = tree.locate(self.prefix, relpath)
            found = path is not None and path in tree.ids
        if known is not None and not relpath.startswith("/") and ".." not in relpath.split("/"):
            known[relpath] = found
        return found

    def display(self, relpath: str) -> str:
        base = str(self.display_path)
        if not relpath:
            return base
        return relpath if base == "." else f"{base}/{relpath}"  # what Path / relpath gives for walked paths
