"""Where an addon's files are read from: a directory on disk, or blobs of a git commit held in memory.

The parsers (manifests, models, migration scripts, data files) and the checksums read an addon through
`AddonFiles`: a listing of one directory (files, then sub-directories with a flag for symbolic links, both
sorted, classified the way `os.walk` does), the bytes of one file, whether a path is a file, and the text
that names a file in messages. `DirFiles` reads a directory; `gitops.addons.blobtree` serves the same four
calls from git objects, so both give the same evidence.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

Listing = tuple[list[str], list[tuple[str, bool]]]
"""Sorted file names, and sorted (sub-directory name, is a symbolic link) of one directory."""


class AddonFiles(Protocol):
    def listing(self, reldir: str) -> Listing | None:
        """The entries of `reldir` ("" is the addon itself); None when it is not a readable directory."""

    def read(self, relpath: str) -> bytes:
        """The bytes of `relpath`; OSError when it cannot be read."""

    def is_file(self, relpath: str) -> bool:
        """True when `relpath` is a regular file (through symbolic links, like `os.path.isfile`)."""

    def display(self, relpath: str) -> str:
        """How messages name `relpath` ("" names the addon)."""


def scan_listing(directory: str) -> Listing | None:
    """Sorted file names and (dir name, is symlink) of a directory, classified like `os.walk` does."""
    try:
        with os.scandir(directory) as scan:
            found = list(scan)
    except OSError:
        return None  # os.walk(onerror=None) silently skips unreadable directories
    files: list[str] = []
    dirs: list[tuple[str, bool]] = []
    for entry in found:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            dirs.append((entry.name, entry.is_symlink()))
        else:
            files.append(entry.name)
    files.sort()
    dirs.sort()
    return files, dirs


@dataclass(frozen=True)
class DirFiles:
    """An addon directory on disk."""

    top: Path

    def listing(self, reldir: str) -> Listing | None:
        return scan_listing(f"{os.fspath(self.top)}/{reldir}" if reldir else os.fspath(self.top))

    def read(self, relpath: str) -> bytes:
        return (self.top / relpath).read_bytes()

    def is_file(self, relpath: str) -> bool:
        return os.path.isfile(os.path.join(os.fspath(self.top), relpath))

    def display(self, relpath: str) -> str:
        return str(self.top / relpath) if relpath else str(self.top)


def walk_files(files: AddonFiles, *, skip_dir: frozenset[str] = frozenset()) -> Iterator[str]:
    """Relative paths of every file, in `os.walk` order (a directory's files, then its sub-directories),
    without entering symbolic links to directories, hidden directories or those named in `skip_dir`."""

    def visit(reldir: str) -> Iterator[str]:
        listing = files.listing(reldir)
        if listing is None:
            return
        names, dirs = listing
        prefix = f"{reldir}/" if reldir else ""
        yield from (prefix + name for name in names)
        for name, is_link in dirs:
            if not is_link and name not in skip_dir and not name.startswith("."):
                yield from visit(prefix + name)

    return visit("")
