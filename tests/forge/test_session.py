"""Finding the config repository's remote and opening a session (clone of main + the chosen forge)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.errors import UsageError, redact
from gitops.forge.local import LocalForge
from gitops.forge.protocol import ForgeSettings
from gitops.forge.session import git_remote, open_session, resolve_remote
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
    remote = git_remote(url, ForgeSettings(kind="github"))
    assert remote == "https://x-access-token:ghs_secretvalue1234@github.com/acme/odoo-config.git"
    assert "ghs_secretvalue1234" not in redact(f"git push failed for {remote}")
    assert git_remote(url, ForgeSettings(kind="local")) == url


def test_an_unknown_forge_is_a_usage_error_before_anything_is_cloned(config_repo: ConfigRepoFixture) -> None:
    settings = ForgeSettings(kind="gitlab")
    with pytest.raises(UsageError) as err, open_session(str(config_repo.remote), settings):
        pytest.fail("a session was opened")
    assert "--forge 'gitlab': expected github or local" in err.value.render()


def test_a_session_clones_main_and_builds_the_forge_with_the_actor(
    config_repo: ConfigRepoFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "from-env")
    with open_session(str(config_repo.work), ForgeSettings(kind="local", actor="ines")) as session:
        assert session.actor == "ines"
        assert isinstance(session.forge, LocalForge) and session.forge.whoami() == "ines"
        assert session.checkout.head() == config_repo.head()
        assert "prod" in session.repo.envs
    with open_session(str(config_repo.work), ForgeSettings(kind="local")) as session:
        assert (session.actor, session.forge.whoami()) == ("from-env", "from-env")
