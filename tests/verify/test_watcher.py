"""gitops/verify/watcher.py: the informer's own decisions (where a watch resumes, when it relists,
which errors it retries and with what back-off, which it keeps for the waiter), driven by a scripted API that
answers list/watch with exact events, 410s, 429s and 403s in an order a real server cannot be made to produce
on demand. The same informers against a real kube-apiserver: tests/kube/test_watch_real.py."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from gitops.verify.kube import DEPLOYMENTS, PODS, KubeError, Listing, ResourceGone, WatchEvent
from gitops.verify.watcher import Change, Informer, InformerSet, WatchSpec

SPEC = WatchSpec(DEPLOYMENTS, "odoo-prod", label_selector="app=odoo")


def obj(name: str, rv: str, **extra: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": "odoo-prod", "name": name, "resourceVersion": rv}, **extra}


class ScriptedApi:
    """Answers each list and watch call with the next scripted step: a Listing / list of events, or an
    error to raise. Records what each call asked for."""

    def __init__(self, lists: list[Any], watches: list[Any], stop: threading.Event | None = None) -> None:
        self.lists, self.watches = lists, watches
        self.list_calls: list[dict[str, Any]] = []
        self.watch_calls: list[dict[str, Any]] = []
        self.stop = stop
        self.stopped = False
        self.block = False  # at the end of the script: wait for stop_watches instead of ending the informer

    def list(self, res: Any, namespace: str | None, **kw: Any) -> Listing:
        self.list_calls.append({"namespace": namespace, **kw})
        step = self.lists.pop(0)
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, Listing)
        return step

    def watch(self, res: Any, namespace: str | None, **kw: Any) -> Iterator[WatchEvent]:
        self.watch_calls.append({"namespace": namespace, **kw})
        if not self.watches:
            assert self.stop is not None
            if self.block:
                self.stop.wait(10)
            self.stop.set()  # the script is over: end the informer
            return
        step = self.watches.pop(0)
        if isinstance(step, Exception):
            raise step
        yield from step

    def stop_watches(self) -> None:
        self.stopped = True
        if self.stop is not None:
            self.stop.set()


def run(api: ScriptedApi, **kw: Any) -> tuple[Informer, list[Change], list[float]]:
    changes: queue.Queue[Change] = queue.Queue()
    stop = api.stop or threading.Event()
    api.stop = stop
    sleeps: list[float] = []
    informer = Informer(api, SPEC, changes, stop=stop, sleep=sleeps.append, **kw)  # type: ignore[arg-type]
    informer.start().join(timeout=10)
    assert not informer._thread.is_alive()
    seen = []
    while not changes.empty():
        seen.append(changes.get_nowait())
    return informer, seen, sleeps


def test_one_list_then_one_stream_that_resumes_where_it_stopped_bookmarks_included() -> None:
    api = ScriptedApi(
        lists=[Listing([obj("odoo", "10")], "10")],
        watches=[
            [WatchEvent("MODIFIED", obj("odoo", "11", spec={"r": 2})), WatchEvent("BOOKMARK", obj("", "15"))],
            [WatchEvent("ADDED", obj("worker", "16")), WatchEvent("DELETED", obj("odoo", "17"))],
        ],
    )  # fmt: skip
    informer, changes, sleeps = run(api)
    assert len(api.list_calls) == 1
    assert api.list_calls[0] == {
        "namespace": "odoo-prod",
        "label_selector": "app=odoo",
        "field_selector": None,
    }
    assert [c["resource_version"] for c in api.watch_calls] == ["10", "15", "17"]
    assert [(c.name, c.object is not None) for c in changes] == [
        (None, False), ("odoo", True), ("worker", True), ("odoo", True)
    ]  # fmt: skip
    assert informer.get("odoo-prod", "odoo") is None  # deleted
    assert informer.get("odoo-prod", "worker") == obj("worker", "16")
    assert informer.synced.is_set()
    assert (informer.error, sleeps) == (None, [])


def test_410_gone_relists_and_watches_from_the_new_version() -> None:
    api = ScriptedApi(
        lists=[Listing([obj("odoo", "10")], "10"), Listing([obj("odoo", "90")], "90")],
        watches=[ResourceGone("too old", status=410)],
    )
    informer, changes, sleeps = run(api)
    assert len(api.list_calls) == 2
    assert [c["resource_version"] for c in api.watch_calls] == ["10", "90"]
    assert informer.get("odoo-prod", "odoo") == obj("odoo", "90")
    assert [c.name for c in changes] == [None, None]  # two relists
    assert sleeps == []  # a relist is not a failure


def test_transient_errors_back_off_exponentially_up_to_the_cap_and_reset_after_a_success() -> None:
    flaky = [KubeError("unreachable"), KubeError("throttled", status=429), KubeError("busy", status=503)]
    api = ScriptedApi(
        lists=[Listing([], "1")],
        watches=[*flaky, KubeError("x", status=500), KubeError("x", status=502), KubeError("x", status=504),
                 [WatchEvent("ADDED", obj("odoo", "2"))], KubeError("again", status=500)],
    )  # fmt: skip
    informer, _, sleeps = run(api, base_backoff=1.0)
    assert sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 1.0]
    assert informer.error is None
    assert api.watch_calls[-1]["resource_version"] == "2"


@pytest.mark.parametrize("status", [401, 403, 404])
def test_a_non_transient_error_is_kept_for_the_waiter_and_ends_the_informer(status: int) -> None:
    api = ScriptedApi(lists=[Listing([], "1")], watches=[KubeError("forbidden", status=status)])
    informer, changes, sleeps = run(api)
    assert informer.error is not None and informer.error.status == status
    assert sleeps == []
    assert changes[-1] == Change(SPEC, None, None)  # wakes the waiter


def test_a_failing_first_list_is_retried_and_then_kept() -> None:
    api = ScriptedApi(lists=[KubeError("down"), KubeError("down"), KubeError("down")], watches=[])
    informer, _, sleeps = run(api, max_attempts=3, base_backoff=0.5)
    assert len(api.list_calls) == 3
    assert sleeps == [0.5, 1.0]
    assert informer.error is not None and informer.error.message == "down"
    assert not informer.synced.is_set()


def test_an_informer_set_makes_one_informer_per_spec_and_raises_their_errors() -> None:
    api = ScriptedApi(lists=[Listing([obj("odoo", "1")], "1"), Listing([], "1")], watches=[])
    informers = InformerSet(api)  # type: ignore[arg-type]
    api.stop, api.block = informers.stop, True
    first = informers.ensure(SPEC)
    assert informers.ensure(SPEC) is first
    everywhere = informers.ensure(WatchSpec(DEPLOYMENTS, None))
    assert first.synced.wait(5) and everywhere.synced.wait(5)
    assert informers.synced
    assert list(informers.find(DEPLOYMENTS, "odoo-prod")) == [first, everywhere]
    assert list(informers.find(DEPLOYMENTS, "odoo-dev")) == [everywhere]
    assert list(informers.find(PODS, "odoo-prod")) == []
    assert [c.name for c in informers.drain(1.0)] == [None, None]
    assert informers.drain(0.01) == []
    informers.raise_errors()
    first.error = KubeError("forbidden", status=403)
    with pytest.raises(KubeError, match="forbidden"):
        informers.raise_errors()
    informers.close()
    assert api.stopped and informers.stop.is_set()
    first.join(5)
    everywhere.join(5)
    assert not first._thread.is_alive() and not everywhere._thread.is_alive()
