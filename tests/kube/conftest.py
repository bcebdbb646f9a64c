"""tests/kube runs against the real API server of tests/fixtures/kube.py (one per session)."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures.kube import KubeServer, kube_admin, kube_server  # noqa: F401  (fixtures)
from tests.kube.cluster import Cluster

ALL_CRDS = (
    "argocd-application.yaml",
    "flux-gitrepository.yaml",
    "flux-ocirepository.yaml",
    "flux-kustomization.yaml",
    "flux-helmrelease.yaml",
)


@pytest.fixture(scope="session")
def cluster(kube_server: KubeServer) -> Cluster:  # noqa: F811
    """The admin's REST access, with the Argo CD and Flux CRDs installed and their namespaces created."""
    admin = Cluster(kube_server)
    admin.install_crds(*ALL_CRDS)
    for namespace in ("argocd", "flux-system"):
        admin.namespace(namespace)
    return admin


@pytest.fixture
def workload_ns(cluster: Cluster) -> str:
    """A fresh namespace for this test's Deployments, ReplicaSets and Pods."""
    name = f"odoo-{uuid.uuid4().hex[:8]}"
    cluster.namespace(name)
    return name
