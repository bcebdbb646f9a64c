"""Proof that the database runs the release: the chart's migrate.py records ir_module_module after `-u`
and the checksum of each module's code on its addons path into a ConfigMap (real PostgreSQL 15, an
Odoo-shaped ir_module_module, the real API server with the chart's own service account and Role), and
verify's database_proof requires both to match release.yaml (exit 4). release.yaml's checksums here are
what the build computes for the image label (gitops.image.modules.module_facts) over the same addons."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import yaml

from gitops.config.models import ReleaseRecord
from gitops.image.modules import module_facts
from gitops.verify import database_proof
from gitops.verify.convergence import Outcome, TargetResult
from gitops.verify.kube import CONFIGMAPS, KubeApi
from gitops.verify.service import VerifyReport
from gitops.verify.verdict import State, Verdict
from tests.fixtures.addons import models_file, write_addon
from tests.fixtures.charts import CHART, ENVS, Helm
from tests.fixtures.kube import KubeServer
from tests.kube.cluster import Cluster
from tests.kube.pg import Postgres, postgres  # noqa: F401  (fixture)
from tests.kube.test_rbac import token_for
from tests.kube.test_verify_real import target

MIGRATE = CHART / "files" / "migrate.py"
RELEASE = yaml.safe_load((ENVS / "prod" / "release.yaml").read_text())
MODULES = {name: m["version"] for name, m in RELEASE["modules"].items()}
FAKE_ODOO = """
import json, os, sys, psycopg2
args = sys.argv[1:]
modules = args[args.index("-u") + 1].split(",")
targets, fail = json.loads(os.environ["FAKE_TARGETS"]), os.environ.get("FAKE_FAIL")
conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("UPDATE ir_module_module SET state = 'to upgrade' WHERE name = ANY(%s)", (modules,))
for name in modules:
    if name == fail:
        print("odoo: ParseError while loading", name)
        sys.exit(1)
    cur.execute("UPDATE ir_module_module SET state = 'installed', latest_version = %s WHERE name = %s",
                (targets[name], name))
"""


class Image:
    """The migration container's view: odoo.conf naming the addons path, and the release the build made
    of those addons (release.yaml's modules: the manifest versions and the label's checksums)."""

    def __init__(self, root: Path) -> None:
        self.addons = root / "custom-addons"
        for name, version in MODULES.items():
            files = models_file(f"class M(models.Model):\n    _name = '{name}.m'\n")
            files |= {"static/description/index.html": "<p/>", "tests/test_m.py": "pass\n"}
            write_addon(self.addons, name, version=version, files=files)
        self.config = root / "odoo.conf"
        self.config.write_text(f"[options]\naddons_path = {self.addons}\ndata_dir = {root / 'data'}\n")
        self.release = copy.deepcopy(RELEASE)
        for module in module_facts(self.addons):
            self.release["modules"][module.name] = module.record()


@pytest.fixture
def image(tmp_path: Path) -> Image:
    return Image(tmp_path / "image")


def odoo_database(pg: Postgres) -> str:
    """A database whose ir_module_module has Odoo's columns and the previous release's versions."""
    name = f"odoo_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(**pg.connect_args("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    conn = psycopg2.connect(**pg.connect_args(name))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar NOT NULL UNIQUE,"
            " state varchar(16), latest_version varchar, auto_install boolean DEFAULT false,"
            " create_date timestamp DEFAULT now(), write_date timestamp DEFAULT now())"
        )
        rows = [
            ("base", "installed", "17.0.1.3"),
            ("web", "installed", "17.0.1.0"),
            ("sale", "uninstalled", None),
        ]
        rows += [(m, "installed", "17.0.0.9.0") for m in MODULES]
        cur.executemany(
            "INSERT INTO ir_module_module (name, state, latest_version) VALUES (%s, %s, %s)", rows
        )
    conn.close()
    return name


@pytest.fixture
def migrate_identity(
    cluster: Cluster, kube_server: KubeServer, kube_admin: Path, helm: Helm, workload_ns: str, tmp_path: Path
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The chart's migrate ServiceAccount/Role/RoleBinding applied in the namespace; the pod's SA files."""
    docs = helm.template(
        values_files=[ENVS / "prod" / "values.yaml"],
        set_values=[
            "migration.recordProof=true",
            "release.version=1.4.0",
            "release.changedModules={acme_retention}",
        ],
        namespace=workload_ns,
        release="odoo-prod",
    )
    rbac = [d for d in docs if d["kind"] in ("ServiceAccount", "Role", "RoleBinding")]
    assert [d["kind"] for d in rbac] == ["ServiceAccount", "Role", "RoleBinding"]
    kube_server.kubectl(kube_admin, "apply", "-n", workload_ns, "-f", "-", stdin=yaml.safe_dump_all(rbac))
    job = next(d for d in docs if d["kind"] == "Job" and "migrate" in d["metadata"]["name"])
    env = {
        e["name"]: e["value"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"] if "value" in e
    }
    sa_dir = tmp_path / "serviceaccount"
    sa_dir.mkdir()
    (sa_dir / "token").write_text(token_for(cluster, workload_ns, rbac[0]["metadata"]["name"]))
    (sa_dir / "namespace").write_text(workload_ns)
    (sa_dir / "ca.crt").write_bytes(kube_server.certs["ca.crt"].read_bytes())
    pod_env = {
        "PROOF_CONFIGMAP": env["PROOF_CONFIGMAP"],
        "RELEASE_VERSION": env["RELEASE_VERSION"],
        "PROOF_LABELS": env["PROOF_LABELS"],
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(kube_server.port),
        "ODOO_GITOPS_SA_DIR": str(sa_dir),
    }
    return pod_env, rbac


def run_migrate(
    tmp_path: Path,
    pg: Postgres,
    database: str,
    pod_env: dict[str, str],
    image: Image,
    *,
    fail: str | None = None,
) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "fake_odoo.py"
    fake.write_text(FAKE_ODOO)
    env = {
        "PATH": "/usr/bin:/bin",
        **pg.env(database),
        **pod_env,
        "ODOO_COMMAND": f"{sys.executable} {fake}",
        "FAKE_TARGETS": json.dumps(MODULES),
        **({"FAKE_FAIL": fail} if fail else {}),
    }
    return subprocess.run(
        [sys.executable, str(MIGRATE), str(image.config), ",".join(sorted(MODULES))],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def proof_verdict(
    kube_admin: Path, workload_ns: str, tmp_path: Path, release: dict[str, Any]
) -> VerifyReport:
    """verify's hook on a target whose rollout was proven, migration.recordProof on in the env's values."""
    (tmp_path / "values.yaml").write_text("migration:\n  recordProof: true\n")
    proven = TargetResult(
        target("odoo-prod", workload_ns),
        Verdict.ok("Application argocd/odoo-prod"),
        workload_namespace=workload_ns,
    )
    outcome = Outcome([proven], timed_out=False)
    api = KubeApi.connect(kubeconfig=kube_admin)
    try:
        database_proof.apply(
            outcome,
            ReleaseRecord.model_validate(release),
            lambda ns, sel: api.list(CONFIGMAPS, ns, label_selector=sel, retry=True).items,
            lambda tenant: [tmp_path / "values.yaml"],
        )
    finally:
        api.close()
    return VerifyReport("prod", "0" * 40, outcome, None, 0.0)


def test_a_complete_update_is_recorded_and_verified(
    postgres: Postgres,  # noqa: F811
    migrate_identity: tuple[dict[str, str], list[dict[str, Any]]],
    cluster: Cluster,
    kube_admin: Path,
    workload_ns: str,
    tmp_path: Path,
    image: Image,
) -> None:
    pod_env, _ = migrate_identity
    database = odoo_database(postgres)
    result = run_migrate(tmp_path, postgres, database, pod_env, image)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "recorded the database proof" in result.stdout
    cm = cluster.get("configmaps", workload_ns, pod_env["PROOF_CONFIGMAP"])
    assert cm["metadata"]["labels"]["odoo-gitops.io/database-proof"] == "true"
    assert cm["metadata"]["labels"]["app.kubernetes.io/instance"] == "odoo-prod"
    proof = json.loads(cm["data"]["proof.json"])
    assert proof["database"] == database and proof["release_version"] == "1.4.0"
    assert proof["update_exit_code"] == 0
    assert {m: proof["modules"][m]["version"] for m in MODULES} == MODULES
    assert "sale" not in proof["modules"]  # uninstalled modules are not part of what runs
    checksums = {m: proof["modules"][m]["checksum"] for m in MODULES}
    assert checksums == {m: image.release["modules"][m]["checksum"] for m in MODULES}
    assert proof["modules"][sorted(MODULES)[0]]["path"] == str(image.addons / sorted(MODULES)[0])
    assert "checksum" not in proof["modules"]["base"]  # Odoo's own modules are not on the addons path
    report = proof_verdict(kube_admin, workload_ns, tmp_path, image.release)
    assert report.outcome.results[0].verdict.state is State.OK, report.outcome.results[0].verdict
    assert report.state == "verified"


def test_a_module_left_to_upgrade_fails_verification_with_exit_4(
    postgres: Postgres,  # noqa: F811
    migrate_identity: tuple[dict[str, str], list[dict[str, Any]]],
    kube_admin: Path,
    workload_ns: str,
    tmp_path: Path,
    image: Image,
) -> None:
    pod_env, _ = migrate_identity
    database = odoo_database(postgres)
    failing = sorted(MODULES)[1]
    result = run_migrate(tmp_path, postgres, database, pod_env, image, fail=failing)
    assert result.returncode == 1  # Odoo's exit code, unchanged by the recording
    assert "recorded the database proof" in result.stdout
    report = proof_verdict(kube_admin, workload_ns, tmp_path, image.release)
    verdict = report.outcome.results[0].verdict
    assert verdict.state is State.FAILED
    assert any(f"module {failing}: still 'to upgrade'" in r for r in verdict.reasons), verdict.reasons
    assert any("exited with 1" in r for r in verdict.reasons), verdict.reasons
    assert report.state == "failed"  # verify raises it as a VerificationError: exit 4 (errors.py)


def test_a_version_that_is_not_release_yamls_fails(
    postgres: Postgres,  # noqa: F811
    migrate_identity: tuple[dict[str, str], list[dict[str, Any]]],
    kube_admin: Path,
    workload_ns: str,
    tmp_path: Path,
    image: Image,
) -> None:
    pod_env, _ = migrate_identity
    run_migrate(tmp_path, postgres, odoo_database(postgres), pod_env, image)
    newer = copy.deepcopy(image.release)
    module = sorted(MODULES)[0]
    newer["modules"][module]["version"] = "17.0.9.9.9"
    report = proof_verdict(kube_admin, workload_ns, tmp_path, newer)
    verdict = report.outcome.results[0].verdict
    assert verdict.state is State.FAILED
    expected = f"module {module}: database at version {MODULES[module]}, release.yaml says 17.0.9.9.9"
    assert any(r.endswith(expected) for r in verdict.reasons), verdict.reasons
    assert report.state == "failed"


@pytest.mark.parametrize("how", ["edited", "shadowed", "absent"])
def test_code_that_is_not_release_yamls_fails_naming_the_module(
    postgres: Postgres,  # noqa: F811
    migrate_identity: tuple[dict[str, str], list[dict[str, Any]]],
    kube_admin: Path,
    workload_ns: str,
    tmp_path: Path,
    image: Image,
    how: str,
) -> None:
    """The container's code differs from what the build hashed into release.yaml: a file changed after the
    build, an earlier addons_path entry (a mounted volume) holding another copy Odoo loads instead, or the
    module nowhere on the path. The versions all match; only the checksums tell."""
    pod_env, _ = migrate_identity
    module = sorted(MODULES)[-1]
    loaded = image.addons / module
    if how == "edited":
        (loaded / "models" / "models.py").write_text("# patched in the running image\n")
    elif how == "shadowed":
        shadow = tmp_path / "mounted-addons"
        loaded = write_addon(shadow, module, version=MODULES[module], files={"__init__.py": "# other\n"})
        image.config.write_text(f"[options]\naddons_path = {shadow},{image.addons}\n")
    else:
        (image.addons / module / "__manifest__.py").rename(image.addons / module / "manifest.txt")
    result = run_migrate(tmp_path, postgres, odoo_database(postgres), pod_env, image)
    assert result.returncode == 0 and "recorded the database proof" in result.stdout, result.stdout
    report = proof_verdict(kube_admin, workload_ns, tmp_path, image.release)
    verdict = report.outcome.results[0].verdict
    assert verdict.state is State.FAILED
    assert [r.split(": ")[1] for r in verdict.reasons] == [f"module {module}"], verdict.reasons
    if how == "absent":
        assert "no checksum of its code recorded" in verdict.reasons[0]
    else:
        expected = image.release["modules"][module]["checksum"]
        assert f"at {loaded}, release.yaml says {expected}" in verdict.reasons[0], verdict.reasons
    assert report.state == "failed"  # verify raises it as a VerificationError: exit 4 (errors.py)


def test_no_proof_where_one_is_required_fails(kube_admin: Path, workload_ns: str, tmp_path: Path) -> None:
    report = proof_verdict(kube_admin, workload_ns, tmp_path, RELEASE)
    verdict = report.outcome.results[0].verdict
    assert verdict.state is State.FAILED
    assert "no database proof recorded" in verdict.reasons[0]
    assert report.state == "failed"


def test_the_migrate_identity_can_write_only_its_configmap(
    migrate_identity: tuple[dict[str, str], list[dict[str, Any]]], kube_server: KubeServer, workload_ns: str
) -> None:
    pod_env, _ = migrate_identity
    token = (Path(pod_env["ODOO_GITOPS_SA_DIR"]) / "token").read_text()
    as_job = Cluster(kube_server, token)
    from tests.kube.cluster import ApiError

    for method, path, body in [
        ("GET", f"/api/v1/namespaces/{workload_ns}/secrets", None),
        ("GET", f"/api/v1/namespaces/{workload_ns}/configmaps/odoo-config", None),
        ("PATCH", f"/api/v1/namespaces/{workload_ns}/configmaps/odoo-config", {"data": {"x": "y"}}),
        ("GET", f"/api/v1/namespaces/{workload_ns}/configmaps", None),
        ("DELETE", f"/api/v1/namespaces/{workload_ns}/configmaps/{pod_env['PROOF_CONFIGMAP']}", None),
    ]:
        with pytest.raises(ApiError) as raised:
            as_job.request(method, path, body, "application/merge-patch+json")
        assert raised.value.status == 403, (method, path)
