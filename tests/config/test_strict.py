"""Hostile and clumsy values in the config repository: each is refused at the edge with file:line (exit 2),
loaded both from a directory and from git objects, never coerced, never an internal error."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from gitops.cli.main import main
from gitops.config.loader import load_config
from gitops.config.types import parse_duration
from tests.config.test_loader import _from_git, _line_of, _problems, _replace
from tests.fixtures.configrepo import copy_examples


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_examples(tmp_path / "cfg")


def _only(repo: Path, file: str, needle: str) -> str:
    """The single problem loading `repo` reports: on `file`, at the line holding `needle`."""
    problems = _problems(repo)
    assert [(f, line) for f, line, _ in problems] == [(file, _line_of(repo / file, needle))], problems
    return problems[0][2]


PROD = "envs/prod/env.yaml"
RELEASE = "envs/prod/release.yaml"


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        ("normal: {count: 2,", "normal: {count: '2',", "count: '2'", "valid integer"),
        ("normal: {count: 2,", "normal: {count: true,", "count: true", "valid integer"),
        ("normal: {count: 2,", "normal: {count: 2.0,", "count: 2.0", "valid integer"),
        ("globex-consult: {enabled: true}", "globex-consult: {enabled: 'no'}", "enabled: 'no'", "boolean"),
        ("globex-consult: {enabled: true}", "globex-consult: {enabled: 0}", "enabled: 0", "boolean"),
        ("ignore_unfixed: false", "ignore_unfixed: 'false'", "ignore_unfixed", "boolean"),
        ("require_ticket: true", "require_ticket: 1", "require_ticket", "boolean"),
        ("namespace: odoo-prod", "namespace: 42", "namespace: 42", "valid string"),
        ("namespace: odoo-prod", 'namespace: "odoo-prod\\n"', "namespace: ", "not a valid name"),
        ("namespace: odoo-prod", "namespace: ../kube-system", "namespace: ", "not a valid name"),
        (
            'name: "odoo-prod-{tenant}"',
            'name: "odoo-prod-{tenant}/x"',
            "odoo-prod-{tenant}/x",
            "Kubernetes object",
        ),
        (
            "workloads: [odoo-web, odoo-cron]",
            "workloads: [odoo-web, Odoo Cron]",
            "workloads",
            "Kubernetes object",
        ),
        ("expires: 2027-01-31", "expires: 1800000000", "expires:", "not a date"),
        ("approval_ttl: 72h", "approval_ttl: 99999999999999999999d", "approval_ttl", "at most 3660d"),
        ("approval_ttl: 72h", "approval_ttl: -72h", "approval_ttl", "not a duration"),
        ("approval_ttl: 72h", 'approval_ttl: "72h\\n"', "approval_ttl", "not a duration"),
        ("name: prod", 'name: "prod\\n"', "name: ", "not a valid name"),
        (
            "public_key: keys/cosign.pub",
            "public_key: ../../../../etc/passwd",
            "public_key",
            "inside the config",
        ),
        ("public_key: keys/cosign.pub", "public_key: /etc/passwd", "public_key", "relative to the config"),
        ("public_key: keys/cosign.pub", "public_key: keys/../../x.pub", "public_key", "inside the config"),
    ],
)
def test_env_values_are_never_coerced(repo: Path, old: str, new: str, needle: str, expected: str) -> None:
    _replace(repo / PROD, old, new)
    assert expected in _only(repo, PROD, needle)


def test_a_quoted_no_is_not_a_disabled_tenant(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _replace(repo / PROD, "globex-consult: {enabled: true}", "globex-consult: {enabled: 'no'}")
    assert main(["plan", "staging", "prod", "--config-repo", str(repo), "--json"]) == 2
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [(p["file"], p["line"]) for p in problems] == [(PROD, _line_of(repo / PROD, "enabled: 'no'"))]
    assert "tenants.globex-consult.enabled" in problems[0]["message"]


def _release_line(repo: Path, pattern: str, replacement: str) -> None:
    path = repo / RELEASE
    text, count = re.subn(pattern, replacement, path.read_text(), count=1, flags=re.M)
    assert count == 1, pattern
    path.write_text(text)


@pytest.mark.parametrize(
    ("pattern", "replacement", "needle", "expected"),
    [
        (r"^  acme_site_diary:", "  ../../etc:", "../../etc", "not an Odoo module name"),
        (r"^  acme_site_diary:", '  "acme site diary":', "acme site diary", "not an Odoo module name"),
        (r"^  acme_site_diary:", '  "<b>x</b>":', "<b>x</b>", "not an Odoo module name"),
        (r"^  acme_site_diary:", '  "acme\\\\nx":', "acme\\nx", "not an Odoo module name"),
        (r"^    version: 17.0.2.1.0", '    version: "17.0.2.1.0\\\\n"', "17.0.2.1.0", "not a module version"),
        (r"^    version: 17.0.2.1.0", '    version: "<script>"', "<script>", "not a module version"),
        (r"^    version: 17.0.2.1.0", '    version: "../1"', "../1", "not a module version"),
        (r"^    version: 17.0.2.1.0", "    version: 17.0 2", "17.0 2", "not a module version"),
        (r"^(image: )(.*)$", r'\1"\2\\n"', "image", "digest"),
        (r"^source_commit: (.*)$", r'source_commit: "\1\\n"', "source_commit", "40-hex"),
        (r"^promoted_at: .*$", "promoted_at: 2026-02-30T19:05:00Z", "promoted_at", "day is out of range"),
        (r"^promoted_at: .*$", "promoted_at: 0", "promoted_at", "not a date-time"),
        (r"^promoted_at: .*$", "promoted_at: 2026-11-03 19:05:00", "promoted_at", "no UTC offset"),
        (r"^promoted_at: .*$", "promoted_at: 9999-12-31T23:59:59Z", "promoted_at", "out of range"),
        (r"^promoted_from: .*$", "promoted_from: ../staging", "promoted_from", "not a valid name"),
        (r"^destructive: .*$|^change_class: standard$", "destructive: 'yes'", "destructive", "boolean"),
        (
            r"^  verified_at: 2026-11-03.*$",
            "  verified_at: 2026-13-03T19:31:55Z",
            "verified_at: 2026-13",
            "month",
        ),
    ],
)
def test_release_values_are_validated(
    repo: Path, pattern: str, replacement: str, needle: str, expected: str
) -> None:
    _release_line(repo, pattern, replacement)
    assert expected in _only(repo, RELEASE, needle)


def _symlink_problems(repo: Path) -> set[tuple[str, int]]:
    """Every env names keys/cosign.pub: each reports it, on its `public_key` line."""
    problems = _problems(repo)
    assert all("is a symbolic link" in message for _, _, message in problems), problems
    return {(file, line) for file, line, _ in problems}


def _key_lines(repo: Path) -> set[tuple[str, int]]:
    files = [f"envs/{env}/env.yaml" for env in ("dev", "staging", "prod")]
    return {(file, _line_of(repo / file, "public_key")) for file in files}


def test_a_symlinked_public_key_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.pub"
    outside.write_text("-----BEGIN PUBLIC KEY-----\nnot in the repo\n-----END PUBLIC KEY-----\n")
    key = repo / "keys" / "cosign.pub"
    key.unlink()
    os.symlink(outside, key)
    assert _symlink_problems(repo) == _key_lines(repo)


def test_a_symlinked_key_folder_is_refused(repo: Path, tmp_path: Path) -> None:
    (repo / "keys").rename(tmp_path / "keys")
    os.symlink(tmp_path / "keys", repo / "keys")
    assert _symlink_problems(repo) == _key_lines(repo)


def test_a_symlink_the_config_does_not_use_is_fine(repo: Path) -> None:
    (repo / "keys-link").symlink_to("keys")
    for load in (load_config, _from_git):
        assert load(repo).env("prod").config.signing is not None


def test_durations_have_bounds() -> None:
    assert parse_duration("3660d") == timedelta(days=3660)
    assert parse_duration(90) == timedelta(seconds=90)
    for bad in ("3661d", 10**30, "99999999999d", -1, "", "2h\n", True, 1.5):
        with pytest.raises(ValueError):
            parse_duration(bad)


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        ("soak: 24h", "soak: 99999999999d", "soak: 9999", "at most 3660d"),
        ("soak: 24h", "soak: -1", "soak: -1", "not a duration"),
        ("  - env: staging", "  - env: ../staging", "env: ../staging", "not a valid name"),
    ],
)
def test_pipeline_values_are_validated(repo: Path, old: str, new: str, needle: str, expected: str) -> None:
    _replace(repo / "pipelines/odoo.yaml", old, new)
    assert expected in _only(repo, "pipelines/odoo.yaml", needle)


def test_a_deeply_nested_values_file_is_a_problem_not_a_crash(repo: Path) -> None:
    (repo / "envs/dev/values.yaml").write_text("a: &x " + "[" * 5000 + "]" * 5000 + "\n")
    ((file, line, message),) = _problems(repo)
    assert (file, line) == ("envs/dev/values.yaml", 1) and "levels deep" in message
    (repo / "envs/dev/values.yaml").write_text("odoo:\n  a: " + "[" * 990 + "]" * 990 + "\n")
    ((file, line, message),) = _problems(repo)
    assert (file, line) == ("envs/dev/values.yaml", 2) and "levels deep" in message
