"""Create or refresh a promotion branch on the config repository: the edit on top of main, built with
plumbing (never in a working tree), pushed with a lease and retried when the remote moved."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gitops.errors import PolicyError
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout, NonFastForward, format_trailers

Edit = Callable[[Mapping[str, bytes | None], Mapping[str, Any] | None], dict[str, bytes]]


def _existing_release(checkout: ConfigCheckout, branch: str, path: str) -> dict[str, Any] | None:
    """release.yaml as an earlier run of the same promotion left it on its branch (None: no such run)."""
    import yaml

    raw = plumbing.read_blob(checkout, f"refs/remotes/origin/{branch}", path)
    data = yaml.safe_load(raw) if raw else None
    return data if isinstance(data, dict) else None


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
) -> tuple[str, bool]:
    """Create or refresh `branch` so it holds `edit` on top of main. Returns (head sha, pushed?).

    `edit` gets the current bytes of `paths` on the base (None: absent) and release.yaml (`paths[0]`) as an
    earlier run left it on the branch (None: first run), and returns the files it changes.
    The commit is built with plumbing, never in the working tree, so hundreds of tenant files cost one
    `cat-file` and one `fast-import`. `known_heads` (the remote's branches listed since the clone) saves
    asking the remote on the first attempt."""
    full = message.rstrip() + "\n\n" + format_trailers(trailers) + "\n"
    for attempt in range(5):
        if attempt:  # the clone is fresh on the first attempt; a race shows up as a rejected push
            checkout.fetch(f"+refs/heads/{checkout.branch}:refs/remotes/origin/{checkout.branch}")
        existing = known_heads.get(branch) if known_heads is not None else checkout.remote_sha(branch)
        known_heads = None  # a retry follows a rejected push: ask the remote again
        base, earlier = f"refs/remotes/origin/{checkout.branch}", None
        if existing:
            checkout.fetch(f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
            earlier = _existing_release(checkout, branch, paths[0])
            if not _main_touched(checkout, existing, paths):
                base = existing
        changed = edit(plumbing.read_blobs(checkout, base, paths), earlier)
        if not changed and base == existing:
            return existing, False
        if changed:
            sha = plumbing.commit_files(checkout, base, changed, full, ref=f"refs/heads/{branch}")
        else:
            sha = checkout.repo.git.rev_parse(base)
        if existing == sha:
            return sha, False
        try:
            checkout.push(sha, branch, force_with_lease=existing or "")
            return sha, True
        except NonFastForward:
            continue
    raise PolicyError(f"could not push {branch}: the remote branch keeps moving")
