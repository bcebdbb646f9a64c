"""Lifecycle PRs at the edges of the gate engine (local forge, real git): a crash between the merge and its
audit entry repaired once, the merge commit naming the kind, `pr show`'s CAB view for a PR whose env is not
on main yet, and the data rules of refresh and expire (docs/nonprod.md, "Lifecycle rules")."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import gitops.promote.pulls as pulls
from gitops.errors import ExternalError
from tests.fixtures.configrepo import ConfigRepoFixture, git
from tests.lifecycle.helpers import add_env, at_branch, audit, run, yaml_at

LATER = (datetime.now(UTC).date() + timedelta(days=180)).isoformat()
PAST = (datetime.now(UTC).date() - timedelta(days=3)).isoformat()
ACME = ("--masking", "default", "--tenant", "acme-build")


def approve(capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture, number: int, *users: str) -> None:
    for user in users:
        code, _, err = run(capsys, repo, "pr", "approve", str(number), "--as", user)
        assert code == 0, err


def gate(capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture, number: int) -> tuple[int, Any]:
    code, out, err = run(capsys, repo, "gate", "check", str(number))
    assert isinstance(out.get("verdict"), dict), err
    return code, out["verdict"]


def merges(repo: ConfigRepoFixture, env: str, number: int) -> list[Any]:
    return [e for e in audit(repo, env) if e.kind == "merge" and e.data["pr"] == number]


def crash_after_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies after the forge merged and before the merge entry is appended."""
    real = pulls.record_audit

    def dying(checkout: Any, env: str, actor: str, entries: Sequence[Any], now: Any, **kw: Any) -> Any:
        if entries and entries[0][0] == "merge" and not entries[0][1].get("repaired"):
            raise ExternalError("killed between the merge and its audit entry")
        return real(checkout, env, actor, entries, now, **kw)

    monkeypatch.setattr(pulls, "record_audit", dying)


def _extend(capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture) -> tuple[int, str]:
    code, out, err = run(capsys, repo, "env", "extend", "staging", "--until", LATER)
    assert code == 0, err
    approve(capsys, repo, out["pull_request"]["number"], "cab-ines")
    return out["pull_request"]["number"], "staging"


def _create(capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture) -> tuple[int, str]:
    args = ("env", "create", "qa-2", "--from", "staging", "--owner", "rel-omar", "--expires", LATER)
    code, out, err = run(capsys, repo, *args, "--purpose", "uat")
    assert code == 0, err
    approve(capsys, repo, out["pull_request"]["number"], "cab-jonas")
    return out["pull_request"]["number"], "qa-2"


@pytest.mark.parametrize(
    ("open_pr", "subject"), [(_extend, "env extend staging"), (_create, "env create qa-2")]
)
@pytest.mark.parametrize("next_command", ["merge", "gate"])
def test_a_crash_between_a_lifecycle_merge_and_its_audit_is_repaired_once(
    config_repo: ConfigRepoFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    open_pr: Callable[[pytest.CaptureFixture[str], ConfigRepoFixture], tuple[int, str]],
    subject: str,
    next_command: str,
) -> None:
    number, env = open_pr(capsys, config_repo)
    with monkeypatch.context() as patch:
        crash_after_merge(patch)
        code, _, err = run(capsys, config_repo, "pr", "merge", str(number))
    assert code == 1 and "killed" in err
    merge_sha = git(config_repo.remote, "rev-parse", "main")
    assert git(config_repo.remote, "log", "-1", "--format=%s", merge_sha) == f"Merge {subject} (#{number})"
    assert merges(config_repo, env, number) == []  # merged, not on record
    for _ in range(2):  # the next command repairs it; the one after adds nothing
        args = ("pr", "merge", str(number)) if next_command == "merge" else ("gate", "check", str(number))
        code, _, err = run(capsys, config_repo, *args)
        assert code == 2 and "merged" in err
    [entry] = merges(config_repo, env, number)
    assert entry.data["merge_commit"] == merge_sha and entry.data["repaired"] is True
    assert entry.data["change"] == subject.split()[-2]


def test_the_repair_never_adds_to_a_merge_that_was_recorded(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    number, env = _extend(capsys, config_repo)
    code, _, err = run(capsys, config_repo, "pr", "merge", str(number))
    assert code == 0, err
    assert git(config_repo.remote, "log", "-1", "--format=%s", "main").startswith("Audit: merge")
    for args in (("pr", "merge"), ("gate", "check"), ("pr", "merge")):
        assert run(capsys, config_repo, *args, str(number))[0] == 2
    [entry] = merges(config_repo, env, number)
    assert "repaired" not in entry.data and entry.data["change"] == "extend"
    subjects = git(config_repo.remote, "log", "--format=%s", "main").splitlines()
    assert f"Merge env extend staging (#{number})" in subjects


def test_pr_show_gives_the_cab_view_of_an_env_create_pr(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    number, _ = _create(capsys, config_repo)
    approve(capsys, config_repo, number, "ci-bot", "rel-maria")  # the proposer; not in cab
    code, shown, err = run(capsys, config_repo, "pr", "show", str(number))
    assert code == 0, err
    assert shown["gate"]["state"] == "success" and shown["cab"]["missing"] == ""
    marks = {r["user"]: (r["counted"], r["reason"]) for r in shown["reviews"]}
    assert marks["cab-jonas"] == (True, None)
    assert not marks["ci-bot"][0] and "may not approve their own" in marks["ci-bot"][1]
    assert not marks["rel-maria"][0] and "cab" in marks["rel-maria"][1]
    assert shown["cab"]["rehearsal"] is None and shown["cab"]["rollback"]["ready"] is False
    from gitops.cli.main import main

    assert main(["pr", "show", str(number), "--config-repo", str(config_repo.remote)]) == 0
    text = capsys.readouterr().out
    assert text.index("SUCCESS") < text.index("cab-jonas")  # the verdict first, then the reviews
    assert "counted" in text and "may not approve their own" in text
    assert "`create` of **qa-2**" in text and "backup: not asked" in text
    assert "## Schema changes" not in text and "## Rollback" not in text  # no release in a lifecycle PR


# ---- the data rules of refresh and expire ----------------------------------------------------------------


def rehearse(repo: ConfigRepoFixture, env: str, *, passed: bool = True, backup: str = "bk-7.dump") -> None:
    """`backup verify ENV` recorded a rehearsal of one of ENV's backups on main (envs/ENV/rehearsal.json)."""
    git(repo.work, "pull", "-q", "--ff-only", "origin", "main")
    record = {
        "env": env,
        "backup": backup,
        "passed": passed,
        "rehearsed_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
        "rto_seconds": 120,
        "rpo_seconds": 600,
        "problems": [] if passed else ["row count of res_partner differs from the manifest"],
    }
    (repo.work / "envs" / env / "rehearsal.json").write_text(json.dumps(record))
    repo.commit_all(f"{env}: rehearsal of {backup}")


def _refresh(capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture) -> int:
    code, out, err = run(capsys, repo, "refresh", "prod", "staging", *ACME)
    assert code == 0, err
    number: int = out["pull_request"]["number"]
    return number


def test_a_refresh_needs_a_rehearsed_backup_of_its_target_and_merges_with_one(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    number = _refresh(capsys, config_repo)
    approve(capsys, config_repo, number, "cab-ines", "cab-jonas")
    code, verdict = gate(capsys, config_repo, number)
    assert code == 3 and verdict["state"] == "pending" and len(verdict["approvals"]["counted"]) == 2
    [reason] = verdict["reasons"]
    assert "overwrites 'staging'" in reason and "backup verify staging" in reason
    assert "--backup-id" not in reason  # a promotion's backup before a migration is not asked
    rehearse(config_repo, "staging")
    code, verdict = gate(capsys, config_repo, number)
    assert code == 0, verdict
    code, _, err = run(capsys, config_repo, "pr", "merge", str(number))
    assert code == 0, err
    [entry] = merges(config_repo, "staging", number)
    assert (entry.data["change"], entry.data["backup"]) == ("refresh", "bk-7.dump")
    assert yaml_at(config_repo, "main", "envs/staging/env.yaml")["refresh"]["source"] == "prod"


def test_a_refresh_whose_targets_latest_rehearsal_failed_cannot_merge(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    number = _refresh(capsys, config_repo)
    approve(capsys, config_repo, number, "cab-ines", "cab-jonas")
    rehearse(config_repo, "staging", passed=False)
    code, verdict = gate(capsys, config_repo, number)
    assert code == 3 and verdict["state"] == "failure"
    assert any("latest rehearsal of bk-7.dump failed" in r for r in verdict["reasons"])
    code, _, err = run(capsys, config_repo, "pr", "merge", str(number))
    assert code == 3 and "cannot be merged" in err
    assert "refresh" not in yaml_at(config_repo, "main", "envs/staging/env.yaml")


def _expire(
    capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture, owner: str, *, production: bool = False
) -> int:
    add_env(repo, "jv-north", expires=PAST, owner=owner)
    if production:  # a joint venture's system on real data (no purpose: only production data may say so)
        path = repo.work / "envs/jv-north/env.yaml"
        text = path.read_text().replace("data_policy: synthetic", "data_policy: production")
        text = text.replace("purpose: project\n", "")
        path.write_text(text.replace("recovery: {rpo: 7d, rto: 8h}", "recovery: {rpo: 1d, rto: 1h}"))
        repo.commit_all("jv-north holds production data")
    code, out, err = run(capsys, repo, "env", "expire")
    assert code == 0, err
    [result] = out["expired"]
    number: int = result["pull_request"]["number"]
    return number


def test_an_expire_counts_the_owners_approval_and_not_an_outsiders(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    number = _expire(capsys, config_repo, owner="rel-omar")  # not a developer: eligible as the owner
    code, shown, err = run(capsys, config_repo, "pr", "show", str(number))
    assert code == 0 and "`destructive` rule" in shown["body"], err  # the body states the rule applied
    approve(capsys, config_repo, number, "cab-ines")  # neither a developer nor the owner
    code, verdict = gate(capsys, config_repo, number)
    assert code == 3 and verdict["rule"] == "destructive"
    assert "nor the env's owner" in verdict["approvals"]["ignored"][0]["reason"]
    approve(capsys, config_repo, number, "rel-omar")
    code, verdict = gate(capsys, config_repo, number)
    assert code == 0, verdict
    assert [a["user"] for a in verdict["approvals"]["counted"]] == ["rel-omar"]
    code, _, err = run(capsys, config_repo, "pr", "merge", str(number))
    assert code == 0, err
    assert at_branch(config_repo, "main", "envs/jv-north/env.yaml") is None
    [entry] = merges(config_repo, "jv-north", number)
    assert entry.data["change"] == "expire" and "backup" not in entry.data  # synthetic data: no final backup


def test_an_owner_who_ran_the_expire_cannot_approve_it(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    number = _expire(capsys, config_repo, owner="ci-bot")  # the scheduled workflow's identity owns the env
    approve(capsys, config_repo, number, "ci-bot")
    code, verdict = gate(capsys, config_repo, number)
    assert code == 3 and verdict["approvals"]["counted"] == []
    assert "may not approve their own" in verdict["approvals"]["ignored"][0]["reason"]


def test_expiring_a_production_data_env_records_its_proven_final_backup(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    number = _expire(capsys, config_repo, owner="rel-omar", production=True)
    approve(capsys, config_repo, number, "rel-omar")
    code, verdict = gate(capsys, config_repo, number)
    assert code == 3 and verdict["state"] == "pending"
    assert any("final backup" in r and "backup verify jv-north" in r for r in verdict["reasons"])
    assert run(capsys, config_repo, "pr", "merge", str(number))[0] == 3
    rehearse(config_repo, "jv-north", backup="jv-final.dump")
    code, _, err = run(capsys, config_repo, "pr", "merge", str(number))
    assert code == 0, err
    [entry] = merges(config_repo, "jv-north", number)
    assert (entry.data["change"], entry.data["backup"]) == ("expire", "jv-final.dump")


# ---- attacks -------------------------------------------------------------------------------------------


def push_to(repo: ConfigRepoFixture, branch: str, edits: Mapping[str, str]) -> None:
    """Someone pushes their own commit to the PR's branch (git, not odoo-gitops)."""
    git(repo.work, "fetch", "-q", "origin", branch)
    git(repo.work, "checkout", "-q", "-B", "pushed", "FETCH_HEAD")
    for path, text in edits.items():
        (repo.work / path).write_text(text)
    git(repo.work, "commit", "-q", "-am", "edit after approval")
    git(repo.work, "push", "-q", "origin", f"HEAD:{branch}")
    git(repo.work, "checkout", "-q", "main")


def test_a_refresh_pr_edited_after_approval_loses_its_approvals(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    rehearse(config_repo, "staging")
    number = _refresh(capsys, config_repo)
    approve(capsys, config_repo, number, "cab-ines", "cab-jonas")
    assert gate(capsys, config_repo, number)[0] == 0
    env = at_branch(config_repo, "lifecycle/refresh/staging", "envs/staging/env.yaml") or ""
    push_to(config_repo, "lifecycle/refresh/staging", {"envs/staging/env.yaml": env + "# tweak\n"})
    code, verdict = gate(capsys, config_repo, number)
    assert code == 3 and verdict["approvals"]["counted"] == []
    assert all("stale" in i["reason"] for i in verdict["approvals"]["ignored"])
    assert run(capsys, config_repo, "pr", "merge", str(number))[0] == 3


def test_a_refresh_pr_that_also_edits_prods_values_fails(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    rehearse(config_repo, "staging")
    number = _refresh(capsys, config_repo)
    values = (config_repo.work / "envs/prod/values.yaml").read_text()
    push_to(config_repo, "lifecycle/refresh/staging", {"envs/prod/values.yaml": values + "replicas: 0\n"})
    approve(capsys, config_repo, number, "cab-ines", "cab-jonas")  # approved at the edited head
    code, verdict = gate(capsys, config_repo, number)
    assert code == 3 and verdict["state"] == "failure"
    assert any("edits envs/prod/values.yaml, which an `refresh` change" in r for r in verdict["reasons"])
    assert run(capsys, config_repo, "pr", "merge", str(number))[0] == 3
    assert "replicas" not in (yaml_at(config_repo, "main", "envs/prod/values.yaml") or {})


def test_the_refresh_proposer_cannot_approve_it(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    rehearse(config_repo, "staging")
    number = _refresh(capsys, config_repo)
    approve(capsys, config_repo, number, "ci-bot", "cab-ines")
    code, verdict = gate(capsys, config_repo, number)
    assert code == 3 and [a["user"] for a in verdict["approvals"]["counted"]] == ["cab-ines"]
    ignored = {i["user"]: i["reason"] for i in verdict["approvals"]["ignored"]}
    assert "may not approve their own" in ignored["ci-bot"]


def test_a_rehearsal_forged_on_the_refresh_branch_does_not_count(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The backup proof is read from main; a passing record pushed with the PR is a path it may not touch."""
    number = _refresh(capsys, config_repo)
    forged = {"env": "staging", "backup": "bk-x.dump", "passed": True, "rto_seconds": 1, "rpo_seconds": 1}
    forged["rehearsed_at"] = datetime.now(UTC).isoformat()
    git(config_repo.work, "fetch", "-q", "origin", "lifecycle/refresh/staging")
    git(config_repo.work, "checkout", "-q", "-B", "pushed", "FETCH_HEAD")
    (config_repo.work / "envs/staging/rehearsal.json").write_text(json.dumps(forged))
    git(config_repo.work, "add", "-A")
    git(config_repo.work, "commit", "-q", "-m", "proof")
    git(config_repo.work, "push", "-q", "origin", "HEAD:lifecycle/refresh/staging")
    git(config_repo.work, "checkout", "-q", "main")
    approve(capsys, config_repo, number, "cab-ines", "cab-jonas")
    code, verdict = gate(capsys, config_repo, number)
    assert code == 3 and verdict["state"] == "failure"
    reasons = "\n".join(verdict["reasons"])
    assert "creates envs/staging/rehearsal.json" in reasons and "backup verify staging" in reasons
