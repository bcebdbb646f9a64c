"""Helpers of the attack tests against the GitHub forge (the loopback GitHub of tests/fixtures/github.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from gitops.cli.main import main
from tests.fixtures.configrepo import git
from tests.fixtures.github import SLUG, FakeGitHub
from tests.fixtures.promote import Stage

CAB = ("cab-ines", "cab-jonas")


def gh(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, stage: Stage, fake: FakeGitHub,
    *args: str, token: str = "ci-bot-token",
) -> tuple[int, dict[str, Any], str]:  # fmt: skip
    monkeypatch.setenv("GITHUB_TOKEN", token)
    argv = [*args, "--config-repo", str(stage.repo.remote), "--forge", "github"]
    code = main([*argv, "--github-url", fake.host, "--github-repo", SLUG, "--json"])
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else {}, out.err


def verdict_of(result: dict[str, Any]) -> dict[str, Any]:
    found = result.get("verdict") or (result.get("report") or {}).get("verdict")
    assert isinstance(found, dict), result
    return found


@dataclass
class Pr:
    stage: Stage
    fake: FakeGitHub
    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    number: int
    branch: str
    head: str

    def cli(self, *args: str, token: str = "ci-bot-token") -> tuple[int, dict[str, Any], str]:
        return gh(self.capsys, self.monkeypatch, self.stage, self.fake, *args, token=token)

    def review(
        self, user: str, state: str, commit_id: str | None = None, *, association: str = "MEMBER"
    ) -> None:
        """A review record as GitHub holds it (any login, any state GitHub reports)."""
        self.fake.reviews.setdefault(self.number, []).append(
            {"id": self.fake._id(), "user": user, "body": "", "state": state,
             "commit_id": commit_id or self.head,
             "submitted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
             "association": association}
        )  # fmt: skip

    def approve(self, *users: str) -> None:
        for user in users:
            code, _, err = self.cli("pr", "approve", str(self.number), token=f"{user}-token")
            assert code == 0, err


def open_pr(
    stage: Stage, fake_github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Pr:
    code, result, err = gh(
        capsys, monkeypatch, stage, fake_github, "promote", "staging", "prod", "--actor", "ci-bot"
    )
    assert code == 0, err
    return Pr(stage, fake_github, capsys, monkeypatch, result["pull_request"]["number"], result["branch"],
              result["head_sha"])  # fmt: skip


def main_sha(stage: Stage, branch: str = "main") -> str:
    return git(stage.repo.remote, "rev-parse", branch).strip()
