"""Argo CD and Flux as the real API server sees them: wait for verify's refresh request, then write status.

Each runs in a thread, polls the object (GET) until the request annotation arrives, and answers the way the
controller does: Argo CD removes `argocd.argoproj.io/refresh` and patches status on the object; Flux copies
`reconcile.fluxcd.io/requestedAt` to `status.lastHandledReconcileAt` through the status subresource.
"""

from __future__ import annotations

import threading
from typing import Any

from gitops.verify import flux_status as flux
from gitops.verify.reconcilers import argocd_application as argocd
from tests.kube.cluster import Cluster, Rollout, in_background, wait_for
from tests.verify import objects as o


def argocd_syncs(
    cluster: Cluster,
    name: str,
    *,
    revision: str,
    rollouts: list[Rollout] = (),  # type: ignore[assignment]
    namespace: str = "argocd",
    health: str = "Healthy",
    message: str = "",
    image_id: str | None = None,
) -> threading.Thread:
    def requested() -> dict[str, Any] | None:
        app = cluster.get("applications", namespace, name)
        return app if argocd.REFRESH_ANNOTATION in (app["metadata"].get("annotations") or {}) else None

    def run() -> None:
        wait_for(requested)
        cluster.merge_patch(
            "applications", namespace, name, {"metadata": {"annotations": {argocd.REFRESH_ANNOTATION: None}}}
        )
        for rollout in rollouts:
            rollout.roll_out(image_id=image_id)
        app = cluster.get("applications", namespace, name)
        status = o.application(name, revision=revision, health=health, message=message)["status"]
        cluster.write_status(app, status)

    return in_background(run)


def flux_reconciles(
    cluster: Cluster,
    plural: str,
    name: str,
    *,
    status: dict[str, Any],
    namespace: str = "flux-system",
    rollouts: list[Rollout] = (),  # type: ignore[assignment]
) -> threading.Thread:
    """`plural` is kustomizations, helmreleases or gitrepositories; `status` what the controller reports."""

    def requested() -> dict[str, Any] | None:
        obj = cluster.get(plural, namespace, name)
        token = (obj["metadata"].get("annotations") or {}).get(flux.REQUESTED_AT_ANNOTATION)
        return obj if token else None

    def run() -> None:
        obj = wait_for(requested)
        token = obj["metadata"]["annotations"][flux.REQUESTED_AT_ANNOTATION]
        for rollout in rollouts:
            rollout.roll_out()
        current = cluster.get(plural, namespace, name)
        new_status = {
            **status,
            "observedGeneration": current["metadata"]["generation"],
            "lastHandledReconcileAt": token,
        }
        cluster.write_status(current, new_status)

    return in_background(run)
