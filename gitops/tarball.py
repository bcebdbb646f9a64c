"""Extract a tar archive the way tarfile's "data" filter does, on every supported Python.

`TarFile.extractall(filter="data")` exists only from Python 3.11.4; Debian 12 ships 3.11.2. Every member is
checked before anything is written (so a refused archive leaves nothing half-extracted), with the rules of
the "data" filter: no absolute names, nothing resolving outside the destination (`..`, or through a link
extracted earlier), no absolute links or links pointing outside, no devices or FIFOs; set-uid/set-gid/sticky
bits and write bits for group and others are dropped, ownership is not restored. Where the stdlib has the
filter it is applied as well, as a second line of defence.
"""

from __future__ import annotations

import copy
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from gitops.errors import UsageError

HAS_DATA_FILTER = hasattr(tarfile, "data_filter")


class UnsafeArchiveError(UsageError):
    """An archive member would write outside the destination or is not plain data (invalid input: exit 2)."""

    kind = "unsafe-archive"


def _inside(root: str, path: str) -> bool:
    return os.path.commonpath([root, path]) == root


def _check(member: tarfile.TarInfo, root: str, what: str) -> None:
    """Raise when `member` is something the "data" filter refuses."""
    name = member.name
    where = f"{what}: member {name!r}"
    if name.startswith(("/", os.sep)) or os.path.isabs(name):
        raise UnsafeArchiveError(f"{where} has an absolute path; refusing to extract")
    target = os.path.realpath(os.path.join(root, name))
    if not _inside(root, target):
        raise UnsafeArchiveError(f"{where} would be written outside the destination; refusing to extract")
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise UnsafeArchiveError(f"{where} is a device, FIFO or other special file; refusing to extract")
    if member.issym() or member.islnk():
        link = member.linkname
        if os.path.isabs(link):
            raise UnsafeArchiveError(f"{where} is a link to an absolute path ({link}); refusing to extract")
        base = os.path.join(root, os.path.dirname(name)) if member.issym() else root
        if not _inside(root, os.path.realpath(os.path.join(base, link))):
            raise UnsafeArchiveError(f"{where} links outside the destination ({link}); refusing to extract")


def _sanitised(member: tarfile.TarInfo) -> tarfile.TarInfo:
    """A copy with the "data" filter's mode and ownership rules applied."""
    clean = copy.copy(member)
    if member.isreg() or member.islnk():
        mode = member.mode & 0o755
        if not mode & 0o100:
            mode &= ~0o111
        clean.mode = mode | 0o600
    elif member.isdir():
        clean.mode = 0o755
    clean.uid, clean.gid = os.getuid(), os.getgid()
    clean.uname = clean.gname = ""
    return clean


def _climbs(name: str) -> bool:
    return ".." in name.replace(os.sep, "/").split("/")


def _check_all(members: list[tarfile.TarInfo], root: str, what: str) -> None:
    for member in members:
        # A link extracted earlier can make a `..` resolve elsewhere than it does now: refuse `..` outright.
        if _climbs(member.name):
            raise UnsafeArchiveError(
                f"{what}: member {member.name!r} climbs out with '..'; refusing to extract"
            )
        _check(member, root, what)


def _extract_members(archive: tarfile.TarFile, root: str, what: str, use_stdlib_filter: bool) -> None:
    for member in archive.getmembers():
        _check(member, root, what)  # again, now that the members before it (links) exist on disk
        clean = _sanitised(member)
        try:
            if use_stdlib_filter:
                archive.extract(clean, root, set_attrs=not clean.issym(), filter="data")
            else:
                archive.extract(clean, root, set_attrs=not clean.issym())
        except tarfile.TarError as exc:
            raise UnsafeArchiveError(f"{what}: member {member.name!r}: {exc}; refusing to extract") from exc


def extract(data: bytes, dest: Path, *, what: str, use_stdlib_filter: bool = HAS_DATA_FILTER) -> Path:
    """Extract the tar archive `data` into the new directory `dest` as plain data, or raise and leave nothing.

    `what` names the archive in error messages. The members land in a temporary sibling of `dest` that is
    renamed to `dest` only when every member was extracted.
    """
    if dest.exists():
        raise FileExistsError(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        root = os.path.realpath(partial)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            _check_all(archive.getmembers(), root, what)
            _extract_members(archive, root, what, use_stdlib_filter)
        partial.rename(dest)
    except tarfile.TarError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise UnsafeArchiveError(f"{what}: not a readable tar archive ({exc})") from exc
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return dest
