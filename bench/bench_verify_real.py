"""bench_verify's watch run against a real kube-apiserver v1.20.2 + etcd (started by tests/fixtures/kube.py).

Same script as the loopback run: every tenant's Application starts at the previous revision with its
Deployment, new ReplicaSet and pod already running the release (status written through the status
subresource); once verify has sent its refresh PATCHes, they flip to the promoted revision in batches.
Requests are the server's own `apiserver_request_total` for the four kinds, before and after the run; the
bench's own flips (one PATCH per tenant) are subtracted, its /metrics reads are not of those kinds.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.bench_verify import tenant_targets
from gitops.verify import convergence as engine_module
from gitops.verify.convergence import Verification
from gitops.verify.kube import KubeApi
from gitops.verify.revision import only
from gitops.verify.targets import Target
from gitops.verify.verdict import State
from tests.fixtures.components import find_binary
from tests.fixtures.kube import KubeServer, kube_apiserver_binary
from tests.kube.cluster import Cluster
from tests.verify import objects as o

COUNTER = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$")
KINDS = ("applications", "deployments", "replicasets", "pods")


def request_counts(cluster: Cluster) -> Counter[tuple[str, str]]:
    """(verb, resource) -> requests so far, from the server's /metrics."""
    text = cluster.session.get(cluster.server.url + "/metrics", timeout=60, verify=cluster.ca).text
    counts: Counter[tuple[str, str]] = Counter()
    for line in text.splitlines():
        match = COUNTER.match(line)
        if not match:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
        if labels.get("resource") in KINDS:
            counts[(labels.get("verb", ""), labels["resource"])] += int(float(match["value"]))
    return counts


def populate(cluster: Cluster, tenants: list[str], image: str) -> None:
    cluster.namespace("argocd")
    cluster.namespace("odoo-prod")

    def one(t: str) -> None:
        cluster.create(o.application(f"odoo-prod-{t}", revision=o.sha("before"), destination="odoo-prod"))
        deploy = o.deployment(f"odoo-web-{t}", namespace="odoo-prod", image=image, replicas=1)
        created = cluster.create(deploy)
        rs = cluster.create(o.replicaset(created, pod_hash=f"h{t}", revision="2", image=image))
        cluster.create(o.pod(rs, 0, image=image, image_id=image))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, tenants))


def run_real(
    tenants: list[str], workdir: Path, *, sha: str, image: str, digest: str, batch: int, interval: float
) -> dict[str, Any]:
    run_dir = workdir / f"real-{len(tenants)}-{time.monotonic_ns()}"
    run_dir.mkdir()
    server = KubeServer(run_dir, kube_apiserver_binary(), find_binary("etcd"), find_binary("etcdctl")).start()
    try:
        cluster = Cluster(server)
        cluster.install_crds("argocd-application.yaml")
        t0 = time.monotonic()
        populate(cluster, tenants, image)
        populated = time.monotonic() - t0
        kubeconfig = server.kubeconfig(run_dir / "kubeconfig")
        targets = tenant_targets(tenants, digest)
        decided: dict[str, float] = {}
        marks: dict[str, float] = {}
        original = engine_module.Verification.evaluate

        def evaluate(self: Verification, target: Target) -> Any:
            result = original(self, target)
            if result.verdict.done:
                decided.setdefault(target.name, time.monotonic())
            return result

        def converge() -> None:
            # verify has patched every refresh annotation once all patches are counted; then it watches
            while request_counts(cluster)[("PATCH", "applications")] < len(tenants):
                time.sleep(0.2)
            time.sleep(1.0)
            flipped = {"status": {"sync": {"revision": sha}, "operationState": {
                "syncResult": {"revision": sha}, "operation": {"sync": {"revision": sha}}}}}  # fmt: skip
            for i in range(0, len(tenants), batch):
                for t in tenants[i : i + batch]:
                    patch = {**flipped, "metadata": {"annotations": {"argocd.argoproj.io/refresh": None}}}
                    cluster.merge_patch("applications", "argocd", f"odoo-prod-{t}", patch)
                if i + batch >= len(tenants):
                    marks["last_flip"] = time.monotonic()
                    return
                time.sleep(interval)

        before = request_counts(cluster)
        engine_module.Verification.evaluate = evaluate  # type: ignore[method-assign]
        flipper = threading.Thread(target=converge, daemon=True)
        flipper.start()
        client = KubeApi.connect(kubeconfig=kubeconfig)
        t1 = time.monotonic()
        try:
            outcome = Verification(client, targets, accepts=only(sha)).run(600)
        finally:
            client.close()
            engine_module.Verification.evaluate = original  # type: ignore[method-assign]
        elapsed = time.monotonic() - t1
        flipper.join(timeout=60)
        after = request_counts(cluster)
        bad = [r.to_dict() for r in outcome.results if r.verdict.state is not State.OK][:3]
        assert outcome.verified, bad
        delta = after - before
        # the flips are the bench's own PATCHes (one per tenant), and the /metrics polls are not counted
        patches = delta[("PATCH", "applications")] - len(tenants)
        reads = sum(v for (verb, _), v in delta.items() if verb in ("LIST", "WATCH", "GET"))
        by_kind = ", ".join(
            f"{verb.lower()} {res}={v}" for (verb, res), v in sorted(delta.items()) if verb != "PATCH"
        )
        return {
            "reads": reads,
            "patches": patches,
            "by_kind": by_kind,
            "latency": max(decided.values()) - marks["last_flip"],
            "elapsed": elapsed,
            "populate": populated,
        }
    finally:
        server.stop()
