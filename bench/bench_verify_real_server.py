"""Benchmark: verify's watch run on the loopback API server and on a real kube-apiserver, side by side.

(bench_verify.py is the scale benchmark against the LIST-polling baseline; this one answers "does the
loopback imitation behave like a real API server": same script, same client, both servers.)

Both runs use the real `kubernetes` client against the loopback API server of tests/verify, with the same
script: every tenant's Application starts at the previous revision; once the verifier is listening, the
Applications flip to the promoted revision (Synced, Healthy, sync Succeeded) in batches of 50 every
100 ms. The workloads (one Deployment per tenant, its new ReplicaSet and pod) already run the release.

- watch: `gitops.verify.convergence.Verification` (refresh PATCH per target, then one LIST + one WATCH per
  kind and namespace; also checks every Deployment and pod digest);
- baseline: GET every Application every 2 s and evaluate the same verdict (it checks less: no workloads).

Measured: API requests per verification (reads = GET + LIST + WATCH; refresh PATCHes counted apart)
and detection latency = time from the last status flip to the moment the last target is decided.
Targets: reads independent of the tenant count (one LIST + one WATCH per kind); latency < 1 s.

    .venv/bin/python bench/bench_verify_real_server.py [--tenants 500]

`--real` adds the same watch run against a real kube-apiserver v1.20.2 + etcd (tests/fixtures/kube.py; built
by scripts/setup-kube.sh), printed side by side with the loopback figures: requests from the server's own
`apiserver_request_total` counter, end-to-end time and detection latency.

    .venv/bin/python bench/bench_verify_real_server.py --real --tenants 2000 --repeat 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_verify import tenant_targets
from gitops.verify import convergence as engine_module
from gitops.verify.convergence import Verification
from gitops.verify.kube import KubeApi
from gitops.verify.reconcilers.argocd_application import application_verdict
from gitops.verify.revision import only
from gitops.verify.targets import Target
from gitops.verify.verdict import State
from tests.fixtures.verify import write_kubeconfig
from tests.verify import objects as o
from tests.verify.kubeserver import FakeKubeAPI

SHA = o.sha("promotion")
DIGEST = o.digest("release")
IMAGE = f"{o.REPO}@{DIGEST}"
BATCH = 50
BATCH_INTERVAL = 0.1
POLL_INTERVAL = 2.0


def tenant_names(count: int) -> list[str]:
    return [f"t{i:04d}" for i in range(count)]


def populate(api: FakeKubeAPI, tenants: list[str]) -> None:
    for t in tenants:
        api.put(o.application(f"odoo-prod-{t}", revision=o.sha("before"), destination="odoo-prod"))
        o.workload(
            api,
            f"odoo-web-{t}",
            namespace="odoo-prod",
            image=IMAGE,
            image_id=IMAGE,
            replicas=1,
            pod_hash=f"h{t}",
        )


def flip(app: dict[str, Any]) -> None:
    app["metadata"].pop("annotations", None)  # the controller consumed the refresh request
    app["status"]["sync"]["revision"] = SHA
    app["status"]["operationState"]["syncResult"]["revision"] = SHA
    app["status"]["operationState"]["operation"]["sync"]["revision"] = SHA


def converge(api: FakeKubeAPI, tenants: list[str], started: threading.Event, done: dict[str, float]) -> None:
    started.wait()
    for i in range(0, len(tenants), BATCH):
        for t in tenants[i : i + BATCH]:
            api.update("applications", "argocd", f"odoo-prod-{t}", flip)
        if i + BATCH >= len(tenants):
            done["last_flip"] = time.monotonic()  # set before any sleep: the verifier may finish first
            return
        time.sleep(BATCH_INTERVAL)


def reads(api: FakeKubeAPI) -> dict[str, int]:
    return {verb: api.count(verb) for verb in ("get", "list", "watch", "patch")}


def run_watch(tenants: list[str], kubeconfig_dir: Path) -> dict[str, Any]:
    api = FakeKubeAPI(bookmark_interval=1.0).start()
    populate(api, tenants)
    before = reads(api)
    kubeconfig = write_kubeconfig(kubeconfig_dir / "watch", api.url)
    targets = tenant_targets(tenants, DIGEST)
    started, marks = threading.Event(), {}
    decided: dict[str, float] = {}
    original = engine_module.Verification.evaluate

    def evaluate(self: Verification, target: Target) -> Any:
        result = original(self, target)
        if result.verdict.done:
            decided.setdefault(target.name, time.monotonic())
        return result

    engine_module.Verification.evaluate = evaluate  # type: ignore[method-assign]
    flipper = threading.Thread(target=converge, args=(api, tenants, started, marks), daemon=True)
    flipper.start()

    def start_when_listening() -> None:
        while not api.watching("applications"):
            time.sleep(0.005)
        started.set()

    threading.Thread(target=start_when_listening, daemon=True).start()
    client = KubeApi.connect(kubeconfig=kubeconfig)
    t0 = time.monotonic()
    try:
        outcome = Verification(client, targets, accepts=only(SHA)).run(120)
    finally:
        client.close()
        engine_module.Verification.evaluate = original  # type: ignore[method-assign]
    elapsed = time.monotonic() - t0
    flipper.join(timeout=30)
    after = reads(api)
    api.stop()
    assert outcome.verified, [r.to_dict() for r in outcome.results if r.verdict.state is not State.OK][:3]
    counts = {k: after[k] - before[k] for k in after}
    return {
        "counts": counts,
        "by_kind": api.requests(),
        "latency": max(decided.values()) - marks["last_flip"],
        "elapsed": elapsed,
    }


def run_polling(tenants: list[str], kubeconfig_dir: Path) -> dict[str, Any]:
    api = FakeKubeAPI(bookmark_interval=1.0).start()
    populate(api, tenants)
    before = reads(api)
    kubeconfig = write_kubeconfig(kubeconfig_dir / "poll", api.url)
    client = KubeApi.connect(kubeconfig=kubeconfig)
    started, marks = threading.Event(), {}
    threading.Thread(target=converge, args=(api, tenants, started, marks), daemon=True).start()
    accepts = only(SHA)
    pending = {f"odoo-prod-{t}" for t in tenants}
    t0 = time.monotonic()
    detected = 0.0
    while pending:
        round_start = time.monotonic()
        for name in sorted(pending):
            app = client._custom.get_namespaced_custom_object(  # the baseline: one GET per app
                "argoproj.io", "v1alpha1", "argocd", "applications", name
            )
            started.set()
            if application_verdict(app, accepts=accepts).done:
                pending.discard(name)
                detected = time.monotonic()
        if pending:
            time.sleep(max(0.0, POLL_INTERVAL - (time.monotonic() - round_start)))
    elapsed = time.monotonic() - t0
    after = reads(api)
    client.close()
    api.stop()
    counts = {k: after[k] - before[k] for k in after}
    return {"counts": counts, "latency": detected - marks["last_flip"], "elapsed": elapsed}


def run_watch_real(tenants: list[str], workdir: Path) -> dict[str, Any]:
    """The watch run against a real kube-apiserver (see bench_verify_real.py)."""
    from bench.bench_verify_real import run_real

    return run_real(
        tenants, workdir, sha=SHA, image=IMAGE, digest=DIGEST, batch=BATCH, interval=BATCH_INTERVAL
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(values: list[float]) -> str:
    return ", ".join(f"{v * 1000:.0f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians are printed")
    parser.add_argument("--real", action="store_true", help="also run against a real kube-apiserver")
    args = parser.parse_args()
    tenants = tenant_names(args.tenants)
    watches, polls = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            watches.append(run_watch(tenants, Path(tmp)))
            polls.append(run_polling(tenants, Path(tmp)))
        reals = [run_watch_real(tenants, Path(tmp)) for _ in range(args.repeat)] if args.real else []
    watch, poll = watches[-1], polls[-1]
    w_reads = median([sum(w["counts"][k] for k in ("get", "list", "watch")) for w in watches])
    p_reads = median([sum(p["counts"][k] for k in ("get", "list", "watch")) for p in polls])
    w_latency = median([w["latency"] for w in watches])
    p_latency = median([p["latency"] for p in polls])
    print(f"tenants: {args.tenants} (Applications, Deployments, ReplicaSets, Pods)")
    print(f"medians of {args.repeat} interleaved runs")
    print("watch (odoo-gitops verify):")
    print(
        f"  read requests: {w_reads:.0f}  ({watch['counts']['list']} LIST, {watch['counts']['watch']} WATCH, "
        f"{watch['counts']['get']} GET); refresh PATCHes: {watch['counts']['patch']}"
    )
    print(
        "  by kind: "
        + ", ".join(f"{k}={v}" for k, v in watch["by_kind"].items() if not k.startswith("patch"))
    )
    print(
        f"  detection latency after the last flip: {w_latency * 1000:.0f} ms (target < 1000 ms); "
        f"runs: {ms([w['latency'] for w in watches])} ms"
    )
    total = median([w["elapsed"] for w in watches])
    print(f"  total time (incl. {args.tenants} refresh PATCHes): {total:.2f} s")
    print("baseline (GET every Application every 2 s):")
    print(f"  read requests: {p_reads:.0f}  ({poll['counts']['get']} GET in the last run)")
    print(
        f"  detection latency after the last flip: {p_latency * 1000:.0f} ms; "
        f"runs: {ms([p['latency'] for p in polls])} ms"
    )
    print(f"  total time: {median([p['elapsed'] for p in polls]):.2f} s")
    print("ratios (baseline / watch):")
    print(f"  read requests: {p_reads / max(1, w_reads):.1f}x fewer with watch")
    print(f"  detection latency: {p_latency / max(1e-3, w_latency):.1f}x faster with watch")
    if reals:
        real = reals[-1]
        print(
            "side by side, watch (odoo-gitops verify): loopback server | real kube-apiserver v1.20.2 + etcd"
        )
        r_reads = median([r["reads"] for r in reals])
        print(f"  read requests (LIST + WATCH + GET): {w_reads:.0f} | {r_reads:.0f}")
        print(f"  refresh PATCHes: {watch['counts']['patch']} | {real['patches']}")
        print(f"  by kind (real): {real['by_kind']}")
        r_latency = median([r["latency"] for r in reals])
        print(
            f"  detection latency after the last flip: {w_latency * 1000:.0f} ms | {r_latency * 1000:.0f} ms"
        )
        r_total = median([r["elapsed"] for r in reals])
        print(f"  end-to-end verify time: {total:.2f} s | {r_total:.2f} s")
        print(
            f"  (real server: populating {args.tenants} tenants took {real['populate']:.1f} s, not counted)"
        )
    kinds_ok = all(
        w["by_kind"].get(f"{v} {k}") == 1
        for w in watches
        for v in ("list", "watch")
        for k in ("applications", "deployments", "replicasets", "pods")
    )
    print(
        f"one LIST + one WATCH per kind in every run: {'yes' if kinds_ok else 'NO'}; "
        f"latency target met: {'yes' if w_latency < 1.0 else 'NO'}"
    )


if __name__ == "__main__":
    main()
