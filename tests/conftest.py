"""Session-wide test fences: no $HOME, no user git config, no real network tokens."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.leftovers",
    "tests.fixtures.components",
    "tests.fixtures.configrepo",
    "tests.fixtures.trivydb",
    "tests.fixtures.registry",
    "tests.fixtures.addonsrepo",
    "tests.fixtures.supply",
    "tests.fixtures.authproxy",
    "tests.fixtures.charts",
    "tests.fixtures.verify",
    "tests.fixtures.windows",
    "tests.fixtures.promote",
    "tests.fixtures.github",
    "tests.fixtures.githttp",
]


@pytest.fixture(autouse=True)
def _fence_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Author")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    for var in ("GITHUB_TOKEN", "GH_TOKEN", "KUBECONFIG", "DOCKER_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    (home / ".gitconfig").write_text('[init]\n\tdefaultBranch = main\n[protocol "file"]\n\tallow = always\n')
    yield


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def pytest_report_header(config: pytest.Config) -> str:
    return f"odoo-gitops tests; CI={os.environ.get('CI', '')!r} (missing real components fail when CI=true)"
