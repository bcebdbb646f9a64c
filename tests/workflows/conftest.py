"""A world for running the reusable workflows' steps: a real config repo (bare remote = the GitHub repo),
the loopback GitHub server on top of it, and a runner whose PATH has this checkout's `odoo-gitops`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.promote.edit import render_release
from tests.fixtures.components import REPO, find_binary
from tests.fixtures.configrepo import ConfigRepoFixture, git, make_config_repo
from tests.fixtures.github import SLUG, FakeGitHub, start_fake_github
from tests.fixtures.promote import digest, release_data, schema_state
from tests.workflows.contract import check_documents
from tests.workflows.runner import JobRun, Runner, runner_env

WORKFLOWS = REPO / ".github" / "workflows"
USERS = ["ci-bot", "cab-ines", "cab-jonas", "cab-kofi", "rel-maria"]


def tool_path() -> list[str]:
    """The runner's PATH: the `odoo-gitops` of this checkout's venv (the pip fallback installs the same
    console script), helm/kubectl, and the system's git, jq and bash."""
    venv_bin = str(Path(sys.executable).parent)
    assert shutil.which("odoo-gitops", path=venv_bin), "odoo-gitops is not installed in the test venv"
    find_binary("jq")  # preinstalled on GitHub's runners; the workflows read --json with it
    return [venv_bin, str(REPO / ".tools" / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]


def new_release(version: str, *, verified_ago: timedelta = timedelta(days=2)) -> dict[str, Any]:
    """A verified release record, verified `verified_ago` before the real clock (the CLI runs in a
    subprocess: no frozen clock reaches it)."""
    verified_at = datetime.now(UTC).replace(microsecond=0) - verified_ago
    return release_data(version, verified_at=verified_at, promoted_at=verified_at - timedelta(minutes=5))


@dataclass
class World:
    repo: ConfigRepoFixture
    github: FakeGitHub
    tmp: Path
    runs: int = 0

    def workspace(self) -> Path:
        """What actions/checkout leaves: a fresh clone of the default branch (origin = the repo)."""
        self.runs += 1
        path = self.tmp / f"run-{self.runs}" / "workspace"
        path.parent.mkdir(parents=True)
        subprocess.run(["git", "clone", "-q", str(self.repo.remote), str(path)], check=True)
        return path

    def runner(self, workflow: str, *, actor: str = "ci-bot", **github: Any) -> Runner:
        workspace = self.workspace()
        temp = workspace.parent / "runner-temp"
        temp.mkdir()
        context = {
            "token": f"{actor}-token",
            "api_url": self.github.base_url,
            "repository": SLUG,
            "actor": actor,
            "sha": git(workspace, "rev-parse", "HEAD"),
            "event": {"repository": {"default_branch": "main"}},
            **github,
        }
        return Runner(WORKFLOWS / workflow, workspace, temp, tool_path(), context, runner_env())

    def run(self, workflow: str, *, actor: str = "ci-bot", github: dict[str, Any] | None = None,
            **kw: Any) -> JobRun:  # fmt: skip
        job = self.runner(workflow, actor=actor, **(github or {})).run(**kw)
        job.documents = check_documents(job.workspace)
        for user in USERS:
            assert f"{user}-token" not in job.text, "a token reached the job's log or summary"
        return job

    def cli(
        self, *args: str, token: str = "ci-bot-token", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """The CLI against the loopback GitHub, as a person at a terminal (not a workflow)."""
        env = {**runner_env(), "PATH": ":".join(tool_path()), "GITHUB_TOKEN": token}
        argv = ["odoo-gitops", *args, "--config-repo", str(self.repo.remote), "--forge", "github",
                "--github-url", self.github.host, "--github-repo", SLUG]  # fmt: skip
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
        if check:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc


def prepare_config(repo: ConfigRepoFixture) -> None:
    """The examples, with dev running a new verified 1.5.0 to promote to staging. Staging's gate is
    [window, approvals] with no calendars: the verdicts depend on reviews alone, never on the day the test
    runs (the supply-chain gates run against a real registry in tests/promote/test_supply_real.py)."""
    pipeline = repo.work / "pipelines" / "odoo.yaml"
    data = yaml.safe_load(pipeline.read_text())
    stage = next(s for s in data["stages"] if s["env"] == "staging")
    stage["gates"] = ["window", "approvals"]
    pipeline.write_text(yaml.safe_dump(data, sort_keys=False))
    env = repo.work / "envs" / "staging" / "env.yaml"
    env.write_text(env.read_text().replace("calendars: [payroll]\n", "calendars: []\n"))
    assert "calendars: []\n" in env.read_text()
    (repo.work / "envs" / "dev" / "release.yaml").write_text(render_release(new_release("1.5.0")))
    # staging's modules record their schema fingerprints, as build does (1.5.0's are the same): a code-only
    # change, not the fail-closed destructive class of unknown schemas
    staging = repo.work / "envs" / "staging" / "release.yaml"
    record = yaml.safe_load(staging.read_text())
    for name, module in record["modules"].items():
        module["schema"] = schema_state(name)
    staging.write_text(render_release(record))
    repo.commit_all("dev runs 1.5.0; staging gated by approvals only")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    repo = make_config_repo(tmp_path / "config")
    prepare_config(repo)
    fake, httpd = start_fake_github(repo.remote, {f"{u}-token": u for u in USERS})
    yield World(repo, fake, tmp_path)
    httpd.shutdown()
    httpd.server_close()
    fake.validate_pending()
    assert fake.validation_errors == []


__all__ = ["World", "digest"]
