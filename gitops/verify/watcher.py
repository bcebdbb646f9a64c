"""Informers: for each (kind, namespace, selectors) ONE list, then ONE watch stream kept open.

The stream is re-opened from the last resourceVersion (bookmarks included) when the server ends it,
relisted on 410 Gone, and retried with exponential back-off on transient API errors (unreachable,
429, 5xx). A non-transient error (401, 403, 404 of the kind) is kept and re-raised by the waiter.
Every change is pushed onto one queue so the waiter re-evaluates only what changed. Objects are the plain
dicts decoded from the API and are never mutated (an event replaces the cached dict), so a change carries
the cached object itself, not a copy.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gitops.verify.kube import KubeApi, KubeError, Resource, ResourceGone

WATCH_TIMEOUT_SECONDS = 300
log = logging.getLogger(__name__)
MAX_BACKOFF = 5.0


@dataclass(frozen=True)
class WatchSpec:
    """What one informer lists and watches; `namespace=None` watches the kind in every namespace."""

    resource: Resource
    namespace: str | None
    label_selector: str | None = None
    field_selector: str | None = None


@dataclass(frozen=True)
class Change:
    spec: WatchSpec
    name: str | None  # None: the whole cache was (re)listed
    object: dict[str, Any] | None


def _key(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


class Informer:
    """A local cache of one watched collection, kept current by a daemon thread."""

    def __init__(
        self,
        api: KubeApi,
        spec: WatchSpec,
        changes: queue.Queue[Change],
        *,
        stop: threading.Event,
        max_attempts: int | None = None,
        base_backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.spec = spec
        self.changes = changes
        self.stop = stop
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.sleep = sleep
        self.synced = threading.Event()
        self.error: KubeError | None = None
        self.resource_version: str | None = None
        self._objects: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"watch-{spec.resource.plural}")

    def start(self) -> Informer:
        self._thread.start()
        return self

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            return self._objects.get(f"{namespace}/{name}")

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._objects.values())

    # ------------------------------------------------------------ thread

    def _relist(self) -> str:
        listing = self.api.list(
            self.spec.resource,
            self.spec.namespace,
            label_selector=self.spec.label_selector,
            field_selector=self.spec.field_selector,
        )
        with self._lock:
            self._objects = {_key(o): o for o in listing.items}
        self.synced.set()
        self.changes.put(Change(self.spec, None, None))
        return listing.resource_version

    def _apply(self, event_type: str, obj: dict[str, Any]) -> None:
        key = _key(obj)
        with self._lock:
            if event_type == "DELETED":
                self._objects.pop(key, None)
            else:
                self._objects[key] = obj
        self.changes.put(Change(self.spec, key.partition("/")[2], obj))

    def _follow(self) -> None:
        """Consume one watch stream from `self.resource_version`, advancing it with every event and
        bookmark (so a stream cut half-way resumes where it stopped)."""
        assert self.resource_version is not None
        for event in self.api.watch(
            self.spec.resource,
            self.spec.namespace,
            resource_version=self.resource_version,
            label_selector=self.spec.label_selector,
            field_selector=self.spec.field_selector,
            timeout_seconds=WATCH_TIMEOUT_SECONDS,
        ):
            self.resource_version = event.resource_version or self.resource_version
            if event.type in ("ADDED", "MODIFIED", "DELETED"):
                self._apply(event.type, event.object)
            if self.stop.is_set():
                break

    def _run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            try:
                if self.resource_version is None:
                    self.resource_version = self._relist()
                self._follow()
                failures = 0
            except ResourceGone:
                log.debug("%s: 410 Gone, relisting", self.spec)
                self.resource_version = None
            except KubeError as exc:
                if self.stop.is_set():
                    return
                failures += 1
                log.debug("%s: %s (attempt %d)", self.spec, exc.message, failures)
                # a transient failure (the API server restarting, a connection reset) is retried until the
                # verification's deadline stops this informer: a real kube-apiserver takes ~30 s to come back
                if not exc.transient or (self.max_attempts is not None and failures >= self.max_attempts):
                    self.error = exc
                    self.changes.put(Change(self.spec, None, None))
                    return
                self.sleep(min(MAX_BACKOFF, self.base_backoff * 2 ** (failures - 1)))


class InformerSet:
    """The informers of one verification, created on demand, one per WatchSpec."""

    def __init__(self, api: KubeApi, *, base_backoff: float = 0.2) -> None:
        self.api = api
        self.changes: queue.Queue[Change] = queue.Queue()
        self.stop = threading.Event()
        self.base_backoff = base_backoff
        self._informers: dict[WatchSpec, Informer] = {}
        self._by_scope: dict[tuple[Resource, str | None], list[Informer]] = {}
        self._unsynced: list[Informer] = []

    def ensure(self, spec: WatchSpec) -> Informer:
        informer = self._informers.get(spec)
        if informer is None:
            informer = Informer(self.api, spec, self.changes, stop=self.stop, base_backoff=self.base_backoff)
            self._informers[spec] = informer.start()
            self._by_scope.setdefault((spec.resource, spec.namespace), []).append(informer)
            self._unsynced.append(informer)
        return informer

    def find(self, resource: Resource, namespace: str) -> Iterable[Informer]:
        """Informers whose collection holds objects of `resource` in `namespace`."""
        return [*self._by_scope.get((resource, namespace), ()), *self._by_scope.get((resource, None), ())]

    @property
    def synced(self) -> bool:
        """Every informer has listed once (only those not yet known to be synced are looked at)."""
        self._unsynced = [i for i in self._unsynced if not i.synced.is_set()]
        return not self._unsynced

    def raise_errors(self) -> None:
        for informer in self._informers.values():
            if informer.error is not None:
                raise informer.error

    def drain(self, timeout: float) -> list[Change]:
        """Wait up to `timeout` for at least one change, then take every queued change."""
        try:
            first = self.changes.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return []
        batch = [first]
        while True:
            try:
                batch.append(self.changes.get_nowait())
            except queue.Empty:
                return batch

    def close(self) -> None:
        self.stop.set()
        self.api.stop_watches()
        for informer in self._informers.values():
            informer.join(timeout=2.0)
