"""The one module that talks to the Kubernetes API (the official `kubernetes` client).

Everything it returns is plain JSON-shaped dicts, so the verdicts never see client models. Lists, watch
events and patch answers are decoded straight from the raw response body (`_preload_content=False` +
`json.loads`): no typed-model round trip, whose cost grows with every object of every event.
Errors become `KubeError` (an ExternalError) carrying the HTTP status; `ResourceGone` is the 410 that
tells a watcher to relist. Bearer tokens from the kubeconfig are registered as secrets, so `redact`
removes them from every message, and messages carry only status and reason, never request headers.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from gitops.errors import ExternalError, UsageError, redact, register_secret

CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Resource:
    group: str  # "" for the core API group
    version: str
    plural: str
    kind: str


# Built-in kinds, read through the client's typed APIs. A Resource of any other API group (the reconcilers
# of gitops/verify/reconcilers/ and the sources of gitops/verify/sources/ declare their own) is a custom
# object, read through CustomObjectsApi.
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
REPLICASETS = Resource("apps", "v1", "replicasets", "ReplicaSet")
PODS = Resource("", "v1", "pods", "Pod")
JOBS = Resource("batch", "v1", "jobs", "Job")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")  # the database proof (database_proof.py)
BUILT_IN_GROUPS = frozenset({"", "apps", "batch"})


def is_custom(res: Resource) -> bool:
    return res.group not in BUILT_IN_GROUPS


class KubeError(ExternalError):
    """The API answered with an error, or could not be reached (status None)."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status

    @property
    def transient(self) -> bool:
        """Worth retrying: unreachable, throttled or a server-side error."""
        return self.status is None or self.status == 429 or self.status >= 500


class ResourceGone(KubeError):
    """410 Gone: the resourceVersion is too old; list again and watch from the new one."""


@dataclass(frozen=True)
class Listing:
    items: list[dict[str, Any]]
    resource_version: str


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED | MODIFIED | DELETED | BOOKMARK
    object: dict[str, Any]

    @property
    def resource_version(self) -> str | None:
        value = (self.object.get("metadata") or {}).get("resourceVersion")
        return str(value) if value else None


class _Stream:
    """One open watch. `stop` ends it from another thread: the flag ends it after the event in hand, and
    shutting the response down wakes a read that is waiting for the next event."""

    def __init__(self) -> None:
        self.stopped = False
        self.response: Any = None

    def stop(self) -> None:
        self.stopped = True
        if self.response is not None:
            # closed, not yet read from, or an urllib3 without shutdown(): the flag still ends it
            with contextlib.suppress(OSError, AttributeError, ValueError):
                self.response.shutdown()


def _lines(response: Any) -> Iterator[bytes]:
    """The non-empty lines of a streamed (chunked) response body."""
    pending: list[bytes] = []
    for chunk in response.stream(amt=None, decode_content=False):
        pending.append(chunk)
        if b"\n" in chunk:
            *lines, rest = b"".join(pending).split(b"\n")
            pending = [rest]
            yield from (line for line in lines if line.strip())
    rest = b"".join(pending)
    if rest.strip():
        yield rest


def _wrap(exc: Exception, what: str) -> KubeError:
    if isinstance(exc, ApiException):
        status = int(exc.status or 0) or None
        cls = ResourceGone if status == 410 else KubeError
        hint = "check the kubeconfig credentials and RBAC" if status in (401, 403) else None
        return cls(
            f"Kubernetes API: {what}: HTTP {status} {redact(str(exc.reason or ''))}", status=status, hint=hint
        )
    return KubeError(f"Kubernetes API unreachable: {what}: {type(exc).__name__}: {redact(str(exc))[:300]}")


_TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, OSError, ValueError)


def _configuration(kubeconfig: Path | None, context: str | None) -> client.Configuration:
    cfg = client.Configuration()
    in_cluster = (
        kubeconfig is None and "KUBERNETES_SERVICE_HOST" in os.environ and not os.environ.get("KUBECONFIG")
    )
    try:
        if in_cluster:
            config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
        else:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=str(kubeconfig) if kubeconfig else None,
                context=context,
                client_configuration=cfg,
                persist_config=False,
            )
    except (ConfigException, OSError, TypeError, ValueError) as exc:
        where = "in-cluster service account" if in_cluster else f"kubeconfig {kubeconfig or '(default)'}"
        raise UsageError(f"cannot load Kubernetes credentials from {where}: {redact(str(exc))}") from None
    for value in (cfg.api_key or {}).values():
        register_secret(str(value).removeprefix("Bearer ").strip())
        register_secret(str(value))
    cfg.retries = 0  # we retry ourselves, with back-off, where it is safe
    return cfg


class KubeApi:
    """List, watch, get and merge-patch the few kinds verification needs."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        request_timeout: float = 30.0,
        attempts: int = 4,
        backoff: float = 0.25,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = api_client
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self._custom = client.CustomObjectsApi(api_client)
        self._apps = client.AppsV1Api(api_client)
        self._core = client.CoreV1Api(api_client)
        self._batch = client.BatchV1Api(api_client)
        self._timeout = request_timeout
        self._watches: set[_Stream] = set()
        self._lock = threading.Lock()

    @classmethod
    def connect(
        cls,
        *,
        kubeconfig: Path | None = None,
        context: str | None = None,
        expected_server: str | None = None,
        request_timeout: float = 30.0,
    ) -> KubeApi:
        """A client for `context` of `kubeconfig` (or the in-cluster service account)."""
        cfg = _configuration(kubeconfig, context)
        if expected_server and cfg.host.rstrip("/") != expected_server.rstrip("/"):
            raise UsageError(
                f"the Kubernetes context points at {cfg.host}, but env.yaml says cluster.server "
                f"{expected_server}",
                hint="pass --context for the right cluster or fix cluster.server in env.yaml",
            )
        return cls(client.ApiClient(cfg), request_timeout=request_timeout)

    @property
    def host(self) -> str:
        return str(self._client.configuration.host)

    def close(self) -> None:
        self.stop_watches()
        self._client.close()  # type: ignore[no-untyped-call]

    # ------------------------------------------------------------ requests

    def _list_call(self, res: Resource, namespace: str | None) -> Any:
        if is_custom(res):
            if namespace is None:
                return self._custom.list_cluster_custom_object
            return self._custom.list_namespaced_custom_object
        if namespace is None:
            return {
                DEPLOYMENTS: self._apps.list_deployment_for_all_namespaces,
                REPLICASETS: self._apps.list_replica_set_for_all_namespaces,
                PODS: self._core.list_pod_for_all_namespaces,
                JOBS: self._batch.list_job_for_all_namespaces,
                CONFIGMAPS: self._core.list_config_map_for_all_namespaces,
            }[res]
        return {
            DEPLOYMENTS: self._apps.list_namespaced_deployment,
            REPLICASETS: self._apps.list_namespaced_replica_set,
            PODS: self._core.list_namespaced_pod,
            JOBS: self._batch.list_namespaced_job,
            CONFIGMAPS: self._core.list_namespaced_config_map,
        }[res]

    def _list_args(self, res: Resource, namespace: str | None) -> tuple[str, ...]:
        if is_custom(res):
            return (
                (res.group, res.version, res.plural)
                if namespace is None
                else (res.group, res.version, namespace, res.plural)
            )
        return () if namespace is None else (namespace,)

    @staticmethod
    def _selectors(label_selector: str | None, field_selector: str | None) -> dict[str, str]:
        out = {}
        if label_selector:
            out["label_selector"] = label_selector
        if field_selector:
            out["field_selector"] = field_selector
        return out

    @staticmethod
    def _decode(response: Any) -> dict[str, Any]:
        """The JSON object of a raw (not preloaded) response."""
        data = json.loads(response.data)
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, got {type(data).__name__}")
        return data

    def list(
        self,
        res: Resource,
        namespace: str | None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        retry: bool = False,
    ) -> Listing:
        """One LIST; `namespace=None` lists every namespace. With `retry`, transient errors are retried
        with back-off (informers retry on their own and leave it off)."""
        for attempt in range(1, self.attempts + 1):
            try:
                return self._list_once(res, namespace, label_selector, field_selector)
            except KubeError as exc:
                if not retry or not exc.transient or attempt == self.attempts:
                    raise
                self.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _list_once(
        self, res: Resource, namespace: str | None, label_selector: str | None, field_selector: str | None
    ) -> Listing:
        what = f"list {res.plural} in {namespace or 'all namespaces'}"
        try:
            result = self._list_call(res, namespace)(
                *self._list_args(res, namespace),
                **self._selectors(label_selector, field_selector),
                _preload_content=False,
                _request_timeout=(CONNECT_TIMEOUT, self._timeout),
            )
            data = self._decode(result)
        except (ApiException, *_TRANSPORT_ERRORS) as exc:
            raise _wrap(exc, what) from None
        items = [item for item in data.get("items") or [] if isinstance(item, dict)]
        return Listing(items, str((data.get("metadata") or {}).get("resourceVersion") or ""))

    def watch(
        self,
        res: Resource,
        namespace: str | None,
        *,
        resource_version: str,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int = 60,
    ) -> Iterator[WatchEvent]:
        """Events after `resource_version` until the server ends the stream (or `stop_watches`).

        Each line of the chunked answer is one event, decoded with `json.loads` and nothing else. An
        ERROR event raises its status (410: ResourceGone, so the informer relists)."""
        what = f"watch {res.plural} in {namespace or 'all namespaces'}"
        stream = _Stream()
        with self._lock:
            self._watches.add(stream)
        try:
            response = self._list_call(res, namespace)(
                *self._list_args(res, namespace),
                watch=True,
                resource_version=resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=timeout_seconds,
                _preload_content=False,
                _request_timeout=(CONNECT_TIMEOUT, timeout_seconds + self._timeout),
                **self._selectors(label_selector, field_selector),
            )
            stream.response = response
            try:
                if stream.stopped:  # stopped while the request was under way
                    return
                for line in _lines(response):
                    event = json.loads(line)
                    if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
                        raise ValueError("a watch event is not a JSON object with an object")
                    if event.get("type") == "ERROR":
                        status = event["object"]
                        raise ApiException(
                            status=int(status.get("code") or 500),
                            reason=f"{status.get('reason')}: {status.get('message')}",
                        )
                    yield WatchEvent(str(event.get("type")), event["object"])
                    if stream.stopped:
                        break
            finally:
                response.close()
                response.release_conn()
        except (ApiException, *_TRANSPORT_ERRORS) as exc:
            raise _wrap(exc, what) from None
        finally:
            with self._lock:
                self._watches.discard(stream)

    def stop_watches(self) -> None:
        """Ask every open watch stream to end (used when verification is decided)."""
        with self._lock:
            streams = list(self._watches)
        for stream in streams:
            stream.stop()

    def patch_annotations(
        self, res: Resource, namespace: str, name: str, annotations: Mapping[str, str]
    ) -> dict[str, Any] | None:
        """Merge-patch metadata.annotations (idempotent, so retried with back-off on transient errors);
        None when the object does not exist."""
        if not is_custom(res):
            raise ValueError(f"patching {res.kind} is not supported")
        body = {"metadata": {"annotations": dict(annotations)}}
        what = f"patch {res.kind} {namespace}/{name}"
        for attempt in range(1, self.attempts + 1):
            try:
                result = self._custom.patch_namespaced_custom_object(
                    res.group,
                    res.version,
                    namespace,
                    res.plural,
                    name,
                    body,
                    _preload_content=False,
                    _request_timeout=(CONNECT_TIMEOUT, self._timeout),
                )
                return self._decode(result)
            except ApiException as exc:
                if exc.status == 404:
                    return None
                error = _wrap(exc, what)
            except _TRANSPORT_ERRORS as exc:
                error = _wrap(exc, what)
            if not error.transient or attempt == self.attempts:
                raise error
            self.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")
