"""The refresh Job and the rehearsal CronJob of the chart, rendered with the real helm: the tool image pinned
by digest, credentials only by Secret reference, a NetworkPolicy that lets them reach the databases and the
backup store only; the values a `refresh` PR writes render and validate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gitops.config.loader import load_config
from gitops.lifecycle.refresh import RefreshAsk, refresh_request
from tests.charts.test_chart import CASES, KUBERNETES_VERSION, by_kind, named, pod_spec
from tests.fixtures.charts import ENVS, Helm, HelmError, Renderer
from tests.fixtures.configrepo import copy_examples

pytestmark = pytest.mark.helm
SECRET_ENV = {
    "PGUSER", "PGPASSWORD", "SOURCE_PGUSER", "SOURCE_PGPASSWORD", "ODOO_GITOPS_MASKING_SALT", "GITHUB_TOKEN",
}  # fmt: skip
DATA_LABEL = "odoo-gitops.io/data-job"


def refresh_values(tmp_path: Path) -> Path:
    """The staging values as the PR of `odoo-gitops refresh prod staging` leaves them."""
    root = copy_examples(tmp_path / "config")
    ask = RefreshAsk(
        source="prod",
        target="staging",
        masking="default",
        backup="latest-verified",
        requested_by="rel-maria",
        at=datetime(2026, 11, 24, 10, tzinfo=UTC),
        tenant="acme-build",
    )
    request = refresh_request(load_config(root), ask)
    path = tmp_path / "staging-values.yaml"
    data = request.changes["envs/staging/values.yaml"]
    assert data is not None
    path.write_bytes(data)
    return path


@pytest.fixture
def refreshed(helm: Helm, tmp_path: Path) -> list[dict[str, Any]]:
    return helm.template(values_files=[refresh_values(tmp_path)], namespace="odoo-staging")


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    return (
        obj["spec"]["jobTemplate"]["spec"]["template"]
        if obj["kind"] == "CronJob"
        else obj["spec"]["template"]
    )


def _secret_refs(container: dict[str, Any]) -> dict[str, str]:
    refs = {}
    for env in container.get("env", []):
        if env["name"] in SECRET_ENV:
            assert "value" not in env, f"{env['name']} is a literal"
            refs[env["name"]] = env["valueFrom"]["secretKeyRef"]["name"]
    return refs


def _policy_selects(policy: dict[str, Any], pod: dict[str, Any]) -> bool:
    wanted = policy["spec"]["podSelector"]["matchLabels"]
    labels = pod["metadata"]["labels"]
    return all(labels.get(k) == v for k, v in wanted.items())


def test_the_refresh_pr_values_render_a_refresh_job_with_secrets_by_reference(
    refreshed: list[dict[str, Any]], tmp_path: Path
) -> None:
    for obj in refreshed:
        if obj["kind"] != "IngressRoute":  # a Traefik CRD: test_chart.py validates it against its own schema
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    job = named(refreshed, "Job", "odoo-refresh-")
    (container,) = pod_spec(job)["containers"]
    assert container["image"] == "ghcr.io/acme/odoo-gitops@sha256:" + "5b0d3c8e1f2a4b6c7d8e9f0011223344" + (
        "5566778899aabbccddeeff0011223344"
    )
    assert _secret_refs(container) == {
        "SOURCE_PGUSER": "odoo-acme-build-database",
        "SOURCE_PGPASSWORD": "odoo-acme-build-database",
        "PGUSER": "odoo-staging-database",
        "PGPASSWORD": "odoo-staging-database",
        "ODOO_GITOPS_MASKING_SALT": "odoo-staging-masking-salt",
    }
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert (env["SOURCE_PGHOST"], env["SOURCE_PGDATABASE"]) == ("postgresql-prod.odoo-prod.svc", "acme-build")
    assert env["ODOO_GITOPS_DATABASE_URL"] == "dbname=odoo-staging"  # the target, never the source
    assert container["command"] == ["odoo-gitops", "backup", "restore"]
    assert container["args"] == refresh_args("staging", "/backup/latest-verified")
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["masking"] == "/etc/odoo-gitops/masking"  # the config-repo layout load_rules reads
    assert env["MASKING_RULES"] == "/etc/odoo-gitops/masking/masking.yaml"
    assert not by_kind(refreshed, "Secret")
    masking = named(refreshed, "ConfigMap", "odoo-refresh-masking-")
    rules = yaml.safe_load(masking["data"]["masking.yaml"])
    assert rules == yaml.safe_load((ENVS.parent / "masking" / "default.yaml").read_text())
    # the source's backup key next to the rules: `backup restore --public-key` refuses unsigned manifests
    assert masking["data"]["backup.pub"] == (ENVS.parent / "keys" / "cosign.pub").read_text()
    (policy,) = by_kind(refreshed, "NetworkPolicy")
    assert _policy_selects(policy, job["spec"]["template"])
    assert job["metadata"]["annotations"]["odoo-gitops.io/masking-file"] == "masking/default.yaml"


@pytest.mark.parametrize("env_case", [c for c in CASES if c.env in ("staging", "prod")], ids=lambda c: c.id)
def test_rehearsal_runs_from_the_pinned_tool_image_inside_the_network_policy(
    rendered: Renderer, env_case: Any
) -> None:
    objects = rendered(env_case)
    cron = named(objects, "CronJob", "odoo-rehearsal")
    pod = _pod(cron)
    (container,) = pod["spec"]["containers"]
    values = env_case.values()
    assert container["image"] == f"{values['toolImage']['repository']}@{values['toolImage']['digest']}"
    token = values["rehearsal"]["configRepo"]["tokenSecret"]["name"]
    assert set(_secret_refs(container).values()) == {values["database"]["existingSecret"], token}
    assert _secret_refs(container)["GITHUB_TOKEN"] == token  # the forge token only by Secret reference
    assert container["command"] == ["odoo-gitops", "backup", "verify"]
    assert container["args"] == rehearsal_args(env_case.env, "/backup/latest", CONFIG_URL)
    env = {e["name"]: e for e in container["env"]}
    assert env["JOB_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.labels['job-name']"}}
    assert {"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL", "HOME"} <= set(env)
    (policy,) = by_kind(objects, "NetworkPolicy")
    assert _policy_selects(policy, pod)
    assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"] and policy["spec"]["ingress"] == []
    egress = policy["spec"]["egress"]
    assert egress[0]["to"] == values["dataJobs"]["networkPolicy"]["databases"]
    assert egress[0]["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert [p["port"] for p in egress[-1]["ports"]] == [53, 53]  # DNS, and nothing else
    # the config repository's git server (the record is pushed there); no backup store peers (a PVC)
    assert egress[1]["to"] == values["dataJobs"]["networkPolicy"]["configRepo"]
    assert egress[1]["ports"] == [{"protocol": "TCP", "port": 443}]
    assert len(egress) == 3
    # the policy selects only the data Jobs, never the Odoo pods
    for deployment in by_kind(objects, "Deployment"):
        assert not _policy_selects(policy, deployment["spec"]["template"])


def test_dev_has_no_data_jobs(rendered: Renderer) -> None:
    (dev,) = [c for c in CASES if c.env == "dev"]
    objects = rendered(dev)
    assert not by_kind(objects, "CronJob") and not by_kind(objects, "NetworkPolicy")


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"toolImage": {"repository": "ghcr.io/acme/odoo-gitops", "digest": ""}}, "toolImage"),
        ({"toolImage": {"repository": "ghcr.io/acme/odoo-gitops:latest", "digest": ""}}, "toolImage"),
        ({"refresh": {"enabled": True, "id": "Bad id"}}, "refresh"),
        ({"rehearsal": {"enabled": True, "command": []}}, "rehearsal"),
        ({"rehearsal": {"env": ""}}, "rehearsal.env is required"),
        ({"rehearsal": {"configRepo": {"url": ""}}}, "rehearsal.configRepo.url is required"),
        ({"rehearsal": {"configRepo": {"tokenSecret": {"name": ""}}}}, "tokenSecret.name is required"),
        ({"rehearsal": {"configRepo": {"url": "https://x:ghp_secret@github.com/a/b"}}}, "rehearsal"),
        ({"dataJobs": {"networkPolicy": {"configRepo": []}}}, "networkPolicy.configRepo is required"),
        ({"dataJobs": {"networkPolicy": {"databases": [{"ipBlock": {}}]}}}, "dataJobs"),
    ],
)
def test_bad_data_job_values_are_refused(
    helm: Helm, tmp_path: Path, override: dict[str, Any], needle: str
) -> None:
    extra = tmp_path / "bad.yaml"
    extra.write_text(yaml.safe_dump(override))
    with pytest.raises(HelmError) as caught:
        helm.template(values_files=[ENVS / "staging" / "values.yaml", extra], namespace="odoo-staging")
    assert needle in caught.value.stderr


CONFIG_URL = "https://github.com/acme/odoo-config.git"


def rehearsal_args(env: str, backup: str, config_repo: str, *, job: str = "$(JOB_NAME)") -> list[str]:
    """The arguments the rehearsal CronJob passes to `odoo-gitops backup verify` (tests/database runs them
    against PostgreSQL and a config repository, then asks the rehearsal gate)."""
    return [
        env, "--backup", backup, "--config-repo", config_repo, "--dsn-env", "ODOO_GITOPS_DATABASE_URL",
        "--commit", "--run-id", job, "--forge", "github", "--actor", "odoo-gitops-rehearsal", "--json",
    ]  # fmt: skip


def refresh_args(target: str, backup: str) -> list[str]:
    """The arguments the refresh Job passes to `odoo-gitops backup restore` (tests/database runs them)."""
    return [
        target, "--backup", backup, "--config-repo", "/etc/odoo-gitops",
        "--public-key", "/etc/odoo-gitops/masking/backup.pub", "--dsn-env", "ODOO_GITOPS_DATABASE_URL",
        "--replace", "--record", "/tmp/masking-proof.json", "--json",
    ]  # fmt: skip


def test_the_refresh_job_takes_its_backup_from_the_values_block(helm: Helm, tmp_path: Path) -> None:
    extra = tmp_path / "named.yaml"
    extra.write_text(yaml.safe_dump({"refresh": {"backup": "prod-2026-11-24.dump", "backupDir": "/store/"}}))
    objects = helm.template(values_files=[refresh_values(tmp_path), extra], namespace="odoo-staging")
    (container,) = pod_spec(named(objects, "Job", "odoo-refresh-"))["containers"]
    assert container["args"] == refresh_args("staging", "/store/prod-2026-11-24.dump")


def test_a_refresh_without_a_salt_secret_or_network_peers_does_not_render(helm: Helm, tmp_path: Path) -> None:
    values = refresh_values(tmp_path)
    for override, needle in (
        ({"refresh": {"target": ""}}, "refresh.target is required"),
        ({"refresh": {"backup": "../etc/passwd"}}, "/refresh/backup"),
        ({"refresh": {"backup": ".."}}, "/refresh/backup"),
        ({"refresh": {"saltSecret": {"name": ""}}}, "saltSecret.name is required"),
        ({"refresh": {"source": {"publicKey": ""}}}, "refresh.source.publicKey is required"),
        ({"dataJobs": {"networkPolicy": {"databases": []}}}, "networkPolicy.databases is required"),
    ):
        extra = tmp_path / "override.yaml"
        extra.write_text(yaml.safe_dump(override))
        with pytest.raises(HelmError) as caught:
            helm.template(values_files=[values, extra], namespace="odoo-staging")
        assert needle in caught.value.stderr
