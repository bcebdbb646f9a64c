"""The verification loop, with the real `kubernetes` client against the loopback API server."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from gitops.verify.convergence import Verification
from gitops.verify.kube import KubeApi, Resource
from gitops.verify.reconcilers.argocd_application import RESOURCE as APPLICATIONS
from gitops.verify.reconcilers.flux_helmrelease import RESOURCE as HELMRELEASES
from gitops.verify.reconcilers.flux_kustomization import RESOURCE as KUSTOMIZATIONS
from gitops.verify.revision import only
from gitops.verify.targets import Target
from gitops.verify.verdict import State
from tests.verify import objects as o
from tests.verify.controllers import ArgoCD, Flux, Rollout
from tests.verify.kubeserver import FakeKubeAPI

SHA = o.sha("promotion")
DIGEST = o.digest("release-1.4.0")
IMAGE = f"{o.REPO}@{DIGEST}"


def target(
    name: str,
    *,
    tenant: str | None = None,
    resource: Resource = APPLICATIONS,
    namespace: str = "argocd",
    workloads: tuple[str, ...] = ("odoo-web",),
    source: str | None = None,
    default_namespace: str = "odoo-prod",
) -> Target:
    return Target(
        tenant=tenant,
        resource=resource,
        namespace=namespace,
        name=name,
        workloads=workloads,
        default_namespace=default_namespace,
        repository=o.REPO,
        digest=DIGEST,
        accepted_digests=frozenset({DIGEST}),
        source=source,
    )


def run(kubeconfig: Path, targets: list[Target], timeout: float = 10.0):
    api = KubeApi.connect(kubeconfig=kubeconfig)
    try:
        return Verification(api, targets, accepts=only(SHA), base_backoff=0.05).run(timeout)
    finally:
        api.close()


def argo_app(kube_api: FakeKubeAPI, name: str, destination: str = "odoo-prod") -> None:
    kube_api.put(o.application(name, revision=o.sha("before"), destination=destination))


def test_healthy_rollout_is_verified_with_one_list_and_one_watch_per_kind(
    kube_api: FakeKubeAPI, kubeconfig: Path
) -> None:
    argo_app(kube_api, "odoo-staging")
    rollouts = [Rollout(kube_api, w, namespace="odoo-prod", image=IMAGE) for w in ("odoo-web", "odoo-cron")]
    ArgoCD(kube_api, revision=SHA, rollouts={"odoo-staging": rollouts})
    outcome = run(kubeconfig, [target("odoo-staging", workloads=("odoo-web", "odoo-cron"))])
    assert outcome.verified, [r.to_dict() for r in outcome.results]
    assert not outcome.timed_out
    result = outcome.results[0]
    assert result.reconciled_revision == SHA
    assert result.workload_namespace == "odoo-prod"
    assert kube_api.count("patch", "applications") == 1
    for plural in ("applications", "deployments", "replicasets", "pods"):
        assert kube_api.count("list", plural) == 1, kube_api.requests()
        assert kube_api.count("watch", plural) == 1, kube_api.requests()
    assert kube_api.count("get") == 0


def test_degraded_application_fails_fast(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    argo_app(kube_api, "odoo-staging")
    ArgoCD(kube_api, revision=SHA, default="degraded")
    outcome = run(kubeconfig, [target("odoo-staging")], timeout=30)
    assert not outcome.timed_out  # decided on the event, not by the timeout
    verdict = outcome.results[0].verdict
    assert verdict.state is State.FAILED
    assert "CrashLoopBackOff" in verdict.reasons[0]


def test_wrong_revision_times_out_and_says_what_is_missing(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    argo_app(kube_api, "odoo-staging")
    ArgoCD(kube_api, revision=SHA, default="wrong-revision")
    outcome = run(kubeconfig, [target("odoo-staging")], timeout=1.5)
    assert outcome.timed_out
    verdict = outcome.results[0].verdict
    assert verdict.state is State.PENDING
    assert any("not the promoted revision" in m for m in verdict.missing), verdict.missing


def test_wrong_digest_fails(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    argo_app(kube_api, "odoo-staging")
    rollout = Rollout(kube_api, "odoo-web", namespace="odoo-prod", image=IMAGE, outcome="wrong-digest")
    ArgoCD(kube_api, revision=SHA, rollouts={"odoo-staging": [rollout]})
    outcome = run(kubeconfig, [target("odoo-staging")])
    verdict = outcome.results[0].verdict
    assert verdict.state is State.FAILED, verdict
    assert any(o.digest("something-else") in r for r in verdict.reasons)


def test_progress_deadline_exceeded_fails(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    argo_app(kube_api, "odoo-staging")
    rollout = Rollout(kube_api, "odoo-web", namespace="odoo-prod", image=IMAGE, outcome="deadline")
    ArgoCD(kube_api, revision=SHA, rollouts={"odoo-staging": [rollout]})
    verdict = run(kubeconfig, [target("odoo-staging")]).results[0].verdict
    assert verdict.state is State.FAILED
    assert any("ProgressDeadlineExceeded" in r for r in verdict.reasons)


def test_missing_application_fails(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    verdict = run(kubeconfig, [target("odoo-nowhere")]).results[0].verdict
    assert verdict.state is State.FAILED
    assert "not found" in verdict.reasons[0]


def _while_running(action, delay: float) -> None:  # type: ignore[no-untyped-def]
    threading.Thread(target=lambda: (time.sleep(delay), action()), daemon=True).start()


def test_watch_survives_a_dropped_stream_and_resumes_from_the_bookmark(
    kube_api: FakeKubeAPI, kubeconfig: Path
) -> None:
    argo_app(kube_api, "odoo-staging")
    kube_api.put(o.application("unrelated", revision=o.sha("x")))
    rollout = Rollout(kube_api, "odoo-web", namespace="odoo-prod", image=IMAGE)
    argo = ArgoCD(kube_api, revision=SHA, default="stuck", rollouts={"odoo-staging": [rollout]})

    def drop_then_sync() -> None:
        # bookmarks arrive while nothing changes; then every stream is cut mid-watch
        while not kube_api.watching("applications"):
            time.sleep(0.02)
        kube_api.update(
            "applications", "argocd", "unrelated", lambda a: a["status"].update(reconciledAt=o.at(9))
        )
        moved_to = kube_api.state.rv  # filtered out by the field selector: only a bookmark carries it
        while sum(p == "applications" and rv >= moved_to for p, rv in kube_api.state.bookmarks_sent) < 2:
            time.sleep(0.02)
        time.sleep(0.2)  # let the client read that bookmark before the cut
        kube_api.drop_streams()
        argo.default = "healthy"
        argo._reconcile("argocd", "odoo-staging")

    _while_running(drop_then_sync, 0.1)
    outcome = run(kubeconfig, [target("odoo-staging")])
    assert outcome.verified, [r.to_dict() for r in outcome.results]
    versions = [rv for p, rv in kube_api.state.watch_versions if p == "applications"]
    assert len(versions) >= 2 and kube_api.count("list", "applications") == 1  # re-watched, not relisted
    assert versions[1] > versions[0]  # resumed from the last event / bookmark, not from the list


def test_410_gone_relists_and_continues(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    argo_app(kube_api, "odoo-staging")
    rollout = Rollout(kube_api, "odoo-web", namespace="odoo-prod", image=IMAGE)
    argo = ArgoCD(kube_api, revision=SHA, default="stuck", rollouts={"odoo-staging": [rollout]})

    def expire_then_sync() -> None:
        while not kube_api.watching("applications"):
            time.sleep(0.02)
        time.sleep(0.1)
        kube_api.expire_history()
        argo.default = "healthy"
        argo._reconcile("argocd", "odoo-staging")

    _while_running(expire_then_sync, 0.05)
    outcome = run(kubeconfig, [target("odoo-staging")])
    assert outcome.verified, [r.to_dict() for r in outcome.results]
    assert kube_api.count("list", "applications") >= 2  # relisted after 410


def test_transient_api_errors_are_retried(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    argo_app(kube_api, "odoo-staging")
    rollout = Rollout(kube_api, "odoo-web", namespace="odoo-prod", image=IMAGE)
    ArgoCD(kube_api, revision=SHA, rollouts={"odoo-staging": [rollout]})
    outcome_box = {}

    def inject() -> None:
        while not kube_api.watching("applications"):
            time.sleep(0.01)
        kube_api.fail_next.extend([503, 500])
        kube_api.drop_streams()

    _while_running(inject, 0)
    outcome_box["o"] = run(kubeconfig, [target("odoo-staging")])
    assert outcome_box["o"].verified


@pytest.mark.parametrize("own_namespaces", [False, True], ids=["shared-namespace", "namespace-per-tenant"])
def test_multi_tenant_one_failing_is_reported_per_tenant(
    kube_api: FakeKubeAPI, kubeconfig: Path, own_namespaces: bool
) -> None:
    tenants = ["acme", "globex", "initech"]
    rollouts = {}
    targets = []
    for t in tenants:
        namespace = f"odoo-prod-{t}" if own_namespaces else "odoo-prod"
        workload = "odoo-web" if own_namespaces else f"odoo-web-{t}"
        argo_app(kube_api, f"odoo-prod-{t}", destination=namespace)
        rollouts[f"odoo-prod-{t}"] = [Rollout(kube_api, workload, namespace=namespace, image=IMAGE)]
        targets.append(target(f"odoo-prod-{t}", tenant=t, workloads=(workload,)))
    ArgoCD(kube_api, revision=SHA, outcomes={"odoo-prod-globex": "degraded"}, rollouts=rollouts)
    api = KubeApi.connect(kubeconfig=kubeconfig)
    try:
        outcome = Verification(
            api, targets, accepts=only(SHA), base_backoff=0.05, cluster_scoped_workloads=own_namespaces
        ).run(10)
    finally:
        api.close()
    states = {r.target.tenant: r.verdict.state for r in outcome.results}
    assert states == {"acme": State.OK, "globex": State.FAILED, "initech": State.OK}
    assert not outcome.verified
    for plural in ("applications", "deployments", "pods"):
        assert kube_api.count("list", plural) == 1 and kube_api.count("watch", plural) == 1, (
            kube_api.requests()
        )


def flux_world(kube_api: FakeKubeAPI) -> None:
    kube_api.put(o.gitrepository("config", revision=o.sha("before")))


def test_flux_kustomization_healthy(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    flux_world(kube_api)
    kube_api.put(o.kustomization("odoo-staging", applied=o.sha("before")))
    Flux(kube_api, revision=SHA, rollouts=[Rollout(kube_api, "odoo-web", namespace="odoo-prod", image=IMAGE)])
    outcome = run(kubeconfig, [target("odoo-staging", resource=KUSTOMIZATIONS, namespace="flux-system")])
    assert outcome.verified, [r.to_dict() for r in outcome.results]
    patched = {(p, n) for p, _, n, _ in kube_api.state.patches}
    assert patched == {("kustomizations", "odoo-staging"), ("gitrepositories", "config")}


def test_flux_kustomization_stalled_fails(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    flux_world(kube_api)
    kube_api.put(o.kustomization("odoo-staging", applied=o.sha("before")))
    Flux(kube_api, revision=SHA, outcome="stalled")
    verdict = (
        run(kubeconfig, [target("odoo-staging", resource=KUSTOMIZATIONS, namespace="flux-system")])
        .results[0]
        .verdict
    )
    assert verdict.state is State.FAILED
    assert any("Stalled (BuildFailed)" in r for r in verdict.reasons)


def test_flux_helmrelease_healthy(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    flux_world(kube_api)
    kube_api.put(o.helmrelease("odoo-staging", history=[("1.3.2", "deployed")]))
    Flux(kube_api, revision=SHA, rollouts=[Rollout(kube_api, "odoo-web", namespace="odoo-prod", image=IMAGE)])
    outcome = run(kubeconfig, [target("odoo-staging", resource=HELMRELEASES, namespace="flux-system")])
    assert outcome.verified, [r.to_dict() for r in outcome.results]
    assert outcome.results[0].reconciled_revision == SHA


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_are_not_retried(kube_api: FakeKubeAPI, kubeconfig: Path, status: int) -> None:
    from gitops.errors import ExternalError

    argo_app(kube_api, "odoo-staging")
    kube_api.fail_next.append(status)
    with pytest.raises(ExternalError) as info:
        run(kubeconfig, [target("odoo-staging")])
    assert f"HTTP {status}" in str(info.value)
    assert "kube-test-token" not in str(info.value)


def oci_world(kube_api: FakeKubeAPI, name: str = "config") -> None:
    kube_api.put(o.ocirepository(name, artifact="before", origin=o.sha("before")))


def test_flux_kustomization_from_an_oci_artifact_is_verified(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    oci_world(kube_api)
    kube_api.put(o.oci_kustomization("odoo-staging", applied="before", origin=o.sha("before")))
    rollouts = [Rollout(kube_api, "odoo-web", namespace="odoo-prod", image=IMAGE)]
    Flux(kube_api, revision=SHA, rollouts=rollouts, oci="promoted-artifact")
    outcome = run(kubeconfig, [target("odoo-staging", resource=KUSTOMIZATIONS, namespace="flux-system")])
    assert outcome.verified, [r.to_dict() for r in outcome.results]
    assert outcome.results[0].reconciled_revision == SHA
    patched = {(p, n) for p, _, n, _ in kube_api.state.patches}
    assert patched == {("kustomizations", "odoo-staging"), ("ocirepositories", "config")}
    assert kube_api.count("list", "gitrepositories") == 0  # only the kind the object names is watched


def test_an_oci_artifact_of_an_older_commit_times_out(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    oci_world(kube_api)
    kube_api.put(o.oci_kustomization("odoo-staging", applied="before", origin=o.sha("before")))
    Flux(kube_api, revision=o.sha("older"), oci="older-artifact")
    outcome = run(kubeconfig, [target("odoo-staging", resource=KUSTOMIZATIONS, namespace="flux-system")], 1.5)
    assert outcome.timed_out
    verdict = outcome.results[0].verdict
    assert verdict.state is State.PENDING
    assert any("not the promoted revision" in m for m in verdict.missing), verdict.missing


def test_flux_helmrelease_of_an_oci_chart_is_verified(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    oci_world(kube_api, "charts")
    kube_api.put(o.oci_helmrelease("odoo-staging", artifact="before", history=[("1.3.2", "deployed")]))
    rollouts = [Rollout(kube_api, "odoo-web", namespace="odoo-prod", image=IMAGE)]
    Flux(kube_api, revision=SHA, rollouts=rollouts, oci="promoted-chart")
    outcome = run(kubeconfig, [target("odoo-staging", resource=HELMRELEASES, namespace="flux-system")])
    assert outcome.verified, [r.to_dict() for r in outcome.results]
    assert outcome.results[0].reconciled_revision == SHA


def test_a_helmrelease_from_a_helmrepository_fails_fast(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    hr = o.helmrelease("odoo-staging")
    hr["spec"]["chart"]["spec"]["sourceRef"] = {"kind": "HelmRepository", "name": "bitnami"}
    kube_api.put(hr)
    Flux(kube_api, revision=SHA)
    outcome = run(kubeconfig, [target("odoo-staging", resource=HELMRELEASES, namespace="flux-system")], 30)
    assert not outcome.timed_out
    verdict = outcome.results[0].verdict
    assert verdict.state is State.FAILED
    assert any("a HelmRepository source proves no config-repo commit" in r for r in verdict.reasons)
