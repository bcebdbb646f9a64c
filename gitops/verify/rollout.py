"""Deployment rollout (kubectl's rules) and proof that the new ReplicaSet's pods run the release digest.

Rollout, once `status.observedGeneration >= metadata.generation`: failed on `Progressing` reason
`ProgressDeadlineExceeded`; pending while `updatedReplicas < spec.replicas`, while `status.replicas >
updatedReplicas` (old pods still there) or while `availableReplicas < updatedReplicas`; plus kstatus's
`readyReplicas >= spec.replicas`.

Digest: the new ReplicaSet is the one owned by the Deployment whose `deployment.kubernetes.io/revision`
equals the Deployment's; its pods (`pod-template-hash`) must be Running and ready, and every container
whose image is the release repository must report an `imageID` whose digest is accepted (the release's
digest, or one listed as accepted: the index digest and its platform manifest digests). A bare
`sha256:<config id>` imageID (an image imported without a registry) cannot prove anything and fails.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from gitops.verify.verdict import Verdict, condition, dig

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"


def _replicas(deploy: Mapping[str, Any]) -> int:
    value = dig(deploy, "spec", "replicas")
    return 1 if value is None else int(value)


def _status_int(obj: Mapping[str, Any], key: str) -> int:
    return int(dig(obj, "status", key) or 0)


def deployment_verdict(deploy: Mapping[str, Any]) -> Verdict:
    """kubectl rollout status, as a value."""
    subject = f"Deployment {dig(deploy, 'metadata', 'namespace')}/{dig(deploy, 'metadata', 'name')}"
    generation = int(dig(deploy, "metadata", "generation") or 0)
    observed = int(dig(deploy, "status", "observedGeneration") or 0)
    if generation > observed:
        return Verdict.pending(subject, "the Deployment controller has not observed the new spec yet")
    progressing = condition(deploy, "Progressing") or {}
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return Verdict.failed(subject, f"ProgressDeadlineExceeded: {progressing.get('message', '')}")
    wanted = _replicas(deploy)
    updated = _status_int(deploy, "updatedReplicas")
    total = _status_int(deploy, "replicas")
    available = _status_int(deploy, "availableReplicas")
    ready = _status_int(deploy, "readyReplicas")
    missing = []
    if updated < wanted:
        missing.append(f"{updated} of {wanted} replicas updated")
    if total > updated:
        missing.append(f"{total - updated} old replicas pending termination")
    if available < updated:
        missing.append(f"{available} of {updated} updated replicas available")
    if ready < wanted:
        missing.append(f"{ready} of {wanted} replicas ready")
    return Verdict.pending(subject, *missing) if missing else Verdict.ok(subject)


def _owned_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    uid = dig(owner, "metadata", "uid")
    refs = dig(obj, "metadata", "ownerReferences") or ()
    return any(ref.get("uid") == uid for ref in refs) if uid else False


def new_replicaset(
    deploy: Mapping[str, Any], replicasets: Iterable[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The ReplicaSet of the Deployment's current revision (what `kubectl rollout status` calls new)."""
    revision = dig(deploy, "metadata", "annotations", REVISION_ANNOTATION)
    owned = [rs for rs in replicasets if _owned_by(rs, deploy)]
    if revision is None:
        return None
    return next(
        (rs for rs in owned if dig(rs, "metadata", "annotations", REVISION_ANNOTATION) == revision), None
    )


def image_repository(image: str) -> str:
    """'reg:5000/a/b:tag@sha256:…' → 'reg:5000/a/b' (a registry port is not a tag)."""
    name = image.partition("@")[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def image_digest(image_id: str) -> str | None:
    """The digest of a containerStatus.imageID, or None when it names no repository digest."""
    text = image_id.removeprefix("docker-pullable://")
    if "@" not in text:
        return None
    digest = text.rpartition("@")[2]
    return digest if digest.startswith("sha256:") else None


def _container_verdicts(
    pod: Mapping[str, Any], repository: str, accepted: Collection[str]
) -> tuple[list[str], list[str]]:
    """(missing, reasons) for the release containers of one pod."""
    name = dig(pod, "metadata", "name")
    missing: list[str] = []
    reasons: list[str] = []
    statuses = {s.get("name"): s for s in dig(pod, "status", "containerStatuses") or ()}
    for container in dig(pod, "spec", "containers") or ():
        if image_repository(container.get("image", "")) != repository:
            continue
        status = statuses.get(container.get("name")) or {}
        image_id = status.get("imageID") or ""
        digest = image_digest(image_id)
        if not image_id or not status.get("ready"):
            missing.append(f"pod {name} container {container.get('name')} not running and ready")
        elif digest is None:
            reasons.append(
                f"pod {name} container {container.get('name')} reports imageID {image_id!r} without a "
                "repository digest; the running digest cannot be proven"
            )
        elif digest not in accepted:
            reasons.append(f"pod {name} runs {digest}, not the release digest")
    return missing, reasons


def _template_reasons(deploy: Mapping[str, Any], repository: str, accepted: Collection[str]) -> list[str]:
    containers = dig(deploy, "spec", "template", "spec", "containers") or ()
    images = [c.get("image", "") for c in containers]
    ours = [image for image in images if image_repository(image) == repository]
    if not ours:
        return [f"no container of the pod template uses {repository} (images: {', '.join(images)})"]
    pinned = [image.rpartition("@")[2] for image in ours if "@" in image]
    return [
        f"pod template pins {digest}, not the release digest" for digest in pinned if digest not in accepted
    ]


def pods_verdict(
    deploy: Mapping[str, Any],
    replicasets: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]],
    *,
    repository: str,
    accepted_digests: Collection[str],
) -> Verdict:
    """The pods of the Deployment's new ReplicaSet run an accepted digest of `repository`."""
    subject = f"Deployment {dig(deploy, 'metadata', 'namespace')}/{dig(deploy, 'metadata', 'name')} pods"
    reasons = _template_reasons(deploy, repository, accepted_digests)
    if reasons:
        return Verdict.failed(subject, *reasons)
    rs = new_replicaset(deploy, replicasets)
    if rs is None:
        return Verdict.pending(subject, "new ReplicaSet not seen yet")
    pod_hash = dig(rs, "metadata", "labels", HASH_LABEL)
    ours = [p for p in pods if dig(p, "metadata", "labels", HASH_LABEL) == pod_hash and _owned_by(p, rs)]
    live = [p for p in ours if not dig(p, "metadata", "deletionTimestamp")]
    if not live:
        return Verdict.pending(subject, f"no pods of ReplicaSet {dig(rs, 'metadata', 'name')} yet")
    missing: list[str] = []
    for pod in live:
        pod_missing, pod_reasons = _container_verdicts(pod, repository, accepted_digests)
        missing += pod_missing
        reasons += pod_reasons
    if reasons:
        return Verdict.failed(subject, *reasons)
    if len(live) < _replicas(deploy):
        missing.append(f"{len(live)} of {_replicas(deploy)} pods of the new ReplicaSet exist")
    return Verdict.pending(subject, *missing) if missing else Verdict.ok(subject)
