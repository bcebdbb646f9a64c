"""Every env's (and tenant's) rendered chart goes through `kubectl apply --dry-run=server` on the real API
server: admission, defaulting and the server's own validation (the Traefik IngressRoute CRD installed as
published), on top of the schema checks of tests/charts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.fixtures.charts import EnvCase, Renderer, env_cases
from tests.fixtures.kube import KubeServer
from tests.kube.cluster import Cluster

# kube-apiserver v1.20 serves PodDisruptionBudget as policy/v1beta1 only (policy/v1 arrived in 1.21) and
# CronJob as batch/v1beta1 only (batch/v1 arrived in 1.21), with the same fields for what the chart renders:
# the only rewrites before the dry-run, said here because the real server cannot take them as they are.
OLDER_API = {
    ("policy/v1", "PodDisruptionBudget"): "policy/v1beta1",
    ("batch/v1", "CronJob"): "batch/v1beta1",
}


@pytest.fixture(scope="module")
def traefik(cluster: Cluster) -> Cluster:
    cluster.install_crds("traefik-ingressroute.yaml")
    return cluster


def as_served(docs: list[dict[str, object]]) -> list[dict[str, object]]:
    out = []
    for doc in docs:
        api = OLDER_API.get((str(doc["apiVersion"]), str(doc["kind"])))
        out.append({**doc, "apiVersion": api} if api else doc)
    return out


@pytest.mark.parametrize("case", env_cases(), ids=lambda c: c.id)
def test_rendered_manifests_pass_server_side_dry_run(
    case: EnvCase, rendered: Renderer, traefik: Cluster, kube_server: KubeServer, kube_admin: Path
) -> None:
    docs = rendered(case)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service"} <= kinds, kinds
    traefik.namespace(case.namespace)
    manifest = yaml.safe_dump_all(as_served(docs), sort_keys=False)
    result = kube_server.kubectl(
        kube_admin, "apply", "--dry-run=server", "-n", case.namespace, "-f", "-", stdin=manifest, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == len(docs), result.stdout
    assert all(line.endswith("(server dry run)") for line in lines), result.stdout


def test_server_dry_run_catches_what_the_schema_checks_let_through(
    rendered: Renderer, traefik: Cluster, kube_server: KubeServer, kube_admin: Path
) -> None:
    """A rendered Deployment whose selector does not match its pod labels is refused by the server."""
    case = env_cases()[0]
    deploy = next(d for d in rendered(case) if d["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deploy))
    broken["spec"]["selector"] = {"matchLabels": {"app.kubernetes.io/name": "something-else"}}
    traefik.namespace(case.namespace)
    result = kube_server.kubectl(
        kube_admin,
        "apply",
        "--dry-run=server",
        "-n",
        case.namespace,
        "-f",
        "-",
        stdin=yaml.safe_dump(broken),
        check=False,
    )
    assert result.returncode != 0
    assert "selector" in result.stderr and "does not match" in result.stderr, result.stderr
