"""The `odoo-gitops-image` path of the reusable workflows: the real "Set up odoo-gitops" step of each
workflow, then a step that calls `odoo-gitops`, on a real Docker Engine with an image pulled by digest from
a real registry. The image here is the test base image plus a probe standing in for the CLI (the tool's
own image is built and signed by release-tool.yml): it reports what `docker run` handed it."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixtures.registry import BaseImage, Registry, docker_cli
from tests.workflows.conftest import WORKFLOWS, tool_path
from tests.workflows.runner import Runner, load_workflow, runner_env

pytestmark = [pytest.mark.docker, pytest.mark.registry]

PROBE = """#!/bin/sh
printf 'argv=%s\\n' "$*"
printf 'cwd=%s\\n' "$(pwd)"
printf 'token=%s\\n' "${GITHUB_TOKEN:+set}"
printf 'unlisted=%s\\n' "${NOT_FORWARDED:-}"
echo written > "$RUNNER_TEMP/from-container"
"""
TOKEN = "tool-image-token-93ab"


@pytest.fixture(scope="module")
def probe_image(registry: Registry, base_image: BaseImage, tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("probe-image")
    (context / "odoo-gitops").write_text(PROBE)
    (context / "odoo-gitops").chmod(0o755)
    (context / "Dockerfile").write_text(
        f"FROM {base_image.pinned}\nCOPY odoo-gitops /usr/local/bin/odoo-gitops\nUSER root\n"
    )
    tag = f"{registry.host}/test/odoo-gitops-probe-{uuid.uuid4().hex[:8]}:1"
    docker_cli("build", "-q", "-t", tag, str(context))
    docker_cli("push", "-q", tag)
    pinned = docker_cli("image", "inspect", "--format", "{{index .RepoDigests 0}}", tag).strip()
    docker_cli("rmi", tag)  # the workflow must pull it by digest
    return pinned


def probe_workflow(source: str, path: Path) -> Path:
    """The workflow's own inputs and "Set up odoo-gitops" step, then one step that calls the CLI."""
    workflow = load_workflow(WORKFLOWS / source)
    [job] = workflow["jobs"].values()
    [setup] = [s for s in job["steps"] if s.get("name") == "Set up odoo-gitops"]
    call = {
        "id": "call",
        "env": {"GITHUB_TOKEN": "${{ secrets.probe-token }}", "NOT_FORWARDED": "stays outside"},
        "run": "odoo-gitops gate check 7 --json > out.txt\n",
    }
    declared = workflow["on"]["workflow_call"]["inputs"]
    inputs = {k: declared[k] for k in ("odoo-gitops-image", "odoo-gitops")}
    path.write_text(
        yaml.safe_dump(
            {
                "on": {"workflow_call": {"inputs": inputs, "secrets": {"probe-token": {"required": True}}}},
                "defaults": workflow["defaults"],
                "jobs": {"probe": {"runs-on": "ubuntu-24.04", "steps": [setup, call]}},
            }
        )
    )  # fmt: skip
    return path


@pytest.mark.parametrize("source", ["release.yml", "promote.yml", "gate.yml", "verify.yml"])
def test_the_cli_runs_from_the_pinned_image_with_workspace_and_named_variables(
    source: str, probe_image: str, tmp_path: Path
) -> None:
    workspace, temp = tmp_path / "workspace", tmp_path / "runner-temp"
    workspace.mkdir()
    temp.mkdir()
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    github: dict[str, Any] = {"actor": "ci-bot", "repository": "acme/odoo-config"}
    runner = Runner(probe_workflow(source, tmp_path / "probe.yml"), workspace, temp, tool_path(), github,
                    runner_env())  # fmt: skip
    job = runner.run(inputs={"odoo-gitops-image": probe_image}, secrets={"probe-token": TOKEN})
    assert not job.failed, [(s.name, s.stdout, s.stderr) for s in job.steps]
    assert "argv=--version" in job.step("Set up odoo-gitops").stdout
    assert (temp / "odoo-gitops-bin" / "odoo-gitops").is_file()
    out = (workspace / "out.txt").read_text().splitlines()
    assert out == [
        "argv=gate check 7 --json",
        f"cwd={workspace}",
        "token=set",  # passed by name: the value is on no command line
        "unlisted=",  # variables the tool does not read stay outside
    ]
    assert (temp / "from-container").read_text() == "written\n"  # $RUNNER_TEMP mounted at its own path
    assert TOKEN not in job.text
