"""Commits without a working tree: read blobs and write files onto a ref with git plumbing.

Every config-repo write goes through here: the promotion branch (hundreds of tenant files in one commit),
the local forge's PR store and audit entries appended to main. Reading any number of files is one
`git ls-tree` and one `git cat-file --batch`; writing is one `git fast-import`, which streams the blobs
straight into a pack (no working tree, no index, no loose objects) and makes the push that follows cheap.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import posixpath
import secrets
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol

from gitops import proc
from gitops.errors import ExternalError
from gitops.gitstore.checkout import ConfigCheckout

SCRATCH_REF = "refs/odoo-gitops/commit"


class GitDir(Protocol):
    """What the plumbing needs of a repository: where it is and how long a git call may take
    (a ConfigCheckout, or a `Repository` for a repository this toolkit only reads)."""

    @property
    def root(self) -> Path: ...
    @property
    def timeout(self) -> float: ...


@dataclass(frozen=True)
class Repository:
    """A local repository read with plumbing only (e.g. the addons repository of `promote --addons-repo`)."""

    root: Path
    timeout: float = 300.0


def git(
    checkout: GitDir,
    *args: str,
    input_bytes: bytes | None = None,
    env: Mapping[str, str] | None = None,
    stdout_fd: int | None = None,
) -> proc.Completed:
    return proc.run(
        ["git", *args],
        cwd=checkout.root,
        env={**proc.no_git_env(), **(env or {})},  # after no_git_env: it drops GIT_INDEX_FILE
        input_bytes=input_bytes,
        timeout=checkout.timeout,
        what=f"git {args[0]}",
        stdout_fd=stdout_fd,
    )


class TreeColumns(NamedTuple):
    """`git ls-tree -r -t` as two parallel lists: "<mode> <type> <object id>" and path of each entry."""

    metas: list[str]
    paths: list[str]
    links: bool = True
    """False when no entry can be a symbolic link (no "120000 blob " anywhere in the listing)."""


def tree_columns(checkout: GitDir, ref: str) -> TreeColumns:
    """Every entry of `ref`'s tree, sub-trees listed before their contents (`ls-tree -r -t`), as columns:
    tens of thousands of entries split in C, with no object per entry. The listing (megabytes) is decoded
    a slice of whole entries at a time, so that the text of only one slice is held at once. (`ls-tree
    --format` could put a NUL between meta and path, but it quotes unusual paths even with -z.)"""
    metas: list[str] = []
    paths: list[str] = []
    with (
        _output(checkout, "ls-tree", "-r", "-t", "-z", "--full-tree", "--end-of-options", ref) as listing,
        memoryview(listing) as view,
    ):
        links = listing.find(b"120000 blob ") >= 0
        start = 0
        while start < len(view):
            end = listing.find(b"\0", start + _SLICE) + 1 or len(view)  # the listing ends with a NUL
            # NUL is never part of a UTF-8 sequence: decoding a slice of whole entries decodes each path
            _split_entries(str(view[start:end], "utf-8", "surrogateescape"), metas, paths)
            start = end
    return TreeColumns(metas, paths, links)


_SLICE = 1 << 18


def _split_entries(text: str, metas: list[str], paths: list[str]) -> None:
    """Add the "<meta>\t<path>\0" entries of `text` to the columns."""
    tabs = text.count("\t")
    split = text.replace("\t", "\0").split("\0")
    if len(split) == 2 * tabs + 1:  # as many tabs as NULs: no tab in any path, one split at both
        metas += split[0:-1:2]
        paths += split[1::2]
        return
    for entry in text.split("\0")[:-1]:
        meta, _, path = entry.partition("\t")
        metas.append(meta)
        paths.append(path)


@contextlib.contextmanager
def _output(
    checkout: GitDir, *args: str, input_bytes: bytes | None = None, env: Mapping[str, str] | None = None
) -> Iterator[bytes | mmap.mmap]:
    """What `git args` writes, read once git is done: git writes into a file held in memory (no pipe waking
    this process for every few kilobytes), which is mapped rather than copied (a listing is megabytes)."""
    with _memory_file() as fd:
        git(checkout, *args, input_bytes=input_bytes, env=env, stdout_fd=fd)
        size = os.fstat(fd).st_size
        if not size:  # an empty file cannot be mapped
            yield b""
            return
        with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as mapped:
            yield mapped


@contextlib.contextmanager
def _memory_file() -> Iterator[int]:
    """An anonymous file in memory (Linux), else (no `memfd_create`, or refused) a temporary file; closed
    when done."""
    try:
        fd = os.memfd_create("git-output", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        with tempfile.TemporaryFile() as file:
            yield file.fileno()
        return
    try:
        yield fd
    finally:
        os.close(fd)


def _meta(mode: str, oid: str) -> str | None:
    """An entry's "<mode> <type> <object id>" as ls-tree prints it; None for diff-tree's absent side."""
    if mode == "000000":
        return None
    return f"{mode} {'tree' if mode == '040000' else 'commit' if mode == '160000' else 'blob'} {oid}"


def tree_changes(checkout: GitDir, old: str, new: str) -> list[tuple[str | None, str | None, str]]:
    """(meta before, meta after, path) of every entry that differs between the trees of two commits,
    sub-trees included, in git's order: one `diff-tree -r -t`, which skips the sub-trees both share."""
    args = ("-r", "-t", "-z", "--no-renames", "--ignore-submodules=none", "--end-of-options", old, new)
    # diff-tree reads the repository's index first (megabytes in a checkout of a large addons repository),
    # which a raw diff of two trees never uses: an index file that does not exist is read as an empty one.
    # Its directory does not exist either (a random name): nothing is created, nothing can be there.
    nowhere = os.path.join(checkout.root, f"odoo-gitops-no-index-{secrets.token_hex(8)}", "index")
    with _output(checkout, "diff-tree", *args, env={"GIT_INDEX_FILE": nowhere}) as out:
        split = str(out, "utf-8", "surrogateescape").split("\0")
    changes: list[tuple[str | None, str | None, str]] = []
    for record, path in zip(split[0:-1:2], split[1::2], strict=True):
        old_mode, new_mode, old_oid, new_oid, _status = record.lstrip(":").split(" ")
        changes.append((_meta(old_mode, old_oid), _meta(new_mode, new_oid), path))
    return changes


def blob_ids(checkout: GitDir, ref: str, *scopes: str, links: set[str] | None = None) -> dict[str, bytes]:
    """Path -> object id of every file at `ref` (under `scopes`, when given): one `ls-tree`. Symbolic
    links (mode 120000) are also added to `links`, when given."""
    listing = git(checkout, "ls-tree", "-r", "-z", "--full-tree", ref, "--", *scopes).stdout
    ids: dict[str, bytes] = {}
    for entry in listing.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        fields = meta.split()  # mode, type, object id
        if len(fields) == 3 and fields[1] == b"blob":
            ids[name.decode("utf-8", "surrogateescape")] = fields[2]
            if links is not None and fields[0] == b"120000":
                links.add(name.decode("utf-8", "surrogateescape"))
    return ids


def cat_blobs(checkout: GitDir, ids: list[bytes]) -> list[bytes]:
    """Contents of the blobs `ids`, in order: one `cat-file --batch`."""
    if not ids:
        return []
    with _output(checkout, "cat-file", "--batch", input_bytes=b"".join(i + b"\n" for i in ids)) as out:
        contents: list[bytes] = []
        pos = 0
        for _ in ids:
            end = out.find(b"\n", pos)
            if end < 0:
                raise ExternalError(f"git cat-file ended early: {len(contents)} of {len(ids)} objects read")
            size = int(out[pos:end].split()[2])  # "<id> missing": no size, IndexError
            contents.append(out[end + 1 : end + 1 + size])
            pos = end + 1 + size + 1  # the content is followed by a newline
    return contents


def read_blobs(checkout: ConfigCheckout, ref: str, paths: Iterable[str]) -> dict[str, bytes | None]:
    """Bytes of each of `paths` at `ref` exactly as stored (None where it does not exist).

    One `ls-tree` of the directories involved, then one `cat-file --batch` by object id: ~10x faster than
    asking cat-file for `ref:path` names, which walks the tree again for every file."""
    wanted = list(paths)
    if any("\n" in p or "\0" in p for p in wanted):
        raise ExternalError(f"cannot read {ref}: a path contains a newline")
    ids = blob_ids(checkout, ref, *sorted({posixpath.dirname(p) + "/" if "/" in p else p for p in wanted}))
    present = [p for p in wanted if p in ids]
    blobs: dict[str, bytes | None] = dict.fromkeys(wanted)
    blobs.update(zip(present, cat_blobs(checkout, [ids[p] for p in present]), strict=True))
    return blobs


def read_blob(checkout: ConfigCheckout, ref: str, path: str) -> bytes | None:
    """Bytes of `path` at `ref` exactly as stored, or None when it does not exist there."""
    try:
        return read_blobs(checkout, ref, [path])[path]
    except ExternalError:
        return None


def _ident(checkout: ConfigCheckout, role: str) -> bytes:
    """`Name <email> epoch tz` as `git commit` would write it now: name and e-mail from git config or
    GIT_{role}_NAME/EMAIL (asked once per checkout and identity), the current time."""
    key = role + "".join("\0" + os.environ.get(f"GIT_{role}_{part}", "") for part in ("NAME", "EMAIL"))
    if key not in checkout.idents:
        checkout.idents[key] = git(checkout, "var", f"GIT_{role}_IDENT").stdout.strip()
    who, _, zone = checkout.idents[key].rpartition(b" ")
    return b"%s %d %s" % (who.rpartition(b" ")[0], int(time.time()), zone)


def warm_idents(checkout: ConfigCheckout) -> None:
    """Ask git for the author and committer identities now (on a worker thread while the config loads),
    so the first commit does not wait for two `git var`; a failure is left for that commit to report."""
    for role in ("AUTHOR", "COMMITTER"):
        try:
            _ident(checkout, role)
        except ExternalError:
            return


def _data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def _file_command(path: str, data: bytes | None) -> bytes:
    if data is None:
        return b"D %s\n" % path.encode()
    return b"M 100644 inline %s\n%s" % (path.encode(), _data(data))


def commit_files(
    checkout: ConfigCheckout,
    parent: str | None,
    files: Mapping[str, bytes | None],
    message: str,
    *,
    ref: str = SCRATCH_REF,
) -> str:
    """A commit on top of `parent` (None: a root commit) that writes `files` (None: deletes that path);
    returns its SHA.

    The commit is stored under `ref` in the local repository (overwritten; the working tree and index are
    not touched), ready to push."""
    for path in files:
        if not path or "\n" in path or path.startswith(("/", '"')):
            raise ExternalError(f"cannot commit {path!r}: not a plain repository path")
    stream = [
        b"reset %s\ncommit %s\nmark :1\n" % (ref.encode(), ref.encode()),
        b"author %s\ncommitter %s\n" % (_ident(checkout, "AUTHOR"), _ident(checkout, "COMMITTER")),
        _data(message.encode()),
        b"from %s\n" % parent.encode() if parent else b"",
        *(_file_command(path, data) for path, data in sorted(files.items())),
        b"\nget-mark :1\ndone\n",
    ]
    out = git(checkout, "fast-import", "--quiet", "--force", "--done", input_bytes=b"".join(stream)).out
    sha = out.strip().splitlines()[-1] if out.strip() else ""
    if len(sha) != 40:
        raise ExternalError(f"git fast-import did not report the new commit (got {out.strip()!r})")
    return sha


def merge_bases(checkout: ConfigCheckout, one: str, other: str) -> list[str]:
    """Every best common ancestor of `one` and `other` (`git merge-base --all`). More than one is a
    criss-cross history: `git merge` then merges the bases into a virtual one, so a diff against any single
    base is not what the merge applies."""
    out = git(checkout, "merge-base", "--all", one, other).stdout.decode()
    return [line.strip() for line in out.splitlines() if line.strip()]


def criss_cross_problem(bases: list[str], head: str) -> str | None:
    """The gate's refusal of a head whose history has several merge bases with main, or None."""
    if len(bases) <= 1:
        return None
    return (
        f"the head {head[:12]} has {len(bases)} merge bases with main (a criss-cross history): what a merge "
        "would apply is not what the gate can check; rebase the branch onto main"
    )
