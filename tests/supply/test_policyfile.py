"""gitops/supply/policyfile.py: where `scan` takes its policy from (a file, an environment of the config
repository, or the default), with every problem of a bad file named by file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.config.models import ScanPolicy
from gitops.errors import ConfigError, UsageError
from gitops.supply.policyfile import load_policy_file, resolve_policy

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_a_policy_file_holds_the_keys_at_the_top_or_under_scan_policy(tmp_path: Path) -> None:
    top = load_policy_file(write(tmp_path, "severity: CRITICAL\nignore_unfixed: true\n"))
    assert (top.severity, top.ignore_unfixed) == ("CRITICAL", True)
    nested = load_policy_file(write(tmp_path, "name: prod\nscan_policy:\n  severity: MEDIUM\n"))
    assert (nested.severity, nested.ignore_unfixed) == ("MEDIUM", False)


def test_every_problem_of_a_bad_policy_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "scan_policy:\n  severity: SOMETIMES\n  ignore_unfixed: maybe\n  colour: red\n")
    with pytest.raises(ConfigError) as caught:
        load_policy_file(path)
    rendered = [p.render() for p in caught.value.problems]
    assert len(rendered) == 3
    assert rendered[0].startswith(f"{path}:2: severity: Input should be 'UNKNOWN', 'LOW'")
    assert rendered[1].startswith(f"{path}:3: ignore_unfixed: ")
    assert rendered[2] == f"{path}:4: colour: unknown key"


def test_the_policy_comes_from_one_place(tmp_path: Path) -> None:
    path = write(tmp_path, "severity: LOW\n")
    with pytest.raises(UsageError, match="either --policy FILE or --env ENV, not both"):
        resolve_policy(policy_file=path, env="prod", config_repo=str(REPO))
    assert resolve_policy(policy_file=None, env=None, config_repo=str(REPO)) == (ScanPolicy(), "default")
    from_file, where = resolve_policy(policy_file=path, env=None, config_repo=str(REPO))
    assert (from_file.severity, where) == ("LOW", str(path))
    prod, where = resolve_policy(policy_file=None, env="prod", config_repo=str(REPO))
    assert where == "envs/prod/env.yaml"
    assert prod.severity == "HIGH"
    assert [e.id for e in prod.exceptions] == ["CVE-2026-0001"]
    staging, _ = resolve_policy(policy_file=None, env="staging", config_repo=str(REPO))
    assert staging.ignore_unfixed is True and prod.ignore_unfixed is False
