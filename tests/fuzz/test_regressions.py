"""Findings of the fuzz targets, one regression test each.

Those in modules another developer owns for issue 14 (config validation, calendars, image references) are
marked `xfail(strict=True)` while they failed; the markers went with the fixes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.config.yamlsafe import parse_yaml
from gitops.errors import ConfigError, UsageError
from gitops.image.reference import parse_image_ref
from tests.fixtures.configrepo import copy_examples
from tests.fuzz.cli import run_cli
from tests.fuzz.profiles import snapshot

pytestmark = pytest.mark.fuzz

DIGEST = "sha256:" + "a" * 64


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_examples(tmp_path / "repo")


def _window_list(repo: Path) -> tuple[int, dict[str, object]]:
    before = snapshot(repo)
    result = run_cli(
        ["window", "list", "prod", "--from", "2026-03-02", "--to", "2026-03-03", "--config-repo", str(repo)]
    )
    assert snapshot(repo) == before
    return result


def test_impossible_promoted_at_is_exit_2_naming_release_yaml(repo: Path) -> None:
    (repo / "envs/prod/release.yaml").write_text("promoted_at: 2026-02-30T00:00:00Z\n")
    code, document = _window_list(repo)
    assert code == 2 and "envs/prod/release.yaml" in str(document)


def test_a_newline_in_the_tag_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_image_ref(f"reg.example/odoo:18.0\n@{DIGEST}")


@pytest.mark.parametrize(
    "args",
    [
        ["list", "prod", "--from", "0001-01-01", "--to", "0001-01-01"],
        ["list", "prod", "--from", "9999-12-30", "--to", "9999-12-30"],
        ["check", "prod", "--at", "0001-01-01T00:00:00Z"],
        ["check", "prod", "--at", "9999-12-31T23:59:59Z"],
    ],
)
def test_window_at_the_ends_of_time_is_exit_2(repo: Path, args: list[str]) -> None:
    before = snapshot(repo)
    _, document = run_cli(["window", *args, "--config-repo", str(repo)], allowed=frozenset({2}))
    assert document["error"] == "usage"
    assert snapshot(repo) == before


@pytest.mark.parametrize("text", ["&\x08", "a: *\x1f\n"])
def test_control_character_with_an_anchor_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml(text, "fuzz.yaml")
    assert exc.value.problems[0].file == "fuzz.yaml"


def test_control_character_in_env_yaml_is_exit_2(repo: Path) -> None:
    (repo / "envs/prod/env.yaml").write_text("&\x1f")
    code, document = _window_list(repo)
    assert code == 2 and "envs/prod/env.yaml" in str(document)
