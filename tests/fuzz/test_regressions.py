"""Findings of the fuzz targets, one regression test each.

Those in modules another developer owns for issue 14 (config validation, calendars, image references) are
marked `xfail(strict=True)`: they fail today, and the marker must go when the fix lands (a pass then fails
the suite, as strict xfail does).
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


@pytest.mark.xfail(
    strict=True,
    reason="issue 14, config validation (gitops/config, another developer): an impossible promoted_at "
    "date is an internal error (ValueError: day is out of range for month) instead of exit 2 with file:line",
)
def test_impossible_promoted_at_is_exit_2_naming_release_yaml(repo: Path) -> None:
    (repo / "envs/prod/release.yaml").write_text("promoted_at: 2026-02-30T00:00:00Z\n")
    code, document = _window_list(repo)
    assert code == 2 and "envs/prod/release.yaml" in str(document)


@pytest.mark.xfail(
    strict=True,
    reason="issue 14, loose validation (gitops/image/reference.py, not in this branch's files): the tag "
    "pattern ends in '$' and accepts a trailing newline inside the reference",
)
def test_a_newline_in_the_tag_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_image_ref(f"reg.example/odoo:18.0\n@{DIGEST}")


@pytest.mark.xfail(
    strict=True,
    reason="issue 14, calendars (gitops/windows + cli/window.py, another developer): instants at the ends of "
    "the calendar are internal errors (ValueError: year -1 / 10000 is out of range, OverflowError)",
)
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


@pytest.mark.xfail(
    strict=True,
    reason="issue 14, YAML loader (gitops/config/yamlsafe.py, another developer): a control character in a "
    "document with '&' or '*' raises yaml.reader.ReaderError from the loader's constructor, outside the "
    "try block that maps YAML errors to ConfigError (found by the release fuzz run)",
)
@pytest.mark.parametrize("text", ["&\x08", "a: *\x1f\n"])
def test_control_character_with_an_anchor_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml(text, "fuzz.yaml")
    assert exc.value.problems[0].file == "fuzz.yaml"


@pytest.mark.xfail(
    strict=True,
    reason="issue 14, YAML loader (gitops/config/yamlsafe.py, another developer): same finding through the "
    "config loader: internal error (exit 1) instead of exit 2 naming envs/prod/env.yaml",
)
def test_control_character_in_env_yaml_is_exit_2(repo: Path) -> None:
    (repo / "envs/prod/env.yaml").write_text("&\x1f")
    code, document = _window_list(repo)
    assert code == 2 and "envs/prod/env.yaml" in str(document)
