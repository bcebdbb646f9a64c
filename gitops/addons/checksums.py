"""Addon checksums, byte-for-byte the same as click-odoo-update's `addon_hash`.

click-odoo-contrib (`_addon_hash.py`) walks the addon with `os.walk` (sub-directories sorted, symlinked
directories not entered), skips files whose relative path matches an exclude pattern (fnmatch: `*` crosses
`/`), keeps only the `.po` files of the active languages in `i18n/` and `i18n_extra/` (when languages are
given), and feeds SHA-1 the relative path then the bytes of every kept file. The stored value in
`module_auto_update.installed_checksums` is that hex digest.

This module produces the same digest faster: one `os.scandir` per directory, the exclude patterns compiled
into one regular expression, directories whose every file would be excluded are not walked at all, and files
are read straight into one reusable buffer that is hashed a few MiB at a time. The walk order is exactly
`os.walk`'s: a directory's files (sorted) before its sub-directories (sorted).
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitops.addons.discovery import Addon, AddonSet
from gitops.addons.files import AddonFiles, Listing, scan_listing
from gitops.errors import ExternalError

DEFAULT_EXCLUDES: tuple[str, ...] = (
    "*.pyc",
    "*.pyo",
    "i18n/*.pot",
    "i18n_extra/*.pot",
    "static/*",
    "tests/*",
)
"""click-odoo-update's default `module_auto_update.exclude_patterns`."""

_BUFFER_SIZE = 1 << 22
_LANG_DIRS = frozenset({"i18n", "i18n_extra"})
_WILDCARDS = frozenset("*?[")


@dataclass(frozen=True, kw_only=True)
class ModuleFacts:
    """What a release records per addon: manifest version, checksum and where the addon lives."""

    name: str
    version: str
    checksum: str
    path: Path

    def to_dict(self) -> dict[str, str]:
        return {"version": self.version, "checksum": self.checksum, "path": str(self.path)}


def parse_exclude_patterns(text: str) -> tuple[str, ...]:
    """Split a comma-separated pattern list the way click-odoo-update reads its config parameter."""
    return tuple(p.strip() for p in text.split(","))


@dataclass(frozen=True)
class _Matcher:
    """Exclude patterns compiled once: one regex for files, literal prefixes for pruning directories."""

    regex: re.Pattern[str] | None
    prune_prefixes: tuple[str, ...]

    @classmethod
    def build(cls, patterns: Iterable[str]) -> _Matcher:
        patterns = tuple(patterns)
        if not patterns:
            return cls(None, ())
        regex = re.compile("|".join(f"(?:{fnmatch.translate(os.path.normcase(p))})" for p in patterns))
        return cls(regex, tuple(prefix for p in patterns if (prefix := _star_prefix(p)) is not None))

    def excludes(self, relpath: str) -> bool:
        return self.regex is not None and self.regex.match(os.path.normcase(relpath)) is not None

    def prunes(self, reldir_slash: str) -> bool:
        """True when every file below `reldir_slash` (ends with '/') matches a pattern anyway."""
        return any(reldir_slash.startswith(prefix) for prefix in self.prune_prefixes)


@functools.lru_cache(maxsize=32)
def _matcher(patterns: tuple[str, ...]) -> _Matcher:
    return _Matcher.build(patterns)


def _star_prefix(pattern: str) -> str | None:
    """`L` for a pattern `L*` (L without wildcards, any number of trailing stars): it matches all of `L…`."""
    literal = pattern.rstrip("*")
    if literal == pattern or _WILDCARDS & set(literal):
        return None
    return os.path.normcase(literal)


def _lang_filter(keep_langs: Iterable[str]) -> frozenset[str]:
    return frozenset(lang.split("_")[0] for lang in keep_langs)


def _kept_translation(filename: str, langs: frozenset[str]) -> bool:
    basename, ext = os.path.splitext(filename)
    return ext != ".po" or basename.split("_")[0] in langs


def hashed_files(
    listing_of: Callable[[str], Listing | None], matcher: _Matcher, langs: frozenset[str]
) -> list[str]:
    """Relative paths `addon_hash` feeds to SHA-1, in its order (os.walk: files, then sub-directories)."""
    found: list[str] = []

    def visit(reldir: str) -> None:
        listing = listing_of(reldir)
        if listing is None:
            return
        files, dirs = listing
        prefix = f"{reldir}/" if reldir else ""
        check_langs = bool(langs) and reldir in _LANG_DIRS
        for filename in files:
            relpath = prefix + filename
            if matcher.excludes(relpath) or (check_langs and not _kept_translation(filename, langs)):
                continue
            found.append(relpath)
        for dirname, is_symlink in dirs:
            child = prefix + dirname
            if not is_symlink and not matcher.prunes(child + "/"):
                visit(child)

    visit("")
    return found


class _Feeder:
    """Feeds SHA-1 through one reusable buffer: file bytes are read straight into it (`os.readv`), and the
    digest is updated once per few MiB instead of twice per file. SHA-1 over the concatenation equals SHA-1
    over the pieces, so the result is unchanged."""

    def __init__(self, size: int = _BUFFER_SIZE) -> None:
        self.buffer = bytearray(size)
        self.view = memoryview(self.buffer)
        self.size = size

    def checksum(self, top: str, relpaths: Iterable[str]) -> str:
        digest = hashlib.sha1()
        view, size, pos = self.view, self.size, 0
        for relpath in relpaths:
            name = relpath.encode("utf-8")
            if pos + len(name) > size:
                digest.update(view[:pos])
                pos = 0
            view[pos : pos + len(name)] = name
            pos += len(name)
            fd = os.open(f"{top}/{relpath}", os.O_RDONLY)
            try:
                while True:
                    if pos == size:
                        digest.update(view)
                        pos = 0
                    count = os.readv(fd, [view[pos:]])
                    if not count:
                        break
                    pos += count
            finally:
                os.close(fd)
        digest.update(view[:pos])
        return digest.hexdigest()


_per_thread = threading.local()


def _feeder() -> _Feeder:
    """One buffer per thread, reused across calls."""
    feeder: _Feeder | None = getattr(_per_thread, "feeder", None)
    if feeder is None:
        feeder = _per_thread.feeder = _Feeder()
    return feeder


def addon_checksum(
    path: Path | str, exclude_patterns: Sequence[str] = DEFAULT_EXCLUDES, keep_langs: Iterable[str] = ()
) -> str:
    """SHA-1 hex digest of an addon directory, identical to click-odoo-contrib's `addon_hash`.

    `keep_langs` are the database's active language codes (e.g. `en_US`); when given, only the `.po` files
    of those languages in `i18n/` and `i18n_extra/` count. Empty means every `.po` file counts
    (click-odoo-update's behaviour when no language is active).
    """
    return _checksum(os.fspath(path), _matcher(tuple(exclude_patterns)), _lang_filter(keep_langs), _feeder())


def _checksum(top: str, matcher: _Matcher, langs: frozenset[str], feeder: _Feeder) -> str:
    relpaths = hashed_files(lambda rel: scan_listing(f"{top}/{rel}" if rel else top), matcher, langs)
    try:
        return feeder.checksum(top, relpaths)
    except UnicodeEncodeError:
        raise ExternalError(
            f"{top}: a file name is not valid UTF-8; click-odoo-update cannot hash it either"
        ) from None
    except OSError as exc:
        raise ExternalError(
            f"{top}: cannot read {exc.filename or top} while hashing: {exc.strerror}"
        ) from None


def files_checksum(files: AddonFiles, matcher: _Matcher, langs: frozenset[str]) -> str:
    """The same digest over files read through `files` (blobs of a git commit, in memory)."""
    digest, held = hashlib.sha1(), 0
    pieces: list[bytes] = []
    try:
        for relpath in hashed_files(files.listing, matcher, langs):
            name, data = relpath.encode("utf-8"), files.read(relpath)
            pieces += (name, data)
            held += len(name) + len(data)
            if held >= _BUFFER_SIZE:  # SHA-1 over the concatenation, a few MiB per call (GIL released)
                digest.update(b"".join(pieces))
                pieces, held = [], 0
    except UnicodeEncodeError:
        raise ExternalError(
            f"{files.display('')}: a file name is not valid UTF-8; click-odoo-update cannot hash it either"
        ) from None
    except OSError as exc:
        raise ExternalError(
            f"{files.display('')}: cannot read {exc.filename or '?'} while hashing: {exc.strerror}"
        ) from None
    digest.update(b"".join(pieces))
    return digest.hexdigest()


def _addon_checksum(addon: Addon, matcher: _Matcher, langs: frozenset[str]) -> str:
    if addon.reader is not None:
        return files_checksum(addon.reader, matcher, langs)
    return _checksum(os.fspath(addon.path), matcher, langs, _feeder())  # its buffer: for files on disk only


def compute_checksums(
    addons: AddonSet | Mapping[str, Addon] | Iterable[Addon],
    *,
    exclude_patterns: Sequence[str] = DEFAULT_EXCLUDES,
    keep_langs: Iterable[str] = (),
) -> dict[str, ModuleFacts]:
    """Checksum, version and path of every addon, keyed and sorted by addon name."""
    items: Iterable[Addon] = (
        addons.addons.values()
        if isinstance(addons, AddonSet)
        else (addons.values() if isinstance(addons, Mapping) else addons)
    )
    matcher = _matcher(tuple(exclude_patterns))
    langs = _lang_filter(keep_langs)
    facts = {
        addon.name: ModuleFacts(
            name=addon.name,
            version=addon.version,
            checksum=_addon_checksum(addon, matcher, langs),
            path=addon.path,
        )
        for addon in items
    }
    return dict(sorted(facts.items()))
