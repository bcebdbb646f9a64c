"""Admin access to the real API server for tests/kube, and the controllers' part played by the tests.

There is no controller-manager, Argo CD or Flux: like envtest users, the tests create the objects and write
their status the way each controller does — Flux and the Deployment/ReplicaSet/Pod controllers through the
`status` subresource, Argo CD (whose Application CRD has no status subresource) by patching the object.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import yaml

from tests.fixtures.kube import KubeServer
from tests.verify import objects as o

CRDS = Path(__file__).resolve().parents[1] / "data" / "crds"
CORE = {"pods", "configmaps", "secrets", "serviceaccounts", "namespaces"}
GROUPS = {
    "applications": "argoproj.io/v1alpha1",
    "kustomizations": "kustomize.toolkit.fluxcd.io/v1",
    "helmreleases": "helm.toolkit.fluxcd.io/v2",
    "gitrepositories": "source.toolkit.fluxcd.io/v1",
    "ocirepositories": "source.toolkit.fluxcd.io/v1",
    "deployments": "apps/v1",
    "replicasets": "apps/v1",
    "jobs": "batch/v1",
    "roles": "rbac.authorization.k8s.io/v1",
    "rolebindings": "rbac.authorization.k8s.io/v1",
    "clusterroles": "rbac.authorization.k8s.io/v1",
    "clusterrolebindings": "rbac.authorization.k8s.io/v1",
}


class ApiError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:500]}")
        self.status = status


class Cluster:
    """Plain REST calls as the admin (system:masters)."""

    def __init__(self, server: KubeServer, token: str | None = None) -> None:
        self.server = server
        self.session = requests.Session()
        self.ca = str(server.certs["ca.crt"])
        self.session.headers["Authorization"] = f"Bearer {token or server.admin_token}"

    def path(self, plural: str, namespace: str | None = None, name: str | None = None) -> str:
        base = "/api/v1" if plural in CORE else f"/apis/{GROUPS[plural]}"
        out = base + (f"/namespaces/{namespace}" if namespace else "") + f"/{plural}"
        return out + (f"/{name}" if name else "")

    def request(
        self, method: str, path: str, body: Any = None, content_type: str = "application/json"
    ) -> Any:
        response = self.session.request(
            method,
            self.server.url + path,
            json=body,
            headers={"Content-Type": content_type},
            timeout=60,
            verify=self.ca,  # per request: REQUESTS_CA_BUNDLE would override a session's verify
        )
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.text)
        return response.json() if response.content else None

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        plural = PLURALS[obj["kind"]]
        namespace = obj["metadata"].get("namespace")
        body = {k: v for k, v in obj.items() if k != "status"}
        body["metadata"] = {k: v for k, v in obj["metadata"].items() if k not in ("uid", "generation")}
        created: dict[str, Any] = self.request("POST", self.path(plural, namespace), body)
        if obj.get("status"):
            created = self.write_status(created, obj["status"])
        return created

    def get(self, plural: str, namespace: str | None, name: str) -> dict[str, Any]:
        return dict(self.request("GET", self.path(plural, namespace, name)))

    def merge_patch(
        self, plural: str, namespace: str | None, name: str, patch: dict[str, Any]
    ) -> dict[str, Any]:
        return dict(
            self.request("PATCH", self.path(plural, namespace, name), patch, "application/merge-patch+json")
        )

    def write_status(self, obj: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        """Replace `status` as the owning controller would (status subresource where the kind has one)."""
        plural = PLURALS[obj["kind"]]
        meta = obj["metadata"]
        if (
            plural == "applications"
        ):  # Argo CD's CRD has no status subresource: the controller patches the object
            return self.merge_patch(plural, meta["namespace"], meta["name"], {"status": status})
        body = copy.deepcopy(obj)
        body["status"] = status
        return dict(
            self.request("PUT", self.path(plural, meta.get("namespace"), meta["name"]) + "/status", body)
        )

    def namespace(self, name: str) -> None:
        try:
            self.request(
                "POST",
                "/api/v1/namespaces",
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            )
        except ApiError as exc:
            if exc.status != 409:
                raise

    def install_crds(self, *files: str) -> None:
        """Create the CRDs from tests/data/crds and wait until each is Established."""
        for file in files:
            crd = yaml.safe_load((CRDS / file).read_text())
            try:
                self.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
            except ApiError as exc:
                if exc.status != 409:
                    raise
            name = crd["metadata"]["name"]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                got = self.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
                conds = {c["type"]: c["status"] for c in (got.get("status") or {}).get("conditions") or []}
                if conds.get("Established") == "True":
                    break
                time.sleep(0.2)
            else:
                raise TimeoutError(f"CRD {name} not Established")
        time.sleep(1.0)  # discovery and the new REST handlers settle


PLURALS = {
    "Application": "applications",
    "Kustomization": "kustomizations",
    "HelmRelease": "helmreleases",
    "GitRepository": "gitrepositories",
    "OCIRepository": "ocirepositories",
    "Deployment": "deployments",
    "ReplicaSet": "replicasets",
    "Pod": "pods",
    "Job": "jobs",
    "ConfigMap": "configmaps",
}


def in_background(action: Callable[[], None]) -> threading.Thread:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


def wait_for(check: Callable[[], Any], timeout: float = 60.0, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError("condition not met")


class Rollout:
    """The Deployment controller's part: an old ReplicaSet with running pods, then the new one."""

    def __init__(self, cluster: Cluster, name: str, *, namespace: str, image: str, replicas: int = 2) -> None:
        self.cluster, self.name, self.namespace, self.image, self.replicas = (
            cluster,
            name,
            namespace,
            image,
            replicas,
        )
        old_image = f"{o.REPO}@{o.digest('previous')}"
        deploy = o.deployment(name, namespace=namespace, image=old_image, replicas=replicas, revision="1")
        self.deploy = cluster.create(deploy)
        self.deploy = cluster.write_status(self.deploy, {**deploy["status"], "observedGeneration": 1})
        self._replicaset("old0001", "1", old_image, image_id=old_image)

    def _replicaset(self, pod_hash: str, revision: str, image: str, *, image_id: str) -> None:
        rs = self.cluster.create(o.replicaset(self.deploy, pod_hash=pod_hash, revision=revision, image=image))
        for i in range(self.replicas):
            self.cluster.create(o.pod(rs, i, image=image, image_id=image_id))

    def roll_out(self, *, image_id: str | None = None, deadline_exceeded: bool = False) -> None:
        """New spec (generation 2), the new ReplicaSet's pods, then the Deployment's status."""
        c, ns, name = self.cluster, self.namespace, self.name
        self.deploy = c.merge_patch(
            "deployments",
            ns,
            name,
            {
                "metadata": {"annotations": {"deployment.kubernetes.io/revision": "2"}},
                "spec": {"template": {"spec": {"containers": [{"name": "odoo", "image": self.image}]}}},
            },
        )
        self._replicaset("new0002", "2", self.image, image_id=image_id or self.image)
        status = o.deployment(
            name, namespace=ns, image=self.image, replicas=self.replicas, deadline_exceeded=deadline_exceeded
        )["status"]
        status["observedGeneration"] = self.deploy["metadata"]["generation"]
        self.deploy = c.write_status(self.deploy, status)
