"""gitops/lifecycle/requests.py: what a lifecycle PR says and who is asked to review it, by value (the
branch/PR/audit flow against real git: tests/lifecycle/test_envs.py and test_attacks.py)."""

from __future__ import annotations

from gitops.config.models import ApprovalRule, GatePolicy
from gitops.lifecycle.requests import ChangeRequest, _reviewers, approval_text, branch_name, render_body
from gitops.promote.lifecyclefacts import is_lifecycle_branch

POLICY = GatePolicy(
    teams={"cab": ("cab-ines", "Cab-Jonas"), "dev": ("dev-anna",)},
    approvals={
        "normal": ApprovalRule(count=1, **{"from": ("dev", "@lead-omar")}),
        "destructive": ApprovalRule(count=2, **{"from": ("cab",)}),
        "standard": ApprovalRule(count=0),
    },
    reviewers=("cab", "@dev-anna"),
)


def test_the_branch_is_one_per_change_and_env_and_the_gate_reads_it_back() -> None:
    for kind in ("create", "extend", "expire", "refresh"):
        assert branch_name(kind, "review-42") == f"lifecycle/{kind}/review-42"
        assert is_lifecycle_branch(branch_name(kind, "review-42"))


def test_the_approvals_a_change_needs_are_said_from_the_policy() -> None:
    assert approval_text(POLICY, "normal") == (
        "1 approval(s) from dev, @lead-omar (the `normal` rule of the environment's gate policy)"
    )
    assert approval_text(POLICY, "destructive").startswith("2 approval(s) from cab ")
    assert approval_text(POLICY, "standard") == (
        "no approval required by the `standard` rule of the environment's gate policy"
    )
    assert approval_text(GatePolicy(), "destructive").startswith("no approval required")
    anyone = GatePolicy(approvals={"normal": ApprovalRule(count=1)})
    assert approval_text(anyone, "normal").startswith("1 approval(s) from anyone ")


def test_the_body_ends_with_the_approvals_and_the_owners_mention() -> None:
    request = ChangeRequest(kind="expire", env="review-42", title="Expire review-42", body="Expires.\n\n",
                            changes={}, policy=POLICY, rule="destructive", mention="dev-anna")  # fmt: skip
    assert render_body(request) == (
        "Expires.\n\n**Approvals:** 2 approval(s) from cab (the `destructive` rule of the environment's "
        "gate policy).\n\ncc @dev-anna (owner of `review-42`)\n"
    )
    quiet = ChangeRequest(kind="extend", env="review-42", title="t", body="b", changes={}, policy=POLICY)
    assert render_body(quiet).endswith("(the `normal` rule of the environment's gate policy).\n")
    assert quiet.branch == "lifecycle/extend/review-42"


def test_reviewers_are_the_policys_reviewers_without_the_author() -> None:
    assert _reviewers(POLICY, "bot") == ["cab-ines", "cab-jonas", "dev-anna"]
    assert _reviewers(POLICY, "Dev-Anna") == ["cab-ines", "cab-jonas"]  # never asked to review their own PR
