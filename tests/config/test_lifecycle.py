"""env.yaml lifecycle fields (owner, purpose, expiry, data policy, recovery, refresh) at file:line."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from gitops.config.loader import load_config
from gitops.errors import ConfigError
from tests.fixtures.configrepo import copy_examples


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_examples(tmp_path / "cfg")


def _append(repo: Path, env: str, text: str) -> int:
    """Append `text` to envs/<env>/env.yaml; returns the line number its first line lands on."""
    path = repo / "envs" / env / "env.yaml"
    before = path.read_text()
    path.write_text(before + text)
    return before.count("\n") + 1


def _set(repo: Path, env: str, key: str, value: str) -> int:
    path = repo / "envs" / env / "env.yaml"
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    lines[index] = f"{key}: {value}"
    path.write_text("\n".join(lines) + "\n")
    return index + 1


def _problems(repo: Path) -> list[tuple[str, int, str]]:
    with pytest.raises(ConfigError) as caught:
        load_config(repo)
    return [(p.file, p.line, p.message) for p in caught.value.problems]


def test_the_examples_carry_lifecycle_fields(repo: Path) -> None:
    config = load_config(repo)
    prod, staging = config.env("prod").config, config.env("staging").config
    assert (prod.owner, prod.purpose, prod.data_policy, prod.expires) == (
        "cab-ines",
        "production",
        "production",
        None,
    )
    assert prod.recovery is not None and prod.recovery.rto == timedelta(minutes=30)
    assert staging.data_policy == "masked" and staging.recovery is not None
    assert config.env("dev").config.data_policy == "synthetic"


def test_a_project_env_with_expiry_and_refresh_loads(repo: Path) -> None:
    _set(repo, "staging", "purpose", "project")
    _append(repo, "staging", "expires: 2027-03-31\n")
    _append(
        repo,
        "staging",
        "refresh:\n  source: prod\n  masking: masking/default.yaml\n  requested_by: rel-maria\n"
        "  requested_at: 2026-11-24T10:00:00Z\n",
    )
    staging = load_config(repo).env("staging").config
    assert staging.expires == date(2027, 3, 31)
    assert staging.refresh is not None and staging.refresh.backup == "latest-verified"


@pytest.mark.parametrize(
    ("env", "key", "value", "needle"),
    [
        ("staging", "purpose", "sandbox", "purpose: Input should be"),
        ("staging", "data_policy", "anonymous", "data_policy: Input should be"),
        ("staging", "data_policy", "production", "data_policy: production data belongs in production only"),
        ("staging", "owner", "'two words'", "owner: String should match pattern"),
        ("staging", "owner", "42", "owner: Input should be a valid string"),
        ("staging", "owner", "'<img src=x>'", "owner: String should match pattern"),
        ("staging", "owner", "'@rel-maria'", "owner: String should match pattern"),
        ("dev", "recovery", "{rpo: soon, rto: 1h}", "recovery.rpo: not a duration"),
        ("dev", "recovery", "{rto: 1h}", "recovery.rpo: required key is missing"),
    ],
)
def test_bad_lifecycle_values_name_file_and_line(
    repo: Path, env: str, key: str, value: str, needle: str
) -> None:
    line = _set(repo, env, key, value)
    problems = _problems(repo)
    assert any(f == f"envs/{env}/env.yaml" and n == line and needle in m for f, n, m in problems), problems


@pytest.mark.parametrize(
    ("env", "text", "key_line", "needle"),
    [
        ("prod", "expires: 2027-01-01\n", 0, "expires: a production environment does not expire"),
        ("staging", "expires: 31.12.2027\n", 0, "expires: not a date"),
        (
            "prod",
            "refresh: {source: staging, requested_by: x, requested_at: 2026-11-24T10:00:00Z}\n",
            0,
            "refresh: a production environment is never refreshed",
        ),
        (
            "staging",
            "refresh: {source: staging, masking: m/s.yaml, requested_by: x, "
            "requested_at: 2026-11-24T10:00:00Z}\n",
            0,
            "refresh.source: an environment cannot be refreshed from itself",
        ),
        (
            "staging",
            "refresh: {source: prod, requested_by: x, requested_at: 2026-11-24T10:00:00Z}\n",
            0,
            "refresh.masking: a masked environment needs masking rules",
        ),
        (
            "staging",
            "refresh: {source: qa, masking: m/s.yaml, requested_by: x, requested_at: 2026-11-24T10:00:00Z}\n",
            0,
            "refresh.source: 'qa' is not an environment",
        ),
        (
            "staging",
            "refresh: {source: prod, masking: ../secrets.yaml, requested_by: x, "
            "requested_at: 2026-11-24T10:00:00Z}\n",
            0,
            "refresh.masking: ",
        ),
        (
            "staging",
            "refresh: {source: prod, backup: 'a;rm -rf', masking: m/s.yaml, requested_by: x, "
            "requested_at: 2026-11-24T10:00:00Z}\n",
            0,
            "refresh.backup: String should match pattern",
        ),
    ],
)
def test_bad_lifecycle_combinations_name_the_key(
    repo: Path, env: str, text: str, key_line: int, needle: str
) -> None:
    line = _append(repo, env, text) + key_line
    problems = _problems(repo)
    assert any(f == f"envs/{env}/env.yaml" and n == line and needle in m for f, n, m in problems), problems
