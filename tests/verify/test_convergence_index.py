"""The incremental index of the verification loop: an event touches only the targets it concerns.

Asserted on work counters and index contents, never on time (bench/bench_verify.py measures time)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from gitops.verify.convergence import Verification
from gitops.verify.kube import DEPLOYMENTS, PODS, REPLICASETS, KubeApi
from gitops.verify.reconcilers.argocd_application import RESOURCE as APPLICATIONS
from gitops.verify.reconcilers.flux_kustomization import RESOURCE as KUSTOMIZATIONS
from gitops.verify.revision import only
from gitops.verify.sources.git_repository import RESOURCE as GITREPOSITORIES
from gitops.verify.targets import Target
from gitops.verify.watcher import Change, WatchSpec
from tests.verify import objects as o
from tests.verify.kubeserver import FakeKubeAPI

SHA = o.sha("promotion")
DIGEST = o.digest("release-1.4.0")
IMAGE = f"{o.REPO}@{DIGEST}"


def tenant_target(tenant: str, *, resource: Any = APPLICATIONS, namespace: str = "argocd") -> Target:
    return Target(
        tenant=tenant,
        resource=resource,
        namespace=namespace,
        name=f"odoo-{tenant}",
        workloads=(f"odoo-web-{tenant}",),
        default_namespace="odoo-prod",
        repository=o.REPO,
        digest=DIGEST,
        accepted_digests=frozenset({DIGEST}),
    )


def change(spec: WatchSpec, obj: dict[str, Any]) -> Change:
    return Change(spec, obj["metadata"]["name"], obj)


def test_an_event_marks_only_the_target_it_concerns(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    targets = [tenant_target(f"t{i}") for i in range(30)]
    api = KubeApi.connect(kubeconfig=kubeconfig)
    try:
        v = Verification(api, targets, accepts=only(SHA))
        app = o.application("odoo-t7", revision=SHA)
        assert v._affected([change(WatchSpec(APPLICATIONS, "argocd"), app)]) == {targets[7]}
        deploy = o.deployment("odoo-web-t12", image=IMAGE)
        rs = o.replicaset(deploy, pod_hash="abc12", revision="1", image=IMAGE)
        pod = o.pod(rs, 0, image=IMAGE, image_id=IMAGE)
        for resource, obj in ((DEPLOYMENTS, deploy), (REPLICASETS, rs), (PODS, pod)):
            assert v._affected([change(WatchSpec(resource, "odoo-prod"), obj)]) == {targets[12]}, obj
        stranger = o.application("odoo-someone-else", revision=SHA)
        assert v._affected([change(WatchSpec(APPLICATIONS, "argocd"), stranger)]) == set()
        # a source nobody reads from touches nobody (it used to re-evaluate every target)
        source = o.gitrepository("unrelated", revision=SHA)
        assert v._affected([change(WatchSpec(GITREPOSITORIES, "flux-system"), source)]) == set()
        assert v.evaluations == 0
    finally:
        api.close()


def test_a_source_event_reevaluates_only_the_targets_reading_it(
    kube_api: FakeKubeAPI, kubeconfig: Path
) -> None:
    kube_api.put(o.gitrepository("config", revision=o.sha("before")))
    kube_api.put(o.gitrepository("other", revision=o.sha("before")))
    a, b = (tenant_target(t, resource=KUSTOMIZATIONS, namespace="flux-system") for t in ("a", "b"))
    api = KubeApi.connect(kubeconfig=kubeconfig)
    v = Verification(api, [a, b], accepts=only(SHA))
    try:
        reads_config = o.kustomization("odoo-a", applied=o.sha("before"))
        reads_other = o.kustomization("odoo-b", applied=o.sha("before"))
        reads_other["spec"]["sourceRef"]["name"] = "other"
        v._source(a, reads_config)
        v._source(b, reads_other)
        spec = WatchSpec(GITREPOSITORIES, "flux-system")
        assert v._affected([change(spec, o.gitrepository("config", revision=SHA))]) == {a}
        assert v._affected([change(spec, o.gitrepository("other", revision=SHA))]) == {b}
    finally:
        v.informers.close()
        api.close()


def test_work_is_linear_one_evaluation_per_event(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    """N apps flipping one event at a time cost about one evaluation each, plus one per target for each
    (re)listed collection: never a pass over every undecided target per event."""
    count = 40
    tenants = [f"t{i}" for i in range(count)]
    for t in tenants:
        kube_api.put(o.application(f"odoo-{t}", revision=o.sha("before"), destination="odoo-prod"))
        o.workload(kube_api, f"odoo-web-{t}", image=IMAGE, image_id=IMAGE, replicas=1, pod_hash=f"h{t}")

    def flip(app: dict[str, Any]) -> None:
        app["metadata"].pop("annotations", None)
        app["status"]["sync"]["revision"] = SHA
        app["status"]["operationState"]["syncResult"]["revision"] = SHA
        app["status"]["operationState"]["operation"]["sync"]["revision"] = SHA

    def converge() -> None:
        while not kube_api.watching("applications"):
            time.sleep(0.005)
        for t in tenants:
            kube_api.update("applications", "argocd", f"odoo-{t}", flip)
            time.sleep(0.01)  # separate events, most in batches of their own

    flipper = threading.Thread(target=converge, daemon=True)
    flipper.start()
    api = KubeApi.connect(kubeconfig=kubeconfig)
    try:
        v = Verification(api, [tenant_target(t) for t in tenants], accepts=only(SHA), base_backoff=0.05)
        outcome = v.run(30)
    finally:
        api.close()
    flipper.join(timeout=10)
    assert outcome.verified, [r.to_dict() for r in outcome.results if not r.verdict.done][:2]
    # Applications listed (N) + one flip each (N) + Deployments, ReplicaSets, Pods listed (<= 3N)
    assert v.evaluations <= 5 * count, v.evaluations
    assert not v._pending


def test_a_pod_event_moves_one_entry_of_the_owner_index(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    kube_api.put(o.application("odoo-t1", revision=SHA, destination="odoo-prod"))
    kube_api.put(o.application("odoo-t2", revision=SHA, destination="odoo-prod"))
    for t in ("t1", "t2"):
        o.workload(kube_api, f"odoo-web-{t}", image=IMAGE, image_id=IMAGE, replicas=1, pod_hash=f"h{t}")

    def consume_refresh(plural: str, namespace: str, name: str, body: dict[str, Any]) -> None:
        kube_api.update(plural, namespace, name, lambda app: app["metadata"].pop("annotations", None))

    kube_api.patch_hooks.append(consume_refresh)  # as the Argo CD controller does
    api = KubeApi.connect(kubeconfig=kubeconfig)
    try:
        v = Verification(api, [tenant_target("t1"), tenant_target("t2")], accepts=only(SHA))
        assert v.run(10).verified
        index = v._owners(PODS, "odoo-prod")
        t2_pods = index["odoo-web-t2-ht2"]
        informer = next(iter(v.informers.find(PODS, "odoo-prod")))
        deploy = o.deployment("odoo-web-t1", image=IMAGE)
        rs = o.replicaset(deploy, pod_hash="ht1", revision="1", image=IMAGE)
        extra = o.pod(rs, 5, image=IMAGE, image_id=IMAGE)
        while not informer.changes.empty():  # what the run left unread
            informer.changes.get_nowait()
        informer._apply("ADDED", extra)
        before = v.evaluations
        v._track_owner(informer.changes.get_nowait())
        assert v._owners(PODS, "odoo-prod") is index  # updated in place, not rebuilt
        assert extra["metadata"]["name"] in index["odoo-web-t1-ht1"]
        assert index["odoo-web-t2-ht2"] is t2_pods
        informer._apply("DELETED", extra)
        v._track_owner(informer.changes.get_nowait())
        assert extra["metadata"]["name"] not in index["odoo-web-t1-ht1"]
        assert v.evaluations == before
    finally:
        api.close()
