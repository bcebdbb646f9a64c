"""The odoo chart, rendered with the real helm for every example environment and tenant."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from gitops.image.dockerfile import ADDONS_DIR
from gitops.verify.backup_contract import (
    BACKUP_ID_ANNOTATION,
    BACKUP_LABEL_SELECTOR,
    BACKUP_LOCATION_ANNOTATION,
    IMAGE_DIGEST_ANNOTATION,
    RELEASE_VERSION_ANNOTATION,
    backup_evidence,
    backup_id,
    backup_job_name,
)
from tests.fixtures.charts import CHART, ENVS, EnvCase, Helm, HelmError, Renderer, env_cases

pytestmark = pytest.mark.helm

CASES = env_cases()
KUBERNETES_VERSION = "1.33"
INGRESSROUTE_SCHEMA = json.loads((Path(__file__).parent / "ingressroute.schema.json").read_text())
DIGEST_RE = re.compile(r"^[^@\s]+@sha256:[a-f0-9]{64}$")
SECRET_ENV = {"ODOO_ADMIN_PASSWD", "PGUSER", "PGPASSWORD"}
CREDENTIAL_OPTIONS = ("admin_passwd", "db_password", "db_user")
GOOD_DIGEST = "sha256:" + "ab" * 32


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[dict[str, Any]], kind: str, prefix: str) -> dict[str, Any]:
    matches = [o for o in by_kind(objects, kind) if o["metadata"]["name"].startswith(prefix)]
    found = [m["metadata"]["name"] for m in matches]
    assert len(matches) == 1, f"expected one {kind} named {prefix}*, got {found}"
    return matches[0]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def containers(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    spec = pod_spec(obj)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def workloads(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in {"Deployment", "Job"}]


def odoo_conf(objects: list[dict[str, Any]], prefix: str = "odoo-config") -> dict[str, str]:
    text = named(objects, "ConfigMap", prefix)["data"]["odoo.conf"]
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def annotations(obj: dict[str, Any]) -> dict[str, str]:
    result: dict[str, str] = obj["metadata"].get("annotations") or {}
    return result


def with_values(case: EnvCase, tmp_path: Path, overrides: dict[str, Any]) -> list[Path]:
    extra = tmp_path / "override.yaml"
    extra.write_text(yaml.safe_dump(overrides))
    return [*case.values_files, extra]


def case(case_id: str) -> EnvCase:
    return next(c for c in CASES if c.id == case_id)


def test_every_example_environment_and_tenant_is_covered() -> None:
    ids = {c.id for c in CASES}
    assert {"dev", "staging"} <= ids
    assert {f"prod/{t.stem}" for t in (ENVS / "prod" / "tenants").glob("*.yaml")} <= ids


@pytest.mark.parametrize("env_case", CASES, ids=lambda c: c.id)
def test_helm_lint_passes_strictly(helm: Helm, env_case: EnvCase) -> None:
    out = helm.lint(values_files=env_case.values_files)
    assert "0 chart(s) failed" in out


@pytest.mark.parametrize("env_case", CASES, ids=lambda c: c.id)
def test_every_rendered_object_validates_against_kubernetes_schemas(
    rendered: Renderer, env_case: EnvCase
) -> None:
    objects = rendered(env_case)
    assert {"Deployment", "Service", "ConfigMap"} <= {o["kind"] for o in objects}
    for obj in objects:
        if obj["kind"] == "IngressRoute":
            jsonschema.validate(obj, INGRESSROUTE_SCHEMA)
        else:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("env_case", CASES, ids=lambda c: c.id)
def test_every_image_is_the_values_image_pinned_by_digest(rendered: Renderer, env_case: EnvCase) -> None:
    values = env_case.values()
    expected = f"{values['image']['repository']}@{values['image']['digest']}"
    images = [c["image"] for w in workloads(rendered(env_case)) for c in containers(w)]
    assert images
    backup_image = values.get("backup", {}).get("image", {})
    allowed = {expected}
    if backup_image.get("repository"):
        allowed.add(f"{backup_image['repository']}@{backup_image['digest']}")
    tool_image = values.get("toolImage", {})
    if tool_image.get("repository"):  # the signed backup Job's (tests/charts/test_backup_job.py)
        allowed.add(f"{tool_image['repository']}@{tool_image['digest']}")
    for image in images:
        assert DIGEST_RE.match(image), image
        assert image in allowed


@pytest.mark.parametrize("env_case", CASES, ids=lambda c: c.id)
def test_credentials_come_only_from_existing_secrets(rendered: Renderer, env_case: EnvCase) -> None:
    values = env_case.values()
    objects = rendered(env_case)
    secret_names = {values["database"]["existingSecret"], values["adminPassword"]["existingSecret"]}
    assert not by_kind(objects, "Secret"), "the chart never creates Secrets: it only references them"
    for workload in workloads(objects):
        for container in containers(workload):
            for env in container.get("env", []):
                if env["name"] in SECRET_ENV:
                    assert "value" not in env, f"{env['name']} is a literal in {workload['metadata']['name']}"
                    assert env["valueFrom"]["secretKeyRef"]["name"] in secret_names
    for config_map in by_kind(objects, "ConfigMap"):
        conf = config_map["data"]["odoo.conf"]
        for option in CREDENTIAL_OPTIONS:
            assert not re.search(rf"^{option}\s*=", conf, re.MULTILINE), f"{option} in a ConfigMap"


@pytest.mark.parametrize("env_case", CASES, ids=lambda c: c.id)
def test_odoo_conf_is_hardened_and_per_tenant(rendered: Renderer, env_case: EnvCase) -> None:
    values = env_case.values()
    conf = odoo_conf(rendered(env_case))
    assert conf["list_db"] == "False"
    assert conf["proxy_mode"] == "True"
    assert conf["workers"] == str(values["odoo"]["workers"])
    assert conf["max_cron_threads"] == "0", "web pods never run cron: the cron Deployment does"
    assert conf["limit_memory_hard"] == str(values["odoo"]["limits"]["memoryHard"])
    # the pods run with this file (-c), so it must name the directory the built image holds the modules in
    assert conf["addons_path"].split(",")[0] == ADDONS_DIR
    if env_case.tenant:
        assert conf["dbfilter"] == f"^{env_case.tenant}$"
        assert conf["db_name"] == env_case.tenant


@pytest.mark.parametrize("env_case", CASES, ids=lambda c: c.id)
def test_cron_runs_in_its_own_deployment_without_http(rendered: Renderer, env_case: EnvCase) -> None:
    values = env_case.values()
    objects = rendered(env_case)
    web = named(objects, "Deployment", "odoo-web")
    cron = named(objects, "Deployment", "odoo-cron")
    cron_args = cron["spec"]["template"]["spec"]["containers"][0]["args"]
    web_args = web["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--no-http" in cron_args
    assert f"--max-cron-threads={values['cron']['maxCronThreads']}" in cron_args
    assert "--no-http" not in web_args
    assert not cron["spec"]["template"]["spec"]["containers"][0].get("ports")
    assert cron["spec"]["strategy"]["type"] == "Recreate"
    assert web["spec"]["replicas"] == values["web"]["replicas"]


@pytest.mark.parametrize("env_case", CASES, ids=lambda c: c.id)
def test_websocket_route_exists_exactly_when_workers_are_on(rendered: Renderer, env_case: EnvCase) -> None:
    values = env_case.values()
    objects = rendered(env_case)
    prefork = values["odoo"]["workers"] > 0
    service = named(objects, "Service", "odoo-web")
    assert ("gevent" in {p["name"] for p in service["spec"]["ports"]}) is prefork
    web = pod_spec(named(objects, "Deployment", "odoo-web"))["containers"][0]
    web_ports = {p["name"] for p in web["ports"]}
    assert ("gevent" in web_ports) is prefork
    host = values["ingress"]["host"]
    assert websocket_backend(objects, host) == ("gevent" if prefork else "http")


def websocket_backend(objects: list[dict[str, Any]], host: str) -> str:
    """The Service port a request for wss://HOST/websocket reaches, per the rendered routing rules."""
    routes = by_kind(objects, "IngressRoute")
    if routes:
        rules = sorted(routes[0]["spec"]["routes"], key=lambda r: -r.get("priority", 0))
        for rule in rules:
            prefix = re.search(r"PathPrefix\(`([^`]+)`\)", rule["match"])
            if f"Host(`{host}`)" in rule["match"] and (prefix is None or "/websocket".startswith(prefix[1])):
                return str(rule["services"][0]["port"])
        raise AssertionError("no IngressRoute rule matches /websocket")
    ingress = by_kind(objects, "Ingress")[0]
    rule = next(r for r in ingress["spec"]["rules"] if r["host"] == host)
    paths = sorted(rule["http"]["paths"], key=lambda p: -len(p["path"]))
    path = next(p for p in paths if "/websocket".startswith(p["path"]))
    return str(path["backend"]["service"]["port"]["name"])


@pytest.mark.parametrize("env_case", CASES, ids=lambda c: c.id)
def test_pods_run_as_non_root_with_probes_and_resources(rendered: Renderer, env_case: EnvCase) -> None:
    for workload in workloads(rendered(env_case)):
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0
        assert spec["automountServiceAccountToken"] is False
        for container in containers(workload):
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
            assert container["resources"]["limits"]["memory"]
    web = pod_spec(named(rendered(env_case), "Deployment", "odoo-web"))["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/web/health"
    assert web["livenessProbe"]["httpGet"]["port"] == "http"


def test_tenants_share_the_namespace_without_name_clashes(rendered: Renderer) -> None:
    prod = [c for c in CASES if c.env == "prod"]
    assert len(prod) > 1
    names = [(o["kind"], o["metadata"]["name"]) for c in prod for o in rendered(c)]
    assert len(names) == len(set(names))
    for env_case in prod:
        web = named(rendered(env_case), "Deployment", "odoo-web")
        assert web["metadata"]["name"] == f"odoo-web-{env_case.tenant}"
        assert web["spec"]["selector"]["matchLabels"]["odoo-gitops.io/tenant"] == env_case.tenant


@pytest.mark.parametrize("env_case", CASES, ids=lambda c: c.id)
def test_env_yaml_workloads_are_the_rendered_deployments(rendered: Renderer, env_case: EnvCase) -> None:
    env = yaml.safe_load((ENVS / env_case.env / "env.yaml").read_text())
    suffix = f"-{env_case.tenant}" if env_case.tenant else ""
    deployments = {o["metadata"]["name"] for o in by_kind(rendered(env_case), "Deployment")}
    assert {f"{w}{suffix}" for w in env["workloads"]} == deployments


# ---------------------------------------------------------------- hooks


def hook_weight(obj: dict[str, Any]) -> int:
    notes = annotations(obj)
    assert notes["helm.sh/hook-weight"] == notes["argocd.argoproj.io/sync-wave"]
    return int(notes["helm.sh/hook-weight"])


def test_backup_runs_before_migration_and_both_before_the_new_pods(rendered: Renderer) -> None:
    objects = rendered(case("staging"))
    values = case("staging").values()
    backup = named(objects, "Job", "odoo-backup")
    migrate = named(objects, "Job", "odoo-migrate")
    hook_config = named(objects, "ConfigMap", "odoo-hook-config")
    for hook in (backup, migrate, hook_config):
        notes = annotations(hook)
        assert "pre-upgrade" in notes["helm.sh/hook"].split(",")
        assert notes["argocd.argoproj.io/hook"] == "PreSync"
        assert notes["helm.sh/hook-delete-policy"] == "before-hook-creation"
    assert hook_weight(hook_config) < hook_weight(backup) < hook_weight(migrate)
    # Everything else is applied in the Sync phase, i.e. after every PreSync / pre-upgrade hook.
    for obj in objects:
        if obj not in (backup, migrate, hook_config):
            assert "helm.sh/hook" not in annotations(obj)
            assert "argocd.argoproj.io/hook" not in annotations(obj)
    modules = values["release"]["changedModules"]
    command = pod_spec(migrate)["containers"][0]["command"]
    assert command[-1] == ",".join(modules) or command[-2] == ",".join(modules)
    assert annotations(migrate)["odoo-gitops.io/modules"] == ",".join(modules)


def test_backup_is_never_deleted_on_success(rendered: Renderer) -> None:
    backup = named(rendered(case("staging")), "Job", "odoo-backup")
    assert "hook-succeeded" not in annotations(backup)["helm.sh/hook-delete-policy"]
    assert "HookSucceeded" not in annotations(backup)["argocd.argoproj.io/hook-delete-policy"]
    assert "ttlSecondsAfterFinished" not in backup["spec"]


def test_no_schema_change_means_no_backup_and_no_changed_modules_no_migration(
    helm: Helm, tmp_path: Path
) -> None:
    prod = case("prod/acme-build")
    objects = helm.template(values_files=prod.values_files)
    assert prod.values()["release"]["schemaChange"] is False
    assert not [j for j in by_kind(objects, "Job") if "backup" in j["metadata"]["name"]]
    quiet = helm.template(
        values_files=with_values(prod, tmp_path, {"release": {"changedModules": []}}),
    )
    assert not by_kind(quiet, "Job")
    assert not [c for c in by_kind(quiet, "ConfigMap") if "hook" in c["metadata"]["name"]]


def test_backup_job_follows_the_rollback_readiness_contract(helm: Helm, tmp_path: Path) -> None:
    prod = case("prod/northwind-civil")
    values = prod.values()
    objects = helm.template(
        values_files=with_values(prod, tmp_path, {"release": {"schemaChange": True}}),
        namespace=prod.namespace,
    )
    job = named(objects, "Job", "odoo-backup")
    version, digest = values["release"]["version"], values["image"]["digest"]
    assert job["metadata"]["name"] == backup_job_name(version=version, tenant=prod.tenant)
    labels = job["metadata"]["labels"]
    for requirement in BACKUP_LABEL_SELECTOR.split(","):
        key, _, value = requirement.partition("=")
        assert labels[key] == value
    notes = annotations(job)
    expected_id = backup_id(database=values["database"]["name"], version=version, digest=digest)
    assert notes[BACKUP_ID_ANNOTATION] == expected_id
    assert notes[RELEASE_VERSION_ANNOTATION] == version
    assert notes[IMAGE_DIGEST_ANNOTATION] == digest
    assert notes[BACKUP_LOCATION_ANNOTATION] == f"pvc://odoo-prod-backups/{expected_id}.dump"
    assert backup_evidence(job) is None, "a Job without a successful status is no evidence"
    running = {**job, "status": {"active": 1}}
    assert backup_evidence(running) is None
    done = {**job, "status": {"succeeded": 1, "completionTime": "2026-11-20T19:02:03Z"}}
    evidence = backup_evidence(done)
    assert evidence is not None
    assert (evidence.backup_id, evidence.release_version) == (expected_id, version)
    assert evidence.completed_at.isoformat() == "2026-11-20T19:02:03+00:00"


def test_backup_command_and_image_are_configurable(helm: Helm, rendered: Renderer) -> None:
    staging = named(rendered(case("staging")), "Job", "odoo-backup")
    assert pod_spec(staging)["containers"][0]["command"] == ["odoo-gitops", "backup", "create"]  # signed
    prod = case("prod/acme-build")
    custom = [
        "release.backupRequired=true",
        "backup.command={sh,-c,pg_dump -Fc | rclone rcat s3:acme/$BACKUP_ID.dump}",
        "backup.image.repository=registry.example.com/platform/pg-backup",
        "backup.image.digest=sha256:" + "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
        "backup.envFromSecret=odoo-prod-backup-s3",
    ]
    objects = helm.template(values_files=prod.values_files, set_values=custom)
    backup = pod_spec(named(objects, "Job", "odoo-backup"))["containers"][0]
    assert backup["command"][:2] == ["sh", "-c"] and "rclone" in backup["command"][2]
    assert "args" not in backup and "COSIGN_PASSWORD" not in {e["name"] for e in backup["env"]}
    assert backup["image"].startswith("registry.example.com/platform/pg-backup@sha256:")
    assert backup["envFrom"] == [{"secretRef": {"name": "odoo-prod-backup-s3"}}]


# ---------------------------------------------------------------- bad values


BAD_VALUES = [
    ("digest missing", ["image.digest="], "/image/digest"),
    ("digest malformed", ["image.digest=sha256:1234"], "/image/digest"),
    ("tag instead of digest", ["image.digest=latest"], "/image/digest"),
    ("digest inside repository", [f"image.repository=reg/odoo@{GOOD_DIGEST}"], "/image/repository"),
    ("plain database password", ["database.password=hunter2"], "password"),
    ("plain admin password", ["adminPassword.value=hunter2"], "value"),
    ("credential as an odoo option", ["odoo.extraOptions.admin_passwd=hunter2"], "admin_passwd"),
    ("db_password as an odoo option", ["odoo.extraOptions.db_password=hunter2"], "db_password"),
    ("root user", ["securityContext.pod.runAsUser=0"], "runAsUser"),
    ("runAsNonRoot off", ["securityContext.pod.runAsNonRoot=false"], "runAsNonRoot"),
    ("unknown ingress kind", ["ingress.kind=nginx"], "/ingress/kind"),
    ("negative workers", ["odoo.workers=-1"], "/odoo/workers"),
    ("unknown top-level key", ["imagee.digest=x"], "imagee"),
    ("modules without a version", ["release.version="], "/release/version"),
    ("bad module name", ["release.changedModules={Bad-Name}"], "/release/changedModules"),
    ("secret without a name", ["database.existingSecret="], "/database/existingSecret"),
    ("two cron replicas", ["cron.replicas=2"], "/cron/replicas"),
]


@pytest.mark.parametrize(("why", "set_values", "where"), BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_bad_values_are_rejected_by_the_schema(
    helm: Helm, why: str, set_values: list[str], where: str
) -> None:
    staging = case("staging")
    with pytest.raises(HelmError) as failure:
        helm.template(values_files=staging.values_files, set_values=set_values)
    assert "schema" in failure.value.stderr, why
    assert where in failure.value.stderr, why
    with pytest.raises(HelmError):
        helm.lint(values_files=staging.values_files, set_values=set_values)


@pytest.mark.parametrize(
    "set_values", [["image.digest=sha256:nothex"], ["image.digest="]], ids=["malformed", "missing"]
)
def test_templates_refuse_an_unpinned_image_even_without_the_schema(
    helm: Helm, set_values: list[str]
) -> None:
    with pytest.raises(HelmError, match="pinned by digest"):
        helm.template(
            values_files=case("dev").values_files, set_values=set_values, extra=["--skip-schema-validation"]
        )


def test_kubernetes_ingress_needs_a_tls_secret(helm: Helm) -> None:
    with pytest.raises(HelmError, match="secretName"):
        helm.template(values_files=case("dev").values_files, set_values=["ingress.tls.secretName="])


def test_chart_defaults_render_once_the_toolkit_pins_an_image(helm: Helm) -> None:
    objects = helm.template(set_values=["image.repository=reg.example/odoo", f"image.digest={GOOD_DIGEST}"])
    assert named(objects, "Deployment", "odoo-web")["metadata"]["name"] == "odoo-web"
    assert not by_kind(objects, "Job"), "no release block, no hooks"
    assert json.loads((CHART / "values.schema.json").read_text())["additionalProperties"] is False


@pytest.mark.parametrize("env", sorted(p.name for p in ENVS.iterdir() if (p / "env.yaml").exists()))
def test_example_values_agree_with_the_release_record(env: str) -> None:
    """The toolkit-owned values (image, release block) describe the release in release.yaml."""
    values_text = (ENVS / env / "values.yaml").read_text()
    values = yaml.safe_load(values_text)
    release = yaml.safe_load((ENVS / env / "release.yaml").read_text())
    assert f"{values['image']['repository']}@{values['image']['digest']}" == release["image"]
    assert re.search(r"^  digest: sha256:[a-f0-9]{64}  # pinned by odoo-gitops$", values_text, re.MULTILINE)
    assert values["release"]["version"] == release["version"]
    assert set(values["release"]["changedModules"]) <= set(release["modules"])
