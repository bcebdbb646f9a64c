"""promote / gate / pr on the `github` forge: PyGithub for real against the loopback GitHub server."""

from __future__ import annotations

import contextlib
import json
import stat
import time
from typing import Any

import pytest

from gitops.audit import read_entries
from gitops.cli.main import main
from gitops.errors import UsageError, redact
from gitops.forge import github
from gitops.forge.github import GitHubForge, api_url, clone_url, github_slug
from gitops.forge.protocol import ForgeSettings
from tests.fixtures.configrepo import git
from tests.fixtures.github import SLUG, FakeGitHub
from tests.fixtures.promote import Stage

TOKEN = "ci-bot-token"


def gh(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stage: Stage,
    fake: FakeGitHub,
    *args: str,
    token: str = TOKEN,
) -> tuple[int, dict[str, Any], str]:
    monkeypatch.setenv("GITHUB_TOKEN", token)
    argv = [*args, "--config-repo", str(stage.repo.remote), "--forge", "github"]
    argv += ["--github-url", fake.host, "--github-repo", SLUG, "--json"]
    code = main(argv)
    captured = capsys.readouterr()
    assert token not in captured.out + captured.err
    return code, json.loads(captured.out) if captured.out.strip() else {}, captured.err


def promote(
    capsys: Any, monkeypatch: Any, stage: Stage, fake: FakeGitHub, *extra: str
) -> tuple[int, dict[str, Any], str]:
    return gh(capsys, monkeypatch, stage, fake, "promote", "staging", "prod", "--actor", "ci-bot", *extra)


def promotion_audit(stage: Stage) -> list[Any]:
    stage.pull()
    return [e for e in read_entries(stage.repo.work / "audit/prod.jsonl") if e.kind == "promotion"]


def test_promote_opens_a_github_pr_with_labels_reviewers_and_status(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    code, result, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert code == 0, result
    assert result["action"] == "created"
    [pull] = fake_github.pulls.values()
    assert pull.user == "ci-bot"
    assert pull.head == result["branch"]
    assert set(pull.labels) == {"env:prod", "change:normal", "schema-change", "cab-required"}
    assert pull.reviewers == ["cab-ines", "cab-jonas", "cab-kofi", "cab-lena"]
    head = git(stage.repo.remote, "rev-parse", result["branch"])
    assert [s["state"] for s in fake_github.statuses[head]] == ["pending"]
    assert fake_github.total_requests() <= 10
    assert result["pull_request"]["url"].endswith(f"/{SLUG}/pull/{pull.number}")


def test_rerun_updates_nothing_and_opens_no_duplicate(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    promote(capsys, monkeypatch, stage, fake_github)
    fake_github.reset_counts()
    code, again, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert (code, again["action"], again["pushed"]) == (0, "unchanged", False)
    assert len(fake_github.pulls) == 1
    assert fake_github.total_requests() == 1  # the list of open PRs
    assert len(promotion_audit(stage)) == 1


def test_reviews_gate_status_and_merge(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    _, result, _ = promote(capsys, monkeypatch, stage, fake_github)
    number = str(result["pull_request"]["number"])
    code, _, _ = gh(capsys, monkeypatch, stage, fake_github, "pr", "merge", number)
    assert code == 3  # gate pending: no merge
    for user in ("cab-ines", "cab-jonas"):
        code, review, _ = gh(
            capsys, monkeypatch, stage, fake_github, "pr", "approve", number, token=f"{user}-token"
        )
        assert (code, review["user"]) == (0, user)
    code, gate, _ = gh(capsys, monkeypatch, stage, fake_github, "gate", "check", number)
    assert code == 0, gate
    head = result["head_sha"]
    assert fake_github.latest_statuses(head)["odoo-gitops/gate"]["state"] == "success"
    code, merged, _ = gh(capsys, monkeypatch, stage, fake_github, "pr", "merge", number)
    assert code == 0, merged
    assert fake_github.pulls[int(number)].merged_at is not None
    assert git(stage.repo.remote, "rev-parse", merged["merge_commit"] + "^2") == head


def test_self_approval_by_the_promotion_actor_is_refused_by_github_and_ignored_by_the_gate(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    _, result, _ = promote(capsys, monkeypatch, stage, fake_github)
    number = str(result["pull_request"]["number"])
    code, failed, _err = gh(capsys, monkeypatch, stage, fake_github, "pr", "approve", number)
    assert code == 1
    assert "Can not approve your own pull request" in failed["message"]


def test_transient_502_and_secondary_rate_limit_are_retried(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    fake_github.inject("GET", r"/pulls$", 502, times=2)
    fake_github.inject_secondary_rate_limit("POST", r"/pulls$", retry_after=1)
    code, result, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert code == 0, result
    assert fake_github.requests[f"GET /repos/{SLUG}/pulls"] == 3
    assert fake_github.requests[f"POST /repos/{SLUG}/pulls"] == 2
    assert len(fake_github.pulls) == 1


def test_pr_call_failing_after_the_push_completes_on_rerun(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    fake_github.inject("POST", r"/pulls$", 422, message="Validation Failed")
    code, failed, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert code == 1
    assert "GitHub create pull failed (422)" in failed["message"]
    branches = git(stage.repo.remote, "branch", "--list", "promote/*").split()
    assert len(branches) == 1  # pushed before the PR call failed
    head = git(stage.repo.remote, "rev-parse", branches[0])
    code, result, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert (code, result["action"], result["pushed"]) == (0, "created", False)
    assert git(stage.repo.remote, "branch", "--list", "promote/*").split() == branches
    assert git(stage.repo.remote, "rev-parse", branches[0]) == head
    assert len(fake_github.pulls) == 1
    assert len(promotion_audit(stage)) == 1


def test_push_rejected_as_non_fast_forward_is_rebuilt_and_retried(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    flag = stage.repo.remote / "reject-next-promote-push"
    flag.touch()
    hook = stage.repo.remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\n"
        f'if grep -q refs/heads/promote/ && [ -f "{flag}" ]; then rm "{flag}";\n'
        '  echo "! [rejected] (non-fast-forward)" >&2; exit 1; fi\nexit 0\n'
    )
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    code, result, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert code == 0, result
    assert not flag.exists()
    assert result["pushed"] is True
    assert git(stage.repo.remote, "rev-list", "--count", f"main..{result['branch']}") == "1"
    assert len(fake_github.pulls) == 1


def test_a_second_promotion_supersedes_the_open_pr_with_a_comment(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    from tests.fixtures.promote import release_data

    _, first, _ = promote(capsys, monkeypatch, stage, fake_github)
    stage.release("staging", release_data("1.5.1"))
    _, second, _ = promote(capsys, monkeypatch, stage, fake_github)
    old = fake_github.pulls[first["pull_request"]["number"]]
    assert old.state == "closed"
    [comment] = fake_github.comments[old.number]
    assert f"Superseded by #{second['pull_request']['number']}" in comment["body"]
    assert second["pull_request"]["url"] in comment["body"]


def test_missing_token_is_a_usage_error(stage: Stage, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    code = main(["promote", "staging", "prod", "--config-repo", str(stage.repo.remote), "--forge", "github",
                 "--github-repo", SLUG])  # fmt: skip
    assert code == 2
    assert "GITHUB_TOKEN" in capsys.readouterr().err


def test_github_enterprise_urls() -> None:
    assert api_url(None) == "https://api.github.com"
    assert api_url("https://ghe.example.com/") == "https://ghe.example.com/api/v3"
    assert api_url("https://ghe.example.com/api/v3") == "https://ghe.example.com/api/v3"


def test_the_server_rejects_bodies_that_do_not_match_githubs_schema(fake_github: FakeGitHub) -> None:
    fake_github._validate("Label", {"id": 1, "name": "x"}, "GET /labels")
    assert "as Label" in fake_github.validation_errors.pop()
    fake_github._validate("Label", fake_github.label("env:prod"), "GET /labels")
    assert fake_github.validation_errors == []


def test_approvals_survive_a_same_content_rebase_on_github(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    _, result, _ = promote(capsys, monkeypatch, stage, fake_github)
    number = str(result["pull_request"]["number"])
    for user in ("cab-ines", "cab-jonas"):
        gh(capsys, monkeypatch, stage, fake_github, "pr", "approve", number, token=f"{user}-token")
    stage.pull()
    path = stage.repo.work / "envs/prod/release.yaml"
    path.write_text(path.read_text().replace("revision: 4b5cea", "revision: 5b5cea"))
    stage.repo.commit_all("main moved under the PR")
    _, again, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert again["head_sha"] != result["head_sha"] and again["content_hash"] == result["content_hash"]
    code, gate, _ = gh(capsys, monkeypatch, stage, fake_github, "gate", "check", number)
    assert code == 0, gate
    assert {a["commit_id"] for a in gate["verdict"]["approvals"]["counted"]} == {result["head_sha"]}
    code, shown, _ = gh(capsys, monkeypatch, stage, fake_github, "pr", "show", number)
    assert code == 0
    assert shown["head_sha"] == again["head_sha"]
    assert shown["statuses"] == [
        {"context": "odoo-gitops/gate", "state": "success", "description": gate["verdict"]["description"]}
    ]
    assert [r["user"] for r in shown["reviews"]] == ["cab-ines", "cab-jonas"]


def test_slug_needs_a_github_remote_or_the_option() -> None:
    assert github_slug("/srv/config.git", "acme/config") == "acme/config"
    with pytest.raises(UsageError) as err:
        github_slug("/srv/config.git", None)
    assert "--github-repo OWNER/NAME" in err.value.render()


@pytest.mark.parametrize(
    ("remote", "slug"),
    [
        ("https://github.com/acme/odoo-config.git", "acme/odoo-config"),
        ("https://x-access-token:ghs_abc@github.com/acme/odoo-config", "acme/odoo-config"),
        ("git@github.com:acme/odoo-config.git", "acme/odoo-config"),
        ("https://github.example.com/acme/cfg/", "acme/cfg"),
    ],
)
def test_slug_from_the_remote_url(remote: str, slug: str) -> None:
    assert github_slug(remote, None) == slug


def test_only_an_https_remote_without_credentials_gets_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    ssh, with_user = "git@github.com:acme/cfg.git", "https://me:pw@github.com/acme/cfg.git"
    assert clone_url("https://github.com/acme/cfg.git") == "https://github.com/acme/cfg.git"  # no token
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secretvalue5678")
    assert (clone_url(ssh), clone_url(with_user)) == (ssh, with_user)
    remote = clone_url("https://github.com/acme/cfg.git")
    assert remote == "https://x-access-token:ghs_secretvalue5678@github.com/acme/cfg.git"
    assert "ghs_secretvalue5678" not in redact(remote)


def test_the_factory_checks_token_and_repository_before_anything_is_cloned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = ForgeSettings(kind="github", options={"github_url": "https://ghe.example.com"})
    with pytest.raises(UsageError, match="GITHUB_TOKEN"):
        github.factory(settings, remote="https://github.com/acme/cfg.git", actor="ci-bot")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secretvalue5678")
    with pytest.raises(UsageError, match=r"cannot tell the GitHub repository from '/srv/cfg\.git'"):
        github.factory(settings, remote="/srv/cfg.git", actor="ci-bot")
    build = github.factory(settings, remote="https://github.com/acme/cfg.git", actor="ci-bot")
    forge = build(None)  # type: ignore[arg-type]  # GitHub needs no clone
    assert isinstance(forge, GitHubForge) and forge.name == "github"
    bad = ForgeSettings(kind="github", options={"github_repo": "acme/cfg/extra"})
    with pytest.raises(UsageError, match="expected OWNER/NAME"):
        github.factory(bad, remote="/srv/cfg.git", actor="ci-bot")(None)  # type: ignore[arg-type]


def test_a_pr_opened_after_the_early_listing_is_found_not_duplicated(
    stage: Stage, fake_github: FakeGitHub, tmp_path: Any
) -> None:
    """promote lists the open PRs while it decides (installer.open_context); another run of the same
    promotion may open the PR after that listing. Creating it again fails on GitHub ("already exists"):
    the forge finds that PR and updates it: one PR, which every audit entry names."""
    from gitops.promote.installer import install_release, open_context
    from gitops.promote.promotion import PromoteOptions, Seams
    from gitops.promote.stage_seams import engine_window_check
    from tests.fixtures.promote import NOW, SupplyDouble
    from tests.promote.test_installer import install

    seams = Seams(
        forge=lambda _checkout: GitHubForge(SLUG, token=TOKEN, base_url=fake_github.host),
        supply=SupplyDouble(),
        window_check=engine_window_check,
    )
    remote = str(stage.repo.remote)
    runs = [
        open_context(
            PromoteOptions(remote=remote, workdir=tmp_path / name, actor="ci-bot", now=NOW), seams, "staging"
        )
        for name in ("first", "second")
    ]
    assert [ctx.open_pulls() for ctx in runs] == [[], []]  # both listed before either opened a PR
    first, second = (install_release(ctx, install()) for ctx in runs)
    assert first.action == "created" and first.pull is not None and second.pull is not None
    assert second.pull.number == first.pull.number
    assert len(fake_github.pulls) == 1
    stage.pull()
    entries = read_entries(stage.repo.work / "audit/staging.jsonl")
    assert {e.data["pr"] for e in entries if e.kind == "promotion"} == {first.pull.number}


def _promotions_on_main(stage: Stage) -> list[dict[str, Any]]:
    """The promotion entries of prod's audit log on the remote's main, as it is now."""
    listed = git(stage.repo.remote, "ls-tree", "--name-only", "main", "audit/prod.jsonl").strip()
    text = git(stage.repo.remote, "show", "main:audit/prod.jsonl") if listed else ""
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [e for e in entries if e["kind"] == "promotion"]


def test_the_pr_is_on_record_while_its_labels_reviewers_and_status_are_requested(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    """Once GitHub answered the POST that opens the PR, the audit entry naming it is pushed while the requests
    that follow (labels, reviewers, the pending status) are made: the server holds the labels request until
    the entry is on main, which it would wait for in vain if they were made one after the other. The PR's
    author is the login GitHub answered with: no GET /user, five requests in all."""
    on_record: list[list[dict[str, Any]]] = []
    real = fake_github.set_labels

    def labels_once_recorded(**kw: Any) -> tuple[int, Any, str]:
        deadline = time.monotonic() + 30
        while not (found := _promotions_on_main(stage)) and time.monotonic() < deadline:
            time.sleep(0.02)
        on_record.append(found)
        return real(**kw)

    monkeypatch.setattr(fake_github, "set_labels", labels_once_recorded)
    code, result, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert code == 0, result
    [pull] = fake_github.pulls.values()
    assert [[e["data"]["pr"] for e in found] for found in on_record] == [[pull.number]]
    assert set(pull.labels) == {"env:prod", "change:normal", "schema-change", "cab-required"}
    assert pull.reviewers == ["cab-ines", "cab-jonas", "cab-kofi", "cab-lena"]
    head = git(stage.repo.remote, "rev-parse", result["branch"])
    assert [s["state"] for s in fake_github.statuses[head]] == ["pending"]
    assert fake_github.requests["GET /user"] == 0
    assert fake_github.total_requests() == 5, fake_github.requests
    assert sorted(result["pull_request"]["labels"]) == sorted(pull.labels)


def test_a_request_failing_after_the_pr_is_on_record_is_completed_by_a_rerun(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    """The labels request fails once the PR exists and its audit entry is pushed: exit 1 naming the request;
    the re-run sets the labels and the status on the same PR and appends no second entry."""
    fake_github.inject("PUT", r"/issues/\d+/labels$", 422, message="Validation Failed")
    code, failed, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert code == 1
    assert "GitHub set labels failed (422)" in failed["message"]
    [pull] = fake_github.pulls.values()
    assert pull.labels == [] and [e["data"]["pr"] for e in _promotions_on_main(stage)] == [pull.number]
    code, again, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert (code, again["action"]) == (0, "updated"), again
    assert len(fake_github.pulls) == 1
    assert set(pull.labels) == {"env:prod", "change:normal", "schema-change", "cab-required"}
    assert len(promotion_audit(stage)) == 1


def test_a_broken_audit_log_is_the_error_even_when_a_request_fails_too(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    """The audit refuses a log whose chain is broken (exit 2) while the labels request fails: the audit's
    refusal is the error reported, and the failed request was over before the command returned."""
    log = stage.repo.work / "audit/prod.jsonl"
    stage.pull()
    log.parent.mkdir(exist_ok=True)
    log.write_text('{"seq": 1, "kind": "forged"}\n')
    git(stage.repo.work, "add", "-A")
    git(stage.repo.work, "commit", "-qm", "a forged audit line")
    git(stage.repo.work, "push", "-q", "origin", "HEAD:main")
    fake_github.inject("PUT", r"/issues/\d+/labels$", 422, message="Validation Failed")
    code, failed, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert code == 2, failed
    assert "audit chain broken" in failed["message"]
    assert fake_github.requests[f"PUT /repos/{SLUG}/issues/1/labels"] == 1
    assert git(stage.repo.remote, "show", "main:audit/prod.jsonl") == '{"seq": 1, "kind": "forged"}'


def test_a_run_killed_between_opening_the_pr_and_its_audit_entry_is_completed_by_a_rerun(
    stage: Stage, fake_github: FakeGitHub, capsys: Any, monkeypatch: Any
) -> None:
    """The run dies (an interrupt: nothing after it runs) once the PR exists, before its audit entry: the PR
    is there without an entry; the re-run finds that PR, records it once, and the log's chain holds."""
    from gitops.promote import installer

    real = installer.audit_promotion

    def killed(*_args: Any, **_kw: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(installer, "audit_promotion", killed)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        promote(capsys, monkeypatch, stage, fake_github)
    capsys.readouterr()
    [pull] = fake_github.pulls.values()
    assert _promotions_on_main(stage) == []
    monkeypatch.setattr(installer, "audit_promotion", real)
    code, again, _ = promote(capsys, monkeypatch, stage, fake_github)
    assert code == 0 and again["action"] in ("unchanged", "updated"), again
    assert list(fake_github.pulls.values()) == [pull]
    assert [e["data"]["pr"] for e in _promotions_on_main(stage)] == [pull.number]
    assert main(["audit", "verify", "prod", "--config-repo", str(stage.repo.remote)]) == 0
