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
    """Every path below `root` in sorted order, directories before their contents."""
    entries = sorted(os.scandir(root), key=lambda e: e.name)
    for entry in entries:
        if _skipped(entry.name):
            continue
        path = Path(entry.path)
        yield path
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path)


def _info(name: str, *, kind: bytes, mode: int, mtime: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.size = kind, mode, mtime, size
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_path(tar: tarfile.TarFile, path: Path, arcname: str, mtime: int) -> None:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        info = _info(arcname, kind=tarfile.SYMTYPE, mode=0o777, mtime=mtime)
        info.linkname = os.readlink(path)
        tar.addfile(info)
    elif stat.S_ISDIR(st.st_mode):
        tar.addfile(_info(arcname, kind=tarfile.DIRTYPE, mode=0o755, mtime=mtime))
    elif stat.S_ISREG(st.st_mode):
        mode = 0o755 if st.st_mode & 0o111 else 0o644
        with path.open("rb") as handle:
            tar.addfile(_info(arcname, kind=tarfile.REGTYPE, mode=mode, mtime=mtime, size=st.st_size), handle)


def _parents(target: PurePosixPath) -> list[str]:
    return [str(p) for p in reversed(target.parents) if str(p) not in (".", "/")] + [str(target)]


def build_layer(
    *, modules: Sequence[tuple[str, Path]], target_dir: str, extra_files: Sequence[ExtraFile], mtime: int
) -> Layer:
    """Tar `modules` (name, source dir) under `target_dir` plus `extra_files`; gzip without a timestamp."""
    raw = io.BytesIO()
    target = PurePosixPath(target_dir.strip("/"))
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for directory in _parents(target):
            tar.addfile(_info(directory, kind=tarfile.DIRTYPE, mode=0o755, mtime=mtime))
        for name, source in sorted(modules):
            _add_path(tar, source, str(target / name), mtime)
            for path in _walk(source):
                _add_path(tar, path, str(target / name / path.relative_to(source).as_posix()), mtime)
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
