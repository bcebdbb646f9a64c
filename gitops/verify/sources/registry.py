"""Every source kind verify can read a commit from: one line per kind (its Kubernetes kind → module)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.verify.kube import Resource
from gitops.verify.revision import RevisionFilter
from gitops.verify.sources import git_repository, oci_repository
from gitops.verify.sources.protocol import Source, SourceReading, SourceRef
from gitops.verify.verdict import Verdict

SOURCES: dict[str, Source] = {
    "GitRepository": git_repository,
    "OCIRepository": oci_repository,
}


def resources() -> frozenset[Resource]:
    return frozenset(source.RESOURCE for source in SOURCES.values())


def supported(ref: SourceRef, allowed: frozenset[str]) -> Source | None:
    """The source module for `ref` when its reconciler accepts that kind (`allowed`)."""
    return SOURCES.get(ref.kind) if ref.kind in allowed else None


def read_source(
    ref: SourceRef, obj: Mapping[str, Any] | None, *, allowed: frozenset[str], accepts: RevisionFilter
) -> SourceReading:
    """What the source `ref` proves: failed for a kind that cannot prove a commit, pending while the
    object is not visible."""
    source = supported(ref, allowed)
    if source is None:
        known = ", ".join(sorted(allowed & SOURCES.keys())) or "none"
        return SourceReading(
            Verdict.failed(
                ref.subject, f"a {ref.kind} source proves no config-repo commit (verify reads: {known})"
            )
        )
    if obj is None:
        return SourceReading(Verdict.pending(ref.subject, "not visible yet"))
    return source.read(obj, accepts=accepts)
