"""Fixtures of the attack tests."""

from __future__ import annotations

import pytest

from tests.attacks.github_helpers import Pr, open_pr
from tests.fixtures.github import FakeGitHub
from tests.fixtures.promote import Stage


@pytest.fixture
def pr(
    stage: Stage, fake_github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Pr:
    """A promotion PR staging -> prod on the loopback GitHub, opened by ci-bot."""
    return open_pr(stage, fake_github, capsys, monkeypatch)
