"""Convergence: request a refresh, then watch until every target is decided or time runs out.

Reads go through informers (one LIST + one WATCH per kind and namespace, whatever the number of
tenants); after each batch of changes only the targets those changes touch are re-evaluated by the pure
verdict functions. The reconciler object must prove the revision before the workloads are judged. What a
kind means comes from the registries (gitops/verify/reconcilers/, gitops/verify/sources/): this loop
names no kind.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gitops.verify.kube import DEPLOYMENTS, PODS, REPLICASETS, KubeApi, Resource
from gitops.verify.reconcilers import registry as reconcilers
from gitops.verify.reconcilers.protocol import Reading
from gitops.verify.revision import RevisionFilter
from gitops.verify.rollout import HASH_LABEL, deployment_verdict, pods_verdict
from gitops.verify.sources import registry as sources
from gitops.verify.sources.protocol import SourceReading, SourceRef
from gitops.verify.targets import Target
from gitops.verify.verdict import State, Verdict, combine, dig
from gitops.verify.watcher import Change, InformerSet, WatchSpec

REFRESH_CONCURRENCY = 4


@dataclass(frozen=True)
class TargetResult:
    target: Target
    verdict: Verdict
    reconciled_revision: str | None = None
    workload_namespace: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.target.tenant,
            "target": self.target.subject,
            "state": self.verdict.state.value,
            "missing": list(self.verdict.missing),
            "reasons": list(self.verdict.reasons),
            "reconciled_revision": self.reconciled_revision,
            "workload_namespace": self.workload_namespace,
            "workloads": list(self.target.workloads),
            "digest": self.target.digest,
        }


@dataclass
class Outcome:
    results: list[TargetResult]
    timed_out: bool
    reconciler_objects: dict[Target, dict[str, Any]] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return all(r.verdict.state is State.OK for r in self.results) and bool(self.results)


def rfc3339_nano(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def _owner_name(obj: dict[str, Any] | None) -> str | None:
    refs = dig(obj, "metadata", "ownerReferences") or []
    return str(refs[0].get("name")) if refs else None


class Verification:
    """One run over a set of targets against one cluster."""

    def __init__(
        self,
        api: KubeApi,
        targets: Iterable[Target],
        *,
        accepts: RevisionFilter,
        clock: Callable[[], float] = time.monotonic,
        base_backoff: float = 0.2,
        cluster_scoped_workloads: bool = False,
    ) -> None:
        self.api = api
        self.cluster_scoped_workloads = cluster_scoped_workloads
        self.targets = list(targets)
        self.accepts = accepts
        self.clock = clock
        self.informers = InformerSet(api, base_backoff=base_backoff)
        self.requested_at: dict[Target, str] = {}
        self.not_found: set[Target] = set()
        self.results: dict[Target, TargetResult] = {
            t: TargetResult(t, Verdict.pending(t.subject, "not evaluated yet")) for t in self.targets
        }
        self._by_object = {(t.resource, t.namespace, t.name): t for t in self.targets}
        self._by_workload: dict[str, list[Target]] = {}
        self._owner_index: dict[tuple[Resource, str], dict[str, list[dict[str, Any]]]] = {}
        self._reconciler_resources = reconcilers.resources()
        self._source_resources = sources.resources()
        for target in self.targets:
            for workload in target.workloads:
                self._by_workload.setdefault(workload, []).append(target)

    # ------------------------------------------------------------ refresh

    def _refresh_one(self, target: Target, token: str) -> dict[str, Any] | None:
        annotations = target.reconciler.refresh_annotations(token)
        return self.api.patch_annotations(target.resource, target.namespace, target.name, annotations)

    def _source_ref(self, target: Target, obj: dict[str, Any]) -> SourceRef | None:
        return target.reconciler.source_ref(obj, target.source)

    def request_refresh(self) -> None:
        """Merge-patch the refresh annotation on every target (a few at a time) and on each source they
        read from once; then watch those sources."""
        token = rfc3339_nano(datetime.now(UTC))
        with ThreadPoolExecutor(max_workers=REFRESH_CONCURRENCY) as pool:
            patched = list(pool.map(lambda t: self._refresh_one(t, token), self.targets))
        refs: set[SourceRef] = set()
        for target, obj in zip(self.targets, patched, strict=True):
            self.requested_at[target] = token
            if obj is None:
                self.not_found.add(target)
                continue
            ref = self._source_ref(target, obj)
            if ref is not None and sources.supported(ref, target.reconciler.SOURCE_KINDS):
                refs.add(ref)
        for ref in sorted(refs, key=lambda r: (r.kind, r.namespace, r.name)):
            source = sources.SOURCES[ref.kind]
            self.api.patch_annotations(
                source.RESOURCE, ref.namespace, ref.name, source.refresh_annotations(token)
            )
            self._source_informer(ref)

    # ------------------------------------------------------------ watching

    def _start_reconciler_watches(self) -> None:
        groups: dict[tuple[Resource, str], list[str]] = {}
        for target in self.targets:
            groups.setdefault((target.resource, target.namespace), []).append(target.name)
        for (resource, namespace), names in groups.items():
            selector = f"metadata.name={names[0]}" if len(names) == 1 else None
            self.informers.ensure(WatchSpec(resource, namespace, field_selector=selector))

    def _source_informer(self, ref: SourceRef) -> None:
        self.informers.ensure(WatchSpec(sources.SOURCES[ref.kind].RESOURCE, ref.namespace))

    def _workload_informers(self, namespace: str) -> None:
        """Deployments, ReplicaSets and Pods of `namespace`, or of every namespace when the tenants'
        workloads are spread over one namespace each (so the request count does not grow with them)."""
        scope = None if self.cluster_scoped_workloads else namespace
        self.informers.ensure(WatchSpec(DEPLOYMENTS, scope))
        self.informers.ensure(WatchSpec(REPLICASETS, scope, label_selector=HASH_LABEL))
        self.informers.ensure(WatchSpec(PODS, scope, label_selector=HASH_LABEL))

    def _cached(self, resource: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        for informer in self.informers.find(resource, namespace):
            obj = informer.get(namespace, name)
            if obj is not None:
                return obj
        return None

    def _all(self, resource: Resource, namespace: str) -> list[dict[str, Any]]:
        return [
            obj
            for informer in self.informers.find(resource, namespace)
            for obj in informer.items()
            if dig(obj, "metadata", "namespace") == namespace
        ]

    # ------------------------------------------------------------ evaluation

    def _source(self, target: Target, obj: dict[str, Any]) -> SourceReading | None:
        """What the source `obj` reads from proves (watched from the first time it is named)."""
        ref = self._source_ref(target, obj)
        if ref is None:
            return None
        cached = None
        if sources.supported(ref, target.reconciler.SOURCE_KINDS):
            self._source_informer(ref)
            cached = self._cached(sources.SOURCES[ref.kind].RESOURCE, ref.namespace, ref.name)
        allowed = target.reconciler.SOURCE_KINDS
        return sources.read_source(ref, cached, allowed=allowed, accepts=self.accepts)

    def _reconciler(self, target: Target, obj: dict[str, Any]) -> Reading:
        """The reconciler object's verdict, the commit it reconciled and its workloads' namespace."""
        return target.reconciler.read(
            obj,
            accepts=self.accepts,
            requested_at=self.requested_at.get(target),
            source=self._source(target, obj),
            chart_version=target.chart_version,
        )

    def _owners(self, resource: Resource, namespace: str) -> dict[str, list[dict[str, Any]]]:
        """Objects of `resource` in `namespace` by owner name, rebuilt only after they changed."""
        key = (resource, namespace)
        if key not in self._owner_index:
            index: dict[str, list[dict[str, Any]]] = {}
            for obj in self._all(resource, namespace):
                index.setdefault(_owner_name(obj) or "", []).append(obj)
            self._owner_index[key] = index
        return self._owner_index[key]

    def _forget_owners(self, changes: list[Change]) -> None:
        if any(c.name is None for c in changes):
            self._owner_index.clear()
            return
        touched = {c.spec.resource for c in changes} & {REPLICASETS, PODS}
        for key in [k for k in self._owner_index if k[0] in touched]:
            del self._owner_index[key]

    def _workloads(self, target: Target, namespace: str) -> Verdict:
        self._workload_informers(namespace)
        replicasets_of = self._owners(REPLICASETS, namespace)
        pods_of = self._owners(PODS, namespace)
        parts = []
        for name in target.workloads:
            deploy = self._cached(DEPLOYMENTS, namespace, name)
            if deploy is None:
                parts.append(Verdict.pending(f"Deployment {namespace}/{name}", "not found"))
                continue
            replicasets = replicasets_of.get(name, [])
            pods = [p for rs in replicasets for p in pods_of.get(str(dig(rs, "metadata", "name")), [])]
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
        return combine("workloads", parts)

    def evaluate(self, target: Target) -> TargetResult:
        if target in self.not_found:
            return TargetResult(target, Verdict.failed(target.subject, "not found in the cluster"))
        obj = self._cached(target.resource, target.namespace, target.name)
        if obj is None:
            return TargetResult(target, Verdict.pending(target.subject, "not found yet"))
        reading = self._reconciler(target, obj)
        namespace = reading.namespace or target.default_namespace
        verdict = reading.verdict
        if verdict.state is State.OK:
            verdict = combine(target.subject, [verdict, self._workloads(target, namespace)])
        return TargetResult(target, verdict, reading.revision, namespace)

    def _affected(self, changes: list[Change]) -> set[Target]:
        dirty: set[Target] = set()
        for change in changes:
            resource = change.spec.resource
            if change.name is None or resource in self._source_resources:
                return set(self.targets)
            if resource in self._reconciler_resources:
                namespace = str(dig(change.object, "metadata", "namespace") or change.spec.namespace)
                target = self._by_object.get((resource, namespace, change.name))
                dirty.update([target] if target else [])
                continue
            deployment = change.name
            if resource is REPLICASETS:
                deployment = _owner_name(change.object) or ""
            elif resource is PODS:
                deployment = (_owner_name(change.object) or "").rpartition("-")[0]
            dirty.update(self._by_workload.get(deployment, []))
        return dirty

    def _undecided(self) -> list[Target]:
        return [t for t, r in self.results.items() if not r.verdict.done]

    def run(self, timeout: float) -> Outcome:
        """Refresh, watch and evaluate until every target is ok or failed, or `timeout` seconds pass."""
        deadline = self.clock() + timeout
        try:
            self.request_refresh()
            self._start_reconciler_watches()
            while self._undecided():
                changes = self.informers.drain(deadline - self.clock())
                self.informers.raise_errors()
                if not self.informers.synced:
                    if self.clock() >= deadline:
                        break
                    continue
                self._forget_owners(changes)
                for target in self._affected(changes) if changes else []:
                    self.results[target] = self.evaluate(target)
                if self.clock() >= deadline:
                    break
        finally:
            self.informers.close()
        objects = {}
        for target in self.targets:
            obj = self._cached(target.resource, target.namespace, target.name)
            if obj is not None:
                objects[target] = obj
        return Outcome(list(self.results.values()), bool(self._undecided()), objects)
