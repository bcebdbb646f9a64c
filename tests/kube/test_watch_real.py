"""verify's watch code against the real server: real resourceVersions, bookmarks, 410 Gone after
`etcdctl compact`, and an API server restarted in the middle of a verification.

The restart tests stop and start the session's kube-apiserver (by PID; etcd keeps running) and wait until
it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest

from gitops.verify.kube import KubeApi, ResourceGone
from gitops.verify.reconcilers.argocd_application import RESOURCE as APPLICATIONS
from tests.fixtures.kube import KubeServer
from tests.kube.cluster import Cluster, Rollout
from tests.kube.reconcilers import argocd_syncs
from tests.kube.test_verify_real import IMAGE, SHA, joined, run, target, unique
from tests.verify import objects as o


def _touch(cluster: Cluster, name: str, minute: int) -> str:
    app = cluster.merge_patch("applications", "argocd", name, {"status": {"reconciledAt": o.at(minute)}})
    return str(app["metadata"]["resourceVersion"])


def test_list_and_watch_use_the_servers_resource_versions(
    cluster: Cluster, kube_admin: Path, workload_ns: str
) -> None:
    """LIST + WATCH from the list's resourceVersion sees exactly the later change of the object, carrying
    etcd's revision. (kube-apiserver v1.20.2 sent no BOOKMARK to 3-25 s watches with allowWatchBookmarks
    here, so resuming from a bookmark stays on the loopback server: tests/kube/README.md.)"""
    watched, other = unique("odoo"), unique("other")
    cluster.create(o.application(watched, revision=o.sha("before"), destination=workload_ns))
    cluster.create(o.application(other, revision=o.sha("before"), destination=workload_ns))
    api = KubeApi.connect(kubeconfig=kube_admin)
    try:
        listing = api.list(APPLICATIONS, "argocd", field_selector=f"metadata.name={watched}")
        assert [i["metadata"]["name"] for i in listing.items] == [watched]
        moved = _touch(cluster, other, 5)  # filtered out by the field selector
        changed = _touch(cluster, watched, 6)
        events = list(
            api.watch(
                APPLICATIONS,
                "argocd",
                resource_version=listing.resource_version,
                field_selector=f"metadata.name={watched}",
                timeout_seconds=3,
            )
        )
    finally:
        api.close()
    changes = [e for e in events if e.type != "BOOKMARK"]
    assert [(e.type, e.resource_version) for e in changes] == [("MODIFIED", changed)], events
    assert changes[0].object["status"]["reconciledAt"] == o.at(6)
    assert int(changed) > int(moved) > int(listing.resource_version)


def test_watch_from_before_an_etcd_compaction_is_410_gone(
    cluster: Cluster, kube_server: KubeServer, kube_admin: Path, workload_ns: str
) -> None:
    """A resourceVersion older than `etcdctl compact` and than the server's watch cache window: 410 Gone."""
    name = unique("odoo")
    created = cluster.create(o.application(name, revision=o.sha("before"), destination=workload_ns))
    old = created["metadata"]["resourceVersion"]
    for minute in range(1, 4):
        _touch(cluster, name, minute)
    kube_server.compact()
    # the watch cache still holds recent events after the compaction; restarting the server rebuilds it from
    # the compacted store, as after any kube-apiserver rollout
    kube_server.restart_apiserver()
    api = KubeApi.connect(kubeconfig=kube_admin)
    try:
        with pytest.raises(ResourceGone) as raised:
            list(api.watch(APPLICATIONS, "argocd", resource_version=old, timeout_seconds=5))
    finally:
        api.close()
    assert raised.value.status == 410


def test_verification_survives_an_api_server_restart_and_a_compaction_mid_watch(
    cluster: Cluster,
    kube_server: KubeServer,
    kube_admin: Path,
    workload_ns: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The informers lose their streams, retry with back-off while the server is down, get 410 Gone for their
    compacted resourceVersions, relist, and the verification still ends on the controller's events."""
    caplog.set_level(logging.DEBUG, logger="gitops.verify.watcher")
    name = unique("odoo")
    cluster.create(o.application(name, revision=o.sha("before"), destination=workload_ns))
    rollout = Rollout(cluster, "odoo-web", namespace=workload_ns, image=IMAGE)
    restarted = threading.Event()
    timings: dict[str, float] = {}

    def restart_then_sync() -> None:
        time.sleep(3.0)  # the verification is watching
        started = time.monotonic()
        kube_server.restart_apiserver(while_down=lambda: (_touch_etcd(kube_server), kube_server.compact()))
        timings["restart"] = time.monotonic() - started
        restarted.set()

    controller_started = threading.Thread(target=restart_then_sync, daemon=True)
    controller_started.start()
    controller = None

    def sync_after_restart() -> None:
        restarted.wait(240)
        nonlocal controller
        controller = argocd_syncs(cluster, name, revision=SHA, rollouts=[rollout])

    threading.Thread(target=sync_after_restart, daemon=True).start()
    # the refresh patch is sent before the restart; the controller answers only after it
    # verify's own back-off (no test-raised value): a transient failure is retried until the deadline
    outcome = run(kube_admin, [target(name, workload_ns)], timeout=240)
    assert restarted.is_set()
    assert controller is not None
    joined(controller)
    assert outcome.verified, [r.to_dict() for r in outcome.results]
    assert "410 Gone, relisting" in caplog.text, caplog.text[-2000:]
    print(f"kube-apiserver restart took {timings.get('restart', 0):.1f} s")


def _touch_etcd(kube_server: KubeServer) -> None:
    """A write while kube-apiserver is down (etcd's revision moves past every watcher's)."""
    kube_server.etcdctl("put", "/odoo-gitops-test/moved", str(time.time()))
