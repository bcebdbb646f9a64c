"""Scripted stand-ins for the Argo CD / Flux controllers and the Deployment controller.

They act on the loopback API server the way the real controllers would: consume the refresh request,
move the status through its phases, roll a Deployment out pod by pod. Each scenario picks an outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from tests.verify import objects as o
from tests.verify.kubeserver import FakeKubeAPI

STEP = 0.03


def later(action: Callable[[], None], delay: float = STEP) -> None:
    def run() -> None:
        time.sleep(delay)
        action()

    threading.Thread(target=run, daemon=True).start()


class Rollout:
    """A Deployment going from the previous image to the release image, pod by pod."""

    def __init__(
        self,
        api: FakeKubeAPI,
        name: str,
        *,
        namespace: str,
        image: str,
        image_id: str | None = None,
        outcome: str = "healthy",
        replicas: int = 2,
        old_image: str | None = None,
    ) -> None:
        self.api, self.name, self.ns = api, name, namespace
        self.image, self.image_id = image, image_id or image
        self.outcome, self.replicas = outcome, replicas
        old_image = old_image or f"{o.REPO}@{o.digest('previous')}"
        deploy = o.deployment(
            name,
            namespace=namespace,
            image=old_image,
            replicas=replicas,
            revision="1",
            generation=1,
            observed=1,
        )
        api.put(deploy)
        self.deploy = deploy
        self.old_rs = o.replicaset(deploy, pod_hash="old0001", revision="1", image=old_image)
        api.put(self.old_rs)
        self.old_pods = [o.pod(self.old_rs, i, image=old_image, image_id=old_image) for i in range(replicas)]
        for p in self.old_pods:
            api.put(p)

    def _status(self, **status: Any) -> Callable[[dict[str, Any]], None]:
        def change(d: dict[str, Any]) -> None:
            d["status"].update(status)

        return change

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        api, n, ns = self.api, self.name, self.ns

        def new_spec(d: dict[str, Any]) -> None:
            d["metadata"]["generation"] = 2
            d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "2"
            d["spec"]["template"]["spec"]["containers"][0]["image"] = self.image
            d["status"].update(updatedReplicas=0)

        api.update("deployments", ns, n, new_spec)
        time.sleep(STEP)
        deploy = api.get("deployments", ns, n)
        assert deploy is not None
        new_rs = o.replicaset(deploy, pod_hash="new0002", revision="2", image=self.image)
        api.put(new_rs)
        api.update(
            "deployments",
            ns,
            n,
            self._status(
                observedGeneration=2,
                replicas=self.replicas + 1,
                updatedReplicas=1,
                availableReplicas=self.replicas,
            ),
        )
        if self.outcome == "deadline":
            time.sleep(STEP)

            def exceeded(d: dict[str, Any]) -> None:
                d["status"]["conditions"][1] = {
                    "type": "Progressing",
                    "status": "False",
                    "reason": "ProgressDeadlineExceeded",
                    "message": f'ReplicaSet "{n}-new0002" has timed out progressing.',
                }

            api.update("deployments", ns, n, exceeded)
            return
        image_id = (
            self.image_id if self.outcome != "wrong-digest" else f"{o.REPO}@{o.digest('something-else')}"
        )
        for i in range(self.replicas):
            time.sleep(STEP)
            api.put(o.pod(new_rs, i, image=self.image, image_id=image_id))
            api.delete("pods", ns, self.old_pods[i]["metadata"]["name"])
        time.sleep(STEP)
        api.update(
            "deployments",
            ns,
            n,
            self._status(
                replicas=self.replicas,
                updatedReplicas=self.replicas,
                availableReplicas=self.replicas,
                readyReplicas=self.replicas,
            ),
        )


class ArgoCD:
    """Consumes the refresh annotation and syncs to `revision` with the scripted outcome."""

    def __init__(
        self,
        api: FakeKubeAPI,
        *,
        revision: str,
        outcomes: dict[str, str] | None = None,
        rollouts: dict[str, list[Rollout]] | None = None,
        default: str = "healthy",
    ) -> None:
        self.api, self.revision = api, revision
        self.outcomes = outcomes or {}
        self.rollouts = rollouts or {}
        self.default = default
        api.patch_hooks.append(self._on_patch)

    def _on_patch(self, plural: str, ns: str, name: str, body: dict[str, Any]) -> None:
        if plural == "applications" and "argocd.argoproj.io/refresh" in body["metadata"].get(
            "annotations", {}
        ):
            later(lambda: self._reconcile(ns, name))

    def _reconcile(self, ns: str, name: str) -> None:
        outcome = self.outcomes.get(name, self.default)
        sha = self.revision if outcome != "wrong-revision" else o.sha("some-other-branch")

        def consume(app: dict[str, Any]) -> None:
            app["metadata"]["annotations"].pop("argocd.argoproj.io/refresh", None)
            app["status"]["reconciledAt"] = o.at(0, 30)

        def syncing(app: dict[str, Any]) -> None:
            app["status"]["sync"].update(status="Synced", revision=sha)
            app["status"]["health"]["status"] = "Progressing"
            app["status"]["operationState"].update(
                phase="Running",
                startedAt=o.at(1, 0),
                syncResult={"revision": sha},
                operation={"sync": {"revision": sha}},
            )
            app["status"]["operationState"].pop("finishedAt", None)

        def synced(app: dict[str, Any]) -> None:
            degraded = outcome == "degraded"
            app["status"]["operationState"].update(phase="Succeeded", finishedAt=o.at(2, 3))
            app["status"]["health"] = {
                "status": "Degraded" if degraded else "Healthy",
                "lastTransitionTime": o.at(2, 4),
            }
            if degraded:
                app["status"]["health"]["message"] = "Deployment odoo-web: CrashLoopBackOff"
            app["status"]["reconciledAt"] = o.at(2, 45)
            app["status"]["history"].append({"id": 99, "revision": sha, "deployedAt": o.at(2, 3)})

        self.api.update("applications", ns, name, consume)
        if outcome == "stuck":
            return
        time.sleep(STEP)
        self.api.update("applications", ns, name, syncing)
        for rollout in self.rollouts.get(name, []):
            rollout.start()
        time.sleep(STEP * 3)
        self.api.update("applications", ns, name, synced)


class Flux:
    """Handles `reconcile.fluxcd.io/requestedAt` on Kustomizations, HelmReleases, GitRepositories and
    OCIRepositories. With `oci` (a seed for the artifact's digest) the sources are OCIRepositories: the
    artifact revision is `latest@sha256:…`, built from `revision` (its origin revision annotation)."""

    def __init__(
        self,
        api: FakeKubeAPI,
        *,
        revision: str,
        outcome: str = "healthy",
        rollouts: list[Rollout] | None = None,
        oci: str | None = None,
    ) -> None:
        self.api, self.revision, self.outcome, self.oci = api, revision, outcome, oci
        self.rollouts = rollouts or []
        api.patch_hooks.append(self._on_patch)

    def _on_patch(self, plural: str, ns: str, name: str, body: dict[str, Any]) -> None:
        token = body["metadata"].get("annotations", {}).get("reconcile.fluxcd.io/requestedAt")
        if token:
            later(lambda: self._reconcile(plural, ns, name, token))

    def _reconcile(self, plural: str, ns: str, name: str, token: str) -> None:
        origin = f"main@sha1:{self.revision}"
        rev = o.oci_revision(self.oci) if self.oci else origin
        chart = f"1.4.0+{o.digest(self.oci)[7:19]}" if self.oci else "1.4.0"

        def source(obj: dict[str, Any]) -> None:
            obj["status"]["artifact"]["revision"] = rev
            if self.oci:
                obj["status"]["artifact"]["metadata"] = {o.ORIGIN: origin}
            obj["status"]["lastHandledReconcileAt"] = token

        def kustomization(obj: dict[str, Any]) -> None:
            st = obj["status"]
            st["lastHandledReconcileAt"] = token
            st["lastAttemptedRevision"] = rev
            if self.outcome == "stalled":
                st["conditions"] = [
                    {
                        "type": "Ready",
                        "status": "False",
                        "reason": "BuildFailed",
                        "message": "kustomize build failed: accumulating resources",
                        "lastTransitionTime": o.T0,
                    },
                    {
                        "type": "Stalled",
                        "status": "True",
                        "reason": "BuildFailed",
                        "message": "kustomize build failed: accumulating resources",
                        "lastTransitionTime": o.T0,
                    },
                ]
                return
            st["lastAppliedRevision"] = rev
            if self.oci:
                st["lastAppliedOriginRevision"] = origin
            st["conditions"] = [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "ReconciliationSucceeded",
                    "message": f"Applied revision: {rev}",
                    "lastTransitionTime": o.T0,
                }
            ]

        def helmrelease(obj: dict[str, Any]) -> None:
            st = obj["status"]
            st["lastHandledReconcileAt"] = token
            st["history"].insert(
                0,
                {
                    **st["history"][0],
                    "version": st["history"][0]["version"] + 1,
                    "chartVersion": chart,
                    "appVersion": "1.4.0",
                    **({"ociDigest": o.digest(self.oci)} if self.oci else {}),
                },
            )
            st["history"][1]["status"] = "superseded"
            st["lastAttemptedRevision"] = chart
            if self.oci:
                st["lastAttemptedRevisionDigest"] = o.digest(self.oci)

        if plural in ("gitrepositories", "ocirepositories"):
            self.api.update(plural, ns, name, source)
            return
        time.sleep(STEP * 2)
        for rollout in self.rollouts:
            rollout.start()
        time.sleep(STEP * 2)
        self.api.update(plural, ns, name, kustomization if plural == "kustomizations" else helmrelease)
