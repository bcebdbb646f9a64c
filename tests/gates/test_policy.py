"""Gate policy as a pure function: approvals per class, self-approval, staleness, windows, emergencies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gitops.config.models import ApprovalRule, EmergencyRule, GatePolicy
from gitops.gates.content import migration_hash
from gitops.gates.policy import Emergency, GateInput, Review, WindowState, evaluate_gate, latest_reviews

NOW = datetime(2026, 11, 24, 19, 30, tzinfo=UTC)
POLICY = GatePolicy(
    teams={"release": ("rel-maria",), "cab": ("cab-ines", "cab-jonas", "cab-kofi"), "ecab": ("cto-paula",)},
    approvals={
        "standard": ApprovalRule(count=1, **{"from": ("release",)}),
        "normal": ApprovalRule(count=2, **{"from": ("cab",)}),
        "destructive": ApprovalRule(count=2, require_backup=True, **{"from": ("cab",)}),
    },
    emergency=EmergencyRule(approvals=ApprovalRule(count=1, **{"from": ("ecab",)})),
    approval_ttl=timedelta(hours=72),
)
RELEASE = {"image": "r/o@sha256:" + "a" * 64, "modules": {"m": {"version": "1", "checksum": "c" * 40}}}
HASH = migration_hash(RELEASE)
OTHER_HASH = migration_hash({**RELEASE, "image": "r/o@sha256:" + "b" * 64})


def approve(review_id: int, user: str, sha: str = "head1", at: datetime = NOW) -> Review:
    return Review(review_id, user, "APPROVED", sha, at - timedelta(minutes=5))


def gate(**overrides: object) -> GateInput:
    base = GateInput(
        policy=POLICY,
        change_class="normal",
        destructive=False,
        content_hash=HASH,
        bindings={"head1": HASH, "head0": OTHER_HASH, "rebased": HASH},
        reviews=(),
        excluded={"ci-bot": "promotion actor", "dev-alice": "PR author", "cab-kofi": "commit author"},
        window=WindowState(open=True),
        emergency=None,
        backup_recorded=False,
        now=NOW,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_two_cab_approvals_make_a_normal_change_succeed() -> None:
    verdict = evaluate_gate(gate(reviews=(approve(1, "cab-ines"), approve(2, "cab-jonas"))))
    assert verdict.state == "success"
    assert [a.user for a in verdict.counted] == ["cab-ines", "cab-jonas"]
    assert verdict.description.startswith("normal: 2/2 approvals")


def test_one_approval_is_pending_with_the_count_missing() -> None:
    verdict = evaluate_gate(gate(reviews=(approve(1, "cab-ines"),)))
    assert verdict.state == "pending"
    assert verdict.reasons == ("needs 1 more approval from cab",)


@pytest.mark.parametrize(
    ("user", "why"),
    [("ci-bot", "promotion actor"), ("dev-alice", "PR author"), ("cab-kofi", "commit author")],
)
def test_self_approval_never_counts(user: str, why: str) -> None:
    verdict = evaluate_gate(gate(reviews=(approve(1, "cab-ines"), approve(2, user))))
    assert verdict.state == "pending"
    assert [a.user for a in verdict.counted] == ["cab-ines"]
    assert verdict.ignored[0].user == user
    assert why in verdict.ignored[0].reason


def test_approvals_from_outside_the_team_do_not_count() -> None:
    verdict = evaluate_gate(gate(reviews=(approve(1, "cab-ines"), approve(2, "rel-maria"))))
    assert verdict.state == "pending"
    assert verdict.ignored[0].reason == "not in cab"


def test_approval_of_different_content_is_stale() -> None:
    reviews = (approve(1, "cab-ines", sha="head0"), approve(2, "cab-jonas"))
    verdict = evaluate_gate(gate(reviews=reviews))
    assert verdict.state == "pending"
    assert "stale: approved different content" in verdict.ignored[0].reason


def test_approval_survives_a_rebase_with_the_same_content() -> None:
    reviews = (approve(1, "cab-ines", sha="rebased"), approve(2, "cab-jonas", sha="head1"))
    assert evaluate_gate(gate(reviews=reviews)).state == "success"


def test_approval_of_an_unknown_commit_is_stale() -> None:
    reviews = (approve(1, "cab-ines", sha="nowhere"), approve(2, "cab-jonas"))
    verdict = evaluate_gate(gate(reviews=reviews))
    assert "unknown content" in verdict.ignored[0].reason


def test_expired_approval_does_not_count() -> None:
    old = approve(1, "cab-ines", at=NOW - timedelta(hours=80))
    verdict = evaluate_gate(gate(reviews=(old, approve(2, "cab-jonas"))))
    assert verdict.ignored[0].reason.startswith("expired")


def test_latest_review_per_user_decides() -> None:
    reviews = (
        approve(1, "cab-ines"),
        Review(2, "cab-ines", "COMMENTED", "head1"),
        Review(3, "cab-jonas", "APPROVED", "head1"),
        Review(4, "cab-jonas", "DISMISSED", "head1"),
    )
    assert [r.id for r in latest_reviews(reviews)] == [1, 4]
    assert evaluate_gate(gate(reviews=reviews)).state == "pending"


def test_changes_requested_by_an_eligible_reviewer_fails() -> None:
    reviews = (
        approve(1, "cab-ines"),
        approve(2, "cab-jonas"),
        Review(3, "cab-kofi", "CHANGES_REQUESTED", "x"),
    )
    verdict = evaluate_gate(gate(reviews=reviews, excluded={}))
    assert verdict.state == "failure"
    assert verdict.reasons[0] == "cab-kofi requested changes"


def test_freeze_blocks_with_the_next_open_time() -> None:
    window = WindowState(open=False, blocked_by=("payroll",), next_open=NOW + timedelta(days=2))
    verdict = evaluate_gate(gate(reviews=(approve(1, "cab-ines"), approve(2, "cab-jonas")), window=window))
    assert verdict.state == "pending"
    assert verdict.reasons == (
        f"outside a change window (blocked by payroll); next open {(NOW + timedelta(days=2)).isoformat()}",
    )
    assert not verdict.window_overridden


def test_emergency_passes_a_freeze_with_ecab_reason_and_ticket() -> None:
    window = WindowState(open=False, blocked_by=("month-end",))
    verdict = evaluate_gate(
        gate(
            reviews=(approve(1, "cto-paula"),),
            window=window,
            emergency=Emergency(reason="payroll export broken", ticket="INC-42"),
        )
    )
    assert verdict.state == "success"
    assert verdict.rule == "emergency"
    assert verdict.window_overridden
    assert verdict.post_review
    assert "window overridden" in verdict.description


def test_emergency_without_ticket_fails() -> None:
    verdict = evaluate_gate(
        gate(reviews=(approve(1, "cto-paula"),), emergency=Emergency(reason="broken", ticket=None))
    )
    assert verdict.state == "failure"
    assert "emergency without a ticket" in verdict.reasons[0]


def test_emergency_needs_the_emergency_approvers() -> None:
    window = WindowState(open=False, blocked_by=("freeze",))
    verdict = evaluate_gate(
        gate(
            reviews=(approve(1, "cab-ines"), approve(2, "cab-jonas")),
            window=window,
            emergency=Emergency(reason="r", ticket="t"),
        )
    )
    assert verdict.state == "pending"
    assert not verdict.window_overridden
    assert "needs 1 more approval from ecab" in verdict.reasons


def test_destructive_change_needs_a_recorded_backup() -> None:
    reviews = (approve(1, "cab-ines"), approve(2, "cab-jonas"))
    pending = evaluate_gate(gate(reviews=reviews, destructive=True))
    assert pending.state == "pending"
    assert pending.rule == "destructive"
    assert "backup" in pending.reasons[0]
    assert evaluate_gate(gate(reviews=reviews, destructive=True, backup_recorded=True)).state == "success"


def test_standard_change_follows_its_own_rule() -> None:
    verdict = evaluate_gate(gate(change_class="standard", reviews=(approve(1, "rel-maria"),)))
    assert (verdict.state, verdict.rule, verdict.required) == ("success", "standard", 1)


def test_description_fits_a_github_status() -> None:
    window = WindowState(open=False, blocked_by=tuple(f"calendar-{i}" for i in range(30)))
    verdict = evaluate_gate(gate(window=window))
    assert len(verdict.description) <= 140


def test_content_hash_changes_with_content_only() -> None:
    assert migration_hash(RELEASE) == migration_hash(
        {**RELEASE, "promoted_at": "later", "backup": {"id": "b"}}
    )
    assert migration_hash(RELEASE) != migration_hash({**RELEASE, "schema_fingerprint": "sha256:x"})
    with_tenant = {**RELEASE, "tenants": {"t1": {"image": "x"}}}
    assert migration_hash(with_tenant, tenants=["t1"]) != migration_hash(RELEASE, tenants=["t1"])
