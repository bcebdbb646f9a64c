"""Create or refresh a promotion branch on the config repository: the edit on top of main, built with
plumbing (never in a working tree), pushed with a lease and retried when the remote moved."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gitops.config.release_file import parse_release
from gitops.errors import PolicyError
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout, format_trailers
from gitops.gitstore.commit_loop import Tip, commit, remote_tip

Edit = Callable[[Mapping[str, bytes | None], Mapping[str, Any] | None], dict[str, bytes]]


def _existing_release(checkout: ConfigCheckout, branch: str, path: str) -> dict[str, Any] | None:
    """release.yaml as an earlier run of the same promotion left it on its branch (None: no such run)."""
    raw = plumbing.read_blob(checkout, f"refs/remotes/origin/{branch}", path)
    try:
        return parse_release(raw) if raw else None
    except ValueError:
        return None


def _main_touched(checkout: ConfigCheckout, branch_sha: str, paths: list[str]) -> bool:
    """Did main change any of `paths` since the promotion branch forked from it?"""
    try:
        base = checkout.repo.git.merge_base(branch_sha, f"origin/{checkout.branch}")
        return bool(checkout.repo.git.diff("--name-only", base, f"origin/{checkout.branch}", "--", *paths))
    except Exception:
        return True


def push_promotion_branch(
    checkout: ConfigCheckout,
    branch: str,
    paths: list[str],
    edit: Edit,
    *,
    message: str,
    trailers: Mapping[str, str],
    known_heads: Mapping[str, str] | None = None,
    meanwhile: Callable[[str, bool], object] | None = None,
    cloned: tuple[str, Callable[[list[str]], Mapping[str, bytes | None] | None]] | None = None,
) -> tuple[str, bool]:
    """Create or refresh `branch` so it holds `edit` on top of main. Returns (head sha, pushed?).

    `edit` gets the current bytes of `paths` on the base (None: absent) and release.yaml (`paths[0]`) as an
    earlier run left it on the branch (None: first run), and returns the files it changes.
    The commit is built with plumbing, never in the working tree, so hundreds of tenant files cost one
    `cat-file` and one `fast-import`. `known_heads` (the remote's branches listed since the clone) saves
    asking the remote on the first attempt. `meanwhile(sha, on_main)` runs while commit `sha` is being pushed;
    `on_main`: `sha` is the last edit on top of main's tip (its merge base with main is its parent).
    `cloned` (main's commit at the clone, and a reader of files at that commit already in memory, None when
    it cannot say) saves asking git for them while main is the clone's."""
    full = message.rstrip() + "\n\n" + format_trailers(trailers) + "\n"
    main = f"refs/remotes/origin/{checkout.branch}"

    fetched = [False]  # main fetched again since the clone

    def tip(attempt: int) -> str | None:
        if attempt:  # the clone is fresh on the first attempt; a race shows up as a rejected push
            checkout.fetch(f"+refs/heads/{checkout.branch}:{main}")
            fetched[0] = True
        if attempt or known_heads is None:
            return remote_tip(checkout, branch)
        existing = known_heads.get(branch)  # listed since the clone: no need to ask the remote again
        if existing:
            checkout.fetch(f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
        return existing

    on_main = [False]

    def parent(existing: str | None) -> str:
        """The branch as an earlier run left it, unless main changed one of `paths` since: then main."""
        on_main[0] = not existing or _main_touched(checkout, existing, paths)
        if not on_main[0]:
            assert existing is not None
            return existing
        if cloned is not None and not fetched[0]:
            return cloned[0]
        return plumbing.git(checkout, "rev-parse", main).out.strip()

    def change(at: Tip) -> dict[str, bytes] | None:
        earlier = _existing_release(checkout, branch, paths[0]) if at.lease else None
        known = cloned[1](paths) if cloned is not None and at.parent == cloned[0] else None
        changed = edit(known if known is not None else at.read(paths), earlier)
        return None if not changed and at.parent == at.lease else changed

    done = commit(
        checkout,
        branch,
        change,
        message=full,
        parent=parent,
        tip=tip,
        ref=f"refs/heads/{branch}",
        gave_up=lambda: PolicyError(f"could not push {branch}: the remote branch keeps moving"),
        meanwhile=(lambda sha: meanwhile(sha, on_main[0])) if meanwhile else None,
    )
    assert done.sha is not None  # a branch built on main always has a head
    return done.sha, done.pushed
