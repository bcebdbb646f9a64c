"""Gate policy as a pure function: approvals per class, self-approval, staleness, windows, emergencies."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gitops.config.models import ApprovalRule, EmergencyRule, GatePolicy
from gitops.gates.content import hash_files
from gitops.gates.evidence import SupplyResult
from gitops.gates.policy import Emergency, Evidence, GateVerdict, Review, WindowState, latest_reviews
from gitops.gates.policy import evaluate_gate as evaluate_stage

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
RELEASE_PATH = "envs/prod/release.yaml"
RELEASE = "image: r/o@sha256:" + "a" * 64 + "\nmodules:\n  m: {version: '1', checksum: " + "c" * 40 + "}\n"
HASH = hash_files({RELEASE_PATH: RELEASE}, release_path=RELEASE_PATH)
OTHER_HASH = hash_files({RELEASE_PATH: RELEASE.replace("a" * 64, "b" * 64)}, release_path=RELEASE_PATH)
ALL_GATES = ("window", "approvals", "scan", "signature")


def approve(review_id: int, user: str, sha: str = "head1", at: datetime = NOW) -> Review:
    return Review(review_id, user, "APPROVED", sha, at - timedelta(minutes=5))


def gate(**overrides: object) -> Evidence:
    window = overrides.pop("window", WindowState(open=True))
    base = Evidence(
        phase="merge",
        policy=POLICY,
        change_class="normal",
        destructive=False,
        content_hash=HASH,
        bindings={"head1": HASH, "head0": OTHER_HASH, "rebased": HASH},
        reviews=(),
        excluded={"ci-bot": "promotion actor", "dev-alice": "PR author", "cab-kofi": "commit author"},
        window=lambda: window,  # type: ignore[arg-type,return-value]
        emergency=None,
        backup_recorded=False,
        signature=lambda: SupplyResult(ok=True, text="verified"),
        scan=lambda: SupplyResult(ok=True, text="passed"),
        now=NOW,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def evaluate_gate(evidence: Evidence, gates: tuple[str, ...] = ALL_GATES) -> GateVerdict:
    return evaluate_stage(gates, evidence)


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
            emergency=Emergency(reason="payroll export broken", ticket="INC-42", declared_at=NOW),
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


@pytest.mark.parametrize(
    ("reason", "ticket"), [("\u200b", "INC-1"), ("broken", "\u2060 "), ("\x07\x00", "INC-1")]
)
def test_an_emergency_with_invisible_reason_or_ticket_fails(reason: str, ticket: str) -> None:
    """A release record with a reason or ticket nobody can read (zero-width, control characters) is no
    declaration: the gate checks what it reads, whatever wrote it."""
    verdict = evaluate_gate(
        gate(
            reviews=(approve(1, "cto-paula"),),
            emergency=Emergency(reason=reason, ticket=ticket, declared_at=NOW),
        )
    )
    assert verdict.state == "failure"
    assert any(r.startswith("emergency without a") for r in verdict.reasons), verdict.reasons


@pytest.mark.parametrize(
    ("reviews", "overridden"),
    [((), False), ((approve(1, "cto-paula"),), True), ((approve(1, "cab-kofi"),), False)],
)
def test_break_glass_takes_the_emergency_approvers_on_a_stage_without_approvals(
    reviews: tuple[Review, ...], overridden: bool
) -> None:
    """A stage listing `window` but not `approvals` still needs the ECAB to break glass."""
    declared = Emergency(reason="payroll export broken", ticket="INC-42", declared_at=NOW)
    evidence = gate(
        reviews=reviews, window=WindowState(open=False, blocked_by=("freeze",)), emergency=declared
    )
    verdict = evaluate_gate(evidence, ("window", "scan", "signature"))
    assert (verdict.state, verdict.window_overridden) == ("success" if overridden else "pending", overridden)
    assert verdict.required == 0
    if not overridden:
        assert "break-glass: needs 1 more approval from ecab" in verdict.reasons, verdict.reasons


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
    def h(release: str, **values: str) -> str:
        return hash_files({RELEASE_PATH: release, **values}, release_path=RELEASE_PATH)

    later = RELEASE + "backup: {id: b, completed_at: 2026-11-24T19:00:00Z}\n"
    assert h(RELEASE) == h(later)  # recording a backup after the approval keeps it
    assert h(RELEASE) != h(RELEASE + "schema_fingerprint: sha256:x\n")
    assert h(RELEASE) != h(RELEASE + "destructive: true\n")
    assert h(RELEASE) != h(RELEASE + "emergency: {reason: r, ticket: t}\n")
    tenant = "envs/prod/tenants/t1.yaml"
    assert h(RELEASE, **{tenant: "image: {digest: x}\nreplicas: 1\n"}) == h(
        RELEASE, **{tenant: "image: {digest: x}\nreplicas: 2\n"}
    )  # user keys are checked apart (a promotion may not change them), not hashed
    assert h(RELEASE, **{tenant: "image: {digest: x}\n"}) != h(RELEASE, **{tenant: "image: {digest: y}\n"})
    assert h(RELEASE, **{tenant: "release: {backupRequired: false}\n"}) != h(
        RELEASE, **{tenant: "release: {backupRequired: true}\n"}
    )


def test_a_stage_without_approvals_requires_none() -> None:
    verdict = evaluate_gate(gate(), gates=("window", "scan", "signature"))
    assert (verdict.state, verdict.required) == ("success", 0)
    assert [g.name for g in verdict.gates] == ["window", "scan", "signature"]
    listed = evaluate_gate(gate())
    assert (listed.state, listed.required) == ("pending", 2)


def test_missing_supply_evidence_fails_closed() -> None:
    reviews = (approve(1, "cab-ines"), approve(2, "cab-jonas"))
    verdict = evaluate_gate(gate(reviews=reviews, signature=lambda: None))
    assert verdict.state == "failure"
    assert "no image signature evidence" in verdict.reasons[0]


def test_integrity_problems_fail_whatever_the_approvals() -> None:
    reviews = (approve(1, "cab-ines"), approve(2, "cab-jonas"))
    verdict = evaluate_stage(ALL_GATES, gate(reviews=reviews), problems=("the PR edits envs/prod/env.yaml",))
    assert verdict.state == "failure"
    assert verdict.reasons[0] == "the PR edits envs/prod/env.yaml"


OPEN_RULE = POLICY.model_copy(update={"approvals": {**POLICY.approvals, "normal": ApprovalRule(count=1)}})


@pytest.mark.parametrize(
    ("review", "policy", "state"),
    [
        (replace(approve(1, "stranger"), outsider=True), OPEN_RULE, "pending"),  # empty from: ignored
        (approve(1, ""), OPEN_RULE, "pending"),  # a deleted account
        (approve(1, "stranger"), OPEN_RULE, "success"),  # an insider: anyone not excluded counts
        (replace(approve(1, "cab-ines"), outsider=True), POLICY, "pending"),  # needs 2 from cab
        (
            replace(Review(1, "stranger", "CHANGES_REQUESTED", "head1", NOW), outsider=True),
            OPEN_RULE,
            "pending",
        ),
        (Review(1, "insider", "CHANGES_REQUESTED", "head1", NOW), OPEN_RULE, "failure"),
    ],
)
def test_outsiders_neither_count_nor_block_under_an_empty_from(
    review: Review, policy: GatePolicy, state: str
) -> None:
    verdict = evaluate_gate(gate(policy=policy, reviews=(review,)))
    assert verdict.state == state, verdict.reasons


def test_a_listed_reviewer_counts_whatever_the_forge_says_about_access() -> None:
    reviews = (replace(approve(1, "cab-ines"), outsider=True), approve(2, "cab-jonas"))
    assert evaluate_gate(gate(reviews=reviews)).state == "success"


@pytest.mark.parametrize(
    ("defined", "change_class", "destructive", "needs", "backup"),
    [
        # no `destructive:` rule: a destructive change is governed by `normal`, never by nothing
        ({"normal": ApprovalRule(count=2, **{"from": ("cab",)})}, "normal", True, 2, False),
        # only `destructive:` defined: a standard change gets the stricter rule, not zero approvals
        ({"destructive": ApprovalRule(count=2, require_backup=True, **{"from": ("cab",)})}, "standard", False,
         2, True),
        # standard falls to normal before destructive
        ({"normal": ApprovalRule(count=2, **{"from": ("cab",)}),
          "destructive": ApprovalRule(count=3, **{"from": ("cab",)})}, "standard", False, 2, False),
    ],
)  # fmt: skip
def test_a_class_without_a_rule_of_its_own_falls_to_the_nearest_stricter_one(
    defined: dict[str, ApprovalRule], change_class: str, destructive: bool, needs: int, backup: bool
) -> None:
    policy = GatePolicy(teams=POLICY.teams, approvals=defined)  # type: ignore[arg-type]
    one = gate(policy=policy, change_class=change_class, destructive=destructive,
               reviews=(approve(1, "cab-ines"),))  # fmt: skip
    verdict = evaluate_gate(one, gates=("approvals",))
    assert verdict.state == "pending"
    assert f"1/{needs} approvals" in verdict.description
    three = (approve(1, "cab-ines"), approve(2, "cab-jonas"), approve(3, "cab-kofi"))
    both = gate(policy=policy, change_class=change_class, destructive=destructive, backup_recorded=True,
                reviews=three)  # fmt: skip
    assert evaluate_gate(both, gates=("approvals",)).state == "success"
    unbacked = replace(both, backup_recorded=False)
    assert evaluate_gate(unbacked, gates=("approvals",)).state == ("pending" if backup else "success")
