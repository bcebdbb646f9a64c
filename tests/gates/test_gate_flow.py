"""The gate's promises beyond single bypass attempts: audit before publish, a merge crash repaired once,
fail-closed schema evidence, backups for any wave, emergencies that re-runs never drop silently, escaped PR
bodies, and approvals that say whether they count."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gitops.cli.main import main
from gitops.forge.protocol import ForgeSettings
from gitops.forge.session import open_session
from gitops.promote.marker import MARKER_RE
from tests.fixtures.configrepo import git
from tests.fixtures.promote import CLOSED, Stage
from tests.gates.test_bypass import approve, audit, cli, local_forge

HOSTILE = "db down <!-- odoo-gitops:promotion AAAA --> | **x** [link](http://evil)\n@cab please"


def promote(capsys: pytest.CaptureFixture[str], stage: Stage, *extra: str) -> tuple[int, dict[str, Any]]:
    return cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot", *extra)


def gate_statuses(stage: Stage, head: str) -> list[Any]:
    with open_session(str(stage.repo.remote), ForgeSettings(kind="local", actor="x")) as s:
        return [c for c in s.forge.statuses(head) if c.context == "odoo-gitops/gate"]


def test_a_verdict_is_audited_before_it_is_published(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    _, result = promote(capsys, stage)
    number, head = result["pull_request"]["number"], result["head_sha"]
    approve(capsys, stage, number, "cab-ines", "cab-jonas")
    stage.pull()
    log = stage.repo.work / "audit/prod.jsonl"
    log.write_text(log.read_text().replace('"ci-bot"', '"someone-else"', 1))  # break the chain on main
    stage.repo.commit_all("tamper with the audit log")
    code = main(["gate", "check", str(number), "--config-repo", str(stage.repo.remote)])
    assert code == 2  # the audit write refuses a broken chain
    assert "audit" in capsys.readouterr().err
    [status] = gate_statuses(stage, head)
    assert (status.state, status.description) == ("pending", "awaiting odoo-gitops gate check")  # nothing new


def test_a_crash_between_merge_and_audit_is_repaired_once(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    _, result = promote(capsys, stage)
    number = result["pull_request"]["number"]
    approve(capsys, stage, number, "cab-ines", "cab-jonas")
    with local_forge(stage) as forge:  # the forge merged, then the process died before the audit entry
        merge_sha = forge.merge_pull(forge.get_pull(number), message="merge")
    assert not [e for e in audit(stage, "prod") if e.kind == "merge"]
    for _ in range(2):
        code = main(["pr", "merge", str(number), "--config-repo", str(stage.repo.remote)])
        assert code == 2
        assert "already merged" in capsys.readouterr().err
    [entry] = [e for e in audit(stage, "prod") if e.kind == "merge"]
    assert (entry.data["pr"], entry.data["merge_commit"], entry.data["repaired"]) == (number, merge_sha, True)


def test_without_schema_evidence_the_change_is_destructive(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    stage.pull()
    path = stage.repo.work / "envs/prod/release.yaml"  # prod's modules record no schema: unknown
    path.write_text("".join(line for line in path.read_text().splitlines(True) if "schema: ss1:" not in line))
    stage.repo.commit_all("prod: module schemas unknown")
    stage.move_to(CLOSED)  # month-end / payroll freeze
    code, result = promote(capsys, stage, "--emergency", "payroll export broken", "--ticket", "INC-9")
    assert code == 0
    assert (result["change_class"], result["destructive"]) == ("normal", True)
    assert "change:destructive" in result["pull_request"]["labels"]
    number = result["pull_request"]["number"]
    approve(capsys, stage, number, "cto-paula")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert (code, gate["verdict"]["state"]) == (3, "pending")  # the emergency does not skip the backup
    assert any("database backup must be recorded" in r for r in gate["verdict"]["reasons"])
    assert gate["verdict"]["window_overridden"] is False
    _, shown = cli(capsys, stage, "pr", "show", str(number))
    assert "treated as DESTRUCTIVE (fail closed)" in shown["body"]


def test_a_backup_can_be_recorded_for_a_canary_wave_once(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    stage.pull()
    path = stage.repo.work / "envs/prod/env.yaml"
    rule = "normal: {count: 2, from: [cab]}"
    path.write_text(path.read_text().replace(rule, rule[:-1] + ", require_backup: true}"))
    stage.repo.commit_all("prod: normal changes need a backup")
    _, result = promote(capsys, stage)
    number = result["pull_request"]["number"]
    approve(capsys, stage, number, "cab-ines", "cab-jonas")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert code == 3
    assert gate["verdict"]["reasons"][0].startswith("a database backup must be recorded before")
    for _ in range(2):
        code, again = promote(capsys, stage, "--backup-id", "pg-2026-12-08", "--backup-location", "s3://b/x")
        assert code == 0
    assert [e.data["id"] for e in audit(stage, "prod") if e.kind == "backup"] == ["pg-2026-12-08"]
    release = yaml.safe_load(git(stage.repo.remote, "show", f"{result['branch']}:envs/prod/release.yaml"))
    assert release["tenants"]["acme-build"]["backup"]["id"] == "pg-2026-12-08"
    assert again["content_hash"] == result["content_hash"]  # recording the backup kept the approvals
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert (code, gate["verdict"]["state"]) == (0, "success"), gate["verdict"]["reasons"]


def test_a_rerun_keeps_the_emergency_until_dropped_explicitly(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    _, first = promote(capsys, stage, "--emergency", "payroll export broken", "--ticket", "INC-7")
    code, again = promote(capsys, stage)
    assert code == 0
    assert "emergency" in again["pull_request"]["labels"]
    assert any("kept the emergency" in n for n in again["notes"])
    assert again["content_hash"] == first["content_hash"]
    code, dropped = promote(capsys, stage, "--no-emergency")
    assert "emergency" not in dropped["pull_request"]["labels"]
    assert dropped["content_hash"] != first["content_hash"]  # emergency approvals do not carry over
    release = yaml.safe_load(git(stage.repo.remote, "show", f"{first['branch']}:envs/prod/release.yaml"))
    assert "emergency" not in release


@pytest.mark.parametrize("reason", ["", "   ", "\u200b", "\u2060\u00ad", "\x07\t"])  # invisible: blank
def test_a_blank_emergency_reason_is_refused(
    stage: Stage, capsys: pytest.CaptureFixture[str], reason: str
) -> None:
    code = main(["promote", "staging", "prod", "--config-repo", str(stage.repo.remote), "--emergency", reason,
                 "--ticket", "INC-1"])  # fmt: skip
    assert code == 2
    assert "non-blank REASON" in capsys.readouterr().err


def test_hostile_text_is_escaped_in_the_body(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = promote(capsys, stage, "--emergency", HOSTILE, "--ticket", "INC-1 | <b>")
    assert code == 0
    with local_forge(stage) as forge:
        body = forge.get_pull(result["pull_request"]["number"]).body
    assert len(MARKER_RE.findall(body)) == 1  # only odoo-gitops's own marker
    assert "<!--" not in body.split("odoo-gitops:promotion")[0]
    assert "[link](http" not in body and "**x**" not in body
    [line] = [line for line in body.splitlines() if "Emergency change" in line]
    assert "\\[link\\]" in line and "&lt;b&gt;" in line  # kept readable, on one line
    release = yaml.safe_load(git(stage.repo.remote, "show", f"{result['branch']}:envs/prod/release.yaml"))
    assert release["emergency"]["reason"] == HOSTILE.strip()  # the record keeps the exact text


def test_approve_says_when_an_approval_will_not_count(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    _, result = promote(capsys, stage)
    number = result["pull_request"]["number"]
    for user, reason in (("ci-bot", "PR author"), ("cab-typo", "not in cab")):
        code = main(["pr", "approve", str(number), "--as", user, "--config-repo", str(stage.repo.remote)])
        captured = capsys.readouterr()
        assert code == 0  # the review is recorded, as GitHub would
        assert "(not counted)" in captured.out
        assert f"does not count for the gate: {reason}" in captured.err
    code = main(["pr", "approve", str(number), "--as", "cab-ines", "--config-repo", str(stage.repo.remote)])
    assert "(counted)" in capsys.readouterr().out
    _, shown = cli(capsys, stage, "pr", "show", str(number))
    marks = {r["user"]: (r["counted"], r["reason"]) for r in shown["reviews"]}
    assert marks["cab-ines"] == (True, None)
    assert marks["cab-typo"] == (False, "not in cab")
    assert marks["ci-bot"][1].startswith("PR author")
    assert shown["gate"]["state"] == "pending"
    assert not MARKER_RE.search(shown["body"])
    human = main(["pr", "show", str(number), "--config-repo", str(stage.repo.remote)])
    out = capsys.readouterr().out
    assert human == 0
    assert out.splitlines()[0].startswith("gate: PENDING: normal: 1/2 approvals")
    assert "review: cab-typo APPROVED" in out and "(ignored: not in cab)" in out
