"""The chart's backup Job writes what the rehearsal reads: `odoo-gitops backup create` from the tool image
(pinned by digest) puts the dump, its manifest and the manifest's signature on the backup volume the
rehearsal CronJob mounts; the signing key and its password come only from a Secret (the schema refuses an
inline key). Rendered with the real helm; tests/database/test_backup_job_signed.py runs the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gitops.verify.backup_contract import backup_id
from tests.charts.test_chart import CASES, KUBERNETES_VERSION, case, named, pod_spec, with_values
from tests.fixtures.charts import ENVS, Helm, HelmError

pytestmark = pytest.mark.helm
KEY_DIR = "/etc/odoo-gitops/backup-key"
SIGNED_CASES = [c for c in CASES if c.env in ("staging", "prod")]


def backup_args(env: str, backup: str) -> list[str]:
    """The arguments the backup Job passes to `odoo-gitops backup create` (tests/database runs them against
    PostgreSQL, then the rehearsal CronJob's command line on what they wrote)."""
    return [
        env, "--backup", backup, "--dsn-env", "ODOO_GITOPS_DATABASE_URL",
        "--key", f"{KEY_DIR}/cosign.key", "--json",
    ]  # fmt: skip


def _backup_job(helm: Helm, tmp_path: Path, env_case: Any, extra: dict[str, Any] | None = None) -> dict:
    overrides = {"release": {"backupRequired": True}, **(extra or {})}
    objects = helm.template(
        values_files=with_values(env_case, tmp_path, overrides), namespace=env_case.namespace
    )
    return named(objects, "Job", "odoo-backup")


@pytest.mark.parametrize("env_case", SIGNED_CASES, ids=lambda c: c.id)
def test_the_backup_job_signs_its_manifest_from_the_pinned_tool_image(
    helm: Helm, tmp_path: Path, env_case: Any
) -> None:
    job = _backup_job(helm, tmp_path, env_case)
    kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)
    values = env_case.values()
    pod = pod_spec(job)
    (container,) = pod["containers"]
    assert container["image"] == f"{values['toolImage']['repository']}@{values['toolImage']['digest']}"
    assert container["command"] == ["odoo-gitops", "backup", "create"]
    digest, version = values["image"]["digest"], values["release"]["version"]
    expected_id = backup_id(database=values["database"]["name"], version=version, digest=digest)
    assert container["args"] == backup_args(env_case.env, f"/backup/{expected_id}.dump")
    env = {e["name"]: e for e in container["env"]}
    signing = values["backup"]["signing"]["keySecret"]
    assert env["COSIGN_PASSWORD"] == {
        "name": "COSIGN_PASSWORD",
        "valueFrom": {
            "secretKeyRef": {"name": signing["name"], "key": signing.get("passwordKey", "password")}
        },
    }
    assert env["ODOO_GITOPS_DATABASE_URL"]["value"] == f"dbname={values['database']['name']}"
    for name in ("PGUSER", "PGPASSWORD"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == values["database"]["existingSecret"]
    literal = [e["name"] for e in container["env"] if "value" in e]
    assert not {"COSIGN_PASSWORD", "PGPASSWORD", "PGUSER"} & set(literal)
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["backup"]["mountPath"] == "/backup" and not mounts["backup"].get("readOnly")
    assert mounts["backup-key"] == {"name": "backup-key", "mountPath": KEY_DIR, "readOnly": True}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["backup-key"]["secret"] == {
        "secretName": signing["name"],
        "items": [{"key": signing.get("key", "cosign.key"), "path": "cosign.key"}],
        "defaultMode": 0o440,
    }
    assert volumes["backup"]["persistentVolumeClaim"] == {"claimName": values["backup"]["existingClaim"]}


@pytest.mark.parametrize("env_case", SIGNED_CASES, ids=lambda c: c.id)
def test_the_rehearsal_mounts_the_volume_the_backup_job_writes(
    helm: Helm, tmp_path: Path, env_case: Any
) -> None:
    objects = helm.template(
        values_files=with_values(env_case, tmp_path, {"release": {"backupRequired": True}}),
        namespace=env_case.namespace,
    )
    backup_pod = pod_spec(named(objects, "Job", "odoo-backup"))
    cron = named(objects, "CronJob", "odoo-rehearsal")
    rehearsal_pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    claims = [
        {v["name"]: v for v in pod["volumes"]}["backup"]["persistentVolumeClaim"]["claimName"]
        for pod in (backup_pod, rehearsal_pod)
    ]
    assert claims[0] == claims[1]
    (rehearsal,) = rehearsal_pod["containers"]
    written = Path(backup_pod["containers"][0]["args"][2])
    read = Path(rehearsal["args"][rehearsal["args"].index("--backup") + 1])
    assert written.parent == read.parent and read.name == "latest"


def test_a_custom_command_is_kept_and_the_docs_say_what_it_loses(helm: Helm, tmp_path: Path) -> None:
    job = _backup_job(
        helm, tmp_path, case("staging"), {"backup": {"command": ["sh", "/opt/odoo-chart/backup.sh"]}}
    )
    (container,) = pod_spec(job)["containers"]
    assert container["command"] == ["sh", "/opt/odoo-chart/backup.sh"] and "args" not in container
    assert "backup-key" not in {v["name"] for v in pod_spec(job)["volumes"]}
    values_text = (ENVS.parent / "charts" / "odoo" / "values.yaml").read_text()
    assert "accept ONLY a backup" in values_text and "no rehearsal" in values_text


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"backup": {"signing": {"key": "-----BEGIN ENCRYPTED PRIVATE KEY-----"}}}, "backup/signing"),
        ({"backup": {"signing": {"keySecret": {"name": "k", "privateKey": "MIGH..."}}}}, "backup/signing"),
        ({"backup": {"signing": {"keySecret": {"name": "k", "password": "hunter2"}}}}, "backup/signing"),
        ({"backup": {"signing": {"keySecret": {"name": "Not A Secret"}}}}, "backup/signing"),
        ({"backup": {"signing": {"keySecret": {"name": ""}}}}, "backup.signing.keySecret.name is required"),
        ({"backup": {"existingClaim": ""}}, "existingClaim"),  # the schema (a data Job needs it) or the Job
        ({"toolImage": {"digest": ""}}, "toolImage"),
        ({"backup": {"env": "../prod"}}, "backup/env"),
    ],
)
def test_bad_backup_values_are_refused(
    helm: Helm, tmp_path: Path, override: dict[str, Any], needle: str
) -> None:
    extra = tmp_path / "bad.yaml"
    extra.write_text(yaml.safe_dump({"release": {"backupRequired": True}} | override))
    with pytest.raises(HelmError) as caught:
        helm.template(values_files=[ENVS / "staging" / "values.yaml", extra], namespace="odoo-staging")
    assert needle in caught.value.stderr
