"""verify's reconciler and rollout checks against the real kube-apiserver (v1.20.2, tests/fixtures/kube.py).

The Argo CD and Flux CRDs are the published ones (tests/data/crds), so every object and every status the tests
write passes the server's own schema validation; status goes through the status subresource as controllers
write it. What the loopback server (tests/verify/kubeserver.py) still covers alone is listed in
tests/kube/README.md.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from gitops.verify.convergence import Outcome, Verification
from gitops.verify.kube import KubeApi
from gitops.verify.reconcilers.flux_helmrelease import RESOURCE as HELMRELEASES
from gitops.verify.reconcilers.flux_kustomization import RESOURCE as KUSTOMIZATIONS
from gitops.verify.revision import only
from gitops.verify.service import VerifyReport
from gitops.verify.targets import Target
from gitops.verify.verdict import State
from tests.fixtures.kube import KubeServer
from tests.kube.cluster import Cluster, Rollout
from tests.kube.reconcilers import argocd_syncs, flux_reconciles
from tests.verify import objects as o
from tests.verify.test_convergence import target as convergence_target

SHA = o.sha("promotion")
DIGEST = o.digest("release-1.4.0")
IMAGE = f"{o.REPO}@{DIGEST}"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def target(name: str, workload_ns: str, **kwargs: Any) -> Target:
    """tests/verify's target, its workloads in the real server's namespace `workload_ns`."""
    return convergence_target(name, default_namespace=workload_ns, **kwargs)


def run(kubeconfig: Path, targets: list[Target], timeout: float = 60.0, base_backoff: float = 0.2) -> Outcome:
    api = KubeApi.connect(kubeconfig=kubeconfig)
    try:
        return Verification(api, targets, accepts=only(SHA), base_backoff=base_backoff).run(timeout)
    finally:
        api.close()


def joined(thread: object) -> None:
    thread.join(timeout=30)  # type: ignore[attr-defined]
    assert not thread.errors, thread.errors  # type: ignore[attr-defined]


def test_argocd_application_reconciled_and_rollout_verified(
    cluster: Cluster, kube_admin: Path, workload_ns: str
) -> None:
    name = unique("odoo")
    cluster.create(o.application(name, revision=o.sha("before"), destination=workload_ns))
    rollouts = [Rollout(cluster, w, namespace=workload_ns, image=IMAGE) for w in ("odoo-web", "odoo-cron")]
    controller = argocd_syncs(cluster, name, revision=SHA, rollouts=rollouts)
    outcome = run(kube_admin, [target(name, workload_ns, workloads=("odoo-web", "odoo-cron"))])
    joined(controller)
    assert outcome.verified, [r.to_dict() for r in outcome.results]
    assert outcome.results[0].reconciled_revision == SHA
    assert outcome.results[0].workload_namespace == workload_ns


def test_argocd_degraded_application_fails(cluster: Cluster, kube_admin: Path, workload_ns: str) -> None:
    name = unique("odoo")
    cluster.create(o.application(name, revision=o.sha("before"), destination=workload_ns))
    controller = argocd_syncs(
        cluster, name, revision=SHA, health="Degraded", message="Deployment odoo-web: CrashLoopBackOff"
    )
    outcome = run(kube_admin, [target(name, workload_ns)])
    joined(controller)
    verdict = outcome.results[0].verdict
    assert verdict.state is State.FAILED, verdict
    assert not outcome.timed_out
    assert "CrashLoopBackOff" in verdict.reasons[0]


def test_argocd_synced_but_pods_run_another_digest_fails(
    cluster: Cluster, kube_admin: Path, workload_ns: str
) -> None:
    name = unique("odoo")
    cluster.create(o.application(name, revision=o.sha("before"), destination=workload_ns))
    rollout = Rollout(cluster, "odoo-web", namespace=workload_ns, image=IMAGE)
    other = f"{o.REPO}@{o.digest('something-else')}"
    controller = argocd_syncs(cluster, name, revision=SHA, rollouts=[rollout], image_id=other)
    outcome = run(kube_admin, [target(name, workload_ns)])
    joined(controller)
    verdict = outcome.results[0].verdict
    assert verdict.state is State.FAILED, verdict
    assert any(o.digest("something-else") in r for r in verdict.reasons), verdict.reasons


def test_argocd_missing_application_fails(kube_admin: Path, cluster: Cluster, workload_ns: str) -> None:
    verdict = run(kube_admin, [target(unique("nowhere"), workload_ns)]).results[0].verdict
    assert verdict.state is State.FAILED
    assert "not found" in verdict.reasons[0]


def _gitrepository(cluster: Cluster, name: str) -> None:
    repo = o.gitrepository(name, revision=o.sha("before"))
    cluster.create(repo)


def _git_status(revision: str) -> dict[str, object]:
    return o.gitrepository("x", revision=revision)["status"]


def test_flux_kustomization_from_a_git_source_verified(
    cluster: Cluster, kube_admin: Path, workload_ns: str
) -> None:
    source, name = unique("config"), unique("odoo")
    _gitrepository(cluster, source)
    ks = o.kustomization(name, applied=o.sha("before"), source=source, target_namespace=workload_ns)
    ks["metadata"].pop("generation")
    cluster.create(ks)
    rollout = Rollout(cluster, "odoo-web", namespace=workload_ns, image=IMAGE)
    ks_status = o.kustomization(name, applied=SHA, source=source)["status"]
    threads = [
        flux_reconciles(cluster, "gitrepositories", source, status=_git_status(SHA)),
        flux_reconciles(cluster, "kustomizations", name, status=ks_status, rollouts=[rollout]),
    ]
    outcome = run(
        kube_admin,
        [target(name, workload_ns, resource=KUSTOMIZATIONS, namespace="flux-system", source=source)],
    )
    for thread in threads:
        joined(thread)
    assert outcome.verified, [r.to_dict() for r in outcome.results]
    assert outcome.results[0].reconciled_revision == SHA


def test_flux_kustomization_apply_failure_of_the_promoted_revision_fails(
    cluster: Cluster, kube_admin: Path, workload_ns: str
) -> None:
    source, name = unique("config"), unique("odoo")
    _gitrepository(cluster, source)
    ks = o.kustomization(name, applied=o.sha("before"), source=source, target_namespace=workload_ns)
    ks["metadata"].pop("generation")
    cluster.create(ks)
    failed = o.kustomization(
        name,
        applied=o.sha("before"),
        attempted=SHA,
        ready="False",
        reason="ReconciliationFailed",
        message="Deployment/odoo-web dry-run failed",
        source=source,
    )["status"]
    threads = [
        flux_reconciles(cluster, "gitrepositories", source, status=_git_status(SHA)),
        flux_reconciles(cluster, "kustomizations", name, status=failed),
    ]
    outcome = run(
        kube_admin,
        [target(name, workload_ns, resource=KUSTOMIZATIONS, namespace="flux-system", source=source)],
    )
    for thread in threads:
        joined(thread)
    verdict = outcome.results[0].verdict
    assert verdict.state is State.FAILED, verdict
    assert any("dry-run failed" in r for r in verdict.reasons)


def test_flux_helmrelease_verified_through_its_git_source(
    cluster: Cluster, kube_admin: Path, workload_ns: str
) -> None:
    source, name = unique("config"), unique("odoo")
    _gitrepository(cluster, source)
    hr = o.helmrelease(name, history=[("1.3.0", "deployed")], source=source)
    hr["metadata"].pop("generation")
    hr["spec"]["targetNamespace"] = workload_ns
    cluster.create(hr)
    rollout = Rollout(cluster, "odoo-web", namespace=workload_ns, image=IMAGE)
    hr_status = o.helmrelease(name, history=[("1.4.0", "deployed"), ("1.3.0", "superseded")], source=source)[
        "status"
    ]
    for snapshot in hr_status["history"]:
        snapshot["namespace"] = workload_ns
    threads = [
        flux_reconciles(cluster, "gitrepositories", source, status=_git_status(SHA)),
        flux_reconciles(cluster, "helmreleases", name, status=hr_status, rollouts=[rollout]),
    ]
    outcome = run(
        kube_admin, [target(name, workload_ns, resource=HELMRELEASES, namespace="flux-system", source=source)]
    )
    for thread in threads:
        joined(thread)
    assert outcome.verified, [r.to_dict() for r in outcome.results]


def oci_world(cluster: Cluster, workload_ns: str) -> tuple[str, str]:
    """An OCIRepository (no artifact yet) and a Kustomization that applied an older artifact from it."""
    source, name = unique("config-oci"), unique("odoo")
    repo = o.ocirepository(source)
    repo["metadata"].pop("generation")
    cluster.create(repo)
    ks = o.oci_kustomization(
        name, applied="before", origin=o.sha("before"), source=source, target_namespace=workload_ns
    )
    ks["metadata"].pop("generation")
    cluster.create(ks)
    return source, name


def oci_reconciles(
    cluster: Cluster,
    source: str,
    name: str,
    *,
    artifact: str,
    origin: str,
    applied: str,
    rollouts: list[Rollout],
) -> list[Any]:
    """source-controller publishes `artifact` (pushed from commit `origin`; revision `latest@sha256:…`, the
    commit in `status.artifact.metadata["org.opencontainers.image.revision"]` as `main@sha1:<sha>`), then
    kustomize-controller reports it applied `applied` — both through the status subresource."""
    repo_status = o.ocirepository(source, artifact=artifact, origin=origin)["status"]
    ks_status = o.oci_kustomization(name, applied=applied, origin=origin, source=source)["status"]
    return [
        flux_reconciles(cluster, "ocirepositories", source, status=repo_status),
        flux_reconciles(cluster, "kustomizations", name, status=ks_status, rollouts=rollouts),
    ]


def test_flux_kustomization_from_an_oci_source_proves_the_promoted_revision(
    cluster: Cluster, kube_admin: Path, workload_ns: str
) -> None:
    source, name = oci_world(cluster, workload_ns)
    rollout = Rollout(cluster, "odoo-web", namespace=workload_ns, image=IMAGE)
    threads = oci_reconciles(
        cluster, source, name, artifact="promoted", origin=SHA, applied="promoted", rollouts=[rollout]
    )
    outcome = run(
        kube_admin,
        [target(name, workload_ns, resource=KUSTOMIZATIONS, namespace="flux-system", source=source)],
    )
    for thread in threads:
        joined(thread)
    assert outcome.verified, [r.to_dict() for r in outcome.results]
    assert outcome.results[0].reconciled_revision == SHA
    stored = cluster.get("ocirepositories", "flux-system", source)["status"]["artifact"]
    assert stored["revision"] == o.oci_revision("promoted")  # the server kept Flux's revision form
    assert stored["metadata"][o.ORIGIN] == f"main@sha1:{SHA}"


@pytest.mark.parametrize(
    ("origin", "applied", "seen"),
    [
        # the artifact was pushed from another commit: its digest is real, its origin is not the promotion
        (o.sha("elsewhere"), "promoted", f"(built from {o.sha('elsewhere')[:12]}), not the promoted"),
        # the Kustomization applied another digest than the artifact that carries the promoted commit
        (SHA, "other-artifact", o.oci_revision("other-artifact")),
    ],
    ids=["artifact-of-another-commit", "another-digest-applied"],
)
def test_flux_kustomization_from_an_oci_source_refuses_another_revision_with_exit_4(
    cluster: Cluster, kube_admin: Path, workload_ns: str, origin: str, applied: str, seen: str
) -> None:
    source, name = oci_world(cluster, workload_ns)
    threads = oci_reconciles(
        cluster, source, name, artifact="promoted", origin=origin, applied=applied, rollouts=[]
    )
    outcome = run(
        kube_admin,
        [target(name, workload_ns, resource=KUSTOMIZATIONS, namespace="flux-system", source=source)],
        8,
    )
    for thread in threads:
        joined(thread)
    verdict = outcome.results[0].verdict
    assert verdict.state is not State.OK, verdict
    assert any(seen in m for m in [*verdict.missing, *verdict.reasons]), verdict
    report = VerifyReport("prod", SHA, outcome, None, 0.0)
    assert report.state in ("failed", "timed-out")
    # verify() raises any state but "verified" as a VerificationError: exit 4 (gitops/errors.py)


def test_server_rejects_a_status_that_breaks_the_published_schema(cluster: Cluster) -> None:
    """The CRDs are real: a Kustomization condition without its required fields is refused (HTTP 422)."""
    from tests.kube.cluster import ApiError

    name = unique("odoo")
    ks = o.kustomization(name, applied=o.sha("before"))
    ks["metadata"].pop("generation")
    created = cluster.create(ks)
    with pytest.raises(ApiError) as raised:
        cluster.write_status(created, {"conditions": [{"type": "Ready", "status": "True"}]})
    assert raised.value.status == 422


def test_kube_server_fixture_is_the_real_one(kube_server: KubeServer, kube_admin: Path) -> None:
    version = kube_server.kubectl(kube_admin, "version", "-o", "json", check=False)
    assert '"gitVersion": "v1.20.2' in version.stdout, version.stdout + version.stderr
