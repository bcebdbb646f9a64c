"""`verify()` with rollback readiness: real git config repo, real kubernetes client, loopback API server.

The registry and signature probes are test doubles here until issue 5's RegistryClient and
check_signature land on main (then: a real docker-registry, see tests/fixtures).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gitops.verify.probes import Probes
from gitops.verify.service import VerifyOptions, verify
from tests.fixtures.configrepo import ConfigRepoFixture
from tests.fixtures.verify import write_kubeconfig
from tests.verify import objects as o
from tests.verify.controllers import ArgoCD, Rollout
from tests.verify.kubeserver import FakeKubeAPI


def _server(kubeconfig: Path) -> str:
    return str(yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"])


TENANTS = ["acme-build", "globex-consult", "initech-services", "northwind-civil"]


class RecordingProbes:
    def __init__(
        self, *, exists: bool = True, signature: tuple[bool | None, str] = (True, "verified")
    ) -> None:
        self.exists, self.sig = exists, signature
        self.looked_up: list[str] = []
        self.keys: list[Path] = []

    def image_exists(self, image: str) -> bool:
        self.looked_up.append(image)
        return self.exists

    def signature(self, image: str, key: Path) -> tuple[bool | None, str]:
        self.keys.append(key)
        return self.sig

    def probes(self) -> Probes:
        return Probes(image_exists=self.image_exists, signature=self.signature)


def prod_with_schema_change(repo: ConfigRepoFixture) -> str:
    """Sign prod, and make its current release change the schema (a backup becomes necessary)."""
    (repo.work / "keys").mkdir(exist_ok=True)
    (repo.work / "keys" / "cosign.pub").write_text(
        "-----BEGIN PUBLIC KEY-----\nstub\n-----END PUBLIC KEY-----\n"
    )
    env_file = repo.work / "envs" / "prod" / "env.yaml"
    env_file.write_text(env_file.read_text() + "signing:\n  public_key: keys/cosign.pub\n")
    release_file = repo.work / "envs" / "prod" / "release.yaml"
    release_file.write_text(
        release_file.read_text().replace(
            "change_class: standard\n", f"change_class: normal\nschema_fingerprint: {o.digest('schema-2')}\n"
        )
    )
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


def run(repo: ConfigRepoFixture, kubeconfig: Path, sha: str, probes: RecordingProbes) -> Any:
    # env.yaml names the context prod-eu-central: the kubeconfig must have it, and it is the one used
    kubeconfig = write_kubeconfig(
        kubeconfig.with_name("prod-kubeconfig"), _server(kubeconfig), context="prod-eu-central"
    )
    options = VerifyOptions(
        env="prod", revision=sha, timeout=20, kubeconfig=kubeconfig, config_repo=str(repo.work), record=False
    )
    return verify(options, probes=probes.probes())


def test_ready_when_every_fact_holds(
    config_repo: ConfigRepoFixture, kube_api: FakeKubeAPI, kubeconfig: Path
) -> None:
    sha = prod_with_schema_change(config_repo)
    prod_cluster(kube_api, config_repo, sha, backups_for=TENANTS)
    probes = RecordingProbes()
    report = run(config_repo, kubeconfig, sha, probes)
    assert report.state == "verified"
    readiness = report.to_dict()["rollback_readiness"]
    assert readiness["ready"] is True, readiness
    previous = yaml.safe_load((config_repo.work / "envs/prod/release.yaml").read_text())["previous"]["image"]
    assert probes.looked_up == [previous]
    assert probes.keys == [config_repo.work / "keys" / "cosign.pub"]
    backup = next(c for c in readiness["checks"] if c["name"] == "backup")
    assert "northwind-civil-1-3-2-817ba1f956e4" in backup["detail"]
    assert kube_api.count("list", "jobs") == 1  # one cluster-wide LIST for the four tenant namespaces


def test_not_ready_names_every_unmet_reason(
    config_repo: ConfigRepoFixture, kube_api: FakeKubeAPI, kubeconfig: Path
) -> None:
    sha = prod_with_schema_change(config_repo)
    prod_cluster(kube_api, config_repo, sha, backups_for=TENANTS[:3])
    probes = RecordingProbes(exists=False, signature=(False, "no signature matches keys/cosign.pub"))
    report = run(config_repo, kubeconfig, sha, probes)
    assert report.state == "verified"  # readiness is reported; it does not fail the verification
    readiness = report.readiness
    assert readiness is not None and not readiness.ready
    failing = {c.name: c.detail for c in readiness.checks if not c.ok}
    assert set(failing) == {"previous-image", "previous-signature", "backup"}
    assert "no signature matches" in failing["previous-signature"]
    assert "northwind-civil" in failing["backup"] and "acme-build" not in failing["backup"]


def test_without_a_signing_key_the_signature_cannot_be_checked(
    config_repo: ConfigRepoFixture, kube_api: FakeKubeAPI, kubeconfig: Path
) -> None:
    sha = config_repo.head()
    prod_cluster(kube_api, config_repo, sha, backups_for=[])
    report = run(config_repo, kubeconfig, sha, RecordingProbes())
    assert report.readiness is not None
    failing = {c.name: c.detail for c in report.readiness.checks if not c.ok}
    assert set(failing) == {"previous-signature"}
    assert "signing.public_key" in failing["previous-signature"]
