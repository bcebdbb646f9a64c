"""`--config-repo PATH|URL` reads exactly what it names: a working tree as is, a bare repository or a URL
through a temporary clone of that repository (never of another remote), and says what it read."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitops.config.source import checkout_config_repo, is_bare_repository, is_remote
from gitops.errors import ExternalError
from gitops.forge.session import resolve_remote
from tests.fixtures.configrepo import ConfigRepoFixture, git
from tests.fixtures.githttp import GitHttp


def test_a_working_tree_is_read_as_is_and_stands_for_its_origin_when_writing(
    config_repo: ConfigRepoFixture,
) -> None:
    assert not is_remote(str(config_repo.work))
    assert checkout_config_repo(str(config_repo.work)) == config_repo.work.resolve()
    assert resolve_remote(str(config_repo.work)) == str(config_repo.remote)


def test_a_bare_repository_with_an_origin_is_read_and_written_itself(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    other = tmp_path / "other.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(other)], check=True)
    git(config_repo.remote, "remote", "add", "origin", str(other))
    assert is_bare_repository(config_repo.remote) and is_remote(str(config_repo.remote))
    assert resolve_remote(str(config_repo.remote)) == str(config_repo.remote)
    root = checkout_config_repo(str(config_repo.remote))
    assert git(root, "rev-parse", "HEAD") == config_repo.head()
    assert (root / "envs" / "prod" / "env.yaml").is_file()


def test_a_url_is_cloned_with_its_credentials_and_named_without_them(
    config_repo: ConfigRepoFixture, git_http: GitHttp
) -> None:
    (git_http.root / "config.git").symlink_to(config_repo.remote)
    token = git_http.users["ci"]
    root = checkout_config_repo(git_http.url("config.git", user="ci", password=token))
    assert git(root, "rev-parse", "HEAD") == config_repo.head()
    error = ExternalError(f"{root / 'audit' / 'prod.jsonl'}:2: broken")
    assert error.message == "audit/prod.jsonl:2: broken"
    assert error.read_from == [
        f"http://127.0.0.1:{git_http.port}/config.git (main at {config_repo.head()[:12]})"
    ]
