"""Builders of valid API objects (dicts) for the verify tests and the benchmark."""

from __future__ import annotations

import hashlib
from typing import Any

REPO = "registry.example.com/acme/odoo-custom"
T0 = "2026-05-04T10:00:00Z"


def sha(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


def digest(seed: str) -> str:
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()


def at(minute: int, second: int = 0) -> str:
    return f"2026-05-04T10:{minute:02d}:{second:02d}Z"


def application(
    name: str,
    *,
    namespace: str = "argocd",
    revision: str | None = None,
    sync: str = "Synced",
    health: str = "Healthy",
    phase: str | None = "Succeeded",
    op_revision: str | None = None,
    finished: str = at(2, 3),
    reconciled: str = at(2, 45),
    destination: str = "odoo-prod",
    automated: bool = True,
    history: list[str] = (),  # type: ignore[assignment]
    conditions: list[dict[str, Any]] = (),  # type: ignore[assignment]
    message: str = "",
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "sync": {
            "status": sync,
            "comparedTo": {
                "source": {"repoURL": "https://git.example.com/config.git", "path": "envs/prod"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": destination},
            },
        },
        "health": {"status": health, "lastTransitionTime": at(2, 41)},
        "reconciledAt": reconciled,
        "history": [
            {"id": 40 + i, "revision": rev, "deployedAt": at(1, i), "initiatedBy": {"automated": True}}
            for i, rev in enumerate(history)
        ],
    }
    if message:
        status["health"]["message"] = message
    if revision:
        status["sync"]["revision"] = revision
    if conditions:
        status["conditions"] = list(conditions)
    if phase:
        status["operationState"] = {
            "operation": {
                "sync": {"revision": op_revision or revision or ""},
                "initiatedBy": {"automated": True},
            },
            "phase": phase,
            "message": "successfully synced (all tasks run)"
            if phase == "Succeeded"
            else "one or more objects failed to apply",
            "startedAt": at(1, 58),
            "finishedAt": finished,
            "syncResult": {"revision": op_revision or revision or ""},
        }
    spec: dict[str, Any] = {
        "project": "default",
        "source": {
            "repoURL": "https://git.example.com/config.git",
            "path": "envs/prod",
            "targetRevision": "main",
        },
        "destination": {"server": "https://kubernetes.default.svc", "namespace": destination},
    }
    if automated:
        spec["syncPolicy"] = {"automated": {"prune": True, "selfHeal": True}}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
        "status": status,
    }


def _conditions(
    ready: str, reason: str, message: str = "", *, stalled: bool = False, reconciling: bool = False
) -> list[dict[str, Any]]:
    conds = [
        {
            "type": "Ready",
            "status": ready,
            "reason": reason,
            "message": message or reason,
            "lastTransitionTime": T0,
        }
    ]
    if stalled:
        conds.append(
            {
                "type": "Stalled",
                "status": "True",
                "reason": reason,
                "message": message or reason,
                "lastTransitionTime": T0,
            }
        )
    if reconciling:
        conds.append(
            {
                "type": "Reconciling",
                "status": "True",
                "reason": "Progressing",
                "message": "working",
                "lastTransitionTime": T0,
            }
        )
    return conds


def gitrepository(
    name: str, *, namespace: str = "flux-system", revision: str | None = None
) -> dict[str, Any]:
    status: dict[str, Any] = {"observedGeneration": 1, "conditions": _conditions("True", "Succeeded")}
    if revision:
        status["artifact"] = {
            "revision": f"main@sha1:{revision}",
            "digest": digest(revision),
            "path": "x.tar.gz",
            "url": "http://source-controller/x.tar.gz",
            "lastUpdateTime": T0,
        }
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": namespace, "generation": 1},
        "spec": {"url": "https://git.example.com/config.git", "interval": "1m", "ref": {"branch": "main"}},
        "status": status,
    }


ORIGIN = "org.opencontainers.image.revision"


def oci_revision(seed: str, *, tag: str = "latest", legacy: bool = False) -> str:
    """An OCIRepository artifact revision: `<tag>@sha256:<hex>` (Flux ≥ 2.0) or `<tag>/<hex>`."""
    return f"{tag}/{digest(seed)[7:]}" if legacy else f"{tag}@{digest(seed)}"


def ocirepository(
    name: str,
    *,
    namespace: str = "flux-system",
    artifact: str | None = None,
    origin: str | None = None,
    legacy: bool = False,
) -> dict[str, Any]:
    """An OCIRepository whose artifact (digest seeded by `artifact`) was pushed from commit `origin`."""
    status: dict[str, Any] = {"observedGeneration": 1, "conditions": _conditions("True", "Succeeded")}
    if artifact:
        status["artifact"] = {
            "revision": oci_revision(artifact, legacy=legacy),
            "digest": digest(artifact + ".tar.gz"),
            "path": f"ocirepository/{namespace}/{name}/x.tar.gz",
            "url": "http://source-controller/x.tar.gz",
            "lastUpdateTime": T0,
        }
        if origin:
            status["artifact"]["metadata"] = {
                ORIGIN: f"main@sha1:{origin}",
                "org.opencontainers.image.source": "https://git.example.com/config.git",
            }
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "OCIRepository",
        "metadata": {"name": name, "namespace": namespace, "generation": 1},
        "spec": {
            "url": "oci://registry.example.com/acme/odoo-config",
            "interval": "1m",
            "ref": {"tag": "latest"},
        },
        "status": status,
    }


def oci_kustomization(
    name: str,
    *,
    applied: str | None = None,
    origin: str | None = None,
    attempted: str | None = None,
    source: str = "config",
    **kwargs: Any,
) -> dict[str, Any]:
    """A Kustomization reading OCIRepository `source`: it applied the artifact seeded by `applied`, which
    was built from commit `origin` (`lastAppliedOriginRevision`)."""
    obj = kustomization(name, source=source, **kwargs)
    obj["spec"]["sourceRef"] = {"kind": "OCIRepository", "name": source}
    status = obj["status"]
    if applied:
        status["lastAppliedRevision"] = oci_revision(applied)
        if origin:
            status["lastAppliedOriginRevision"] = f"main@sha1:{origin}"
    if attempted or applied:
        status["lastAttemptedRevision"] = oci_revision(attempted or applied or "")
    return obj


def oci_helmrelease(
    name: str, *, artifact: str, source: str = "charts", oci_digest: bool = True, **kwargs: Any
) -> dict[str, Any]:
    """A HelmRelease whose chart is the OCIRepository `source` (`spec.chartRef`); the newest release is of
    the artifact seeded by `artifact` (chart version `<v>+<digest[:12]>`, `ociDigest` unless told not)."""
    obj = helmrelease(name, source=source, **kwargs)
    del obj["spec"]["chart"]
    obj["spec"]["chartRef"] = {"kind": "OCIRepository", "name": source}
    status = obj["status"]
    oci = digest(artifact)
    for snapshot in status["history"][:1]:
        snapshot["chartVersion"] = f"{snapshot['chartVersion']}+{oci[7:19]}"
        if oci_digest:
            snapshot["ociDigest"] = oci
        status["lastAttemptedRevision"] = snapshot["chartVersion"]
    status["lastAttemptedRevisionDigest"] = oci
    return obj


def kustomization(
    name: str,
    *,
    namespace: str = "flux-system",
    applied: str | None = None,
    attempted: str | None = None,
    ready: str = "True",
    reason: str = "ReconciliationSucceeded",
    message: str = "",
    stalled: bool = False,
    generation: int = 7,
    observed: int = 7,
    handled: str | None = None,
    source: str = "config",
    target_namespace: str = "odoo-prod",
    legacy: bool = False,
) -> dict[str, Any]:
    def rev(value: str | None) -> str | None:
        return None if value is None else (f"main/{value}" if legacy else f"main@sha1:{value}")

    status: dict[str, Any] = {
        "observedGeneration": observed,
        "conditions": _conditions(ready, reason, message, stalled=stalled),
    }
    if applied:
        status["lastAppliedRevision"] = rev(applied)
    if attempted or applied:
        status["lastAttemptedRevision"] = rev(attempted or applied)
    if handled:
        status["lastHandledReconcileAt"] = handled
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": namespace, "generation": generation},
        "spec": {
            "interval": "5m",
            "path": "./envs/prod",
            "prune": True,
            "targetNamespace": target_namespace,
            "sourceRef": {"kind": "GitRepository", "name": source},
        },
        "status": status,
    }


def helmrelease(
    name: str,
    *,
    namespace: str = "flux-system",
    history: list[tuple[str, str]] = (("1.4.0", "deployed"),),  # type: ignore[assignment]
    attempted: str | None = None,
    ready: str = "True",
    reason: str = "UpgradeSucceeded",
    stalled: bool = False,
    handled: str | None = None,
    suspend: bool = False,
    config_digest: str = "sha256:cfg1",
    attempted_config: str | None = None,
    source: str = "config",
    remediation: bool = True,
) -> dict[str, Any]:
    snapshots = [
        {
            "name": name,
            "namespace": "odoo-prod",
            "version": len(history) - i,
            "status": st,
            "chartName": "odoo",
            "chartVersion": ver,
            "appVersion": ver,
            "configDigest": config_digest,
            "digest": digest(ver + st),
            "firstDeployed": T0,
            "lastDeployed": T0,
        }
        for i, (ver, st) in enumerate(history)
    ]
    status: dict[str, Any] = {
        "observedGeneration": 3,
        "conditions": _conditions(ready, reason, stalled=stalled),
        "history": snapshots,
        "lastAttemptedRevision": attempted or (history[0][0] if history else "0.0.0"),
        "lastAttemptedConfigDigest": attempted_config or config_digest,
        "lastAttemptedReleaseAction": "upgrade",
    }
    if handled:
        status["lastHandledReconcileAt"] = handled
    spec: dict[str, Any] = {
        "interval": "5m",
        "targetNamespace": "odoo-prod",
        "chart": {"spec": {"chart": "./charts/odoo", "sourceRef": {"kind": "GitRepository", "name": source}}},
    }
    if suspend:
        spec["suspend"] = True
    if remediation:
        spec["upgrade"] = {"remediation": {"retries": 1, "strategy": "rollback"}}
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": namespace, "generation": 3},
        "spec": spec,
        "status": status,
    }


def deployment(
    name: str,
    *,
    namespace: str = "odoo-prod",
    image: str,
    replicas: int = 2,
    revision: str = "2",
    generation: int = 2,
    observed: int = 2,
    updated: int | None = None,
    total: int | None = None,
    available: int | None = None,
    ready: int | None = None,
    deadline_exceeded: bool = False,
    uid: str | None = None,
) -> dict[str, Any]:
    progressing = (
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": f'ReplicaSet "{name}-new" has timed out progressing.',
        }
        if deadline_exceeded
        else {
            "type": "Progressing",
            "status": "True",
            "reason": "NewReplicaSetAvailable",
            "message": f'ReplicaSet "{name}-new" has successfully progressed.',
        }
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "generation": generation,
            "uid": uid or f"uid-{name}",
            "annotations": {"deployment.kubernetes.io/revision": revision},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "odoo", "image": image}]},
            },
        },
        "status": {
            "observedGeneration": observed,
            "replicas": replicas if total is None else total,
            "updatedReplicas": replicas if updated is None else updated,
            "availableReplicas": replicas if available is None else available,
            "readyReplicas": replicas if ready is None else ready,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                progressing,
            ],
        },
    }


def replicaset(deploy: dict[str, Any], *, pod_hash: str, revision: str, image: str) -> dict[str, Any]:
    name = deploy["metadata"]["name"]
    labels = {"app": name, "pod-template-hash": pod_hash}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{name}-{pod_hash}",
            "namespace": deploy["metadata"]["namespace"],
            "uid": f"uid-{name}-{pod_hash}",
            "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": revision},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": name,
                    "uid": deploy["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": {
            "replicas": deploy["spec"]["replicas"],
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "odoo", "image": image}]},
            },
        },
        "status": {"replicas": deploy["spec"]["replicas"]},
    }


def pod(rs: dict[str, Any], index: int, *, image: str, image_id: str, ready: bool = True) -> dict[str, Any]:
    labels = rs["metadata"]["labels"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{rs['metadata']['name']}-p{index}",
            "namespace": rs["metadata"]["namespace"],
            "labels": dict(labels),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs["metadata"]["name"],
                    "uid": rs["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": {"containers": [{"name": "odoo", "image": image}]},
        "status": {
            "phase": "Running" if ready else "Pending",
            "containerStatuses": [
                {
                    "name": "odoo",
                    "image": image,
                    "imageID": image_id if ready else "",
                    "ready": ready,
                    "restartCount": 0,
                }
            ],
        },
    }


def backup_job(
    name: str,
    *,
    namespace: str = "odoo-prod",
    version: str,
    backup_id: str,
    completed: str | None,
    tenant: str | None = None,
) -> dict[str, Any]:
    """A backup hook Job as the chart renders it (gitops/verify/backup_contract.py)."""
    status: dict[str, Any] = {"startTime": T0}
    if completed:
        status.update({"succeeded": 1, "completionTime": completed})
    labels = {
        "app.kubernetes.io/name": "odoo",
        "app.kubernetes.io/component": "backup",
        "odoo-gitops.io/backup": "true",
    }
    if tenant:
        labels["odoo-gitops.io/tenant"] = tenant
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": {"odoo-gitops.io/backup-id": backup_id, "odoo-gitops.io/release-version": version},
        },
        "spec": {
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "backup", "image": "postgres:16"}]}
            }
        },
        "status": status,
    }


def workload(
    api: Any,
    name: str,
    *,
    namespace: str = "odoo-prod",
    image: str,
    image_id: str,
    replicas: int = 2,
    pod_hash: str = "7d9f8",
    **deploy_kwargs: Any,
) -> None:
    """Put a Deployment with its new ReplicaSet and running pods into the fake API."""
    deploy = deployment(name, namespace=namespace, image=image, replicas=replicas, **deploy_kwargs)
    api.put(deploy)
    rs = replicaset(
        deploy,
        pod_hash=pod_hash,
        revision=deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        image=image,
    )
    api.put(rs)
    for i in range(replicas):
        api.put(pod(rs, i, image=image, image_id=image_id))
