"""verify.yml, run step by step against the real CLI, a real config repo and the loopback Kubernetes API
with the scripted Argo CD controller of tests/verify: outputs, the recorded verification pushed back to
the default branch, and the job summary."""

from __future__ import annotations

import yaml

from gitops.promote.edit import render_release
from tests.fixtures.configrepo import git
from tests.fixtures.verify import TOKEN, write_kubeconfig
from tests.verify import objects as o
from tests.verify.controllers import ArgoCD, Rollout
from tests.verify.kubeserver import FakeKubeAPI
from tests.workflows.conftest import World, new_release


def merge_release_into_staging(world: World) -> tuple[str, str, str]:
    """What merging a promotion leaves on main: staging's release.yaml names a new image."""
    before = world.repo.head()
    release = {**new_release("1.5.0"), "promoted_from": "dev"}
    release.pop("verification")
    (world.repo.work / "envs" / "staging" / "release.yaml").write_text(render_release(release))
    return before, world.repo.commit_all("Promote 1.5.0 to staging"), release["image"]


def staging_cluster(kube_api: FakeKubeAPI, revision: str, image: str, *, controller: bool = True) -> None:
    kube_api.put(o.application("odoo-staging", revision=o.sha("before"), destination="odoo-staging"))
    rollouts = [
        Rollout(kube_api, w, namespace="odoo-staging", image=image) for w in ("odoo-web", "odoo-cron")
    ]
    if controller:
        ArgoCD(kube_api, revision=revision, rollouts={"odoo-staging": rollouts})


def kubeconfig_text(world: World, kube_api: FakeKubeAPI) -> str:
    return write_kubeconfig(world.tmp / "kubeconfig", kube_api.url).read_text()


def test_verify_finds_the_changed_env_verifies_it_and_pushes_the_record(
    world: World, kube_api: FakeKubeAPI
) -> None:
    before, revision, image = merge_release_into_staging(world)
    staging_cluster(kube_api, revision, image)
    job = world.run(
        "verify.yml",
        inputs={"timeout": 60},
        secrets={"kubeconfig": kubeconfig_text(world, kube_api)},
        github={"sha": revision, "event": {"before": before, "repository": {"default_branch": "main"}}},
    )
    assert not job.failed, [(s.name, s.outcome, s.stdout, s.stderr) for s in job.steps]
    assert TOKEN not in job.text
    assert job.outputs == {"verdict": "verified", "rollback-ready": "false"}
    assert job.step("verify").outputs["envs"] == "staging"
    assert job.documents == ["verify-staging.json"]
    assert f"## odoo-gitops verify `{revision}`" in job.summary
    assert "verdict: **verified**, rollback ready: false" in job.summary
    assert "| staging | 0 | verified | verified: 1/1 targets ok, 0 failed, 0 pending | false |" in job.summary
    assert job.step("Fail when verification failed").outcome == "skipped"
    record = job.step("Record the verification")
    assert record.outcome == "success", record.stderr
    head = git(world.repo.remote, "rev-parse", "main")
    assert git(world.repo.remote, "log", "-1", "--format=%s%n%b", head).startswith(
        f"Record verification of {revision}"
    )
    recorded = yaml.safe_load(git(world.repo.remote, "show", f"{head}:envs/staging/release.yaml"))
    assert recorded["verification"]["revision"] == revision


def test_verify_that_times_out_fails_the_job_with_exit_4(world: World, kube_api: FakeKubeAPI) -> None:
    _, revision, image = merge_release_into_staging(world)
    staging_cluster(kube_api, revision, image, controller=False)  # nobody reconciles
    job = world.run(
        "verify.yml",
        inputs={"env": "staging", "timeout": 3, "record": False},
        secrets={"kubeconfig": kubeconfig_text(world, kube_api)},
        github={"sha": revision},
    )
    assert job.failed
    assert job.outputs == {"verdict": "failed", "rollback-ready": "false"}
    failing = job.step("Fail when verification failed")
    assert (failing.outcome, failing.exit_code) == ("failure", 4)
    assert job.step("Record the verification").outcome == "skipped"
    [row] = [line for line in job.summary.splitlines() if line.startswith("| staging |")]
    assert row.startswith("| staging | 4 | timed-out | timed-out: 0/1 targets ok")
    assert git(world.repo.remote, "rev-parse", "main") == revision  # nothing recorded


def test_verify_of_an_unknown_env_reports_the_cli_error(world: World, kube_api: FakeKubeAPI) -> None:
    job = world.run(
        "verify.yml",
        inputs={"env": "qa", "timeout": 3, "record": False},
        secrets={"kubeconfig": kubeconfig_text(world, kube_api)},
    )
    assert job.failed
    [error] = job.step("verify").errors
    assert error.startswith("verify qa exited 2: ") and "qa" in error[len("verify qa exited 2") :]
    assert "| qa | 2 | error |" in job.summary
    assert job.documents == ["verify-qa.json"]  # the error document: {"error", "message"}
    assert job.outputs["verdict"] == "failed"
