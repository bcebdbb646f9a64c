"""Convergence: request a refresh, then watch until every target is decided or time runs out.

Reads go through informers (one LIST + one WATCH per kind and namespace, whatever the number of
tenants); after each batch of changes only the targets those changes touch are re-evaluated by the pure
verdict functions. The work per event is constant: targets are indexed by reconciler object, workload
name, source object and workload namespace; ReplicaSets and Pods by owner, updated one object at a time;
the undecided targets are a set kept as verdicts change (never rescanned). `evaluations` counts the
verdicts computed, so tests can assert on the work done rather than on time.

The reconciler object must prove the revision before the workloads are judged. What a
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
        self._by_source: dict[tuple[Resource, str, str], set[Target]] = {}
        self._by_namespace: dict[str, set[Target]] = {}  # workload namespace -> targets judged there
        self._owner_index: dict[tuple[Resource, str], dict[str, dict[str, dict[str, Any]]]] = {}
        self._owner_of: dict[tuple[Resource, str, str], str] = {}
        self._pending: set[Target] = set(self.targets)
        self._backlog: list[Change] = []
        self.evaluations = 0
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
            resource = sources.SOURCES[ref.kind].RESOURCE
            self._by_source.setdefault((resource, ref.namespace, ref.name), set()).add(target)
            cached = self._cached(resource, ref.namespace, ref.name)
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

    def _owners(self, resource: Resource, namespace: str) -> dict[str, dict[str, dict[str, Any]]]:
        """Objects of `resource` in `namespace` by owner name: built once from the cache, then kept
        current one changed object at a time (`_track_owner`)."""
        key = (resource, namespace)
        if key not in self._owner_index:
            self._owner_index[key] = {}
            for obj in self._all(resource, namespace):
                self._index_owner(resource, namespace, obj)
        return self._owner_index[key]

    def _index_owner(self, resource: Resource, namespace: str, obj: dict[str, Any]) -> None:
        name = str(dig(obj, "metadata", "name"))
        owner = _owner_name(obj) or ""
        self._owner_index[(resource, namespace)].setdefault(owner, {})[name] = obj
        self._owner_of[(resource, namespace, name)] = owner

    def _track_owner(self, change: Change) -> None:
        """Move one ReplicaSet or Pod in the owner index (O(1)); a relist drops the kind's index."""
        resource = change.spec.resource
        if resource not in (REPLICASETS, PODS):
            return
        if change.name is None:
            for key in [k for k in self._owner_index if k[0] is resource]:
                del self._owner_index[key]
            for owned in [k for k in self._owner_of if k[0] is resource]:
                del self._owner_of[owned]
            return
        namespace = str(dig(change.object, "metadata", "namespace") or change.spec.namespace)
        if (resource, namespace) not in self._owner_index:
            return  # built from the cache when first needed
        old = self._owner_of.pop((resource, namespace, change.name), None)
        if old is not None:
            siblings = self._owner_index[(resource, namespace)].get(old, {})
            siblings.pop(change.name, None)
        current = self._cached(resource, namespace, change.name)
        if current is not None:
            self._index_owner(resource, namespace, current)

    def _workloads(self, target: Target, namespace: str) -> Verdict:
        self._workload_informers(namespace)
        self._by_namespace.setdefault(namespace, set()).add(target)
        replicasets_of = self._owners(REPLICASETS, namespace)
        pods_of = self._owners(PODS, namespace)
        parts = []
        for name in target.workloads:
            deploy = self._cached(DEPLOYMENTS, namespace, name)
            if deploy is None:
                parts.append(Verdict.pending(f"Deployment {namespace}/{name}", "not found"))
                continue
            replicasets = list(replicasets_of.get(name, {}).values())
            pods = [
                p for rs in replicasets for p in pods_of.get(str(dig(rs, "metadata", "name")), {}).values()
            ]
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
        self.evaluations += 1
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

    def _relisted(self, spec: WatchSpec) -> set[Target]:
        """The targets a whole (re)listed collection can concern."""
        resource = spec.resource
        if resource in self._reconciler_resources:
            return {
                t for t in self.targets if t.resource == resource and spec.namespace in (None, t.namespace)
            }
        if resource in self._source_resources:
            return {
                t
                for (res, ns, _), ts in self._by_source.items()
                if res == resource
                for t in ts
                if spec.namespace in (None, ns)
            }
        if spec.namespace is None:
            return {t for ts in self._by_namespace.values() for t in ts}
        return set(self._by_namespace.get(spec.namespace, ()))

    def _affected(self, changes: list[Change]) -> set[Target]:
        """The targets whose verdict `changes` can change, found through the indexes (no scan)."""
        dirty: set[Target] = set()
        for change in changes:
            resource = change.spec.resource
            if change.name is None:
                dirty |= self._relisted(change.spec)
                continue
            namespace = str(dig(change.object, "metadata", "namespace") or change.spec.namespace)
            if resource in self._reconciler_resources:
                target = self._by_object.get((resource, namespace, change.name))
                dirty.update([target] if target else [])
            elif resource in self._source_resources:
                dirty |= self._by_source.get((resource, namespace, change.name), set())
            else:
                deployment = change.name
                if resource is REPLICASETS:
                    deployment = _owner_name(change.object) or ""
                elif resource is PODS:
                    deployment = (_owner_name(change.object) or "").rpartition("-")[0]
                dirty.update(self._by_workload.get(deployment, []))
        return dirty

    def _record(self, target: Target, result: TargetResult) -> None:
        self.results[target] = result
        if result.verdict.done:
            self._pending.discard(target)
        else:
            self._pending.add(target)

    def _apply(self, changes: list[Change]) -> None:
        """Take in a batch of changes once every informer is synced (earlier ones wait in the backlog)."""
        if any(c.name is None for c in changes):
            self.informers.raise_errors()
        self._backlog.extend(changes)
        if not self.informers.synced:
            return
        batch, self._backlog = self._backlog, []
        for change in batch:
            self._track_owner(change)
        for target in self._affected(batch):
            self._record(target, self.evaluate(target))

    def _undecided(self) -> list[Target]:
        return [t for t in self.targets if t in self._pending]

    def run(self, timeout: float) -> Outcome:
        """Refresh, watch and evaluate until every target is ok or failed, or `timeout` seconds pass."""
        deadline = self.clock() + timeout
        try:
            self.request_refresh()
            self._start_reconciler_watches()
            while self._pending:
                self._apply(self.informers.drain(deadline - self.clock()))
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
