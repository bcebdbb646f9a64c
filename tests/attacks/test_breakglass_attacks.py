"""Attacks on the emergency (break-glass) path, against the real CLI (local forge, real git, the real window
engine): an emergency is a short-lived licence to pass a closed window, bound to the PR's content, its
environment and the ECAB, never a standing one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.fixtures.promote import NOW, Stage
from tests.gates.test_bypass import approve, audit, cli, local_forge

EMERGENCY = ("--emergency", "payroll export broken", "--ticket", "INC-7")
SUNDAY = NOW + timedelta(days=4, hours=18)  # Sunday 13:30 in Berlin: weekend and payroll freeze, closed


def declared(stage: Stage, capsys: pytest.CaptureFixture[str], *extra: str) -> int:
    code, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot", *extra)
    assert code == 0, result
    return int(result["pull_request"]["number"])


def overrides(stage: Stage) -> list[object]:
    return [e for e in audit(stage, "prod") if e.kind == "override"]


@pytest.mark.parametrize(
    ("declared_before", "state", "overridden"),
    [
        (timedelta(hours=23), "success", True),
        (timedelta(hours=25), "pending", False),
        # promote run on a machine whose clock is a month ahead: the audit entry it wrote is dated then
        (timedelta(days=-30), "pending", False),
    ],
)
def test_an_emergency_declared_days_ago_does_not_pass_todays_freeze(
    stage: Stage,
    capsys: pytest.CaptureFixture[str],
    declared_before: timedelta,
    state: str,
    overridden: bool,
) -> None:
    """Attack: declare an emergency while the window is open (nothing to break), let it sit, and merge with a
    fresh ECAB approval in a later freeze. An override lasts 24h at most (gitops.windows.breakglass.MAX_TTL),
    counted from the audited promote run that declared the emergency."""
    stage.move_to(SUNDAY - declared_before)
    number = declared(stage, capsys, *EMERGENCY)
    stage.move_to(SUNDAY)
    approve(capsys, stage, number, "cto-paula")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    verdict = gate["verdict"]
    assert (code, verdict["state"], verdict["window_overridden"]) == (
        0 if overridden else 3,
        state,
        overridden,
    ), verdict["reasons"]
    assert len(overrides(stage)) == (1 if overridden else 0)
    if not overridden:
        why = "older than 24h" if declared_before > timedelta(0) else "in the future"
        assert any("declared at" in r and why in r for r in verdict["reasons"]), verdict
        code, _ = cli(capsys, stage, "pr", "merge", str(number))
        assert code == 3


def _delete_from_override(lines: list[str]) -> list[str]:
    return lines[: next(i for i, line in enumerate(lines) if '"kind":"override"' in line)]


def _reword_the_override(lines: list[str]) -> list[str]:
    return [line.replace("payroll export broken", "routine change") for line in lines]


@pytest.mark.parametrize("tamper", [_delete_from_override, _reword_the_override], ids=["deleted", "edited"])
def test_an_override_entry_removed_or_edited_on_main_is_found(
    stage: Stage, capsys: pytest.CaptureFixture[str], tamper: Callable[[list[str]], list[str]]
) -> None:
    """Attack: break glass, then hide it by deleting or rewording its audit entry in a commit on main. An
    edit breaks the hash chain (the gate fails closed on every PR of the env); a deletion of the tail keeps
    the chain but `audit verify` finds the commit that removed entries, also after later entries."""
    stage.move_to(SUNDAY)
    number = declared(stage, capsys, *EMERGENCY)
    approve(capsys, stage, number, "cto-paula")
    _, gate = cli(capsys, stage, "gate", "check", str(number))
    assert gate["verdict"]["window_overridden"]
    stage.pull()
    path = stage.repo.work / "audit/prod.jsonl"
    path.write_text("".join(tamper(path.read_text().splitlines(True))))
    stage.repo.commit_all("tidy the audit log")
    code, verified = cli(capsys, stage, "audit", "verify", "prod")
    assert (code, verified["chains"][0]["ok"]) == (4, False)
    code, gate = cli(capsys, stage, "gate", "check", str(number), "--no-publish")
    if tamper is _reword_the_override:
        assert (code, gate["verdict"]["state"]) == (3, "failure")
        assert any("audit/prod.jsonl on main is not intact" in r for r in gate["verdict"]["reasons"])
    else:
        cli(capsys, stage, "gate", "check", str(number))  # later entries do not hide the removal
        code, verified = cli(capsys, stage, "audit", "verify", "prod")
        assert (code, verified["chains"][0]["ok"]) == (4, False)


def test_a_stage_without_approvals_gives_no_self_declared_break_glass(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: on a stage that lists `window` but not `approvals`, declare an emergency yourself and merge in
    a freeze with nobody else involved. Break-glass always takes the emergency approvers (the ECAB) and a
    reason and ticket, whatever the stage lists; without them the window stays closed."""
    stage.pull()
    path = stage.repo.work / "pipelines/odoo.yaml"
    text, old = path.read_text(), "gates: [window, approvals, scan, signature]"
    last = text.rindex(old)  # prod is the last stage
    path.write_text(text[:last] + "gates: [window, scan, signature]" + text[last + len(old) :])
    stage.repo.commit_all("prod: no approvals, the window only (a reviewed change on main)")
    stage.move_to(SUNDAY)
    number = declared(stage, capsys, *EMERGENCY)
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    verdict = gate["verdict"]
    assert (code, verdict["state"], verdict["window_overridden"]) == (3, "pending", False), verdict
    assert any("needs 1 more approval from ecab" in r for r in verdict["reasons"]), verdict["reasons"]
    assert not overrides(stage)
    assert cli(capsys, stage, "pr", "merge", str(number))[0] == 3
    approve(capsys, stage, number, "cto-paula")
    code, gate = cli(capsys, stage, "gate", "check", str(number))
    assert (code, gate["verdict"]["window_overridden"]) == (0, True), gate["verdict"]["reasons"]
    assert gate["verdict"]["approvals"]["required"] == 0  # the stage itself still asks for none


def test_a_planted_marker_does_not_suppress_the_post_review_comment(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack: before the emergency passes, comment the post-review marker alone (an HTML comment: invisible
    on GitHub) so that the gate believes it already asked for the CAB's post-review and never does."""
    stage.move_to(SUNDAY)
    number = declared(stage, capsys, *EMERGENCY)
    with local_forge(stage) as forge:
        forge.comment(number, "<!-- odoo-gitops:post-review -->")
    approve(capsys, stage, number, "cto-paula")
    for _ in range(2):  # and only once, however often the gate runs
        code, gate = cli(capsys, stage, "gate", "check", str(number))
        assert (code, gate["verdict"]["window_overridden"]) == (0, True), gate["verdict"]["reasons"]
    with local_forge(stage) as forge:
        notices = [c for c in forge.comments(number) if "Post-review required" in c]
    assert len(notices) == 1, notices
    assert "INC-7" in notices[0]
