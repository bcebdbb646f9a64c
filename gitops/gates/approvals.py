"""The `approvals` gate: enough approvals from the right people for the change class (or the emergency
rule), each bound to the content it was given for; a backup recorded before a change that needs one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gitops.config.models import ApprovalRule, GatePolicy
from gitops.gates.evidence import Evidence, Gate, GateResult, GateState, Review
from gitops.windows.breakglass import blank

RuleName = Literal["standard", "normal", "destructive", "emergency"]


@dataclass(frozen=True)
class CountedApproval:
    user: str
    review_id: int
    commit_id: str


@dataclass(frozen=True)
class IgnoredApproval:
    user: str
    review_id: int
    reason: str


def rule_name(change_class: str, destructive: bool) -> Literal["standard", "normal", "destructive"]:
    if destructive:
        return "destructive"
    return "standard" if change_class == "standard" else "normal"


def eligible_users(policy: GatePolicy, sources: Sequence[str]) -> frozenset[str]:
    """Users named by `from`: team names expand to members, '@user' names one user."""
    users: set[str] = set()
    for source in sources:
        users.update([source[1:]] if source.startswith("@") else policy.teams.get(source, ()))
    return frozenset(u.lower() for u in users)


def latest_reviews(reviews: Sequence[Review]) -> list[Review]:
    """The latest deciding review per user (comments do not change an earlier decision)."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state in {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}:
            latest[review.user.lower()] = review
    return list(latest.values())


def active_rule(evidence: Evidence) -> tuple[RuleName, ApprovalRule]:
    """The rule approvals are counted under: the emergency rule when the promotion declares one."""
    policy = evidence.policy
    if evidence.emergency is not None and policy.emergency is not None:
        return "emergency", policy.emergency.approvals
    name = rule_name(evidence.change_class, evidence.destructive)
    return name, policy.rule(name) or ApprovalRule(count=0)


def outsider(review: Review) -> bool:
    """A reviewer the forge says has no access to the repository (or a deleted account). It matters under a
    rule with an empty `from` only: a rule naming teams or users trusts those logins, whatever the forge
    says about a membership it may not be allowed to see."""
    return review.outsider or not review.user


def judge(review: Review, evidence: Evidence, rule: ApprovalRule) -> IgnoredApproval | None:
    """None when the approval counts, otherwise why it does not."""
    user = review.user.lower()
    why = evidence.excluded.get(user)
    if why:
        return IgnoredApproval(review.user, review.id, f"{why}: may not approve their own promotion")
    if rule.from_ and user not in eligible(evidence, rule):
        owner = " nor the env's owner" if evidence.lifecycle and evidence.lifecycle.approvers else ""
        return IgnoredApproval(review.user, review.id, f"not in {', '.join(rule.from_)}{owner}")
    if not rule.from_ and outsider(review):
        return IgnoredApproval(review.user, review.id, "no write access to the repository (an outsider)")
    seen = evidence.bindings.get(review.commit_id)
    if seen != evidence.content_hash:
        what = "unknown content" if seen is None else "different content"
        return IgnoredApproval(review.user, review.id, f"stale: approved {what} at {review.commit_id[:12]}")
    ttl = evidence.policy.approval_ttl
    if ttl and review.submitted_at and evidence.now - review.submitted_at > ttl:
        return IgnoredApproval(review.user, review.id, "expired (older than the approval_ttl)")
    return None


def eligible(evidence: Evidence, rule: ApprovalRule) -> frozenset[str]:
    """Who may approve under `rule`: its `from`, and whom a lifecycle change adds (an expired env's owner)."""
    extra = evidence.lifecycle.approvers if evidence.lifecycle else frozenset()
    return eligible_users(evidence.policy, rule.from_) | {u.lower() for u in extra}


def count_approvals(
    evidence: Evidence, rule: ApprovalRule
) -> tuple[list[CountedApproval], list[IgnoredApproval], list[str]]:
    allowed = eligible(evidence, rule)
    counted: list[CountedApproval] = []
    ignored: list[IgnoredApproval] = []
    blocking: list[str] = []
    for review in latest_reviews(evidence.reviews):
        if review.state == "CHANGES_REQUESTED":
            if (review.user.lower() in allowed) if rule.from_ else not outsider(review):
                blocking.append(f"{review.user} requested changes")
            continue
        if review.state != "APPROVED":
            continue
        problem = judge(review, evidence, rule)
        if problem:
            ignored.append(problem)
        else:
            counted.append(CountedApproval(review.user, review.id, review.commit_id))
    return counted, ignored, blocking


def emergency_problems(evidence: Evidence) -> list[str]:
    rule = evidence.policy.emergency
    if rule is None:
        return ["the promotion declares an emergency, but gate_policy.emergency is not configured"]
    problems = []
    declared = evidence.emergency
    if rule.require_reason and (declared is None or blank(declared.reason)):
        problems.append("emergency without a reason (promote --emergency REASON)")
    if rule.require_ticket and (declared is None or blank(declared.ticket)):
        problems.append("emergency without a ticket (promote --ticket ID)")
    return problems


def backup_required(evidence: Evidence) -> bool:
    """The class rule's require_backup holds for an emergency too (a freeze is no reason to skip a backup).
    A lifecycle change records no backup of its own: the `lifecycle_backup` gate applies its env's policy."""
    if evidence.lifecycle is not None:
        return False
    name = rule_name(evidence.change_class, evidence.destructive)
    rule = evidence.policy.rule(name)
    return bool(rule and rule.require_backup)


def _evaluate(evidence: Evidence) -> GateResult:
    name, rule = active_rule(evidence)
    failures = emergency_problems(evidence) if evidence.emergency is not None else []
    counted, ignored, blocking = count_approvals(evidence, rule)
    failures += blocking
    pending = []
    if len(counted) < rule.count:
        missing = rule.count - len(counted)
        source = f" from {', '.join(rule.from_)}" if rule.from_ else ""
        pending.append(f"needs {missing} more approval{'s' if missing != 1 else ''}{source}")
    needs_backup = backup_required(evidence)
    if needs_backup and not evidence.backup_recorded:
        pending.append(
            "a database backup must be recorded before this change (promote … --backup-id ID, "
            "or the chart's backup hook)"
        )
    state: GateState = "failure" if failures else "pending" if pending else "success"
    return GateResult(
        name="approvals",
        state=state,
        reasons=tuple(failures + pending),
        detail={
            "rule": name,
            "required": rule.count,
            "from": tuple(rule.from_),
            "counted": tuple(counted),
            "ignored": tuple(ignored),
            "backup_required": needs_backup,
        },
    )


GATE = Gate("approvals", frozenset({"merge"}), _evaluate)
