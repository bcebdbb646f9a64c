"""Where a scan policy comes from: a policy file, an environment of the config repo, or the default."""

from __future__ import annotations

from pathlib import Path

from gitops.config.loader import load_config
from gitops.config.models import ScanPolicy
from gitops.config.source import checkout_config_repo
from gitops.config.validation import validate
from gitops.config.yamlsafe import load_yaml
from gitops.errors import ConfigError, Problem, UsageError


def load_policy_file(path: Path) -> ScanPolicy:
    """A YAML file holding the ScanPolicy keys, at the top level or under `scan_policy:` (as in env.yaml)."""
    doc = load_yaml(path, display=str(path))
    nested = isinstance(doc.data, dict) and "scan_policy" in doc.data
    problems: list[Problem] = []
    data = doc.data["scan_policy"] if nested else doc.data
    policy = validate(ScanPolicy, doc, problems, prefix=("scan_policy",) if nested else (), data=data)
    if policy is None:
        raise ConfigError(problems)
    return policy


def resolve_policy(*, policy_file: Path | None, env: str | None, config_repo: str) -> tuple[ScanPolicy, str]:
    """(policy, where it came from). `--policy` and `--env` exclude each other; neither gives the default."""
    if policy_file and env:
        raise UsageError("pass either --policy FILE or --env ENV, not both")
    if policy_file:
        return load_policy_file(policy_file), str(policy_file)
    if env:
        bundle = load_config(checkout_config_repo(config_repo)).env(env)
        return bundle.config.scan_policy, f"envs/{env}/env.yaml"
    return ScanPolicy(), "default"
