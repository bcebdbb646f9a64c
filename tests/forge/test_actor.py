"""Who the actor is: one answer for every verb (audit entries, local PR authors, verification records)."""

from __future__ import annotations

import getpass
import json

import pytest

from gitops.audit import read_entries
from gitops.cli.main import main
from gitops.forge.actor import FALLBACK, resolve_actor
from tests.fixtures.promote import Stage


def test_the_option_wins_then_github_actions_then_the_login_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "login-name")
    assert resolve_actor("ines", env={"GITHUB_ACTOR": "ci-bot"}) == "ines"
    assert resolve_actor(None, env={"GITHUB_ACTOR": "ci-bot"}) == "ci-bot"
    assert resolve_actor("", env={"GITHUB_ACTOR": ""}) == "login-name"
    assert resolve_actor(None, env={}) == "login-name"
    monkeypatch.setenv("GITHUB_ACTOR", "from-process-env")
    assert resolve_actor() == "from-process-env"


@pytest.mark.parametrize("error", [KeyError("uid 1234 has no passwd entry"), OSError("no login")])
def test_a_user_without_a_name_is_recorded_as_odoo_gitops(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def no_name() -> str:
        raise error

    monkeypatch.setattr(getpass, "getuser", no_name)
    assert resolve_actor(None, env={}) == FALLBACK == "odoo-gitops"


def test_promote_without_actor_records_the_github_actor_as_author_and_in_the_audit_log(
    stage: Stage, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "rel-maria")
    code = main(["promote", "staging", "prod", "--config-repo", str(stage.repo.remote), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0, result
    assert result["pull_request"]["author"] == "rel-maria"
    stage.pull()
    [entry] = [e for e in read_entries(stage.repo.work / "audit/prod.jsonl") if e.kind == "promotion"]
    assert entry.actor == "rel-maria"
