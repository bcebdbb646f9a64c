"""The addons layer as a deterministic tar: sorted entries, fixed mtime, uid/gid 0, normalised modes."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gitops.addons.links import UnsafeLink, classify_link
from gitops.errors import ConfigError, Problem

SKIPPED_NAMES = frozenset({"__pycache__", ".git", ".hg", ".svn", ".DS_Store"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")
GZIP_LEVEL = 6


@dataclass(frozen=True)
class Layer:
    """A gzip-compressed layer: `digest` addresses the blob, `diff_id` the uncompressed tar."""

    blob: bytes
    digest: str
    diff_id: str

    @property
    def size(self) -> int:
        return len(self.blob)


@dataclass(frozen=True)
class ExtraFile:
    """A generated file placed into the layer (e.g. the Odoo config)."""

    path: str
    content: bytes


def _skipped(name: str) -> bool:
    return name in SKIPPED_NAMES or name.endswith(SKIPPED_SUFFIXES)


def _walk(root: Path) -> Iterator[Path]:
    """Every path below `root` in sorted order, directories before their contents; links are not entered."""
    entries = sorted(os.scandir(root), key=lambda e: e.name)
    for entry in entries:
        if _skipped(entry.name):
            continue
        path = Path(entry.path)
        yield path
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path)


@dataclass(frozen=True)
class Entry:
    """One path of a module as shipped: a directory, a regular file (bytes read from `source`) or a link."""

    relpath: str  # posix, relative to the module directory; "" is the module directory itself
    kind: bytes
    mode: int
    source: Path | None = None
    linkname: str = ""


def _unsafe(path: Path, tree: Path, exc: UnsafeLink) -> ConfigError:
    where = os.path.relpath(path, tree.resolve())
    return ConfigError([Problem(Path(where).as_posix(), 0, str(exc))], hint="fix the symlinks listed above")


def _entry(path: Path, addon: Path, tree: Path) -> Entry | None:
    relpath = path.relative_to(addon).as_posix()
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        try:
            kind = classify_link(path, addon=addon, tree=tree)
        except UnsafeLink as exc:
            raise _unsafe(path, tree, exc) from None
        if kind == "link":
            return Entry(relpath, tarfile.SYMTYPE, 0o777, linkname=os.readlink(path))
        path = path.resolve(strict=True)  # a file elsewhere in the tree: shipped as a copy of its bytes
        st = path.stat()
    if stat.S_ISDIR(st.st_mode):
        return Entry(relpath, tarfile.DIRTYPE, 0o755)
    if stat.S_ISREG(st.st_mode):
        return Entry(relpath, tarfile.REGTYPE, 0o755 if st.st_mode & 0o111 else 0o644, source=path)
    return None


def module_entries(source: Path, *, tree: Path | None = None) -> Iterator[Entry]:
    """What the image holds for the addon at `source`, in tar order (see `gitops.addons.links`).

    A symlinked addon directory ships as a directory. Links inside it never lead out of `tree` (the addons
    directory; default: the addon itself): `ConfigError` naming the link relative to `tree` otherwise.
    """
    addon = source.resolve()
    top = tree if tree is not None else addon
    if not addon.is_relative_to(top.resolve()):
        raise _unsafe(source, top, UnsafeLink("symlinked addon directory leads out of the addons tree"))
    yield Entry("", tarfile.DIRTYPE, 0o755)
    for path in _walk(addon):
        entry = _entry(path, addon, top)
        if entry is not None:
            yield entry


def _info(name: str, *, kind: bytes, mode: int, mtime: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.size = kind, mode, mtime, size
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_entry(tar: tarfile.TarFile, entry: Entry, arcname: str, mtime: int) -> None:
    if entry.source is None:
        info = _info(arcname, kind=entry.kind, mode=entry.mode, mtime=mtime)
        info.linkname = entry.linkname
        tar.addfile(info)
        return
    with entry.source.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        tar.addfile(_info(arcname, kind=entry.kind, mode=entry.mode, mtime=mtime, size=size), handle)


def _parents(target: PurePosixPath) -> list[str]:
    return [str(p) for p in reversed(target.parents) if str(p) not in (".", "/")] + [str(target)]


def build_layer(
    *,
    modules: Sequence[tuple[str, Path]],
    target_dir: str,
    extra_files: Sequence[ExtraFile],
    mtime: int,
    tree: Path | None = None,
) -> Layer:
    """Tar `modules` (name, source dir) under `target_dir` plus `extra_files`; gzip without a timestamp.

    `tree` is the addons directory the modules come from: symlinks are confined to it (`module_entries`).
    """
    raw = io.BytesIO()
    target = PurePosixPath(target_dir.strip("/"))
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for directory in _parents(target):
            tar.addfile(_info(directory, kind=tarfile.DIRTYPE, mode=0o755, mtime=mtime))
        for name, source in sorted(modules):
            for entry in module_entries(source, tree=tree):
                _add_entry(tar, entry, str(target / name / entry.relpath).rstrip("/"), mtime)
        for extra in sorted(extra_files, key=lambda f: f.path):
            info = _info(
                extra.path.strip("/"), kind=tarfile.REGTYPE, mode=0o644, mtime=mtime, size=len(extra.content)
            )
            tar.addfile(info, io.BytesIO(extra.content))
    data = raw.getvalue()
    blob = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    return Layer(
        blob=blob,
        digest="sha256:" + hashlib.sha256(blob).hexdigest(),
        diff_id="sha256:" + hashlib.sha256(data).hexdigest(),
    )


def compress_layer(data: bytes) -> Layer:
    """Gzip an uncompressed layer tar deterministically (engine builds exported with `docker save`)."""
    blob = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    return Layer(
        blob=blob,
        digest="sha256:" + hashlib.sha256(blob).hexdigest(),
        diff_id="sha256:" + hashlib.sha256(data).hexdigest(),
    )
