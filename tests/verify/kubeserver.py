"""A loopback Kubernetes API server for tests: GET, LIST, WATCH (resourceVersion, bookmarks, 410 Gone)
and merge PATCH over plain HTTP, for the kinds verification reads.

It is a test double and lives in tests/ only. Every object stored is validated first: core kinds by
deserializing into the `kubernetes` client's own models, Flux kinds with `cloudcoil.models.fluxcd`, Flux
OCIRepositories (v1, newer than those models) against tests/verify/flux_ocirepository.schema.json (the
CRD's own openAPIV3Schema) and Argo CD Applications against tests/verify/argocd_application.schema.json (a
subset of the Application CRD's openAPIV3Schema; see that file). Requests are counted per verb and
resource for the benchmarks.
"""

from __future__ import annotations

import bisect
import copy
import json
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
from cloudcoil.models.fluxcd.helm.v2 import HelmRelease
from cloudcoil.models.fluxcd.kustomize.v1 import Kustomization
from cloudcoil.models.fluxcd.source.v1 import GitRepository
from kubernetes import client

SCHEMA = json.loads((Path(__file__).with_name("argocd_application.schema.json")).read_text())
_SCHEMA_VALIDATORS = {
    "Application": jsonschema.Draft202012Validator(SCHEMA),
    "OCIRepository": jsonschema.Draft7Validator(
        json.loads((Path(__file__).with_name("flux_ocirepository.schema.json")).read_text())
    ),
}


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


KINDS = {
    k.plural: k
    for k in (
        Kind("argoproj.io", "v1alpha1", "applications", "Application"),
        Kind("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", "Kustomization"),
        Kind("helm.toolkit.fluxcd.io", "v2", "helmreleases", "HelmRelease"),
        Kind("source.toolkit.fluxcd.io", "v1", "gitrepositories", "GitRepository"),
        Kind("source.toolkit.fluxcd.io", "v1", "ocirepositories", "OCIRepository"),
        Kind("apps", "v1", "deployments", "Deployment"),
        Kind("apps", "v1", "replicasets", "ReplicaSet"),
        Kind("", "v1", "pods", "Pod"),
        Kind("batch", "v1", "jobs", "Job"),
    )
}
_CORE_MODELS = {"Deployment": "V1Deployment", "ReplicaSet": "V1ReplicaSet", "Pod": "V1Pod", "Job": "V1Job"}
_FLUX_MODELS: dict[str, Any] = {
    "Kustomization": Kustomization,
    "HelmRelease": HelmRelease,
    "GitRepository": GitRepository,
}
_PATH = re.compile(
    r"^/(?:api/(?P<core_version>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?$"
)
_API_CLIENT = client.ApiClient()


def validate(kind: Kind, obj: dict[str, Any]) -> None:
    """Raise if `obj` is not a valid object of `kind` (see the module docstring)."""
    if kind.kind in _CORE_MODELS:
        _API_CLIENT.deserialize(json.dumps(obj), _CORE_MODELS[kind.kind], "application/json")
    elif kind.kind in _FLUX_MODELS:
        _FLUX_MODELS[kind.kind].model_validate(obj)
    else:
        _SCHEMA_VALIDATORS[kind.kind].validate(obj)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _labels_match(selector: str | None, labels: dict[str, str]) -> bool:
    for term in filter(None, (selector or "").split(",")):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key.rstrip("=")) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _fields_match(selector: str | None, obj: dict[str, Any]) -> bool:
    meta = obj.get("metadata") or {}
    for term in filter(None, (selector or "").split(",")):
        key, _, value = term.partition("=")
        actual = {"metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace")}.get(key)
        if actual != value.lstrip("="):
            return False
    return True


@dataclass
class Event:
    rv: int
    plural: str
    namespace: str
    type: str
    object: dict[str, Any]


@dataclass
class ClusterState:
    """Objects, the event history and the counters, guarded by one condition variable."""

    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    rv: int = 100
    compacted_below: int = 0
    stream_epoch: int = 0
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    patches: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    watch_versions: list[tuple[str, int]] = field(default_factory=list)
    bookmarks_sent: list[tuple[str, int]] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)


class FakeKubeAPI:
    """Start with `start()`; `url` is the server address; mutate objects with `put` / `update`."""

    def __init__(self, *, bookmark_interval: float = 0.5) -> None:
        self.state = ClusterState()
        self.bookmark_interval = bookmark_interval
        self.patch_hooks: list[Callable[[str, str, str, dict[str, Any]], None]] = []
        self.fail_next: list[int] = []  # HTTP status codes to answer the next requests with
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeKubeAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.drop_streams()
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------ object store (test side)

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object (validated first); records ADDED or MODIFIED."""
        plural = next(k.plural for k in KINDS.values() if k.kind == obj["kind"])
        obj = copy.deepcopy(obj)
        validate(KINDS[plural], obj)
        meta = obj.setdefault("metadata", {})
        key = (plural, meta["namespace"], meta["name"])
        with self.state.cond:
            existed = key in self.state.objects
            meta.setdefault(
                "uid", (self.state.objects.get(key) or {}).get("metadata", {}).get("uid") or str(uuid.uuid4())
            )
            self._commit(key, obj, "MODIFIED" if existed else "ADDED")
        return obj

    def update(
        self, plural: str, namespace: str, name: str, change: Callable[[dict[str, Any]], None]
    ) -> None:
        """Mutate a stored object in place (through `change`) and record a MODIFIED event."""
        with self.state.cond:
            obj = copy.deepcopy(self.state.objects[(plural, namespace, name)])
            change(obj)
            validate(KINDS[plural], obj)
            self._commit((plural, namespace, name), obj, "MODIFIED")

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        with self.state.cond:
            obj = self.state.objects.get((plural, namespace, name))
            return copy.deepcopy(obj) if obj else None

    def delete(self, plural: str, namespace: str, name: str) -> None:
        with self.state.cond:
            obj = self.state.objects.pop((plural, namespace, name))
            self.state.rv += 1
            obj["metadata"]["resourceVersion"] = str(self.state.rv)
            self.state.events.append(Event(self.state.rv, plural, namespace, "DELETED", obj))
            self.state.cond.notify_all()

    def _commit(self, key: tuple[str, str, str], obj: dict[str, Any], kind: str) -> None:
        self.state.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.state.rv)
        self.state.objects[key] = obj
        self.state.events.append(Event(self.state.rv, key[0], key[1], kind, copy.deepcopy(obj)))
        self.state.cond.notify_all()

    def drop_streams(self) -> None:
        """Cut every open watch connection abruptly (no terminating chunk)."""
        with self.state.cond:
            self.state.stream_epoch += 1
            self.state.cond.notify_all()

    def expire_history(self) -> None:
        """Compact: every resourceVersion seen so far becomes too old (410 Gone), and cut the streams."""
        with self.state.cond:
            self.state.compacted_below = self.state.rv + 1
        self.drop_streams()

    def count(self, verb: str, plural: str | None = None) -> int:
        with self.state.cond:
            return sum(n for (v, p), n in self.state.requests.items() if v == verb and plural in (None, p))

    def requests(self) -> dict[str, int]:
        with self.state.cond:
            return {f"{v} {p}": n for (v, p), n in sorted(self.state.requests.items())}

    def watching(self, plural: str) -> bool:
        return self.count("watch", plural) > 0

    # ------------------------------------------------------------ HTTP side

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # small writes (headers, then body; one chunk per event) must not wait for delayed ACKs
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                api._serve(self, "GET")

            def do_PATCH(self) -> None:
                api._serve(self, "PATCH")

        return Handler

    def _reply(self, h: BaseHTTPRequestHandler, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def _status(self, h: BaseHTTPRequestHandler, code: int, reason: str, message: str) -> None:
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
        self._reply(h, code, body)

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""  # always consumed: the connection is kept alive
        url = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        match = _PATH.match(url.path)
        if not match or match["plural"] not in KINDS:
            self._status(h, 404, "NotFound", f"no route {url.path}")
            return
        plural, ns, name = match["plural"], match["ns"], match["name"]
        verb = (
            "patch"
            if method == "PATCH"
            else "get"
            if name
            else "watch"
            if query.get("watch") == "true"
            else "list"
        )
        with self.state.cond:
            self.state.requests[(verb, plural)] += 1
            failure = self.fail_next.pop(0) if self.fail_next else None
        if failure:
            self._status(h, failure, "InternalError", "scripted failure")
            return
        if verb == "patch":
            self._patch(h, plural, ns, name, body)
        elif verb == "get":
            obj = self.get(plural, ns, name)
            if obj is None:
                self._status(h, 404, "NotFound", f'{plural} "{name}" not found')
            else:
                self._reply(h, 200, obj)
        elif verb == "list":
            self._list(h, plural, ns, query)
        else:
            self._watch(h, plural, ns, query)

    def _list(self, h: BaseHTTPRequestHandler, plural: str, ns: str, query: dict[str, str]) -> None:
        kind = KINDS[plural]
        with self.state.cond:
            items = [
                copy.deepcopy(o)
                for (p, n, _), o in sorted(self.state.objects.items())
                if p == plural and ns in (None, n) and self._selected(o, query)
            ]
            rv = self.state.rv
        self._reply(
            h,
            200,
            {
                "kind": f"{kind.kind}List",
                "apiVersion": kind.api_version,
                "metadata": {"resourceVersion": str(rv)},
                "items": items,
            },
        )

    def _selected(self, obj: dict[str, Any], query: dict[str, str]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return _labels_match(query.get("labelSelector"), labels) and _fields_match(
            query.get("fieldSelector"), obj
        )

    def _patch(self, h: BaseHTTPRequestHandler, plural: str, ns: str, name: str, raw: bytes) -> None:
        body = json.loads(raw or b"{}")
        if "merge-patch" not in (h.headers.get("Content-Type") or ""):
            self._status(h, 415, "UnsupportedMediaType", "only merge patch is served")
            return
        with self.state.cond:
            current = self.state.objects.get((plural, ns, name))
            if current is None:
                self._status(h, 404, "NotFound", f'{plural} "{name}" not found')
                return
            patched = merge_patch(current, body)
            validate(KINDS[plural], patched)
            self._commit((plural, ns, name), patched, "MODIFIED")
            self.state.patches.append((plural, ns, name, body))
            result = copy.deepcopy(patched)
        self._reply(h, 200, result)
        for hook in list(self.patch_hooks):
            hook(plural, ns, name, body)

    def _chunk(self, h: BaseHTTPRequestHandler, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode() + b"\n"
        h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        h.wfile.flush()

    def _watch(self, h: BaseHTTPRequestHandler, plural: str, ns: str, query: dict[str, str]) -> None:
        since = int(query.get("resourceVersion") or 0)
        deadline = time.monotonic() + float(query.get("timeoutSeconds") or 1800)
        bookmarks = query.get("allowWatchBookmarks") == "true"
        with self.state.cond:
            self.state.watch_versions.append((plural, since))
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            if since < self.state.compacted_below:
                self._chunk(
                    h,
                    {
                        "type": "ERROR",
                        "object": {
                            "kind": "Status",
                            "apiVersion": "v1",
                            "status": "Failure",
                            "reason": "Expired",
                            "code": 410,
                            "message": f"too old resource version: {since}",
                        },
                    },
                )
            elif not self._stream(h, plural, ns, query, since, deadline, bookmarks):
                h.close_connection = True
                return  # dropped: no terminating chunk
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True

    def _events_after(self, cursor: int) -> list[Event]:
        """Events newer than `cursor` (the history is in resourceVersion order; caller holds the lock)."""
        events = self.state.events
        return events[bisect.bisect_right(events, cursor, key=lambda e: e.rv) :]

    def _stream(
        self,
        h: BaseHTTPRequestHandler,
        plural: str,
        ns: str,
        query: dict[str, str],
        since: int,
        deadline: float,
        bookmarks: bool,
    ) -> bool:
        """Send events until the deadline (True) or until the stream is dropped (False)."""
        epoch = self.state.stream_epoch
        cursor = since
        next_bookmark = time.monotonic() + self.bookmark_interval
        while True:
            with self.state.cond:
                pending = self._events_after(cursor)
                if not pending and self.state.stream_epoch == epoch:
                    self.state.cond.wait(
                        timeout=min(0.05 + self.bookmark_interval, max(0.0, deadline - time.monotonic()))
                    )
                    pending = self._events_after(cursor)
                dropped = self.state.stream_epoch != epoch
                rv = self.state.rv
            if dropped:
                return False
            for event in pending:
                cursor = event.rv
                if (
                    event.plural == plural
                    and ns in (None, event.namespace)
                    and self._selected(event.object, query)
                ):
                    self._chunk(h, {"type": event.type, "object": event.object})
            now = time.monotonic()
            if now >= deadline:
                return True
            if bookmarks and now >= next_bookmark:
                next_bookmark = now + self.bookmark_interval
                with self.state.cond:
                    self.state.bookmarks_sent.append((plural, rv))
                kind = KINDS[plural]
                self._chunk(
                    h,
                    {
                        "type": "BOOKMARK",
                        "object": {
                            "kind": kind.kind,
                            "apiVersion": kind.api_version,
                            "metadata": {"resourceVersion": str(rv)},
                        },
                    },
                )
