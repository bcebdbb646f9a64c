"""Every reconciler kind verify can wait for: one line per kind (env.yaml `reconcile.kind` → module).

Adding a kind is one module in this package (the `Reconciler` protocol) and one line here."""

from __future__ import annotations

from gitops.errors import UsageError
from gitops.verify.kube import Resource
from gitops.verify.reconcilers import argocd_application, flux_helmrelease, flux_kustomization
from gitops.verify.reconcilers.protocol import Reconciler

RECONCILERS: dict[str, Reconciler] = {
    "argocd": argocd_application,
    "flux-kustomization": flux_kustomization,
    "flux-helmrelease": flux_helmrelease,
}


def kinds() -> tuple[str, ...]:
    """The `reconcile.kind` values env.yaml may use."""
    return tuple(sorted(RECONCILERS))


def named(kind: str) -> Reconciler:
    if kind not in RECONCILERS:
        raise UsageError(f"unknown reconciler kind {kind!r} (known: {', '.join(kinds())})")
    return RECONCILERS[kind]


def for_resource(resource: Resource) -> Reconciler:
    """The reconciler whose objects are `resource`."""
    for reconciler in RECONCILERS.values():
        if resource == reconciler.RESOURCE:
            return reconciler
    raise UsageError(f"{resource.kind} ({resource.group}/{resource.version}) is no reconciler verify knows")


def resources() -> frozenset[Resource]:
    return frozenset(reconciler.RESOURCE for reconciler in RECONCILERS.values())
