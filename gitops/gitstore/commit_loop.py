"""The one way the toolkit writes a branch of the config repository: read the branch's tip on the remote
(the lease), build a commit on it, push with `--force-with-lease=<tip>` and, when another writer moved the
branch in between (NonFastForward), read the new tip and build again.

- `push_with_lease` is the loop itself, around any `build(lease) -> sha` (a plumbing commit, a merge);
- `commit` is the loop around a file edit: `edit` sees the files at the tip and returns what to change,
  the commit is written with plumbing (no working tree, no index).

A refusal (a protected branch, a hook: ProtectedBranch; refused credentials: AccessDenied) is never
retried. An edit that changes nothing makes no commit and pushes nothing, so a re-run is idempotent; a run
that died after writing its commit object but before the push left only an unreferenced object (and a
scratch ref) behind, which the next run overwrites.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gitops.errors import ExternalError, GitopsError
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout, NonFastForward

Changes = Mapping[str, bytes | None]  # path -> new bytes, or None to delete it
ATTEMPTS = 5
BACKOFF = 0.05  # seconds before the 2nd attempt, doubled for each one after it (plus jitter)


@dataclass(frozen=True)
class Committed:
    """The branch's head after a write (None: the branch does not exist) and whether we pushed it."""

    sha: str | None
    pushed: bool


@dataclass(frozen=True)
class Tip:
    """What an edit builds on: the branch's remote tip when read (`lease`, None when the branch does not
    exist yet) and the commit the change goes on top of (`parent`, the lease unless the caller chose)."""

    checkout: ConfigCheckout
    branch: str
    lease: str | None
    parent: str | None

    def read(self, paths: Iterable[str], *, at: str | None = None) -> dict[str, bytes | None]:
        """Bytes of `paths` at `at` (default: the parent); None where a file does not exist."""
        ref = at or self.parent
        wanted = list(paths)
        return plumbing.read_blobs(self.checkout, ref, wanted) if ref else dict.fromkeys(wanted)

    def files_under(self, folder: str) -> dict[str, bytes]:
        """Every file under `folder/` at the parent (none when there is no parent)."""
        if not self.parent:
            return {}
        ids = plumbing.blob_ids(self.checkout, self.parent, folder.rstrip("/") + "/")
        return dict(zip(ids, plumbing.cat_blobs(self.checkout, list(ids.values())), strict=True))


def remote_tip(checkout: ConfigCheckout, branch: str, *, depth: int | None = None) -> str | None:
    """`branch`'s commit on the remote now, fetched into refs/remotes/origin/<branch> (None: absent)."""
    sha = checkout.remote_sha(branch)
    if sha:
        checkout.fetch(f"+refs/heads/{branch}:refs/remotes/origin/{branch}", depth=depth)
    return sha


def fetched_tip(checkout: ConfigCheckout, branch: str, *, fetch: bool = True) -> str:
    """The tip of a branch that always exists (main): one fetch, then its remote-tracking ref."""
    if fetch:
        checkout.fetch(f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
    return plumbing.git(checkout, "rev-parse", f"refs/remotes/origin/{branch}").out.strip()


def _gave_up(branch: str, attempts: int) -> GitopsError:
    return ExternalError(f"could not push {branch} after {attempts} attempts: the branch keeps moving")


def _push(
    checkout: ConfigCheckout,
    sha: str,
    branch: str,
    lease: str | None,
    meanwhile: Callable[[str], object] | None,
) -> None:
    if meanwhile is None:
        checkout.push(sha, branch, force_with_lease=lease or "")
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoo-gitops-push") as pool:
        pushing = pool.submit(checkout.push, sha, branch, force_with_lease=lease or "")
        try:
            meanwhile(sha)
        finally:
            pushing.result()  # the push's outcome (NonFastForward: built again) before meanwhile's error


def push_with_lease(
    checkout: ConfigCheckout,
    branch: str,
    build: Callable[[str | None], str | None],
    *,
    tip: Callable[[int], str | None] | None = None,
    attempts: int = ATTEMPTS,
    backoff: float = BACKOFF,
    gave_up: Callable[[], GitopsError] | None = None,
    meanwhile: Callable[[str], object] | None = None,
) -> Committed:
    """Push what `build(lease)` returns to `branch`, leased on the tip it was built on; again on a race.

    `tip(attempt)` reads the lease (default: `remote_tip`). `build` returns the commit the branch should
    point at: None or the lease itself leaves the branch as it is (nothing pushed). Only NonFastForward is
    retried; `gave_up()` is raised when the branch kept moving for `attempts` attempts. `meanwhile(sha)`
    runs while each push of `sha` is under way (read-only work on the local objects of the commit)."""
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1) * (1 + random.random()))
        lease = tip(attempt) if tip else remote_tip(checkout, branch)
        sha = build(lease)
        if sha is None or sha == lease:
            return Committed(lease, pushed=False)
        try:
            _push(checkout, sha, branch, lease, meanwhile)
            return Committed(sha, pushed=True)
        except NonFastForward:
            continue
    raise (gave_up or (lambda: _gave_up(branch, attempts)))()


def commit(
    checkout: ConfigCheckout,
    branch: str,
    edit: Callable[[Tip], Changes | None],
    *,
    message: str,
    parent: Callable[[str | None], str | None] | None = None,
    tip: Callable[[int], str | None] | None = None,
    ref: str = plumbing.SCRATCH_REF,
    attempts: int = ATTEMPTS,
    gave_up: Callable[[], GitopsError] | None = None,
    meanwhile: Callable[[str], object] | None = None,
) -> Committed:
    """Apply `edit` to `branch` and push it (see `push_with_lease` for the loop).

    `edit` gets the Tip and returns the files to change (None: delete one): None leaves the branch as it
    is; an empty mapping means "the parent as it is" (pushed only when the parent is not the tip, e.g. a
    branch rebuilt on main). `parent(lease)` chooses the commit to build on (default: the tip itself);
    `ref` is where the new commit is stored locally before the push."""

    def build(lease: str | None) -> str | None:
        base = parent(lease) if parent else lease
        changes = edit(Tip(checkout, branch, lease, base))
        if changes is None:
            return lease
        if not changes:
            return base
        return plumbing.commit_files(checkout, base, changes, message, ref=ref)

    return push_with_lease(
        checkout, branch, build, tip=tip, attempts=attempts, gave_up=gave_up, meanwhile=meanwhile
    )


def commit_worktree(
    checkout: ConfigCheckout,
    edit: Callable[[Path], None],
    message: str,
    *,
    trailers: Mapping[str, str] | None = None,
    attempts: int = ATTEMPTS,
) -> str | None:
    """`edit` applied to the working tree, checked out at the tip of the checkout's branch, committed and
    pushed by the loop; the pushed SHA, or None when the edit changed nothing."""
    branch = checkout.branch

    def build(lease: str | None) -> str | None:
        checkout.start_branch(branch, base=lease)
        edit(checkout.root)
        return checkout.commit(message, trailers=trailers)

    done = push_with_lease(
        checkout,
        branch,
        build,
        tip=lambda _attempt: fetched_tip(checkout, branch),
        attempts=attempts,
        gave_up=lambda: ExternalError(
            f"could not push to {branch} after {attempts} attempts: the branch keeps moving"
        ),
    )
    return done.sha if done.pushed else None
