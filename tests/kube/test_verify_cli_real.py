"""`odoo-gitops verify` end to end against the real kube-apiserver: a real git config repo whose env is
deployed by a Flux Kustomization reading an OCIRepository, the CLI's exit code and `--json` report.

source-controller's part: the OCIRepository's `status.artifact.revision` is `latest@sha256:<digest>` and
`status.artifact.metadata["org.opencontainers.image.revision"]` is `main@sha1:<commit>` (what `flux push
artifact --revision=main@sha1:<commit>` stores); kustomize-controller's: `lastAppliedRevision` is that
artifact revision and `lastAppliedOriginRevision` the commit. Both written through the status subresource.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.cli.main import main
from tests.fixtures.configrepo import ConfigRepoFixture, config_repo  # noqa: F401  (fixture)
from tests.kube.cluster import Cluster, Rollout
from tests.kube.test_verify_real import joined, oci_reconciles, oci_world
from tests.verify import objects as o


def flux_oci_env(repo: ConfigRepoFixture, cluster: Cluster, workload_ns: str) -> tuple[str, str, str]:
    """envs/dev deployed by a Flux Kustomization from an OCIRepository: (kustomization, source, commit)."""
    source, name = oci_world(cluster, workload_ns)
    env_file = repo.work / "envs" / "dev" / "env.yaml"
    env = yaml.safe_load(env_file.read_text())
    env["namespace"] = workload_ns
    env["reconcile"] = {"kind": "flux-kustomization", "name": name, "namespace": "flux-system"}
    env["reconcile"]["source"] = source
    env["workloads"] = ["odoo-web"]
    env_file.write_text(yaml.safe_dump(env, sort_keys=False))
    return name, source, repo.commit_all("dev: deployed by Flux from an OCI artifact")


def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["verify", *args, "--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, json.loads(out)


@pytest.mark.parametrize(
    ("outcome", "expected_code"),
    [("promoted", 0), ("artifact-of-another-commit", 4), ("another-digest-applied", 4)],
)
def test_verify_cli_proves_an_oci_promotion_and_refuses_another_with_exit_4(
    config_repo: ConfigRepoFixture,  # noqa: F811
    cluster: Cluster,
    kube_admin: Path,
    workload_ns: str,
    capsys: pytest.CaptureFixture[str],
    outcome: str,
    expected_code: int,
) -> None:
    name, source, sha = flux_oci_env(config_repo, cluster, workload_ns)
    image = yaml.safe_load((config_repo.work / "envs" / "dev" / "release.yaml").read_text())["image"]
    rollout = Rollout(cluster, "odoo-web", namespace=workload_ns, image=image)
    origin = o.sha("elsewhere") if outcome == "artifact-of-another-commit" else sha
    applied = "other-artifact" if outcome == "another-digest-applied" else "promoted"
    threads = oci_reconciles(
        cluster, source, name, artifact="promoted", origin=origin, applied=applied, rollouts=[rollout]
    )
    timeout = "60" if expected_code == 0 else "10"
    args = ["dev", "--revision", sha, "--config-repo", str(config_repo.work), "--kubeconfig", str(kube_admin)]
    code, report = verify(capsys, *args, "--timeout", timeout)
    for thread in threads:
        joined(thread)
    assert code == expected_code, report
    [row] = report["targets"]
    assert row["target"] == f"Kustomization flux-system/{name}"
    if expected_code == 0:
        assert report["state"] == "verified"
        assert row["reconciled_revision"] == sha
        return
    assert report["state"] in ("timed-out", "failed")
    lines = json.dumps(row)
    if outcome == "artifact-of-another-commit":
        assert f"built from {o.sha('elsewhere')[:12]}" in lines, row
    else:
        assert o.oci_revision("other-artifact") in lines, row
