"""Loading the example config repo, and every invalid config the issue names: exit 2 with file:line."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from gitops.cli.main import main
from gitops.config import store as config_store
from gitops.config.loader import ConfigRepo, load_config
from gitops.errors import ConfigError
from gitops.gitstore.checkout import ConfigCheckout
from tests.fixtures.configrepo import copy_examples


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_examples(tmp_path / "cfg")


def _from_git(repo: Path) -> ConfigRepo:
    """Commit `repo` and load it again from the git tree in memory, as promote does (no working tree)."""
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", *ident, "commit", "-qm", "c", "--allow-empty"], cwd=repo, check=True)
    return config_store.load_checkout(ConfigCheckout.open(repo))


def _problems(repo: Path) -> list[tuple[str, int, str]]:
    """The problems loading `repo` reports; the same from its directory and from its git tree."""
    found = []
    for load in (load_config, _from_git):
        with pytest.raises(ConfigError) as caught:
            load(repo)
        found.append([(p.file, p.line, p.message) for p in caught.value.problems])
    assert found[0] == found[1]
    return found[0]


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_examples_load(repo: Path) -> None:
    config = load_config(repo)
    assert sorted(config.envs) == ["dev", "prod", "staging"]
    prod = config.env("prod")
    assert prod.config.enabled_tenants() == [
        "acme-build",
        "globex-consult",
        "initech-services",
        "northwind-civil",
    ]
    assert prod.release is not None and prod.release.version == "1.3.2"
    assert [s.env for s in config.pipelines["odoo"].stages] == ["dev", "staging", "prod"]
    assert set(config.calendars) == {"payroll", "month-end", "prod-windows"}


def test_a_git_tree_loads_to_the_same_config_as_its_directory(repo: Path) -> None:
    on_disk, in_git = load_config(repo), _from_git(repo)
    assert on_disk.root == in_git.root and on_disk.pipelines == in_git.pipelines
    assert list(on_disk.calendars) == list(in_git.calendars)
    assert {n: (e.config, e.release, e.values, e.doc, e.tenant_values) for n, e in on_disk.envs.items()} == {
        n: (e.config, e.release, e.values, e.doc, e.tenant_values) for n, e in in_git.envs.items()
    }
    key = on_disk.env("prod").config.signing
    assert key is not None  # a file outside the preloaded folders is read on first use
    assert in_git.files.read(key.public_key) == (repo / key.public_key).read_bytes()


def test_unknown_key_names_file_and_line(repo: Path) -> None:
    env = repo / "envs/staging/env.yaml"
    _replace(env, "workloads:", "replicas_typo: 3\nworkloads:")
    assert (
        "envs/staging/env.yaml",
        _line_of(env, "replicas_typo"),
        "replicas_typo: unknown key",
    ) in _problems(repo)


def test_wrong_type_names_file_and_line(repo: Path) -> None:
    pipeline = repo / "pipelines/odoo.yaml"
    _replace(pipeline, "soak: 24h", "soak: [24h]")
    problems = _problems(repo)
    assert [(f, line) for f, line, _ in problems] == [
        ("pipelines/odoo.yaml", _line_of(pipeline, "soak: [24h]"))
    ]
    assert "stages.1.soak" in problems[0][2] and "duration" in problems[0][2]


def test_missing_file(repo: Path) -> None:
    (repo / "envs/dev/values.yaml").unlink()
    assert ("envs/dev/values.yaml", 0, "file not found") in _problems(repo)


def test_bad_digest_format(repo: Path) -> None:
    release = repo / "envs/prod/release.yaml"
    text = release.read_text()
    release.write_text(
        re.sub(r"^image: (.*)@sha256:[0-9a-f]{64}", r"image: \1@sha256:abc", text, count=1, flags=re.M)
    )
    ((file, line, message),) = _problems(repo)
    assert (file, line) == ("envs/prod/release.yaml", _line_of(release, "sha256:abc"))
    assert "sha256" in message and "64" in message


def test_pipeline_env_missing(repo: Path) -> None:
    pipeline = repo / "pipelines/odoo.yaml"
    _replace(pipeline, "  - env: staging", "  - env: qa\n  - env: staging")
    ((file, line, message),) = _problems(repo)
    assert (file, line) == ("pipelines/odoo.yaml", _line_of(pipeline, "env: qa"))
    assert "'qa'" in message and "envs/qa/env.yaml" in message


def test_calendar_missing(repo: Path) -> None:
    env = repo / "envs/prod/env.yaml"
    _replace(env, "calendars: [payroll, month-end, prod-windows]", "calendars: [payroll, year-end]")
    ((file, line, message),) = _problems(repo)
    assert (file, line) == ("envs/prod/env.yaml", _line_of(env, "year-end"))
    assert "calendars/year-end.yaml" in message


def test_yaml_syntax_error(repo: Path) -> None:
    env = repo / "envs/dev/env.yaml"
    _replace(env, "namespace: odoo-dev", "namespace: [odoo-dev")
    ((file, line, message),) = _problems(repo)
    assert file == "envs/dev/env.yaml" and "YAML syntax error" in message
    assert line >= _line_of(env, "[odoo-dev")


def test_alias_bomb_refused(repo: Path) -> None:
    bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        bomb.append(
            f"{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]"
        )
    (repo / "envs/dev/values.yaml").write_text("\n".join(bomb) + "\n")
    ((file, _line, message),) = _problems(repo)
    assert file == "envs/dev/values.yaml" and "alias" in message


def test_every_problem_reported_at_once(repo: Path) -> None:
    _replace(repo / "envs/dev/env.yaml", "namespace: odoo-dev", "namespace: odoo-dev\nbogus: 1")
    _replace(repo / "envs/prod/env.yaml", "timezone: Europe/Berlin", "timezone: Mars/Olympus")
    _replace(repo / "pipelines/odoo.yaml", "soak: 4h", "soak: soon")
    files = {f for f, _, _ in _problems(repo)}
    assert files == {"envs/dev/env.yaml", "envs/prod/env.yaml", "pipelines/odoo.yaml"}


def test_duplicate_key(repo: Path) -> None:
    env = repo / "envs/dev/env.yaml"
    _replace(env, "namespace: odoo-dev", "namespace: odoo-dev\nnamespace: other")
    assert any(
        "duplicate key 'namespace'" in m and line == _line_of(env, "namespace: other")
        for _, line, m in _problems(repo)
    )


def test_tenant_file_missing_and_unlisted(repo: Path) -> None:
    (repo / "envs/prod/tenants/globex-consult.yaml").rename(repo / "envs/prod/tenants/globex.yaml")
    messages = [m for _, _, m in _problems(repo)]
    assert any("globex-consult" in m and "has no file" in m for m in messages)
    assert any("'globex'" in m and "does not list" in m for m in messages)


def test_cli_reports_config_error_with_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _replace(repo / "envs/staging/env.yaml", "workloads:", "oops: 1\nworkloads:")
    assert main(["plan", "staging", "prod", "--config-repo", str(repo), "--json"]) == 2
    out = capsys.readouterr()
    payload = json.loads(out.out)
    assert payload["error"] == "config"
    assert payload["problems"][0]["file"] == "envs/staging/env.yaml" and payload["problems"][0]["line"] > 0
    assert "Traceback" not in out.err and "envs/staging/env.yaml:" in out.err
