"""The branch a lifecycle PR proposes: one commit on top of main that writes and deletes files.

Idempotent: when the branch already holds exactly these changes (the same bytes at every path it writes,
the same paths absent), nothing is pushed; otherwise it is rebuilt on the latest main and pushed with a
lease on what was seen."""

from __future__ import annotations

from collections.abc import Mapping

from gitops.errors import ExternalError, PolicyError
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout, NonFastForward

Changes = Mapping[str, bytes | None]  # path -> new bytes, or None to delete it


def _check_paths(changes: Changes) -> None:
    for path in changes:
        if not path or "\n" in path or path.startswith(("/", '"')) or ".." in path.split("/"):
            raise ExternalError(f"cannot commit {path!r}: not a plain repository path")


def _commit(checkout: ConfigCheckout, parent: str, changes: Changes, message: str, ref: str) -> str:
    """A commit on `parent` applying `changes` (git fast-import: no working tree, no index)."""
    stream = [
        b"reset %s\ncommit %s\nmark :1\n" % (ref.encode(), ref.encode()),
        b"author %s\ncommitter %s\n"
        % (plumbing._ident(checkout, "AUTHOR"), plumbing._ident(checkout, "COMMITTER")),
        b"data %d\n%s\n" % (len(message.encode()), message.encode()),
        b"from %s\n" % parent.encode(),
    ]
    for path, data in sorted(changes.items()):
        if data is None:
            stream.append(b"D %s\n" % path.encode())
        else:
            stream.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
    stream.append(b"\nget-mark :1\ndone\n")
    out = plumbing.git(
        checkout, "fast-import", "--quiet", "--force", "--done", input_bytes=b"".join(stream)
    ).out
    sha = out.strip().splitlines()[-1] if out.strip() else ""
    if len(sha) != 40:
        raise ExternalError(f"git fast-import did not report the new commit (got {out.strip()!r})")
    return sha


def _holds(checkout: ConfigCheckout, ref: str, changes: Changes) -> bool:
    """Does `ref` already hold exactly `changes` (main moving on elsewhere, e.g. its audit log, is fine)?"""
    return dict(plumbing.read_blobs(checkout, ref, list(changes))) == dict(changes)


def push_change(checkout: ConfigCheckout, branch: str, changes: Changes, message: str) -> tuple[str, bool]:
    """Make `branch` hold `changes` on top of main. Returns (head sha, pushed?)."""
    _check_paths(changes)
    main = checkout.branch
    for _attempt in range(5):
        checkout.fetch(f"+refs/heads/{main}:refs/remotes/origin/{main}")
        existing = checkout.remote_sha(branch)
        parent = checkout.repo.git.rev_parse(f"refs/remotes/origin/{main}")
        if existing:
            checkout.fetch(f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
            if _holds(checkout, existing, changes):
                return existing, False
        sha = _commit(checkout, parent, changes, message, f"refs/odoo-gitops/lifecycle/{branch}")
        try:
            checkout.push(sha, branch, force_with_lease=existing or "")
            return sha, True
        except NonFastForward:
            continue
    raise PolicyError(f"could not push {branch}: the remote branch keeps moving")
