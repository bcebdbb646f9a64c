"""Running lifecycle commands against a real config repository (bare remote + clone) and reading back the
branches, PRs and audit entries they leave."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml

from gitops.audit import read_entries
from gitops.cli.main import main
from gitops.config.loader import load_config
from gitops.forge.local import LocalForge
from gitops.gitstore.checkout import ConfigCheckout
from tests.fixtures.configrepo import ConfigRepoFixture, git


def run(
    capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture, *args: str
) -> tuple[int, dict[str, Any], str]:
    code = main([*args, "--config-repo", str(repo.remote), "--actor", "ci-bot", "--json"])
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else {}, out.err


def at_branch(repo: ConfigRepoFixture, branch: str, path: str) -> str | None:
    try:
        return git(repo.remote, "show", f"{branch}:{path}")
    except Exception:
        return None


def yaml_at(repo: ConfigRepoFixture, branch: str, path: str) -> Any:
    text = at_branch(repo, branch, path)
    return None if text is None else yaml.safe_load(text)


def load_branch(repo: ConfigRepoFixture, branch: str, dest: Path) -> Any:
    """The whole config as the branch has it (it must load without a problem)."""
    git(dest.parent, "clone", "-q", "--branch", branch, str(repo.remote), str(dest))
    return load_config(dest)


def open_pulls(repo: ConfigRepoFixture, tmp: Path) -> list[Any]:
    checkout = ConfigCheckout.clone(str(repo.remote), tmp / "forge-read", working_tree=False)
    return LocalForge(checkout, actor="reader", url=str(repo.remote)).open_pulls(base="main")


def audit(repo: ConfigRepoFixture, env: str) -> list[Any]:
    git(repo.work, "pull", "-q", "--ff-only", "origin", "main")
    path = repo.work / "audit" / f"{env}.jsonl"
    return read_entries(path) if path.exists() else []


def add_env(repo: ConfigRepoFixture, name: str, *, expires: str, owner: str = "dev-bob") -> None:
    """A project environment like dev, expiring on `expires`, committed to main with its pipeline stage."""
    env = (repo.work / "envs" / "dev" / "env.yaml").read_text()
    env = env.replace("name: dev", f"name: {name}").replace("odoo-dev", f"odoo-{name}")
    env = env.replace("owner: dev-alice", f"owner: {owner}").replace(
        "purpose: development", "purpose: project"
    )
    (repo.work / "envs" / name).mkdir()
    (repo.work / "envs" / name / "env.yaml").write_text(env + f"expires: {expires}\n")
    (repo.work / "envs" / name / "values.yaml").write_text((repo.work / "envs/dev/values.yaml").read_text())
    pipeline = repo.work / "pipelines" / "odoo.yaml"
    data = yaml.safe_load(pipeline.read_text())
    data["stages"].append({"env": name, "gates": ["approvals"]})
    pipeline.write_text(yaml.safe_dump(data, sort_keys=False))
    repo.commit_all(f"add {name}")


@contextmanager
def window_open(config_repo: Path, env: str) -> Iterator[datetime]:
    """The clock at the first instant from now on when `env`'s change windows are open (now, on most
    days). A refresh or an expire is gated by them (gitops.promote.lifecyclefacts.WINDOWED_CHANGES): a test
    of anything else must not depend on the day it runs (staging's payroll calendar closes some days)."""
    from gitops.windows.service import check_env

    now = datetime.now(UTC)
    verdict = check_env(config_repo=config_repo, env=env, at=now).verdict
    at = now if verdict.open or verdict.next_open is None else verdict.next_open + timedelta(minutes=1)
    with time_machine.travel(at, tick=True):
        yield at
