"""Read-only views of a config repository's files, by POSIX path relative to its root.

The loader reads through this interface so that the same validation runs on a directory (a checkout, a
developer's working copy) and on a git tree held in memory (promote's clone, which never checks out the
hundreds of tenant files it validates and edits).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, Protocol

Kind = Literal["file", "dir"]


class Files(Protocol):
    def read(self, rel: str) -> bytes:
        """The file's bytes; FileNotFoundError when it does not exist, another OSError when unreadable."""
        ...

    def kind(self, rel: str) -> Kind | None:
        """ "file", "dir", or None when nothing (readable) is there."""
        ...

    def names(self, rel: str) -> list[str]:
        """Sorted names in the directory `rel` ("" is the root); empty when it is not a directory."""
        ...

    def is_link(self, rel: str) -> bool:
        """Is `rel`, or a folder on the way to it, a symbolic link?"""
        ...


class DirectoryFiles:
    """The files under a directory on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()

    def kind(self, rel: str) -> Kind | None:
        try:
            mode = os.stat(self.root / rel).st_mode
        except OSError:
            return None
        return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else None

    def names(self, rel: str) -> list[str]:
        try:
            return sorted(os.listdir(self.root / rel))
        except OSError:
            return []

    def is_link(self, rel: str) -> bool:
        path = self.root
        for part in _normal(rel).split("/"):
            path = path / part
            if path.is_symlink():
                return True
        return False


class TreeFiles:
    """The files of one git tree: `objects` maps every file's path to its object id; contents already read
    are in `contents`, any other is fetched with `fetch(path)` on first use. `links` are the paths git
    stores as symbolic links (mode 120000)."""

    def __init__(
        self,
        objects: Mapping[str, bytes],
        contents: Mapping[str, bytes],
        fetch: Callable[[str], bytes],
        links: frozenset[str] = frozenset(),
    ) -> None:
        self._objects = objects
        self._links = links
        self._contents = dict(contents)
        self._fetch = fetch
        self._dirs: dict[str, set[str]] = {"": set()}
        for path in objects:
            child = path
            while child:  # link the path into each directory above it, up to one already linked
                parent, _, name = child.rpartition("/")
                children = self._dirs.setdefault(parent, set())
                if name in children:
                    break
                children.add(name)
                child = parent

    def read(self, rel: str) -> bytes:
        rel = _normal(rel)
        if rel not in self._objects:
            raise FileNotFoundError(rel)
        if rel not in self._contents:
            self._contents[rel] = self._fetch(rel)
        return self._contents[rel]

    def kind(self, rel: str) -> Kind | None:
        rel = _normal(rel)
        return "file" if rel in self._objects else "dir" if rel in self._dirs else None

    def names(self, rel: str) -> list[str]:
        return sorted(self._dirs.get(_normal(rel), ()))

    def is_link(self, rel: str) -> bool:
        parts = _normal(rel).split("/")
        return any("/".join(parts[:end]) in self._links for end in range(1, len(parts) + 1))


def _normal(rel: str) -> str:
    return rel.strip("/") if rel not in ("", ".") else ""
