"""Commits without a working tree: read blobs and write files onto a branch with git plumbing.

Used for writes that must not disturb the checked-out promotion branch (and need not touch hundreds of
tenant files): the local forge's PR store and audit entries appended to main.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from gitops import proc
from gitops.errors import ExternalError
from gitops.promote.repo import ConfigCheckout


def git(
    checkout: ConfigCheckout,
    *args: str,
    input_bytes: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> proc.Completed:
    return proc.run(
        ["git", *args],
        cwd=checkout.root,
        env={**proc.no_git_env(), **(env or {})},  # after no_git_env: it drops GIT_INDEX_FILE
        input_bytes=input_bytes,
        timeout=checkout.timeout,
        what=f"git {args[0]}",
    )


def read_blob(checkout: ConfigCheckout, ref: str, path: str) -> bytes | None:
    """Bytes of `path` at `ref` exactly as stored, or None when it does not exist there."""
    try:
        return git(checkout, "cat-file", "blob", f"{ref}:{path}").stdout
    except ExternalError:
        return None


def commit_files(
    checkout: ConfigCheckout, parent: str | None, files: Mapping[str, bytes], message: str
) -> str:
    """A commit on top of `parent` (None: a root commit) that writes `files`; returns its SHA."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(checkout, "read-tree", *([parent] if parent else ["--empty"]), env=env)
        for path, data in files.items():
            blob = git(checkout, "hash-object", "-w", "--stdin", input_bytes=data).out.strip()
            git(checkout, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
        tree = git(checkout, "write-tree", env=env).out.strip()
    args = ["commit-tree", tree, *(["-p", parent] if parent else []), "-m", message]
    return git(checkout, *args).out.strip()
