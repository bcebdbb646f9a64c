"""Verdicts on Flux objects: GitRepository, Kustomization (kustomize.toolkit.fluxcd.io/v1) and
HelmRelease (helm.toolkit.fluxcd.io/v2).

Kustomization — the promoted commit is applied when `lastAppliedRevision` names SHA or a descendant
(`main@sha1:<sha>`, `sha1:<sha>` or the pre-2.0 `main/<sha>`), equals the source's `artifact.revision`,
`Ready=True`, `observedGeneration` is current and `lastAttemptedRevision == lastAppliedRevision`
(otherwise a newer revision was attempted and failed).

HelmRelease — its revision is a chart version, not a commit, so the commit is proven by the GitRepository
the chart comes from (`artifact.revision`), and the release itself must be: `Ready=True`, not `Stalled`,
`observedGeneration` current, the requested reconcile handled, the newest `history[]` snapshot `deployed`
with `chartVersion == lastAttemptedRevision` and `configDigest == lastAttemptedConfigDigest` (the last
attempt is what got deployed: nothing newer failed), and — when the caller pins one (`chart_version`;
the verb does not, release.yaml has no chart version) — the chart version expected. The image itself
is proven by the workloads' pods (rollout.py), not by Helm metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.verify.revision import RevisionFilter, git_sha, short
from gitops.verify.verdict import Verdict, condition, condition_is, describe, dig, generation_current

REQUESTED_AT_ANNOTATION = "reconcile.fluxcd.io/requestedAt"
KUSTOMIZATION_FAILURES = frozenset(
    {"ArtifactFailed", "BuildFailed", "HealthCheckFailed", "PruneFailed", "ReconciliationFailed"}
)
HELMRELEASE_WAITING = frozenset({"DependencyNotReady", "Progressing", "ProgressingWithRetry"})


def _common_missing(obj: Mapping[str, Any], requested_at: str | None) -> list[str]:
    missing = []
    handled = dig(obj, "status", "lastHandledReconcileAt")
    if requested_at and handled != requested_at:
        missing.append(f"requested reconcile {requested_at} not yet handled (last handled: {handled})")
    if not generation_current(obj):
        missing.append("controller has not observed the latest generation")
    if condition_is(obj, "Reconciling", "True"):
        missing.append("reconciliation in progress")
    return missing


def _stalled(obj: Mapping[str, Any]) -> list[str]:
    cond = condition(obj, "Stalled")
    if cond and cond.get("status") == "True":
        return [f"Stalled ({cond.get('reason', '?')}): {cond.get('message', '')}".rstrip(": ")]
    return []


def _ready_text(obj: Mapping[str, Any]) -> str:
    cond = condition(obj, "Ready") or {}
    return f"Ready={cond.get('status', 'missing')} ({cond.get('reason', '?')}): {cond.get('message', '')}"


def gitrepository_verdict(repo: Mapping[str, Any], *, accepts: RevisionFilter) -> Verdict:
    """The source has fetched SHA (or a descendant) and published it as an artifact."""
    subject = describe(repo, "GitRepository")
    revision = dig(repo, "status", "artifact", "revision")
    sha = git_sha(revision)
    missing = _common_missing(repo, None)
    if condition_is(repo, "FetchFailed", "True"):
        missing.append(f"fetch failing: {(condition(repo, 'FetchFailed') or {}).get('message', '')}")
    if sha is None or not accepts(sha):
        missing.append(
            f"artifact revision is {revision or '(none)'}, not the promoted revision or a descendant"
        )
    return Verdict.pending(subject, *missing) if missing else Verdict.ok(subject)


def _kustomization_failure(ks: Mapping[str, Any], accepts: RevisionFilter) -> list[str]:
    """Stalled, or an apply failure, of the promoted revision or a newer one (an older revision that
    failed may be fixed by this promotion: that is only pending)."""
    attempted = git_sha(dig(ks, "status", "lastAttemptedRevision"))
    applied = git_sha(dig(ks, "status", "lastAppliedRevision"))
    attempted_ours = attempted is not None and accepts(attempted)
    reasons = _stalled(ks) if attempted_ours or attempted is None else []
    ready = condition(ks, "Ready") or {}
    if ready.get("status") == "False" and ready.get("reason") in KUSTOMIZATION_FAILURES and attempted_ours:
        detail = "newer revision failed" if attempted != applied else "apply failed"
        reasons.append(f"{detail} at {short(attempted)}: {_ready_text(ks)}")
    return reasons


def kustomization_verdict(
    ks: Mapping[str, Any],
    *,
    accepts: RevisionFilter,
    requested_at: str | None = None,
    source_revision: str | None = None,
) -> Verdict:
    """ok / pending / failed for one Kustomization; `source_revision` is its GitRepository's artifact."""
    subject = describe(ks, "Kustomization")
    if dig(ks, "metadata", "deletionTimestamp"):
        return Verdict.failed(subject, "the Kustomization is being deleted")
    reasons = _kustomization_failure(ks, accepts)
    if reasons:
        return Verdict.failed(subject, *reasons)
    missing = _common_missing(ks, requested_at)
    applied_raw = dig(ks, "status", "lastAppliedRevision")
    attempted_raw = dig(ks, "status", "lastAttemptedRevision")
    applied = git_sha(applied_raw)
    if applied is None or not accepts(applied):
        missing.append(f"last applied revision is {applied_raw or '(none)'}, not the promoted revision")
    if source_revision is not None and git_sha(source_revision) != applied:
        missing.append(f"source artifact is {source_revision}, applied {applied_raw or '(none)'}")
    if attempted_raw != applied_raw:
        missing.append(f"attempting {attempted_raw}, last applied {applied_raw}")
    if not condition_is(ks, "Ready", "True"):
        missing.append(_ready_text(ks))
    return Verdict.pending(subject, *missing) if missing else Verdict.ok(subject)


def _latest_snapshot(hr: Mapping[str, Any]) -> Mapping[str, Any] | None:
    history = dig(hr, "status", "history") or []
    return history[0] if history and isinstance(history[0], Mapping) else None


def _helmrelease_failure(hr: Mapping[str, Any], requested_at: str | None) -> list[str]:
    """Failures count only once our reconcile request was handled: before, they describe the last release."""
    if requested_at and dig(hr, "status", "lastHandledReconcileAt") != requested_at:
        return []
    reasons = _stalled(hr)
    ready = condition(hr, "Ready") or {}
    if (
        ready.get("status") == "False"
        and ready.get("reason") not in HELMRELEASE_WAITING
        and generation_current(hr)
    ):
        reasons.append(_ready_text(hr))
    latest = _latest_snapshot(hr)
    if latest and latest.get("status") == "failed":
        reasons.append(f"newest Helm release v{latest.get('version')} ({latest.get('chartVersion')}) failed")
    return reasons


def _chart_matches(version: str | None, expected: str) -> bool:
    """`1.2.3` matches `1.2.3` and `1.2.3+<build>` (OCI / revision-based chart versions)."""
    return version is not None and (version == expected or version.startswith(expected + "+"))


def helmrelease_verdict(
    hr: Mapping[str, Any], *, requested_at: str | None = None, chart_version: str | None = None
) -> Verdict:
    """ok / pending / failed for one HelmRelease (see the module docstring for what is checked)."""
    subject = describe(hr, "HelmRelease")
    if dig(hr, "metadata", "deletionTimestamp"):
        return Verdict.failed(subject, "the HelmRelease is being deleted")
    reasons = _helmrelease_failure(hr, requested_at)
    if reasons:
        return Verdict.failed(subject, *reasons)
    missing = _common_missing(hr, requested_at)
    latest = _latest_snapshot(hr)
    status = hr.get("status") or {}
    if latest is None:
        missing.append("no Helm release in history yet")
    else:
        if latest.get("status") != "deployed":
            missing.append(f"newest Helm release is {latest.get('status')}, not deployed")
        if latest.get("chartVersion") != status.get("lastAttemptedRevision"):
            attempted = status.get("lastAttemptedRevision")
            missing.append(f"attempted chart {attempted}, deployed {latest.get('chartVersion')}")
        if latest.get("configDigest") != status.get("lastAttemptedConfigDigest"):
            missing.append("the last attempted values are not the deployed ones")
        if chart_version and not _chart_matches(latest.get("chartVersion"), chart_version):
            missing.append(f"chart version {latest.get('chartVersion')}, expected {chart_version}")
    if not condition_is(hr, "Ready", "True"):
        missing.append(_ready_text(hr))
    return Verdict.pending(subject, *missing) if missing else Verdict.ok(subject)


def source_name(obj: Mapping[str, Any]) -> str | None:
    """The GitRepository a Kustomization or HelmRelease reads from (None for other source kinds)."""
    for ref in (dig(obj, "spec", "sourceRef"), dig(obj, "spec", "chart", "spec", "sourceRef")):
        if isinstance(ref, Mapping) and ref.get("kind") == "GitRepository":
            return str(ref.get("name"))
    return None


def target_namespace(obj: Mapping[str, Any]) -> str | None:
    value = dig(obj, "spec", "targetNamespace")
    return value if isinstance(value, str) and value else None
