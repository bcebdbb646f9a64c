"""Gate policy evaluation: approvals per change class, windows, emergencies. A pure function of values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from gitops.config.models import ApprovalRule, GatePolicy

GateState = Literal["success", "pending", "failure"]
RuleName = Literal["standard", "normal", "destructive", "emergency"]
STATUS_CONTEXT = "odoo-gitops/gate"
_DESCRIPTION_MAX = 140  # GitHub's limit for a commit status description


@dataclass(frozen=True)
class Review:
    """One PR review as the forge reports it (latest per user decides)."""

    id: int
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    commit_id: str
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class WindowState:
    """What the gate needs from a window verdict."""

    open: bool
    blocked_by: tuple[str, ...] = ()
    next_open: datetime | None = None
    open_until: datetime | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    verdict: Any = field(default=None, compare=False)  # the window engine's own verdict, for break-glass


@dataclass(frozen=True)
class Emergency:
    """The emergency path as requested on the PR: label present, with reason and ticket (may be empty)."""

    reason: str | None = None
    ticket: str | None = None


@dataclass(frozen=True)
class GateInput:
    policy: GatePolicy
    change_class: str
    destructive: bool
    content_hash: str
    bindings: Mapping[str, str]  # commit sha -> migration content hash at that commit
    reviews: Sequence[Review]
    excluded: Mapping[str, str]  # identity (lower-case) -> why it may not approve
    window: WindowState | None  # None when the window gate does not apply
    emergency: Emergency | None  # None unless the PR carries the emergency label
    backup_recorded: bool
    now: datetime


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


@dataclass(frozen=True)
class GateVerdict:
    state: GateState
    description: str
    rule: RuleName
    required: int
    eligible_from: tuple[str, ...]
    counted: tuple[CountedApproval, ...]
    ignored: tuple[IgnoredApproval, ...]
    reasons: tuple[str, ...]
    content_hash: str
    window: WindowState | None
    window_overridden: bool
    emergency: bool
    post_review: bool
    backup_required: bool
    backup_recorded: bool

    @property
    def exit_ok(self) -> bool:
        return self.state == "success"

    def to_dict(self) -> dict[str, Any]:
        window = None
        if self.window is not None:
            window = {
                "open": self.window.open,
                "blocked_by": list(self.window.blocked_by),
                "next_open": _iso(self.window.next_open),
                "open_until": _iso(self.window.open_until),
            }
        return {
            "state": self.state,
            "description": self.description,
            "context": STATUS_CONTEXT,
            "rule": self.rule,
            "approvals": {
                "required": self.required,
                "from": list(self.eligible_from),
                "counted": [
                    {"user": a.user, "review_id": a.review_id, "commit_id": a.commit_id} for a in self.counted
                ],
                "ignored": [
                    {"user": a.user, "review_id": a.review_id, "reason": a.reason} for a in self.ignored
                ],
            },
            "reasons": list(self.reasons),
            "content_hash": self.content_hash,
            "window": window,
            "window_overridden": self.window_overridden,
            "emergency": self.emergency,
            "post_review": self.post_review,
            "backup": {"required": self.backup_required, "recorded": self.backup_recorded},
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


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


def _judge(
    review: Review, gate: GateInput, rule: ApprovalRule, eligible: frozenset[str]
) -> IgnoredApproval | None:
    """None when the approval counts, otherwise why it does not."""
    user = review.user.lower()
    why = gate.excluded.get(user)
    if why:
        return IgnoredApproval(review.user, review.id, f"{why}: may not approve their own promotion")
    if rule.from_ and user not in eligible:
        return IgnoredApproval(review.user, review.id, f"not in {', '.join(rule.from_)}")
    seen = gate.bindings.get(review.commit_id)
    if seen != gate.content_hash:
        what = "unknown content" if seen is None else "different content"
        return IgnoredApproval(review.user, review.id, f"stale: approved {what} at {review.commit_id[:12]}")
    ttl = gate.policy.approval_ttl
    if ttl and review.submitted_at and gate.now - review.submitted_at > ttl:
        return IgnoredApproval(review.user, review.id, "expired (older than the approval_ttl)")
    return None


def _approvals(
    gate: GateInput, rule: ApprovalRule
) -> tuple[list[CountedApproval], list[IgnoredApproval], list[str]]:
    eligible = eligible_users(gate.policy, rule.from_)
    counted: list[CountedApproval] = []
    ignored: list[IgnoredApproval] = []
    blocking: list[str] = []
    for review in latest_reviews(gate.reviews):
        if review.state == "CHANGES_REQUESTED":
            if not rule.from_ or review.user.lower() in eligible:
                blocking.append(f"{review.user} requested changes")
            continue
        if review.state != "APPROVED":
            continue
        problem = _judge(review, gate, rule, eligible)
        if problem:
            ignored.append(problem)
        else:
            counted.append(CountedApproval(review.user, review.id, review.commit_id))
    return counted, ignored, blocking


def _emergency_problems(gate: GateInput) -> list[str]:
    rule = gate.policy.emergency
    if rule is None:
        return ["the PR is labelled as an emergency, but gate_policy.emergency is not configured"]
    problems = []
    if rule.require_reason and not (gate.emergency and gate.emergency.reason):
        problems.append("emergency without a reason (promote --emergency REASON)")
    if rule.require_ticket and not (gate.emergency and gate.emergency.ticket):
        problems.append("emergency without a ticket (promote --ticket ID)")
    return problems


def evaluate_gate(gate: GateInput) -> GateVerdict:
    """Decide the gate: success, pending (waiting for approvals, a window or a backup) or failure."""
    class_rule_name = rule_name(gate.change_class, gate.destructive)
    class_rule = gate.policy.approvals.get(class_rule_name, ApprovalRule(count=0))
    is_emergency = gate.emergency is not None
    failures: list[str] = []
    pending: list[str] = []
    rule: ApprovalRule = class_rule
    if is_emergency:
        failures += _emergency_problems(gate)
        if gate.policy.emergency is not None:
            rule = gate.policy.emergency.approvals
    counted, ignored, blocking = _approvals(gate, rule)
    failures += blocking
    if len(counted) < rule.count:
        missing = rule.count - len(counted)
        source = f" from {', '.join(rule.from_)}" if rule.from_ else ""
        pending.append(f"needs {missing} more approval{'s' if missing != 1 else ''}{source}")
    if class_rule.require_backup and not gate.backup_recorded:
        pending.append("a database backup must be recorded before this destructive change (--backup-id)")
    overridden = False
    if gate.window is not None and not gate.window.open:
        if is_emergency and not failures and not pending:
            overridden = True
        else:
            pending.append(_window_reason(gate.window))
    state: GateState = "failure" if failures else "pending" if pending else "success"
    reasons = tuple(failures + pending)
    name: RuleName = "emergency" if is_emergency else class_rule_name
    post_review = bool(is_emergency and gate.policy.emergency and gate.policy.emergency.post_review)
    return GateVerdict(
        state=state,
        description=_describe(state, name, len(counted), rule.count, reasons=reasons, overridden=overridden),
        rule=name,
        required=rule.count,
        eligible_from=rule.from_,
        counted=tuple(counted),
        ignored=tuple(ignored),
        reasons=reasons,
        content_hash=gate.content_hash,
        window=gate.window,
        window_overridden=overridden,
        emergency=is_emergency,
        post_review=post_review,
        backup_required=class_rule.require_backup,
        backup_recorded=gate.backup_recorded,
    )


def _window_reason(window: WindowState) -> str:
    blocked = f" (blocked by {', '.join(window.blocked_by)})" if window.blocked_by else ""
    when = f"; next open {window.next_open.isoformat()}" if window.next_open else "; no open window ahead"
    return f"outside a change window{blocked}{when}"


def _describe(
    state: GateState, rule: str, counted: int, required: int, *, reasons: Sequence[str], overridden: bool
) -> str:
    head = f"{rule}: {counted}/{required} approvals"
    if state == "success":
        text = head + (", window overridden (emergency)" if overridden else ", ready to merge")
    else:
        text = f"{head}; {reasons[0]}" if reasons else head
    return text if len(text) <= _DESCRIPTION_MAX else text[: _DESCRIPTION_MAX - 1] + "…"
