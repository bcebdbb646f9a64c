"""The data rule of lifecycle PRs as pure functions: the `lifecycle_backup` gate (a refresh or the expiry of
production data needs the env's latest backup proven by a rehearsal under its objectives), the approvals
gate leaving backups to it, and an expiring env's owner counting as an approver (never as the proposer)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitops.config.loader import load_config
from gitops.config.models import ApprovalRule, GatePolicy, Recovery
from gitops.errors import ConfigError
from gitops.gates.evidence import Evidence, LifecycleChange, Rehearsal, RehearsalFacts, Review
from gitops.gates.policy import evaluate_gate
from gitops.gates.registry import GATES, stage_gates
from gitops.promote.lifecyclefacts import LIFECYCLE_GATES, lifecycle_change
from tests.fixtures.configrepo import copy_examples

NOW = datetime(2026, 11, 24, 19, 30, tzinfo=UTC)
RECOVERY = Recovery(rpo=timedelta(hours=24), rto=timedelta(hours=2), rehearsal_max_age=timedelta(days=7))
POLICY = GatePolicy(
    teams={"cab": ("cab-ines", "cab-jonas")},
    approvals={"destructive": ApprovalRule(count=1, require_backup=True, **{"from": ("cab",)})},
)
GOOD = Rehearsal("bk-2.dump", True, NOW - timedelta(days=1), restore_seconds=600, backup_age_seconds=1200)
OLDER = Rehearsal("bk-1.dump", True, NOW - timedelta(days=2), restore_seconds=600, backup_age_seconds=1200)
REFRESH = LifecycleChange(change="refresh", env="staging", backup_required=True, backup_why="policy")


def evidence(
    rehearsals: tuple[Rehearsal, ...] = (GOOD, OLDER),
    *,
    change: LifecycleChange | None = REFRESH,
    reviews: tuple[Review, ...] = (Review(1, "cab-ines", "APPROVED", "h", NOW),),
    **facts: object,
) -> Evidence:
    found = replace(RehearsalFacts((), rehearsals, RECOVERY), **facts)  # type: ignore[arg-type]
    return Evidence(
        phase="merge",
        policy=POLICY,
        change_class="normal",
        destructive=True,
        content_hash="c",
        bindings={"h": "c"},
        reviews=reviews,
        excluded={"ci-bot": "lifecycle run actor"},
        rehearsal=lambda: found,
        lifecycle=change,
        now=NOW,
    )


def backup_gate(ev: Evidence) -> tuple[str, tuple[str, ...], object]:
    verdict = evaluate_gate(LIFECYCLE_GATES, ev)
    [result] = [g for g in verdict.gates if g.name == "lifecycle_backup"]
    return result.state, result.reasons, result.detail.get("backup")


@pytest.mark.parametrize(
    ("ev", "state", "why"),
    [
        (evidence(), "success", ""),
        (evidence(change=replace(REFRESH, backup_required=False)), "success", ""),
        (evidence(()), "pending", "no backup of 'staging' was rehearsed"),
        (
            evidence((replace(GOOD, passed=False, reason="row counts"), OLDER)),
            "failure",
            "failed: row counts",
        ),
        (evidence((replace(GOOD, at=NOW - timedelta(days=8)),)), "pending", "older than 7d"),
        (evidence((replace(GOOD, restore_seconds=3 * 3600),)), "failure", "exceeds the objective"),
        (evidence((replace(GOOD, at=NOW + timedelta(hours=1)),)), "failure", "in the future"),
        (evidence(recovery=None), "failure", "no recovery objectives"),
        (evidence(trusted=False, problem="chain broken"), "failure", "chain broken"),
    ],
    ids=[
        "latest-passed",
        "not-asked",
        "none",
        "latest-failed",
        "stale",
        "slow",
        "future",
        "no-recovery",
        "forged",
    ],
)
def test_the_backup_a_lifecycle_change_relies_on(ev: Evidence, state: str, why: str) -> None:
    got, reasons, backup = backup_gate(ev)
    assert got == state, reasons
    assert why in " ".join(reasons)
    assert backup == ("bk-2.dump" if state == "success" and ev.lifecycle.backup_required else None)  # type: ignore[union-attr]
    if state != "success":
        assert reasons[0].startswith("policy: ")  # the env's policy that asks for it comes first


def test_the_approvals_gate_leaves_a_lifecycle_backup_to_the_lifecycle_gate() -> None:
    """A promotion's `require_backup` (promote --backup-id) is not asked of a refresh: it has no release."""
    verdict = evaluate_gate(LIFECYCLE_GATES, evidence())
    assert verdict.state == "success" and not verdict.backup_required
    promotion = evaluate_gate(("approvals", "lifecycle_backup"), evidence(change=None))
    assert promotion.state == "pending" and "--backup-id" in promotion.reasons[0]


def test_an_expiring_envs_owner_counts_unless_they_proposed_it() -> None:
    expire = LifecycleChange(change="expire", env="jv", approvers=frozenset({"Rel-Omar"}))
    owner = (Review(1, "rel-omar", "APPROVED", "h", NOW),)
    assert evaluate_gate(LIFECYCLE_GATES, evidence(change=expire, reviews=owner)).state == "success"
    outsider = (Review(1, "dev-zed", "APPROVED", "h", NOW),)
    verdict = evaluate_gate(LIFECYCLE_GATES, evidence(change=expire, reviews=outsider))
    assert verdict.state == "pending" and "nor the env's owner" in verdict.ignored[0].reason
    bot = replace(expire, approvers=frozenset({"ci-bot"}))
    own = (Review(1, "ci-bot", "APPROVED", "h", NOW),)
    verdict = evaluate_gate(LIFECYCLE_GATES, evidence(change=bot, reviews=own))
    assert verdict.state == "pending" and "may not approve their own" in verdict.ignored[0].reason
    refresh = evaluate_gate(LIFECYCLE_GATES, evidence(reviews=owner))  # the owner counts only for expire
    assert refresh.state == "pending"


def test_which_changes_ask_for_a_backup_under_the_examples(tmp_path: Path) -> None:
    repo = load_config(copy_examples(tmp_path / "cfg"))
    refresh = lifecycle_change(repo, "lifecycle:refresh", "staging")
    assert refresh.backup_required and "overwrites 'staging'" in refresh.backup_why
    expire = lifecycle_change(repo, "lifecycle:expire", "staging")  # masked data: no final backup
    assert not expire.backup_required and expire.approvers == {"rel-maria"}
    for kind in ("lifecycle:create", "lifecycle:extend"):
        assert lifecycle_change(repo, kind, "staging") == LifecycleChange(change=kind[10:], env="staging")
    assert lifecycle_change(repo, "lifecycle:refresh", "not-on-main").backup_required is False


def test_a_stage_cannot_list_the_lifecycle_gate(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "cfg")
    pipeline = root / "pipelines" / "odoo.yaml"
    text = pipeline.read_text().replace("gates: [window, approvals", "gates: [lifecycle_backup, approvals", 1)
    pipeline.write_text(text)
    assert "lifecycle_backup" not in GATES
    with pytest.raises(ConfigError, match="lifecycle_backup"):
        stage_gates(load_config(root), "staging")
