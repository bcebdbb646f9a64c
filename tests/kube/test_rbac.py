"""Least privilege, proven on the real API server: verify runs as a service account bound to exactly the
roles of charts/verify-rbac, does its job, and can read no Secret, exec into no pod and write nothing but the
refresh annotation patch."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from gitops.verify.reconcilers.argocd_application import RESOURCE as APPLICATIONS
from gitops.verify.reconcilers.flux_kustomization import RESOURCE as KUSTOMIZATIONS
from gitops.verify.verdict import State
from tests.fixtures.charts import Helm
from tests.fixtures.components import REPO
from tests.fixtures.kube import KubeServer
from tests.kube.cluster import ApiError, Cluster, Rollout
from tests.kube.reconcilers import argocd_syncs, flux_reconciles
from tests.kube.test_verify_real import IMAGE, SHA, _git_status, _gitrepository, joined, run, target, unique
from tests.verify import objects as o

RBAC_CHART = REPO / "charts" / "verify-rbac"


def token_for(cluster: Cluster, namespace: str, name: str) -> str:
    """A bound service-account token (TokenRequest API), as `kubectl create token` would issue."""
    body = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": 3600},
    }
    answer = cluster.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", body)
    return str(answer["status"]["token"])


@pytest.fixture
def verifier(
    cluster: Cluster, kube_server: KubeServer, kube_admin: Path, helm: Helm, workload_ns: str, tmp_path: Path
) -> tuple[Path, Cluster]:
    """A kubeconfig and a REST client holding only the verify service account's token."""
    sa_ns = f"gitops-{uuid.uuid4().hex[:6]}"
    cluster.namespace(sa_ns)
    manifest = helm.run(
        "template",
        "verify-rbac",
        str(RBAC_CHART),
        "--set",
        f"serviceAccount.namespace={sa_ns}",
        "--set",
        "reconcilerNamespaces={argocd,flux-system}",
        "--set",
        f"workloadNamespaces={{{workload_ns}}}",
    )
    docs = [d for d in yaml.safe_load_all(manifest) if d]
    # ClusterRoles are shared by the session's tests; apply is idempotent
    kube_server.kubectl(kube_admin, "apply", "-f", "-", stdin=manifest)
    assert {d["kind"] for d in docs} == {"ServiceAccount", "ClusterRole", "RoleBinding"}
    token = token_for(cluster, sa_ns, "odoo-gitops-verify")
    return kube_server.kubeconfig(tmp_path / "verify.kubeconfig", token=token), Cluster(kube_server, token)


def can_i_list(kube_server: KubeServer, kubeconfig: Path, namespace: str) -> set[tuple[str, str]]:
    """(resource, verb) pairs of `kubectl auth can-i --list` (non-resource URLs left out)."""
    out = kube_server.kubectl(kubeconfig, "auth", "can-i", "--list", "-n", namespace).stdout
    pairs = set()
    for line in out.splitlines()[1:]:
        if not line.strip() or line[0].isspace():  # a non-resource URL row has no resource column
            continue
        resource = line.split()[0]
        verbs = line[line.rindex("[") + 1 : line.rindex("]")].split()
        pairs.update((resource, verb) for verb in verbs)
    return pairs


def test_can_i_list_shows_read_and_refresh_only(
    verifier: tuple[Path, Cluster], kube_server: KubeServer, workload_ns: str
) -> None:
    kubeconfig, _ = verifier
    reconcilers = can_i_list(kube_server, kubeconfig, "argocd")
    for group in ("applications.argoproj.io", "kustomizations.kustomize.toolkit.fluxcd.io"):
        assert {(group, "list"), (group, "watch"), (group, "patch")} <= reconcilers, reconcilers
    workloads = can_i_list(kube_server, kubeconfig, workload_ns)
    assert {("deployments.apps", "list"), ("deployments.apps", "watch"), ("pods", "watch")} <= workloads
    granted = {r for r, _ in reconcilers | workloads}
    assert not any(r.startswith("secrets") for r in granted), granted
    assert not any("exec" in r for r in granted), granted
    writes = {(r, v) for r, v in reconcilers | workloads if v not in ("get", "list", "watch")}
    # self-reviews (create selfsubject*reviews) are every authenticated user's; the only other write is the
    # refresh patch on the four reconciler kinds
    writes = {(r, v) for r, v in writes if not (r.startswith("selfsubject") and v == "create")}
    reconciler_kinds = (
        "applications.argoproj.io",
        "kustomizations.kustomize.toolkit.fluxcd.io",
        "helmreleases.helm.toolkit.fluxcd.io",
        "gitrepositories.source.toolkit.fluxcd.io",
    )
    assert writes == {(r, "patch") for r in reconciler_kinds}, writes


@pytest.mark.parametrize(
    ("verb", "resource", "namespace"),
    [
        ("get", "secrets", "WORKLOAD"),
        ("list", "secrets", "argocd"),
        ("create", "pods/exec", "WORKLOAD"),
        ("patch", "deployments", "WORKLOAD"),
        ("delete", "pods", "WORKLOAD"),
        ("create", "configmaps", "WORKLOAD"),
        ("delete", "applications.argoproj.io", "argocd"),
        ("update", "applications.argoproj.io", "argocd"),
        ("list", "deployments", "kube-system"),
        ("create", "clusterrolebindings", ""),
    ],
)
def test_can_i_says_no(
    verifier: tuple[Path, Cluster],
    kube_server: KubeServer,
    workload_ns: str,
    verb: str,
    resource: str,
    namespace: str,
) -> None:
    kubeconfig, _ = verifier
    ns = workload_ns if namespace == "WORKLOAD" else namespace
    args = ["auth", "can-i", verb, resource] + (["-n", ns] if ns else [])
    result = kube_server.kubectl(kubeconfig, *args, check=False)
    assert result.stdout.strip() == "no", (args, result.stdout, result.stderr)


def test_attempted_calls_outside_the_role_are_forbidden(
    verifier: tuple[Path, Cluster], cluster: Cluster, workload_ns: str
) -> None:
    _, as_verifier = verifier
    cluster.request(
        "POST",
        f"/api/v1/namespaces/{workload_ns}/secrets",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "x"}},
    )
    rollout = Rollout(cluster, "odoo-web", namespace=workload_ns, image=IMAGE)
    pod = "odoo-web-old0001-p0"
    attempts = [
        ("GET", f"/api/v1/namespaces/{workload_ns}/secrets/db", None, "application/json"),
        ("GET", f"/api/v1/namespaces/{workload_ns}/secrets", None, "application/json"),
        (
            "POST",
            f"/api/v1/namespaces/{workload_ns}/pods/{pod}/exec?command=sh&stdout=true",
            None,
            "application/json",
        ),
        ("GET", f"/api/v1/namespaces/{workload_ns}/pods/{pod}/log", None, "application/json"),
        (
            "PATCH",
            f"/apis/apps/v1/namespaces/{workload_ns}/deployments/odoo-web",
            {"spec": {"replicas": 0}},
            "application/merge-patch+json",
        ),
        ("DELETE", f"/api/v1/namespaces/{workload_ns}/pods/{pod}", None, "application/json"),
        (
            "POST",
            f"/api/v1/namespaces/{workload_ns}/configmaps",
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
            "application/json",
        ),
    ]
    for method, path, body, content_type in attempts:
        with pytest.raises(ApiError) as raised:
            as_verifier.request(method, path, body, content_type)
        assert raised.value.status == 403, (method, path, raised.value)
    assert rollout.deploy["spec"]["replicas"] == 2


def test_verify_does_its_job_as_the_service_account(
    verifier: tuple[Path, Cluster], cluster: Cluster, workload_ns: str
) -> None:
    kubeconfig, _ = verifier
    name = unique("odoo")
    cluster.create(o.application(name, revision=o.sha("before"), destination=workload_ns))
    rollout = Rollout(cluster, "odoo-web", namespace=workload_ns, image=IMAGE)
    controller = argocd_syncs(cluster, name, revision=SHA, rollouts=[rollout])
    outcome = run(kubeconfig, [target(name, workload_ns)])
    joined(controller)
    assert outcome.verified, [r.to_dict() for r in outcome.results]


def test_verify_with_flux_as_the_service_account(
    verifier: tuple[Path, Cluster], cluster: Cluster, workload_ns: str
) -> None:
    kubeconfig, _ = verifier
    source, name = unique("config"), unique("odoo")
    _gitrepository(cluster, source)
    ks = o.kustomization(name, applied=o.sha("before"), source=source, target_namespace=workload_ns)
    ks["metadata"].pop("generation")
    cluster.create(ks)
    rollout = Rollout(cluster, "odoo-web", namespace=workload_ns, image=IMAGE)
    threads = [
        flux_reconciles(cluster, "gitrepositories", source, status=_git_status(SHA)),
        flux_reconciles(
            cluster,
            "kustomizations",
            name,
            status=o.kustomization(name, applied=SHA)["status"],
            rollouts=[rollout],
        ),
    ]
    outcome = run(
        kubeconfig,
        [target(name, workload_ns, resource=KUSTOMIZATIONS, namespace="flux-system", source=source)],
    )
    for thread in threads:
        joined(thread)
    assert outcome.verified, [r.to_dict() for r in outcome.results]


def test_without_the_binding_verify_fails_with_a_clear_403(
    cluster: Cluster, kube_server: KubeServer, tmp_path: Path, workload_ns: str
) -> None:
    """A service account with no role: verify reports the 403 and the RBAC hint (no traceback, no token)."""
    from gitops.verify.kube import KubeError

    sa_ns = f"gitops-{uuid.uuid4().hex[:6]}"
    cluster.namespace(sa_ns)
    cluster.request(
        "POST",
        f"/api/v1/namespaces/{sa_ns}/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nobody"}},
    )
    token = token_for(cluster, sa_ns, "nobody")
    kubeconfig = kube_server.kubeconfig(tmp_path / "nobody.kubeconfig", token=token)
    name = unique("odoo")
    cluster.create(o.application(name, revision=o.sha("before"), destination=workload_ns))
    with pytest.raises(KubeError) as raised:
        run(kubeconfig, [target(name, workload_ns)], timeout=20)
    assert raised.value.status == 403
    assert token not in str(raised.value) and token not in (raised.value.hint or "")
    _ = APPLICATIONS, State
