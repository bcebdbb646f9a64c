"""release.yml, run step by step against the real CLI: a real Docker Engine builds the addons on the test
base image, pushes to a real docker-registry, signs it (cosign format), and a real trivy with the test DB
scans it under an environment's policy of a real config repo. The uploads (`uses:` steps) are not run; the
runner says whether they would have."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.addonsrepo import make_addons_repo
from tests.fixtures.configrepo import ConfigRepoFixture
from tests.fixtures.registry import BaseImage, Registry
from tests.fixtures.supply import PASSWORD, KeyFiles
from tests.fixtures.trivydb import Trivy
from tests.workflows.conftest import WORKFLOWS, tool_path
from tests.workflows.contract import check_documents
from tests.workflows.runner import JobRun, Runner, runner_env

pytestmark = [pytest.mark.registry, pytest.mark.docker, pytest.mark.trivy, pytest.mark.e2e]

REGISTRY_PASSWORD = "registry-password-7c1d"  # the test registry has no auth; the value must stay hidden


def release(tmp_path: Path, registry: Registry, base: BaseImage, keys: KeyFiles, config: ConfigRepoFixture,
            trivy: Trivy, scan_env: str) -> tuple[JobRun, str]:  # fmt: skip
    addons = make_addons_repo(tmp_path / "addons")  # what actions/checkout leaves in the addons repo
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    repository = f"{registry.host}/test/release-wf-{uuid.uuid4().hex[:10]}"
    env = {**runner_env(), "TRIVY_CACHE_DIR": str(trivy.cache), "ODOO_GITOPS_TRIVY": trivy.binary}
    github: dict[str, Any] = {"actor": "ci-bot", "repository": "acme/odoo-addons", "token": "t"}
    runner = Runner(WORKFLOWS / "release.yml", addons.path, temp, tool_path(), github, env, timeout=900)
    job = runner.run(
        inputs={
            "base-image": base.pinned,
            "repository": repository,
            "config-repo": str(config.work),
            "scan-env": scan_env,
            "registry-username": "ci-bot",
        },
        secrets={
            "registry-password": REGISTRY_PASSWORD,
            "signing-key": keys.private.read_text(),
            "signing-key-password": PASSWORD,
        },
    )
    assert REGISTRY_PASSWORD not in job.text and PASSWORD not in job.text
    assert "PRIVATE KEY" not in job.text
    assert not list(temp.glob("*.key")), "the signing key is removed after use"
    assert check_documents(addons.path) == ["build.json"]
    return job, repository


def test_release_builds_signs_and_passes_the_dev_scan(
    tmp_path: Path, registry: Registry, base_image: BaseImage, signing_keys: KeyFiles,
    config_repo: ConfigRepoFixture, trivy: Trivy,
) -> None:  # fmt: skip
    job, repository = release(tmp_path, registry, base_image, signing_keys, config_repo, trivy, "dev")
    assert not job.failed, [(s.name, s.outcome, s.stdout, s.stderr) for s in job.steps]
    image, digest = job.outputs["image"], job.outputs["digest"]
    assert image == f"{repository}@{digest}" and digest.startswith("sha256:")
    assert job.outputs["scan-verdict"] == "pass"
    verified = subprocess.run(
        ["odoo-gitops", "verify-signature", image, "--key", str(signing_keys.public)],
        env={**runner_env(), "PATH": ":".join(tool_path())}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    scan = json.loads((tmp_path / "addons" / "scan.json").read_text())
    assert scan["passed"] is True and scan["attested"] is True
    assert job.step("Upload SARIF to code scanning").outcome == "would run"
    assert job.step("Fail on a failed scan").outcome == "skipped"
    assert f"| image | `{image}` |" in job.summary
    assert "| signature | signed |" in job.summary
    assert "| scan (dev policy) | pass |" in job.summary


def test_release_failing_the_prod_scan_uploads_sarif_then_fails(
    tmp_path: Path, registry: Registry, base_image: BaseImage, signing_keys: KeyFiles,
    config_repo: ConfigRepoFixture, trivy: Trivy,
) -> None:  # fmt: skip
    job, _ = release(tmp_path, registry, base_image, signing_keys, config_repo, trivy, "prod")
    assert job.failed
    assert job.outputs["scan-verdict"] == "fail"
    assert job.step("scan").outputs["exit"] == "3"
    assert (tmp_path / "addons" / "scan.sarif").is_file()
    assert job.step("Upload SARIF to code scanning").outcome == "would run"
    failing = job.step("Fail on a failed scan")
    assert failing.outcome == "failure"
    assert failing.errors == ["the image failed the prod scan policy (exit 3)"]
    assert "| scan (prod policy) | fail |" in job.summary
