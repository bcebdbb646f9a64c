"""Flux Kustomization (kustomize.toolkit.fluxcd.io/v1): did it apply the promoted commit?

Applied when `lastAppliedRevision` is the source's current artifact and names SHA or a descendant, and
`Ready=True`, `observedGeneration` is current, `lastAttemptedRevision == lastAppliedRevision` (otherwise a
newer revision was attempted and failed). A git source's revision names the commit itself
(`main@sha1:<sha>`, `sha1:<sha>`, the pre-2.0 `main/<sha>`); an OCI artifact's revision is a digest, whose
commit is its origin revision (`lastAppliedOriginRevision`, or the OCIRepository's annotation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.verify.flux_status import common_missing, ready_text, request_reconcile, stalled, target_namespace
from gitops.verify.kube import Resource
from gitops.verify.readiness import Check
from gitops.verify.reconcilers.protocol import Reading
from gitops.verify.revision import RevisionFilter, git_sha, short
from gitops.verify.sources.protocol import SourceReading, SourceRef
from gitops.verify.verdict import State, Verdict, combine, condition, condition_is, describe, dig

RESOURCE = Resource("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", "Kustomization")
SOURCE_KINDS = frozenset({"GitRepository", "OCIRepository"})
FAILURES = frozenset(
    {"ArtifactFailed", "BuildFailed", "HealthCheckFailed", "PruneFailed", "ReconciliationFailed"}
)


def refresh_annotations(token: str) -> dict[str, str]:
    return request_reconcile(token)


def source_ref(obj: Mapping[str, Any], name: str | None) -> SourceRef | None:
    return SourceRef.named_by(obj, dig(obj, "spec", "sourceRef"), name)


def _source(revision: str | None, commit: str | None) -> SourceReading:
    return SourceReading(Verdict.ok(""), revision=revision, commit=commit or git_sha(revision))


def applied_commit(ks: Mapping[str, Any], source: SourceReading | None = None) -> str | None:
    """The commit of `lastAppliedRevision`: its own SHA, else the origin revision of the artifact."""
    applied = dig(ks, "status", "lastAppliedRevision")
    if not isinstance(applied, str):
        return None
    origin = git_sha(dig(ks, "status", "lastAppliedOriginRevision"))
    return git_sha(applied) or origin or (source.commit_of(applied) if source else None)


def _attempted_commit(ks: Mapping[str, Any], source: SourceReading) -> str | None:
    attempted = dig(ks, "status", "lastAttemptedRevision")
    if attempted is not None and attempted == dig(ks, "status", "lastAppliedRevision"):
        return applied_commit(ks, source)
    return source.commit_of(attempted)


def _failure(ks: Mapping[str, Any], accepts: RevisionFilter, source: SourceReading) -> list[str]:
    """Stalled, or an apply failure, of the promoted revision or a newer one (an older revision that
    failed may be fixed by this promotion: that is only pending)."""
    attempted = _attempted_commit(ks, source)
    attempted_ours = attempted is not None and accepts(attempted)
    nothing_attempted = dig(ks, "status", "lastAttemptedRevision") is None
    reasons = stalled(ks) if attempted_ours or nothing_attempted else []
    ready = condition(ks, "Ready") or {}
    if ready.get("status") == "False" and ready.get("reason") in FAILURES and attempted_ours:
        detail = "newer revision failed" if attempted != applied_commit(ks, source) else "apply failed"
        reasons.append(f"{detail} at {short(attempted)}: {ready_text(ks)}")
    return reasons


def _same_revision(source_revision: str, applied: object) -> bool:
    sha = git_sha(source_revision)
    return source_revision == applied or (sha is not None and sha == git_sha(applied))


def kustomization_verdict(
    ks: Mapping[str, Any],
    *,
    accepts: RevisionFilter,
    requested_at: str | None = None,
    source_revision: str | None = None,
    source_commit: str | None = None,
) -> Verdict:
    """ok / pending / failed for one Kustomization; `source_revision` is its source's artifact revision
    and `source_commit` the commit that artifact was made from (for an OCI digest)."""
    subject = describe(ks, RESOURCE.kind)
    if dig(ks, "metadata", "deletionTimestamp"):
        return Verdict.failed(subject, "the Kustomization is being deleted")
    source = _source(source_revision, source_commit)
    reasons = _failure(ks, accepts, source)
    if reasons:
        return Verdict.failed(subject, *reasons)
    missing = common_missing(ks, requested_at)
    applied_raw = dig(ks, "status", "lastAppliedRevision")
    attempted_raw = dig(ks, "status", "lastAttemptedRevision")
    applied = applied_commit(ks, source)
    if applied is None or not accepts(applied):
        built = "" if git_sha(applied_raw) or not applied_raw else f" (built from {short(applied)})"
        missing.append(
            f"last applied revision is {applied_raw or '(none)'}{built}, not the promoted revision"
        )
    if source_revision is not None and not _same_revision(source_revision, applied_raw):
        missing.append(f"source artifact is {source_revision}, applied {applied_raw or '(none)'}")
    if attempted_raw != applied_raw:
        missing.append(f"attempting {attempted_raw}, last applied {applied_raw}")
    if not condition_is(ks, "Ready", "True"):
        missing.append(ready_text(ks))
    return Verdict.pending(subject, *missing) if missing else Verdict.ok(subject)


def read(
    obj: Mapping[str, Any],
    *,
    accepts: RevisionFilter,
    requested_at: str | None,
    source: SourceReading | None,
    chart_version: str | None,
) -> Reading:
    """The Kustomization's own status decides; its source only adds a failure (a kind that proves no
    commit) and, for an OCI artifact, the commit its digest was made from."""
    verdict = kustomization_verdict(
        obj,
        accepts=accepts,
        requested_at=requested_at,
        source_revision=source.revision if source else None,
        source_commit=source.commit if source else None,
    )
    if source is not None and source.verdict.state is State.FAILED:
        verdict = combine(describe(obj, RESOURCE.kind), [verdict, source.verdict])
    return Reading(verdict, applied_commit(obj, source), target_namespace(obj))


def can_go_back(obj: Mapping[str, Any], previous_revision: str | None) -> Check:
    """Flux applies whatever the branch holds: a git revert always works unless it is suspended."""
    if dig(obj, "spec", "suspend"):
        return Check(
            "reconciler", False, f"the {RESOURCE.kind} is suspended: a rollback PR would not be applied"
        )
    return Check("reconciler", True, "Flux applies the branch: a rollback PR (git revert) is applied")
