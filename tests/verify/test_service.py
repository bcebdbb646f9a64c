"""`verify()` with rollback readiness: real git config repo, real kubernetes client, loopback API server,
and a real docker-registry holding the previous release's image and its cosign-compatible signature."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.audit import append_entry
from gitops.supply.signer import sign
from gitops.verify.service import VerifyOptions, verify
from tests.fixtures.configrepo import ConfigRepoFixture
from tests.fixtures.registry import Registry, free_port
from tests.fixtures.supply import KeyFiles
from tests.fixtures.verify import write_kubeconfig
from tests.verify import objects as o
from tests.verify.controllers import ArgoCD, Rollout
from tests.verify.kubeserver import FakeKubeAPI
from tests.verify.test_probes import push_minimal_image


def _server(kubeconfig: Path) -> str:
    return str(yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"])


TENANTS = ["acme-build", "globex-consult", "initech-services", "northwind-civil"]


def record_rehearsals(repo: ConfigRepoFixture, *, failed: tuple[str, ...] = ()) -> None:
    """Restore rehearsals of every tenant's backup an hour ago (prod's recovery objectives need them), in
    prod's audit log; those of the `failed` tenants failed."""
    log = repo.work / "audit" / "prod.jsonl"
    at = datetime.now(UTC) - timedelta(hours=1)
    for t in TENANTS:
        data = {"backup": f"{t}-1-3-2-817ba1f956e4", "passed": t not in failed, "rto_seconds": 90.0}
        data |= {"rpo_seconds": 600.0, "problems": ["row counts differ"] if t in failed else []}
        append_entry(log, env="prod", kind="rehearsal", actor="ci", data=data, key=f"rehearsal:{t}", at=at)


def prod_with_schema_change(
    repo: ConfigRepoFixture, previous_image: str, public_key: Path, *, failed: tuple[str, ...] = ()
) -> str:
    """Sign prod with `public_key`, point `previous` at a real image, and make the current release change
    the schema (a backup becomes necessary); every backup was rehearsed (those of `failed` failed)."""
    record_rehearsals(repo, failed=failed)
    (repo.work / "keys").mkdir(exist_ok=True)
    shutil.copy(public_key, repo.work / "keys" / "cosign.pub")
    env_file = repo.work / "envs" / "prod" / "env.yaml"
    assert "\nsigning:\n  public_key: keys/cosign.pub\n" in env_file.read_text()  # as in the examples
    release_file = repo.work / "envs" / "prod" / "release.yaml"
    text = release_file.read_text().replace(
        "change_class: standard\n", f"change_class: normal\nschema_fingerprint: {o.digest('schema-2')}\n"
    )
    old_previous = yaml.safe_load(text)["previous"]["image"]
    release_file.write_text(text.replace(old_previous, previous_image))
    return repo.commit_all("prod: signing key, schema-changing release")


def prod_cluster(kube_api: FakeKubeAPI, repo: ConfigRepoFixture, sha: str, *, backups_for: list[str]) -> None:
    release = yaml.safe_load((repo.work / "envs" / "prod" / "release.yaml").read_text())
    rollouts = {}
    for t in TENANTS:
        app = o.application(f"odoo-prod-{t}", revision=o.sha("before"), destination=f"odoo-prod-{t}")
        kube_api.put(app)
        rollouts[f"odoo-prod-{t}"] = [
            Rollout(kube_api, w, namespace=f"odoo-prod-{t}", image=release["image"])
            for w in ("odoo-web", "odoo-cron")
        ]
    for t in backups_for:
        kube_api.put(
            o.backup_job(
                f"odoo-backup-{t}-1-3-2",
                namespace=f"odoo-prod-{t}",
                version="1.3.2",
                backup_id=f"{t}-1-3-2-817ba1f956e4",
                completed="2026-11-03T19:07:00Z",
                tenant=t,
            )
        )
    ArgoCD(kube_api, revision=sha, rollouts=rollouts)


def run(repo: ConfigRepoFixture, kubeconfig: Path, sha: str) -> Any:
    # env.yaml names the context prod-eu-central: the kubeconfig must have it, and it is the one used
    kubeconfig = write_kubeconfig(
        kubeconfig.with_name("prod-kubeconfig"), _server(kubeconfig), context="prod-eu-central"
    )
    options = VerifyOptions(
        env="prod", revision=sha, timeout=20, kubeconfig=kubeconfig, config_repo=str(repo.work), record=False
    )
    return verify(options)


@pytest.fixture
def previous_image(registry: Registry, signing_keys: KeyFiles) -> str:
    image = push_minimal_image(registry, f"verify/odoo-{uuid.uuid4().hex[:8]}")
    sign(image, signing_keys.private)
    return image


@pytest.mark.registry
def test_ready_when_every_fact_holds(
    config_repo: ConfigRepoFixture,
    kube_api: FakeKubeAPI,
    kubeconfig: Path,
    previous_image: str,
    signing_keys: KeyFiles,
) -> None:
    sha = prod_with_schema_change(config_repo, previous_image, signing_keys.public)
    prod_cluster(kube_api, config_repo, sha, backups_for=TENANTS)
    report = run(config_repo, kubeconfig, sha)
    assert report.state == "verified"
    readiness = report.to_dict()["rollback_readiness"]
    assert readiness["ready"] is True, readiness
    assert report.to_dict()["rollback_ready"] is True
    checks = {c["name"]: c["detail"] for c in readiness["checks"]}
    assert checks["previous-image"] == f"{previous_image} exists in the registry"
    assert "northwind-civil-1-3-2-817ba1f956e4" in checks["backup"]
    assert kube_api.count("list", "jobs") == 1  # one cluster-wide LIST for the four tenant namespaces


@pytest.mark.registry
def test_a_failed_restore_rehearsal_makes_rollback_not_ready(
    config_repo: ConfigRepoFixture,
    kube_api: FakeKubeAPI,
    kubeconfig: Path,
    previous_image: str,
    signing_keys: KeyFiles,
) -> None:
    sha = prod_with_schema_change(
        config_repo, previous_image, signing_keys.public, failed=("globex-consult",)
    )
    prod_cluster(kube_api, config_repo, sha, backups_for=TENANTS)
    readiness = run(config_repo, kubeconfig, sha).readiness
    assert readiness is not None and not readiness.ready
    failing = {c.name: c.detail for c in readiness.checks if not c.ok}
    assert set(failing) == {"rehearsal"}
    assert failing["rehearsal"] == (
        "the latest rehearsal of globex-consult-1-3-2-817ba1f956e4 failed: row counts differ"
    )


@pytest.mark.registry
def test_not_ready_names_every_unmet_reason(
    config_repo: ConfigRepoFixture,
    kube_api: FakeKubeAPI,
    kubeconfig: Path,
    previous_image: str,
    other_keys: KeyFiles,
) -> None:
    gone = previous_image.rpartition("@")[0] + "@" + o.digest("deleted-long-ago")
    sha = prod_with_schema_change(config_repo, gone, other_keys.public)
    prod_cluster(kube_api, config_repo, sha, backups_for=TENANTS[:3])
    report = run(config_repo, kubeconfig, sha)
    assert report.state == "verified"  # readiness is reported; it does not fail the verification
    readiness = report.readiness
    assert readiness is not None and not readiness.ready
    failing = {c.name: c.detail for c in readiness.checks if not c.ok}
    assert set(failing) == {"previous-image", "previous-signature", "backup"}
    assert "no longer exists" in failing["previous-image"]
    assert "northwind-civil" in failing["backup"] and "acme-build" not in failing["backup"]


def unreachable_previous(repo: ConfigRepoFixture, env: str) -> str:
    """Point `previous.image` at a loopback port nothing listens on (no test touches the network)."""
    release_file = repo.work / "envs" / env / "release.yaml"
    text = release_file.read_text()
    old = yaml.safe_load(text)["previous"]["image"]
    release_file.write_text(text.replace(old.partition("/")[0], f"127.0.0.1:{free_port()}"))
    return repo.commit_all(f"{env}: previous image on an unreachable registry")


def test_without_a_signing_key_the_signature_cannot_be_checked(
    config_repo: ConfigRepoFixture, kube_api: FakeKubeAPI, kubeconfig: Path
) -> None:
    env_file = config_repo.work / "envs" / "prod" / "env.yaml"
    env_file.write_text(env_file.read_text().replace("signing:\n  public_key: keys/cosign.pub\n", ""))
    sha = unreachable_previous(config_repo, "prod")
    prod_cluster(kube_api, config_repo, sha, backups_for=[])
    report = run(config_repo, kubeconfig, sha)
    assert report.readiness is not None
    failing = {c.name: c.detail for c in report.readiness.checks if not c.ok}
    # an unreachable registry is reported, not raised
    assert set(failing) == {"previous-signature", "previous-image"}
    assert "signing.public_key" in failing["previous-signature"]
    assert "registry lookup of 127.0.0.1:" in failing["previous-image"]
