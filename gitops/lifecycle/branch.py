"""The branch a lifecycle PR proposes: one commit on top of main that writes and deletes files.

Idempotent: when the branch already holds exactly these changes (the same bytes at every path it writes,
the same paths absent), nothing is pushed; otherwise it is rebuilt on the latest main and pushed with a
lease on what was seen."""

from __future__ import annotations

from collections.abc import Mapping

from gitops.errors import ExternalError, PolicyError
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout
from gitops.gitstore.commit_loop import Tip, commit, fetched_tip

Changes = Mapping[str, bytes | None]  # path -> new bytes, or None to delete it


def _check_paths(changes: Changes) -> None:
    for path in changes:
        if not path or "\n" in path or path.startswith(("/", '"')) or ".." in path.split("/"):
            raise ExternalError(f"cannot commit {path!r}: not a plain repository path")


def _holds(checkout: ConfigCheckout, ref: str, changes: Changes) -> bool:
    """Does `ref` already hold exactly `changes` (main moving on elsewhere, e.g. its audit log, is fine)?"""
    return dict(plumbing.read_blobs(checkout, ref, list(changes))) == dict(changes)


def push_change(checkout: ConfigCheckout, branch: str, changes: Changes, message: str) -> tuple[str, bool]:
    """Make `branch` hold `changes` on top of main. Returns (head sha, pushed?)."""
    _check_paths(changes)
    main = checkout.branch

    def on_main(_lease: str | None) -> str:
        return fetched_tip(checkout, main)

    def edit(tip: Tip) -> Changes | None:
        if tip.lease and _holds(checkout, tip.lease, changes):
            return None
        return changes

    done = commit(
        checkout,
        branch,
        edit,
        message=message,
        parent=on_main,
        ref=f"refs/odoo-gitops/lifecycle/{branch}",
        gave_up=lambda: PolicyError(f"could not push {branch}: the remote branch keeps moving"),
    )
    assert done.sha is not None  # built on main: the branch has a head
    return done.sha, done.pushed
