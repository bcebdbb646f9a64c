"""What one verification waits for, derived from env.yaml and release.yaml (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from gitops.config.models import TENANT_PLACEHOLDER, EnvConfig, ReleaseRecord
from gitops.verify.kube import Resource
from gitops.verify.reconcilers import registry
from gitops.verify.reconcilers.protocol import Reconciler


@dataclass(frozen=True)
class Target:
    """One reconciler object (one per environment, or one per tenant) and the workloads it deploys."""

    tenant: str | None
    resource: Resource
    namespace: str
    name: str
    workloads: tuple[str, ...]
    default_namespace: str
    repository: str
    digest: str
    accepted_digests: frozenset[str]
    source: str | None = None
    chart_version: str | None = None

    @property
    def reconciler(self) -> Reconciler:
        """The kind of reconciler object this is (gitops/verify/reconcilers/registry.py)."""
        return registry.for_resource(self.resource)

    @property
    def label(self) -> str:
        return self.tenant or self.name

    @property
    def subject(self) -> str:
        return f"{self.resource.kind} {self.namespace}/{self.name}"


def _workloads(env: EnvConfig, tenant: str | None) -> tuple[str, ...]:
    return tuple(w.replace(TENANT_PLACEHOLDER, tenant) if tenant else w for w in env.workloads)


def plan_targets(env: EnvConfig, release: ReleaseRecord, *, tenants: tuple[str, ...] = ()) -> list[Target]:
    """One Target per tenant (multi-tenant) or one for the environment.

    A tenant's release entry (release.yaml `tenants:`) overrides the image when tenants run different
    releases (waves). Accepted digests are the release digest plus, for a target on the environment's
    image, `accepted_digests` (the index's platform manifests, as pulled on each node).
    """
    resource = registry.named(env.reconcile.kind).RESOURCE
    names: list[str | None] = list(tenants or env.enabled_tenants()) if env.reconcile.per_tenant else [None]
    targets = []
    for tenant in names:
        image = release.tenants[tenant].image if tenant and tenant in release.tenants else release.image
        repository, _, digest = image.partition("@")
        # `accepted_digests` are the platform manifests of the environment's image: they prove nothing for a
        # tenant on another release (a canary still running the old image would pass as verified)
        platforms = release.accepted_digests if image == release.image else ()
        targets.append(
            Target(
                tenant=tenant,
                resource=resource,
                namespace=env.reconcile.namespace,
                name=env.reconcile.object_name(tenant),
                workloads=_workloads(env, tenant),
                default_namespace=env.namespace,
                repository=repository,
                digest=digest,
                accepted_digests=frozenset({digest, *platforms}),
                source=env.reconcile.source,
                chart_version=None,
            )
        )
    return targets
