"""Flux GitRepository (source.toolkit.fluxcd.io/v1): its artifact revision names the commit itself,
`<ref>@sha1:<sha>`, `sha1:<sha>` or the pre-2.0 `<ref>/<sha>`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.verify.flux_status import common_missing, request_reconcile
from gitops.verify.kube import Resource
from gitops.verify.revision import RevisionFilter, git_sha
from gitops.verify.sources.protocol import SourceReading
from gitops.verify.verdict import Verdict, condition, condition_is, describe, dig

RESOURCE = Resource("source.toolkit.fluxcd.io", "v1", "gitrepositories", "GitRepository")


def refresh_annotations(token: str) -> dict[str, str]:
    return request_reconcile(token)


def verdict(repo: Mapping[str, Any], *, accepts: RevisionFilter) -> Verdict:
    """The source has fetched SHA (or a descendant) and published it as an artifact."""
    subject = describe(repo, RESOURCE.kind)
    revision = dig(repo, "status", "artifact", "revision")
    sha = git_sha(revision)
    missing = common_missing(repo, None)
    if condition_is(repo, "FetchFailed", "True"):
        missing.append(f"fetch failing: {(condition(repo, 'FetchFailed') or {}).get('message', '')}")
    if sha is None or not accepts(sha):
        missing.append(
            f"artifact revision is {revision or '(none)'}, not the promoted revision or a descendant"
        )
    return Verdict.pending(subject, *missing) if missing else Verdict.ok(subject)


def read(repo: Mapping[str, Any], *, accepts: RevisionFilter) -> SourceReading:
    revision = dig(repo, "status", "artifact", "revision")
    text = revision if isinstance(revision, str) else None
    return SourceReading(verdict(repo, accepts=accepts), revision=text, commit=git_sha(text))
