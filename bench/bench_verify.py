"""Benchmark: `odoo-gitops verify` (watches) vs polling with one LIST per kind every 2 s, 500 to 10,000 apps.

Three processes per measurement, so nothing shares a GIL with the verifier:
- the API server process: the loopback API server of tests/verify, populated once per size (one Argo CD
  Application per tenant at the previous revision, one Deployment + ReplicaSet + pod per tenant already
  running the release). It also MAKES THE STATUS CHANGES: once the verifier is listening, the Applications
  flip to the promoted revision (Synced, Healthy, sync Succeeded) in batches of 50 every 100 ms; it records
  the moment of the last change (CLOCK_MONOTONIC is system-wide) and counts requests per verb and kind.
  Between runs it puts every Application back to the previous revision.
- the verifier process (a fresh one per run): either the product, `gitops.verify.convergence.Verification`
  (a refresh PATCH per app, then one LIST + one WATCH per kind), or the baseline: the same refresh PATCHes,
  then one LIST of Applications every 2 s (plus one LIST of Deployments, ReplicaSets and Pods while some
  Application is at the promoted revision), judged by the same pure verdict functions on the same plain
  JSON. Its CPU time is `time.process_time()` of that process, from connecting to the verdict.
- this process, which orchestrates and prints medians of interleaved rounds (product, baseline, product...).

Time to verdict = the moment the verifier knew the last target's verdict minus the last status change;
"returned" adds closing the watches. Targets at 5,000 apps: CPU <= 0.5x the baseline, requests <= 2 per
kind + N refreshes, time to verdict <= the baseline's; time to verdict < 1 s at 10,000 apps.

    .venv/bin/python bench/bench_verify.py [--sizes 500,2000,5000,10000] [--rounds 3]
    .venv/bin/python bench/bench_verify.py --quick      # small N, one round (tests/CI)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from gitops.verify.targets import Target

BATCH = 50
BATCH_INTERVAL = 0.1
POLL_INTERVAL = 2.0
KINDS = ("applications", "deployments", "replicasets", "pods")


def tenant_names(count: int) -> list[str]:
    return [f"t{i:05d}" for i in range(count)]


# ---------------------------------------------------------------- API server process (makes the changes)


def server_main(conn: Connection, count: int) -> None:
    from tests.verify import kubeserver
    from tests.verify import objects as o
    from tests.verify.kubeserver import FakeKubeAPI

    sha, image = o.sha("promotion"), f"{o.REPO}@{o.digest('release')}"
    tenants = tenant_names(count)
    api = FakeKubeAPI(bookmark_interval=1.0).start()
    for i, t in enumerate(tenants):
        api.put(o.application(f"odoo-prod-{t}", revision=o.sha("before"), destination="odoo-prod"))
        o.workload(api, f"odoo-web-{t}", image=image, image_id=image, replicas=1, pod_hash=f"h{t}")
        if i == 0:  # the first tenant's objects and flips are validated; the rest differ only in names
            api.update("applications", "argocd", f"odoo-prod-{t}", lambda app: None)
            kubeserver.validate = lambda kind, obj: None  # this process only: 40,000 puts at 10,000 apps

    def set_revision(revision: str) -> Any:
        def change(app: dict[str, Any]) -> None:
            app["metadata"].pop("annotations", None)  # the controller consumed the refresh request
            app["status"]["sync"]["revision"] = revision
            app["status"]["operationState"]["syncResult"]["revision"] = revision
            app["status"]["operationState"]["operation"]["sync"]["revision"] = revision

        return change

    conn.send(api.url)
    while True:
        command = conn.recv()
        if command == "stop":
            api.stop()
            return
        listening_verb = "watch" if command == "watch" else "list"
        before = api.requests()
        conn.send("armed")
        while api.count(listening_verb, "applications") <= before.get(f"{listening_verb} applications", 0):
            time.sleep(0.005)
        flip = set_revision(sha)
        last_change = 0.0
        for i in range(0, len(tenants), BATCH):
            for t in tenants[i : i + BATCH]:
                api.update("applications", "argocd", f"odoo-prod-{t}", flip)
            last_change = time.monotonic()
            if i + BATCH < len(tenants):
                time.sleep(BATCH_INTERVAL)
        conn.recv()  # the verifier has finished
        after = api.requests()
        conn.send({"last_change": last_change, "requests": {k: after[k] - before.get(k, 0) for k in after}})
        back = set_revision(o.sha("before"))
        for t in tenants:
            api.update("applications", "argocd", f"odoo-prod-{t}", back)
        conn.send("reset")


def tenant_targets(tenants: Iterable[str], digest: str) -> list[Target]:
    """One target per tenant: its Argo CD Application `odoo-prod-<t>` and Deployment `odoo-web-<t>` running
    `digest` (the objects tests/verify/objects.py and the benches create)."""
    from gitops.verify.reconcilers.argocd_application import RESOURCE as APPLICATIONS
    from gitops.verify.targets import Target
    from tests.verify import objects as o

    return [
        Target(
            tenant=t,
            resource=APPLICATIONS,
            namespace="argocd",
            name=f"odoo-prod-{t}",
            workloads=(f"odoo-web-{t}",),
            default_namespace="odoo-prod",
            repository=o.REPO,
            digest=digest,
            accepted_digests=frozenset({digest}),
        )
        for t in tenants
    ]


# ---------------------------------------------------------------- verifier process (product or baseline)


def verifier_main(conn: Connection, mode: str, kubeconfig: str, count: int) -> None:
    from gitops.verify.convergence import TargetResult, Verification
    from gitops.verify.kube import KubeApi
    from gitops.verify.revision import only
    from tests.verify import objects as o

    digest = o.digest("release")
    targets = tenant_targets(tenant_names(count), digest)
    accepts = only(o.sha("promotion"))
    conn.recv()  # go
    connect0 = time.process_time()
    client = KubeApi.connect(kubeconfig=Path(kubeconfig))  # the client's own lazy imports: ~1 s, both sides
    cpu0 = time.process_time()
    refreshed = [0.0]
    decided = 0.0
    if mode == "watch":

        class Timed(Verification):
            def request_refresh(self) -> None:
                super().request_refresh()
                refreshed[0] = time.process_time()

            def _record(self, target: Target, result: TargetResult) -> None:
                nonlocal decided
                super()._record(target, result)
                if not self._pending and not decided:
                    decided = time.monotonic()

        verification = Timed(client, targets, accepts=accepts)
        verified = verification.run(600).verified
    else:
        verified = poll(client, targets, accepts, refreshed)
        decided = time.monotonic()
    returned = time.monotonic()
    client.close()
    cpu = time.process_time()
    conn.send(
        {
            "cpu": cpu - cpu0,
            "cpu_refresh": refreshed[0] - cpu0,
            "cpu_after_refresh": cpu - refreshed[0],
            "cpu_connect": cpu0 - connect0,
            "decided": decided,
            "returned": returned,
            "verified": verified,
        }
    )


def poll(client: Any, targets: list[Any], accepts: Any, refreshed: list[float]) -> bool:
    """The baseline: the same refreshes, then one LIST per kind every 2 s until every app is decided."""
    from gitops.verify.kube import DEPLOYMENTS, PODS, REPLICASETS
    from gitops.verify.reconcilers.argocd_application import RESOURCE as APPLICATIONS
    from gitops.verify.reconcilers.argocd_application import application_verdict
    from gitops.verify.rollout import HASH_LABEL, deployment_verdict, pods_verdict
    from gitops.verify.verdict import State, combine

    def refresh(t: Any) -> Any:
        return client.patch_annotations(t.resource, t.namespace, t.name, t.reconciler.refresh_annotations(""))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(refresh, targets))
    refreshed[0] = time.process_time()
    by_name = {t.name: t for t in targets}
    pending = set(by_name)
    while pending:
        started = time.monotonic()
        ok_apps = []
        for app in client.list(APPLICATIONS, "argocd").items:
            name = app["metadata"]["name"]
            if name in pending:
                verdict = application_verdict(app, accepts=accepts)
                if verdict.state is State.OK:
                    ok_apps.append(name)
                elif verdict.done:
                    pending.discard(name)
        if ok_apps:
            deployments = {d["metadata"]["name"]: d for d in client.list(DEPLOYMENTS, "odoo-prod").items}
            rs_of: dict[str, list[Any]] = {}
            for rs in client.list(REPLICASETS, "odoo-prod", label_selector=HASH_LABEL).items:
                rs_of.setdefault(rs["metadata"]["ownerReferences"][0]["name"], []).append(rs)
            pods_of: dict[str, list[Any]] = {}
            for pod in client.list(PODS, "odoo-prod", label_selector=HASH_LABEL).items:
                pods_of.setdefault(pod["metadata"]["ownerReferences"][0]["name"], []).append(pod)
            for name in ok_apps:
                target = by_name[name]
                parts = []
                for workload in target.workloads:
                    deploy = deployments[workload]
                    replicasets = rs_of.get(workload, [])
                    pods = [p for rs in replicasets for p in pods_of.get(rs["metadata"]["name"], [])]
                    parts.append(deployment_verdict(deploy))
                    parts.append(
                        pods_verdict(
                            deploy,
                            replicasets,
                            pods,
                            repository=target.repository,
                            accepted_digests=target.accepted_digests,
                        )
                    )
                if combine(name, parts).done:
                    pending.discard(name)
        if pending:
            time.sleep(max(0.0, POLL_INTERVAL - (time.monotonic() - started)))
    return True


# ---------------------------------------------------------------- orchestration


def one_run(ctx: Any, server: Connection, mode: str, kubeconfig: Path, count: int) -> dict[str, Any]:
    mine, theirs = ctx.Pipe()
    verifier = ctx.Process(target=verifier_main, args=(theirs, mode, str(kubeconfig), count))
    verifier.start()
    server.send(mode)
    assert server.recv() == "armed"
    mine.send("go")
    result = mine.recv()
    verifier.join()
    server.send("done")
    counts = server.recv()
    assert server.recv() == "reset"
    assert result["verified"], f"{mode}: not verified"
    result.update(counts)
    result["to_verdict"] = result["decided"] - counts["last_change"]
    result["to_return"] = result["returned"] - counts["last_change"]
    return result


def measure(count: int, rounds: int, tmp: Path) -> dict[str, list[dict[str, Any]]]:
    from tests.fixtures.verify import write_kubeconfig

    ctx = mp.get_context("spawn")
    server, theirs = ctx.Pipe()
    process = ctx.Process(target=server_main, args=(theirs, count))
    process.start()
    kubeconfig = write_kubeconfig(tmp / f"kubeconfig-{count}", server.recv())
    runs: dict[str, list[dict[str, Any]]] = {"watch": [], "poll": []}
    try:
        for _ in range(rounds):  # interleaved, so both see the same machine load
            for mode in ("watch", "poll"):
                runs[mode].append(one_run(ctx, server, mode, kubeconfig, count))
    finally:
        server.send("stop")
        process.join()
    return runs


def per_kind(run: dict[str, Any]) -> str:
    requests = run["requests"]
    reads = [
        f"{kind} {sum(n for k, n in requests.items() if k.split()[-1] == kind and k.split()[0] != 'patch')}"
        for kind in KINDS
    ]
    return ", ".join(reads) + f"; refresh PATCHes {requests.get('patch applications', 0)}"


def report(count: int, runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    keys = ("cpu", "cpu_refresh", "cpu_after_refresh", "cpu_connect", "to_verdict", "to_return")
    med = {m: {k: statistics.median(r[k] for r in rs) for k in keys} for m, rs in runs.items()}
    w, p = med["watch"], med["poll"]
    max_reads = max(n for r in runs["watch"] for k, n in r["requests"].items() if not k.startswith("patch"))
    refreshes_ok = all(r["requests"].get("patch applications", 0) <= count for r in runs["watch"])
    print(f"\n{count} apps, medians of {len(runs['watch'])} interleaved rounds")
    for label, m, mode in (("product ", w, "watch"), ("baseline", p, "poll")):
        print(
            f"  {label}: CPU {m['cpu']:.2f} s (refresh {m['cpu_refresh']:.2f} + watching/polling "
            f"{m['cpu_after_refresh']:.2f}; client start {m['cpu_connect']:.2f} apart), to verdict "
            f"{m['to_verdict'] * 1000:.0f} ms (returned {m['to_return'] * 1000:.0f} ms); "
            f"requests: {per_kind(runs[mode][-1])}"
        )
    cpu_ratio = w["cpu"] / p["cpu"]
    phase_ratio = w["cpu_after_refresh"] / p["cpu_after_refresh"]
    print(
        f"  ratio product/baseline: CPU {cpu_ratio:.2f}x (after the shared refresh: {phase_ratio:.2f}x), "
        f"time to verdict {w['to_verdict'] / p['to_verdict']:.3f}x"
    )
    print(
        f"  runs (ms to verdict): product {[round(r['to_verdict'] * 1000) for r in runs['watch']]}, "
        f"baseline {[round(r['to_verdict'] * 1000) for r in runs['poll']]}"
    )
    print(
        f"  targets: CPU <= 0.5x {'yes' if cpu_ratio <= 0.5 else 'NO'}; "
        f"<= 2 requests per kind + N refreshes {'yes' if max_reads <= 2 and refreshes_ok else 'NO'}; "
        f"verdict not later {'yes' if w['to_verdict'] <= p['to_verdict'] else 'NO'}; "
        f"verdict < 1 s {'yes' if w['to_verdict'] < 1.0 else 'NO'}"
    )
    return {
        "apps": count,
        "product": w,
        "baseline": p,
        "cpu_ratio": cpu_ratio,
        "cpu_ratio_after_refresh": phase_ratio,
        "max_reads_per_kind": max_reads,
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="500,2000,5000,10000")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are printed")
    parser.add_argument("--quick", action="store_true", help="50 apps, one round (tests/CI)")
    parser.add_argument("--json", type=Path, help="also write the medians to this file")
    args = parser.parse_args(argv)
    sizes = [50] if args.quick else [int(s) for s in args.sizes.split(",")]
    rounds = 1 if args.quick else args.rounds
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in sizes:
            results.append(report(count, measure(count, rounds, Path(tmp))))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
