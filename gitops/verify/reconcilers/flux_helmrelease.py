"""Flux HelmRelease (helm.toolkit.fluxcd.io/v2): did it release the chart of the promoted commit?

Its revision is a chart version, not a commit, so the commit is proven by the source the chart comes from:
a GitRepository (`spec.chart.spec.sourceRef`) or an OCIRepository (`spec.chartRef`) whose artifact was made
from SHA or a descendant. For an OCI chart the newest release must also be of that very artifact: its
`ociDigest` (or the `+<digest[:12]>` the controller appends to the chart version) is the source's digest.
The release itself must be: `Ready=True`, not `Stalled`, `observedGeneration` current, the requested
reconcile handled, the newest `history[]` snapshot `deployed` with `chartVersion == lastAttemptedRevision`
and `configDigest == lastAttemptedConfigDigest` (the last attempt is what got deployed: nothing newer
failed), and — when the caller pins one (`chart_version`; the verb does not, release.yaml has no chart
version) — the chart version expected. The image itself is proven by the workloads' pods (rollout.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.verify.flux_status import common_missing, ready_text, request_reconcile, stalled, target_namespace
from gitops.verify.kube import Resource
from gitops.verify.readiness import Check
from gitops.verify.reconcilers.protocol import Reading
from gitops.verify.revision import RevisionFilter
from gitops.verify.sources.protocol import SourceReading, SourceRef
from gitops.verify.verdict import Verdict, combine, condition, condition_is, describe, dig, generation_current

RESOURCE = Resource("helm.toolkit.fluxcd.io", "v2", "helmreleases", "HelmRelease")
SOURCE_KINDS = frozenset({"GitRepository", "OCIRepository"})
WAITING = frozenset({"DependencyNotReady", "Progressing", "ProgressingWithRetry"})


def refresh_annotations(token: str) -> dict[str, str]:
    return request_reconcile(token)


def source_ref(obj: Mapping[str, Any], name: str | None) -> SourceRef | None:
    ref = dig(obj, "spec", "chartRef") or dig(obj, "spec", "chart", "spec", "sourceRef")
    return SourceRef.named_by(obj, ref, name)


def _latest_snapshot(hr: Mapping[str, Any]) -> Mapping[str, Any] | None:
    history = dig(hr, "status", "history") or []
    return history[0] if history and isinstance(history[0], Mapping) else None


def _failure(hr: Mapping[str, Any], requested_at: str | None) -> list[str]:
    """Failures count only once our reconcile request was handled: before, they describe the last release."""
    if requested_at and dig(hr, "status", "lastHandledReconcileAt") != requested_at:
        return []
    reasons = stalled(hr)
    ready = condition(hr, "Ready") or {}
    if ready.get("status") == "False" and ready.get("reason") not in WAITING and generation_current(hr):
        reasons.append(ready_text(hr))
    latest = _latest_snapshot(hr)
    if latest and latest.get("status") == "failed":
        reasons.append(f"newest Helm release v{latest.get('version')} ({latest.get('chartVersion')}) failed")
    return reasons


def _chart_matches(version: str | None, expected: str) -> bool:
    """`1.2.3` matches `1.2.3` and `1.2.3+<build>` (OCI / revision-based chart versions)."""
    return version is not None and (version == expected or version.startswith(expected + "+"))


def _artifact_missing(hr: Mapping[str, Any], latest: Mapping[str, Any], digest: str) -> list[str]:
    """The newest release is of the OCI artifact `digest` (`ociDigest`, else the chart version's suffix)."""
    deployed = latest.get("ociDigest")
    version = str(latest.get("chartVersion") or "")
    if deployed is None and "+" in version:
        deployed_prefix = version.rpartition("+")[2]
        same = len(deployed_prefix) >= 12 and digest.removeprefix("sha256:").startswith(deployed_prefix)
    else:
        same = deployed == digest
    missing = (
        []
        if same
        else [f"newest release is of chart {version} ({deployed or 'no OCI digest'}), not {digest}"]
    )
    attempted = dig(hr, "status", "lastAttemptedRevisionDigest")
    if attempted is not None and attempted != digest:
        missing.append(f"attempted chart artifact {attempted}, the source holds {digest}")
    return missing


def _snapshot_missing(hr: Mapping[str, Any], chart_version: str | None, digest: str | None) -> list[str]:
    latest = _latest_snapshot(hr)
    status = hr.get("status") or {}
    if latest is None:
        return ["no Helm release in history yet"]
    missing = []
    if latest.get("status") != "deployed":
        missing.append(f"newest Helm release is {latest.get('status')}, not deployed")
    if latest.get("chartVersion") != status.get("lastAttemptedRevision"):
        attempted = status.get("lastAttemptedRevision")
        missing.append(f"attempted chart {attempted}, deployed {latest.get('chartVersion')}")
    if latest.get("configDigest") != status.get("lastAttemptedConfigDigest"):
        missing.append("the last attempted values are not the deployed ones")
    if chart_version and not _chart_matches(latest.get("chartVersion"), chart_version):
        missing.append(f"chart version {latest.get('chartVersion')}, expected {chart_version}")
    if digest is not None:
        missing += _artifact_missing(hr, latest, digest)
    return missing


def helmrelease_verdict(
    hr: Mapping[str, Any],
    *,
    requested_at: str | None = None,
    chart_version: str | None = None,
    artifact_digest: str | None = None,
) -> Verdict:
    """ok / pending / failed for one HelmRelease (see the module docstring for what is checked);
    `artifact_digest`: the OCI chart artifact its source holds."""
    subject = describe(hr, RESOURCE.kind)
    if dig(hr, "metadata", "deletionTimestamp"):
        return Verdict.failed(subject, "the HelmRelease is being deleted")
    reasons = _failure(hr, requested_at)
    if reasons:
        return Verdict.failed(subject, *reasons)
    missing = common_missing(hr, requested_at) + _snapshot_missing(hr, chart_version, artifact_digest)
    if not condition_is(hr, "Ready", "True"):
        missing.append(ready_text(hr))
    return Verdict.pending(subject, *missing) if missing else Verdict.ok(subject)


def read(
    obj: Mapping[str, Any],
    *,
    accepts: RevisionFilter,
    requested_at: str | None,
    source: SourceReading | None,
    chart_version: str | None,
) -> Reading:
    """The release and its chart source must both be ok; the commit is the source's."""
    subject = describe(obj, RESOURCE.kind)
    digest = source.digest if source else None
    parts = [
        helmrelease_verdict(
            obj, requested_at=requested_at, chart_version=chart_version, artifact_digest=digest
        )
    ]
    if source is None:
        parts.append(
            Verdict.pending(subject, "names no chart source (spec.chartRef or spec.chart.spec.sourceRef)")
        )
    else:
        parts.append(source.verdict)
    return Reading(combine(subject, parts), source.commit if source else None, target_namespace(obj))


def can_go_back(obj: Mapping[str, Any], previous_revision: str | None) -> Check:
    """A git revert is applied unless suspended; says whether Helm itself can also roll back."""
    if dig(obj, "spec", "suspend"):
        return Check(
            "reconciler", False, f"the {RESOURCE.kind} is suspended: a rollback PR would not be applied"
        )
    history = dig(obj, "status", "history") or ()
    earlier = [h for h in history[1:] if h.get("status") in ("deployed", "superseded")]
    strategy = dig(obj, "spec", "upgrade", "remediation", "strategy")
    helm = (
        f"; Helm can also roll back to v{earlier[0].get('version')}"
        if earlier
        else "; no earlier Helm snapshot"
    )
    remediation = " (automatic rollback on failed upgrade)" if strategy == "rollback" else ""
    return Check("reconciler", True, f"a rollback PR (git revert) is applied{helm}{remediation}")
