"""Choosing the remote and the forge from command-line values."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.errors import UsageError, redact
from gitops.promote.forges import ForgeSettings, git_remote, github_slug, resolve_remote
from tests.fixtures.configrepo import ConfigRepoFixture


def test_a_working_clone_stands_for_its_origin(config_repo: ConfigRepoFixture) -> None:
    assert resolve_remote(str(config_repo.work)) == str(config_repo.remote)
    assert resolve_remote(str(config_repo.remote)) == str(config_repo.remote.resolve())


def test_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        resolve_remote(str(tmp_path / "nope"))


def test_github_https_remote_gets_the_token_which_is_then_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secretvalue1234")
    url = "https://github.com/acme/odoo-config.git"
    remote = git_remote(url, ForgeSettings("github"))
    assert remote == "https://x-access-token:ghs_secretvalue1234@github.com/acme/odoo-config.git"
    assert "ghs_secretvalue1234" not in redact(f"git push failed for {remote}")
    assert git_remote(url, ForgeSettings("local")) == url
    assert github_slug(remote, None) == "acme/odoo-config"


def test_slug_needs_a_github_remote_or_the_option() -> None:
    assert github_slug("/srv/config.git", "acme/config") == "acme/config"
    with pytest.raises(UsageError) as err:
        github_slug("/srv/config.git", None)
    assert "--github-repo OWNER/NAME" in err.value.render()
