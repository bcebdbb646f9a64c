"""verify's watch code against the real server: real resourceVersions, bookmarks (and resuming from one),
410 Gone after `etcdctl compact`, and an API server restarted in the middle of a verification.

The restart tests stop and start the session's kube-apiserver (by PID; etcd keeps running) and wait until
it answers again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops.verify import watcher
from gitops.verify.kube import KubeApi, Resource, ResourceGone, WatchEvent
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
    etcd's revision. (No BOOKMARK here: both changes precede the watch, so nothing above its version
    reaches the watch cache — see the bookmark test below for when v1.20.2 sends one.)"""
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


def test_a_bookmark_moves_the_informer_and_the_next_watch_resumes_from_it(
    cluster: Cluster, kube_admin: Path, workload_ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kube-apiserver v1.20.2 sends BOOKMARK events from its watch cache (staging/src/k8s.io/apiserver/pkg/
    storage/cacher/cacher.go): a watch with allowWatchBookmarks is due one at min(start + 1 min, deadline
    - 2 s), to within a second, and is sent it only when the cache has processed a change of that resource
    with a resourceVersion above the watch's own (a change of an object the watch's selector filters out
    counts; nothing changing means no bookmark). So a watch with timeoutSeconds=8 that sees another
    Application change gets a bookmark ~6 s in, carrying that change's resourceVersion; the informer
    keeps it and opens its next watch from it (no relist)."""
    watched, other = unique("odoo"), unique("other")
    cluster.create(o.application(watched, revision=o.sha("before"), destination=workload_ns))
    cluster.create(o.application(other, revision=o.sha("before"), destination=workload_ns))
    monkeypatch.setattr(watcher, "WATCH_TIMEOUT_SECONDS", 8)
    api = KubeApi.connect(kubeconfig=kube_admin)
    opened: list[str] = []
    seen: list[tuple[str, str | None]] = []
    lists: list[str] = []
    real_watch, real_list = api.watch, api.list

    def watch(res: Resource, namespace: str | None, **kwargs: Any) -> Iterator[WatchEvent]:
        opened.append(kwargs["resource_version"])
        for event in real_watch(res, namespace, **kwargs):
            seen.append((event.type, event.resource_version))
            yield event

    def listing(res: Resource, namespace: str | None, **kwargs: Any) -> Any:
        lists.append(res.plural)
        return real_list(res, namespace, **kwargs)

    monkeypatch.setattr(api, "watch", watch)
    monkeypatch.setattr(api, "list", listing)
    stop = threading.Event()
    spec = watcher.WatchSpec(APPLICATIONS, "argocd", field_selector=f"metadata.name={watched}")
    informer = watcher.Informer(api, spec, queue.Queue(), stop=stop).start()
    try:
        assert informer.synced.wait(30)
        listed = informer.resource_version
        _wait(lambda: len(opened) == 1)
        time.sleep(2.0)  # the watch is registered in the watch cache: later changes are above its version
        _touch(cluster, other, 7)
        time.sleep(1.0)
        moved = _touch(cluster, other, 8)  # filtered out by the field selector: only a bookmark carries it
        _wait(lambda: len(opened) == 2, timeout=30)  # the 8 s stream ended; the informer re-watched
        # no event of the watched object; one bookmark, or two when its one-second bucket fired before
        # deadline - 2 s and the watcher was queued again for the same moment (watcherBookmarkTimeBuckets)
        assert seen and {t for t, _ in seen} == {"BOOKMARK"}, seen
        bookmark = seen[-1][1]
        assert bookmark is not None and int(bookmark) >= int(moved) > int(str(listed)), (seen, moved)
        assert opened == [listed, bookmark]  # resumed from the bookmark, not from the list's version
        changed = _touch(cluster, watched, 9)
        _wait(
            lambda: (
                o.at(9) == ((informer.get("argocd", watched) or {}).get("status") or {}).get("reconciledAt")
            )
        )
        assert ("MODIFIED", changed) in seen
        assert lists == ["applications"]  # one list: bookmarks and the stream's end never relisted
    finally:
        stop.set()
        api.stop_watches()
        informer.join(timeout=15)
        api.close()


def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)
