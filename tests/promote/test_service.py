"""promote / pr / gate / rollback on the local forge, end to end through the CLI, with real git."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import yaml

from gitops.audit import read_entries, verify_chain
from gitops.cli.main import main
from gitops.promote.marker import parse_marker
from tests.fixtures.configrepo import git
from tests.fixtures.promote import CLOSED, NOW, REOPENS, Stage, release_data


def cli(capsys: pytest.CaptureFixture[str], stage: Stage, *args: str) -> tuple[int, dict[str, Any]]:
    code = main([*args, "--config-repo", str(stage.repo.remote), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def promote(capsys: pytest.CaptureFixture[str], stage: Stage, *extra: str) -> tuple[int, dict[str, Any]]:
    return cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot", *extra)


def remote_show(stage: Stage, ref: str, path: str) -> str:
    return git(stage.repo.remote, "show", f"{ref}:{path}")


def audit(stage: Stage, env: str = "prod") -> list[Any]:
    stage.pull()
    return read_entries(stage.repo.work / "audit" / f"{env}.jsonl")


def approve(capsys: pytest.CaptureFixture[str], stage: Stage, number: int, *users: str) -> None:
    for user in users:
        code, _ = cli(capsys, stage, "pr", "approve", str(number), "--as", user)
        assert code == 0


# ---------------------------------------------------------------- promote


def test_promote_opens_one_pr_for_the_canary_wave(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = promote(capsys, stage)
    assert code == 0
    assert result["action"] == "created"
    assert result["wave"] == "canary"
    assert result["tenants"] == ["acme-build"]
    branch = result["branch"]
    assert branch.startswith("promote/prod/1.5.0-") and branch.endswith("-canary")
    pull = result["pull_request"]
    assert set(pull["labels"]) == {"env:prod", "change:normal", "schema-change", "cab-required"}
    changed = git(stage.repo.remote, "diff", "--name-only", "main..." + branch).split()
    assert changed == ["envs/prod/release.yaml", "envs/prod/tenants/acme-build.yaml"]
    message = git(stage.repo.remote, "log", "-1", "--format=%B", branch)
    assert "Promoted-From: staging" in message
    assert "Change-Class: normal" in message
    assert f"Image-Digest: {release_data('1.5.0')['image'].split('@')[1]}" in message
    release = yaml.safe_load(remote_show(stage, branch, "envs/prod/release.yaml"))
    assert release["version"] == "1.3.2"  # the canary wave leaves the env-wide release alone
    assert release["tenants"]["acme-build"]["version"] == "1.5.0"
    [entry] = audit(stage)
    assert (entry.kind, entry.actor, entry.data["pr"]) == ("promotion", "ci-bot", pull["number"])
    tenant = yaml.safe_load(remote_show(stage, branch, "envs/prod/tenants/acme-build.yaml"))
    assert tenant["image"]["digest"] == release_data("1.5.0")["image"].split("@")[1]
    # the chart's migration and backup hooks read this block (charts/odoo, docs/chart.md)
    changed_modules = sorted(
        name for name, record in release_data("1.5.0")["modules"].items()
        if record != yaml.safe_load(remote_show(stage, "main", "envs/prod/release.yaml"))["modules"].get(name)
    )  # fmt: skip
    assert tenant["release"] == {
        "version": "1.5.0",
        "changedModules": changed_modules,
        "schemaChange": True,
        "backupRequired": False,
    }


def test_pr_body_tells_reviewers_everything(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    _, result = promote(capsys, stage)
    _code, shown = cli(capsys, stage, "pr", "show", str(result["pull_request"]["number"]))
    body = shown["body"]
    for needle in (
        "1.3.2 → **1.5.0**",
        "| `acme_project_costing` | changed | 17.0.1.2.0 | 17.0.1.4.0 |",
        "| `acme_site_diary` | removed | 17.0.2.1.0 | – |",
        "schema diff not computed",
        "Signature: verified (key test-key)",
        "passed (HIGH 0, LOW 2",
        "Open now until 2026-12-08T22:00:00+00:00.",
        "`normal`: 2 approvals from cab.",
        "`prod` requires: window, approvals, scan, signature",
        "`odoo-gitops rollback prod` returns to 1.3.2",
    ):
        assert needle in body, needle
    assert result["content_hash"] in body  # the hash approvals are bound to, for the reviewer to see
    assert parse_marker(body) is None  # the machine marker is a cache the gate never reads: not shown
    assert shown["statuses"] == [
        {"context": "odoo-gitops/gate", "state": "pending", "description": "awaiting odoo-gitops gate check"}
    ]


def test_rerun_changes_nothing(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    _, first = promote(capsys, stage)
    branch_sha = git(stage.repo.remote, "rev-parse", first["branch"])
    code, second = promote(capsys, stage)
    assert code == 0
    assert (second["action"], second["pushed"]) == ("unchanged", False)
    assert git(stage.repo.remote, "rev-parse", first["branch"]) == branch_sha
    _, listed = cli(capsys, stage, "pr", "list")
    assert len(listed["pull_requests"]) == 1
    assert len(audit(stage)) == 1


def test_nothing_when_the_target_already_runs_the_release(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    stage.release("dev", release_data("1.5.0"))
    code, result = cli(capsys, stage, "promote", "dev", "staging")
    assert code == 0
    assert result["action"] == "up-to-date"
    assert result["pull_request"] is None
    assert "already runs 1.5.0" in result["notes"][0]


@pytest.mark.parametrize(
    ("setup", "args", "reason"),
    [
        ("none", ("dev", "prod"), "does not allow skipping staging"),
        ("unverified", ("staging", "prod"), "has not been verified there"),
        ("fresh", ("staging", "prod"), "soak time in 'staging' not over"),
        ("bad-signature", ("staging", "prod"), "image signature does not verify"),
        ("failed-scan", ("staging", "prod"), "no passing scan attestation under prod's policy"),
        ("no-key", ("staging", "prod"), "has no signing.public_key"),
    ],
)
def test_each_precondition_exits_3_with_its_reason(
    stage: Stage, capsys: pytest.CaptureFixture[str], setup: str, args: tuple[str, str], reason: str
) -> None:
    if setup == "unverified":
        stage.release("staging", release_data("1.5.0", verified_at=None))
    if setup == "fresh":
        stage.release("staging", release_data("1.5.0", verified_at=NOW - timedelta(hours=1)))
    stage.supply.signature_ok = setup != "bad-signature"
    stage.supply.scan_ok = setup != "failed-scan"
    if setup == "no-key":
        env = stage.repo.work / "envs/prod/env.yaml"
        env.write_text(env.read_text().replace("signing:\n  public_key: keys/cosign.pub\n", ""))
        stage.repo.commit_all("prod without key")
    code, result = cli(capsys, stage, "promote", *args)
    assert code == 3
    assert result["error"] == "policy"
    assert any(reason in r for r in result["reasons"]), result["reasons"]
    assert git(stage.repo.remote, "branch", "--list", "promote/*") == ""


# ---------------------------------------------------------------- gate, approvals, merge


def test_approvals_gate_and_merge(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    _, result = promote(capsys, stage)
    number = str(result["pull_request"]["number"])
    approve(capsys, stage, number_int := int(number), "ci-bot", "cab-ines")
    code, gate = cli(capsys, stage, "gate", "check", number)
    assert code == 3
    verdict = gate["verdict"]
    assert verdict["state"] == "pending"
    assert [a["user"] for a in verdict["approvals"]["counted"]] == ["cab-ines"]
    assert verdict["approvals"]["ignored"][0]["user"] == "ci-bot"
    assert "may not approve their own promotion" in verdict["approvals"]["ignored"][0]["reason"]
    code, refused = cli(capsys, stage, "pr", "merge", number)
    assert (code, refused["error"]) == (3, "policy")
    approve(capsys, stage, number_int, "cab-jonas")
    code, gate = cli(capsys, stage, "gate", "check", number)
    assert code == 0
    assert gate["verdict"]["state"] == "success"
    _, shown = cli(capsys, stage, "pr", "show", number)
    assert shown["statuses"][0]["state"] == "success"
    code, merged = cli(capsys, stage, "pr", "merge", number)
    assert code == 0
    assert git(stage.repo.remote, "rev-parse", merged["merge_commit"] + "^2") == result["head_sha"]
    assert git(stage.repo.remote, "merge-base", "--is-ancestor", merged["merge_commit"], "main") == ""
    # the merge brings the PR's files onto main and keeps every other file as it was
    merge = merged["merge_commit"]
    assert (
        git(stage.repo.remote, "diff", "--name-only", result["head_sha"], merge, "--", ".", ":!audit") == ""
    )
    pr_files = git(stage.repo.remote, "diff", "--name-only", f"{merge}^1...{result['head_sha']}")
    assert git(stage.repo.remote, "diff", "--name-only", f"{merge}^1", merge) == pr_files != ""
    kinds = [e.kind for e in audit(stage)]
    assert kinds.count("approval") == 2
    assert kinds[-1] == "merge"
    assert verify_chain(stage.repo.work / "audit/prod.jsonl", "prod").ok
    _, listed = cli(capsys, stage, "pr", "list")
    assert listed["pull_requests"] == []


def test_commit_authors_cannot_approve(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    _, result = promote(capsys, stage)
    number = result["pull_request"]["number"]
    approve(capsys, stage, number, "Test Author", "cab-ines")
    _, gate = cli(capsys, stage, "gate", "check", str(number), "--no-publish")
    ignored = gate["verdict"]["approvals"]["ignored"]
    assert ignored[0]["user"] == "Test Author"
    assert ignored[0]["reason"].startswith("commit author")


def test_a_push_with_different_content_makes_approvals_stale(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    _, result = promote(capsys, stage)
    number = result["pull_request"]["number"]
    approve(capsys, stage, number, "cab-ines", "cab-jonas")
    clone = tmp_path / "other"
    git(tmp_path, "clone", "-q", "-b", result["branch"], str(stage.repo.remote), str(clone))
    path = clone / "envs/prod/release.yaml"
    path.write_text(
        path.read_text().replace(
            "image: registry.example.com/acme/odoo-custom@sha256:1",
            "image: registry.example.com/acme/odoo-custom@sha256:2",
            1,
        )
    )
    data = yaml.safe_load(path.read_text())
    data["tenants"]["acme-build"]["image"] = "registry.example.com/acme/odoo-custom@sha256:" + "9" * 64
    path.write_text(yaml.safe_dump(data))
    git(clone, "commit", "-qam", "sneak in another image")
    git(clone, "push", "-q", "origin", result["branch"])
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert code == 3
    ignored = gate["verdict"]["approvals"]["ignored"]
    assert [i["reason"].split(":")[0] for i in ignored] == ["stale", "stale"]


def test_approvals_survive_a_rebase_with_the_same_content(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    _, result = promote(capsys, stage)
    number = result["pull_request"]["number"]
    approve(capsys, stage, number, "cab-ines", "cab-jonas")
    stage.pull()
    path = stage.repo.work / "envs/prod/release.yaml"
    path.write_text(path.read_text().replace("revision: 4b5cea", "revision: 5b5cea"))
    stage.repo.commit_all("verify rewrote the current release record")  # main moved under the PR
    code, again = promote(capsys, stage)
    assert (again["action"], again["pushed"]) == ("updated", True)
    assert again["head_sha"] != result["head_sha"]
    assert again["content_hash"] == result["content_hash"]
    assert git(stage.repo.remote, "merge-base", "--is-ancestor", "main", again["branch"]) == ""
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert code == 0, gate
    assert len(gate["verdict"]["approvals"]["counted"]) == 2


# ---------------------------------------------------------------- windows and emergencies


def test_freeze_keeps_the_gate_pending_with_the_next_window(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    stage.move_to(CLOSED)
    _, result = promote(capsys, stage)
    number = result["pull_request"]["number"]
    approve(capsys, stage, number, "cab-ines", "cab-jonas")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert code == 3
    assert gate["verdict"]["state"] == "pending"
    assert gate["verdict"]["window"]["blocked_by"] == ["payroll/payroll"]
    assert gate["verdict"]["window"]["next_open"] == REOPENS.isoformat()
    assert gate["verdict"]["reasons"] == [
        f"outside a change window (blocked by payroll/payroll); next open {REOPENS.isoformat()}"
    ]
    _, shown = cli(capsys, stage, "pr", "show", str(number))
    assert "**Closed now** (blocked by payroll/payroll)" in shown["body"]
    assert shown["statuses"][0]["state"] == "pending"
    code, _ = cli(capsys, stage, "pr", "merge", str(number))
    assert code == 3
    stage.move_to(REOPENS + timedelta(hours=1))  # the window opens, but 3 weeks exceed the approval_ttl
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert (code, gate["verdict"]["state"]) == (3, "pending")
    assert {i["reason"] for i in gate["verdict"]["approvals"]["ignored"]} == {
        "expired (older than the approval_ttl)"
    }
    approve(capsys, stage, number, "cab-ines", "cab-jonas")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert (code, gate["verdict"]["state"]) == (0, "success")


def test_emergency_passes_a_freeze_and_is_audited(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    stage.move_to(CLOSED)
    _, result = promote(capsys, stage, "--emergency", "payroll export broken", "--ticket", "INC-42")
    number = result["pull_request"]["number"]
    assert "emergency" in result["pull_request"]["labels"]
    approve(capsys, stage, number, "cto-paula")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert code == 0, gate
    assert gate["verdict"]["window_overridden"] is True
    assert gate["verdict"]["post_review"] is True
    [override] = [e for e in audit(stage) if e.kind == "override"]
    assert override.data["reason"] == "payroll export broken"
    assert override.data["ticket"] == "INC-42"
    [violated] = override.data["windows_violated"]
    assert (violated["calendar"], violated["window"], violated["kind"]) == ("payroll", "payroll", "deny")
    assert override.data["approvers"] == ["cto-paula"]
    assert override.data["tzdata_version"]
    cli(capsys, stage, "gate", "check", str(number))  # again: no duplicate comment or audit entry
    _, _shown = cli(capsys, stage, "pr", "show", str(number))
    assert len([e for e in audit(stage) if e.kind == "override"]) == 1
    code, _merged = cli(capsys, stage, "pr", "merge", str(number))
    assert code == 0


def test_emergency_label_without_ticket_fails(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    _, result = promote(capsys, stage, "--emergency", "hotfix")
    number = result["pull_request"]["number"]
    approve(capsys, stage, number, "cto-paula")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert (code, gate["verdict"]["state"]) == (3, "failure")
    assert "ticket" in gate["verdict"]["reasons"][0]


# ---------------------------------------------------------------- supersede, waves, rollback


def test_a_newer_promotion_supersedes_the_open_one(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    _, first = promote(capsys, stage)
    stage.release("staging", release_data("1.5.1"))
    _, second = promote(capsys, stage)
    old, new = first["pull_request"]["number"], second["pull_request"]["number"]
    assert second["superseded"] == [old]
    _, listed = cli(capsys, stage, "pr", "list")
    assert [p["number"] for p in listed["pull_requests"]] == [new]
    _code, shown = cli(capsys, stage, "pr", "list", "--all")
    assert [p["state"] for p in shown["pull_requests"]] == ["closed", "open"]


def test_rest_wave_waits_for_the_verified_canary(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    _, canary = promote(capsys, stage)
    number = canary["pull_request"]["number"]
    approve(capsys, stage, number, "cab-ines", "cab-jonas")
    assert cli(capsys, stage, "pr", "merge", str(number))[0] == 0
    code, blocked = promote(capsys, stage)
    assert code == 3
    assert "tenant acme-build is not verified yet" in blocked["message"]
    stage.pull()
    path = stage.repo.work / "envs/prod/release.yaml"
    data = yaml.safe_load(path.read_text())
    data["tenants"]["acme-build"]["verification"] = {
        "revision": "a" * 40,
        "verified_at": NOW - timedelta(hours=5),
    }
    from gitops.promote.edit import render_release

    path.write_text(render_release(data))
    stage.repo.commit_all("canary verified")
    code, rest = promote(capsys, stage)
    assert code == 0, rest
    assert rest["wave"] == "rest"
    assert rest["tenants"] == ["globex-consult", "initech-services", "northwind-civil"]
    changed = git(stage.repo.remote, "diff", "--name-only", "main..." + rest["branch"]).split()
    assert "envs/prod/values.yaml" in changed
    release = yaml.safe_load(remote_show(stage, rest["branch"], "envs/prod/release.yaml"))
    assert release["version"] == "1.5.0"
    assert release["previous"]["version"] == "1.3.2"  # the verified release it replaces


def test_rollback_refuses_a_schema_change_without_db_restore(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = cli(capsys, stage, "rollback", "prod")
    assert code == 3
    assert "--with-db-restore" in result["message"]
    code, result = cli(capsys, stage, "rollback", "prod", "--with-db-restore")
    assert code == 3
    assert "no backup recorded" in result["message"]


def test_rollback_with_db_restore_names_the_backup(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    path = stage.repo.work / "envs/prod/release.yaml"
    path.write_text(path.read_text() + "backup:\n  id: pg-2026-11-03\n  completed_at: 2026-11-03T18:55:00Z\n")
    stage.repo.commit_all("backup recorded")
    code, result = cli(capsys, stage, "rollback", "prod", "--with-db-restore", "--actor", "ops")
    assert code == 0, result
    assert result["branch"].startswith("rollback/prod/1.3.1-")
    _, shown = cli(capsys, stage, "pr", "show", str(result["pull_request"]["number"]))
    assert "restore the database from\n> backup `pg-2026-11-03`" in shown["body"]
    changed = git(stage.repo.remote, "diff", "--name-only", "main..." + result["branch"]).split()
    assert "envs/prod/values.yaml" in changed and len(changed) == 6
    assert audit(stage)[-1].kind == "rollback"


def test_rollback_in_a_freeze_passes_only_the_emergency_path(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    path = stage.repo.work / "envs/prod/release.yaml"
    data = yaml.safe_load(path.read_text())
    data["previous"]["modules"] = data["modules"]  # 1.3.1 had the same modules: no schema change
    from gitops.promote.edit import render_release

    path.write_text(render_release(data))
    stage.repo.commit_all("previous release with the same modules")
    stage.move_to(CLOSED)
    _, plain = cli(capsys, stage, "rollback", "prod", "--actor", "ops")
    number = plain["pull_request"]["number"]
    approve(capsys, stage, number, "rel-maria")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert (code, gate["verdict"]["state"]) == (3, "pending")
    assert "outside a change window" in gate["verdict"]["reasons"][-1]
    code, urgent = cli(
        capsys, stage, "rollback", "prod", "--actor", "ops", "--emergency", "500s", "--ticket", "INC-7"
    )
    assert urgent["action"] == "updated" and urgent["pull_request"]["number"] == number
    assert "emergency" in urgent["pull_request"]["labels"]
    approve(capsys, stage, number, "cto-paula")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert (code, gate["verdict"]["rule"], gate["verdict"]["window_overridden"]) == (0, "emergency", True)
