"""gitops/verify/targets.py: what one verification waits for, from env.yaml and release.yaml alone: one
target per environment or per tenant, each with its reconciler object, its workloads and the digests that
prove the release it should run."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.config.loader import ConfigRepo, load_config
from gitops.config.models import ReleaseRecord
from gitops.verify.kube import Resource
from gitops.verify.targets import plan_targets
from tests.fixtures.promote import digest, release_data

OLD = digest("1.4.0")
NEW = digest("1.5.0")
OLD_PLATFORM = digest("1.4.0-linux-amd64")  # a platform manifest of 1.4.0's index, as a node may report it
REPO = "registry.example.com/acme/odoo-custom"


@pytest.fixture(scope="module")
def examples() -> ConfigRepo:
    return load_config(Path(__file__).resolve().parents[2])


def wave_release() -> ReleaseRecord:
    """prod runs 1.4.0 (its index has a platform manifest listed); the canary tenant runs 1.5.0."""
    data = release_data("1.4.0", accepted_digests=[OLD_PLATFORM])
    data["tenants"] = {"acme-build": {"image": f"{REPO}@{NEW}", "version": "1.5.0"}}
    return ReleaseRecord.model_validate(data)


def test_one_target_for_a_single_tenant_environment(examples: ConfigRepo) -> None:
    staging = examples.env("staging").config
    (target,) = plan_targets(staging, ReleaseRecord.model_validate(release_data("1.5.0")))
    assert (target.tenant, target.namespace, target.name, target.label) == (None, "argocd", "odoo-staging",
                                                                            "odoo-staging")  # fmt: skip
    assert target.resource == Resource("argoproj.io", "v1alpha1", "applications", "Application")
    assert target.subject == "Application argocd/odoo-staging"
    assert (target.repository, target.digest, target.accepted_digests) == (REPO, NEW, frozenset({NEW}))
    assert target.workloads == tuple(staging.workloads)
    assert target.default_namespace == staging.namespace


def test_one_target_per_enabled_tenant_or_per_named_tenant(examples: ConfigRepo) -> None:
    prod = examples.env("prod").config
    release = wave_release()
    targets = plan_targets(prod, release)
    assert [t.tenant for t in targets] == list(prod.enabled_tenants())
    assert [t.name for t in targets] == [f"odoo-prod-{t}" for t in prod.enabled_tenants()]
    (only,) = plan_targets(prod, release, tenants=("acme-build",))
    assert (only.tenant, only.label, only.name) == ("acme-build", "acme-build", "odoo-prod-acme-build")


def test_a_tenant_on_its_own_release_waits_for_its_own_digest(examples: ConfigRepo) -> None:
    targets = {t.tenant: t for t in plan_targets(examples.env("prod").config, wave_release())}
    assert targets["acme-build"].digest == NEW
    assert targets["globex-consult"].digest == OLD
    assert targets["globex-consult"].accepted_digests == frozenset({OLD, OLD_PLATFORM})


def test_the_environments_platform_digests_never_prove_a_tenant_on_another_release(
    examples: ConfigRepo,
) -> None:
    """The canary's pods still running 1.4.0, reported by its platform manifest digest, must not verify
    1.5.0: the accepted digests belong to the environment's image, not the tenant's."""
    targets = {t.tenant: t for t in plan_targets(examples.env("prod").config, wave_release())}
    assert targets["acme-build"].accepted_digests == frozenset({NEW})
