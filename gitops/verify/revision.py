"""Git revisions as the reconcilers report them, and the rule for which ones prove a promotion.

A promotion merged commit SHA into the config repo's branch. Other commits (later promotions, verification
records) land on the same branch afterwards, so a reconciler that reports a *descendant* of SHA has applied
SHA too. An older revision, or one from another branch, proves nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_FLUX_V2 = re.compile(r"^(?:(?P<ref>.+)@)?sha1:(?P<sha>[0-9a-f]{40})$")
_FLUX_LEGACY = re.compile(r"^(?P<ref>.+)/(?P<sha>[0-9a-f]{40})$")

RevisionFilter = Callable[[str], bool]
"""accepts(sha) → True when sha is the promoted commit or a descendant of it on the config branch."""


def git_sha(revision: object) -> str | None:
    """The commit SHA inside a revision string, in any form Argo CD or Flux writes.

    Accepted: a bare 40-hex SHA (Argo CD), `main@sha1:<sha>` / `sha1:<sha>` (Flux ≥ 2.0) and the
    pre-2.0 `main/<sha>`. Anything else (a chart version, an OCI digest) → None.
    """
    if not isinstance(revision, str):
        return None
    text = revision.strip().lower()
    if SHA_RE.match(text):
        return text
    match = _FLUX_V2.match(text) or _FLUX_LEGACY.match(text)
    return match.group("sha") if match else None


def only(sha: str) -> RevisionFilter:
    """A filter that accepts exactly one commit (no ancestry available)."""
    return lambda candidate: candidate == sha


def short(sha: str | None) -> str:
    return sha[:12] if sha else "(none)"
