"""`odoo-gitops verify` end to end: a real git config repo, the real kubernetes client, the loopback API."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.audit.log import read_entries
from gitops.cli.main import main
from tests.fixtures.configrepo import ConfigRepoFixture, git
from tests.fixtures.verify import TOKEN, write_kubeconfig
from tests.verify import objects as o
from tests.verify.controllers import ArgoCD, Rollout
from tests.verify.kubeserver import FakeKubeAPI
from tests.verify.test_service import unreachable_previous


def release_of(repo: ConfigRepoFixture, env: str) -> dict[str, Any]:
    return yaml.safe_load((repo.work / "envs" / env / "release.yaml").read_text())


def remote_file(repo: ConfigRepoFixture, path: str) -> str:
    return git(repo.remote, "show", f"main:{path}")


def dev_cluster(
    kube_api: FakeKubeAPI, repo: ConfigRepoFixture, *, reports: str, outcome: str = "healthy"
) -> None:
    image = release_of(repo, "dev")["image"]
    kube_api.put(o.application("odoo-dev", revision=o.sha("before"), destination="odoo-dev"))
    rollouts = [Rollout(kube_api, w, namespace="odoo-dev", image=image) for w in ("odoo-web", "odoo-cron")]
    ArgoCD(kube_api, revision=reports, default=outcome, rollouts={"odoo-dev": rollouts})


def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["verify", *args, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


@pytest.mark.parametrize("form", ["url", "bare-path"])
def test_verifies_commits_and_pushes_the_record_for_a_remote_and_a_rerun_changes_nothing(
    form: str,
    config_repo: ConfigRepoFixture,
    kube_api: FakeKubeAPI,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sha = config_repo.head()
    dev_cluster(kube_api, config_repo, reports=sha)
    # a git URL and a bare repository's path are both remotes: the record is committed and pushed
    url = config_repo.remote.as_uri() if form == "url" else str(config_repo.remote)
    args = ["dev", "--revision", sha, "--config-repo", url, "--kubeconfig", str(kubeconfig)]
    code, report, err = verify(capsys, *args, "--timeout", "20")
    assert code == 0, (report, err)
    assert report["state"] == "verified" and report["verified"] is True
    assert report["summary"] == "verified: 1/1 targets ok, 0 failed, 0 pending"
    [row] = report["targets"]
    assert row["target"] == "Application argocd/odoo-dev" and row["reconciled_revision"] == sha
    assert report["recorded"]["pushed"] is True
    recorded = yaml.safe_load(remote_file(config_repo, "envs/dev/release.yaml"))
    assert recorded["verification"]["revision"] == sha
    assert recorded["verification"]["targets"] == ["Application argocd/odoo-dev"]
    assert "# Written by odoo-gitops" in remote_file(config_repo, "envs/dev/release.yaml")  # comments kept
    audit = json.loads(remote_file(config_repo, "audit/dev.jsonl").splitlines()[-1])
    assert audit["kind"] == "verification" and audit["data"]["revision"] == sha
    assert audit["key"] == f"verify:dev:{sha}:{recorded['verification']['digest']}"
    assert TOKEN not in err and TOKEN not in json.dumps(report)

    # the record commit is a descendant of sha: Argo CD now reports it; re-running records nothing new
    head = git(config_repo.remote, "rev-parse", "main")
    kube_api.update("applications", "argocd", "odoo-dev", lambda a: a["metadata"].pop("annotations", None))
    kube_api.patch_hooks.clear()
    ArgoCD(kube_api, revision=head)
    code, again, _ = verify(capsys, *args, "--timeout", "20")
    assert code == 0, again
    assert again["targets"][0]["reconciled_revision"] == head
    assert again["recorded"]["changed"] is False and again["recorded"]["commit"] is None
    assert git(config_repo.remote, "rev-parse", "main") == head
    assert remote_file(config_repo, "audit/dev.jsonl").count("\n") == 0  # still one entry


def test_a_local_checkout_is_written_for_the_caller_to_commit(
    config_repo: ConfigRepoFixture,
    kube_api: FakeKubeAPI,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sha = config_repo.head()
    dev_cluster(kube_api, config_repo, reports=sha)
    args = ["dev", "--revision", sha, "--config-repo", str(config_repo.work), "--kubeconfig", str(kubeconfig)]
    code, report, _ = verify(capsys, *args, "--timeout", "20")
    assert code == 0
    assert report["recorded"]["pushed"] is False and report["recorded"]["changed"] is True
    assert report["recorded"]["files"] == ["envs/dev/release.yaml", "audit/dev.jsonl"]
    assert release_of(config_repo, "dev")["verification"]["revision"] == sha
    assert git(config_repo.work, "status", "--porcelain") == "M envs/dev/release.yaml\n?? audit/"
    assert git(config_repo.remote, "rev-parse", "main") == sha  # nothing pushed


def test_push_commits_and_pushes_a_local_checkout(
    config_repo: ConfigRepoFixture,
    kube_api: FakeKubeAPI,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sha = config_repo.head()
    dev_cluster(kube_api, config_repo, reports=sha)
    args = ["dev", "--revision", sha, "--config-repo", str(config_repo.work), "--kubeconfig", str(kubeconfig)]
    code, report, _ = verify(capsys, *args, "--timeout", "20", "--push")
    assert code == 0
    assert report["recorded"]["pushed"] is True
    assert git(config_repo.remote, "rev-parse", "main") == report["recorded"]["commit"]
    message = git(config_repo.remote, "log", "-1", "--format=%B", "main")
    assert f"Odoo-Gitops-Verified: {sha}" in message


def test_an_older_revision_times_out_with_exit_4(
    config_repo: ConfigRepoFixture,
    kube_api: FakeKubeAPI,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    older = config_repo.head()
    (config_repo.work / "envs" / "dev" / "values.yaml").write_text("replicas: 3\n", encoding="utf-8")
    promoted = config_repo.commit_all("Promote to dev")
    dev_cluster(kube_api, config_repo, reports=older)
    code, report, _ = verify(
        capsys,
        "dev",
        "--revision",
        promoted,
        "--config-repo",
        str(config_repo.work),
        "--kubeconfig",
        str(kubeconfig),
        "--timeout",
        "1.5",
        "--no-record",
    )
    assert code == 4
    assert report["state"] == "timed-out" and report["timed_out"] is True
    assert any("not the promoted revision" in m for m in report["targets"][0]["missing"])
    assert report["recorded"] is None


def test_multi_tenant_with_one_failing_tenant_is_partial(
    config_repo: ConfigRepoFixture,
    kube_api: FakeKubeAPI,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sha = unreachable_previous(config_repo, "prod")
    image = release_of(config_repo, "prod")["image"]
    tenants = ["acme-build", "globex-consult", "initech-services", "northwind-civil"]
    rollouts = {}
    for t in tenants:
        kube_api.put(o.application(f"odoo-prod-{t}", revision=o.sha("before"), destination=f"odoo-prod-{t}"))
        rollouts[f"odoo-prod-{t}"] = [
            Rollout(kube_api, w, namespace=f"odoo-prod-{t}", image=image) for w in ("odoo-web", "odoo-cron")
        ]
    ArgoCD(kube_api, revision=sha, outcomes={"odoo-prod-globex-consult": "degraded"}, rollouts=rollouts)
    code, report, _ = verify(
        capsys,
        "prod",
        "--revision",
        sha,
        "--config-repo",
        str(config_repo.work),
        "--kubeconfig",
        str(kubeconfig),
        "--context",
        "test",
        "--timeout",
        "20",
    )
    assert code == 4
    assert report["state"] == "partial"
    rows = {r["tenant"]: r["state"] for r in report["targets"]}
    assert rows == {
        "acme-build": "ok",
        "globex-consult": "failed",
        "initech-services": "ok",
        "northwind-civil": "ok",
    }
    recorded = release_of(config_repo, "prod")
    assert recorded["verification"]["revision"] != sha  # the environment as a whole is not verified
    assert set(recorded["tenants"]) == {"acme-build", "initech-services", "northwind-civil"}
    assert all(t["verification"]["revision"] == sha for t in recorded["tenants"].values())
    assert kube_api.count("list", "pods") == 1  # one cluster-wide LIST for four tenant namespaces


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_api_exits_1_without_leaking_the_token(
    config_repo: ConfigRepoFixture, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{_closed_port()}")
    code, report, err = verify(
        capsys,
        "dev",
        "--revision",
        config_repo.head(),
        "--config-repo",
        str(config_repo.work),
        "--kubeconfig",
        str(kubeconfig),
        "--timeout",
        "5",
    )
    assert code == 1
    assert report["error"] == "external" and "unreachable" in report["message"]
    assert TOKEN not in err and TOKEN not in json.dumps(report)


def test_context_pointing_at_another_cluster_is_refused(
    config_repo: ConfigRepoFixture, kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = config_repo.work / "envs" / "dev" / "env.yaml"
    env_file.write_text(env_file.read_text() + "cluster:\n  server: https://dev.k8s.example.com\n")
    sha = config_repo.commit_all("pin the dev cluster")
    code, report, _ = verify(
        capsys,
        "dev",
        "--revision",
        sha,
        "--config-repo",
        str(config_repo.work),
        "--kubeconfig",
        str(kubeconfig),
    )
    assert code == 2
    assert "cluster.server" in report["message"]


@pytest.mark.parametrize("revision", ["abc123", "main", "Z" * 40])
def test_revision_must_be_a_full_sha(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], revision: str
) -> None:
    code, report, _ = verify(capsys, "dev", "--revision", revision, "--config-repo", str(config_repo.work))
    assert code == 2
    assert "40-hex" in report["message"]


def test_revision_not_on_the_branch_is_refused(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, _ = verify(
        capsys, "dev", "--revision", o.sha("nowhere"), "--config-repo", str(config_repo.work)
    )
    assert code == 2
    assert "is not on origin/main" in report["message"]


def test_human_output_lists_missing_per_target(
    config_repo: ConfigRepoFixture,
    kube_api: FakeKubeAPI,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sha = config_repo.head()
    dev_cluster(kube_api, config_repo, reports=sha, outcome="stuck")
    code = main(
        [
            "verify",
            "dev",
            "--revision",
            sha,
            "--config-repo",
            str(config_repo.work),
            "--kubeconfig",
            str(kubeconfig),
            "--timeout",
            "1",
            "--no-record",
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 4
    assert "dev @ " in out and "timed-out" in out
    assert "missing: " in out and "rollback readiness: NOT ready" in out
    assert read_entries(config_repo.work / "audit" / "dev.jsonl") == []


@pytest.mark.parametrize("kind", ["argo", "flux-bucket"])
def test_a_reconcile_kind_not_in_the_registry_exits_2_naming_file_and_line(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    env_yaml = config_repo.work / "envs" / "dev" / "env.yaml"
    env_yaml.write_text(env_yaml.read_text().replace("kind: argocd", f"kind: {kind}"))
    code, report, err = verify(
        capsys, "dev", "--revision", config_repo.head(), "--config-repo", str(config_repo.work)
    )
    assert code == 2, (report, err)
    [problem] = report["problems"]
    assert problem["file"] == "envs/dev/env.yaml" and problem["line"] == 7
    assert f"reconcile.kind '{kind}' is not a reconciler verify knows" in problem["message"]
    assert "argocd, flux-helmrelease, flux-kustomization" in problem["message"]


def test_a_failed_verdict_prints_the_report_and_nothing_else_on_stdout(
    config_repo: ConfigRepoFixture,
    kube_api: FakeKubeAPI,
    kubeconfig: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The verdict is raised as a VerificationError carrying the report: exit 4 from the one handler,
    and `--json` prints the report exactly as a verified run does (one document)."""
    sha = config_repo.head()
    dev_cluster(kube_api, config_repo, reports=sha, outcome="degraded")
    args = ["dev", "--revision", sha, "--config-repo", str(config_repo.work), "--kubeconfig", str(kubeconfig)]
    code, report, err = verify(capsys, *args, "--timeout", "20", "--no-record")
    assert code == 4, (report, err)
    assert report["state"] == "failed" and report["verified"] is False and "error" not in report
    assert set(report) >= {"env", "revision", "targets", "summary", "rollback_readiness", "recorded"}
    assert "error:" not in err
