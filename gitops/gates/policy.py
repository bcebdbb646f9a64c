"""The gate verdict of a promotion: the stage's gates (gitops.gates.registry) run over typed evidence, plus
the integrity problems found in the PR itself. A pure function of values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gitops.gates.approvals import GATE as APPROVALS_GATE
from gitops.gates.approvals import (
    CountedApproval,
    IgnoredApproval,
    RuleName,
    active_rule,
    count_approvals,
    eligible_users,
    latest_reviews,
    rule_name,
)
from gitops.gates.evidence import (
    Emergency,
    Evidence,
    GateResult,
    GateState,
    Review,
    WindowState,
    worst,
)
from gitops.gates.registry import run_gates

STATUS_CONTEXT = "odoo-gitops/gate"
_DESCRIPTION_MAX = 140  # GitHub's limit for a commit status description

__all__ = [
    "STATUS_CONTEXT",
    "CountedApproval",
    "Emergency",
    "Evidence",
    "GateVerdict",
    "IgnoredApproval",
    "Review",
    "WindowState",
    "eligible_users",
    "evaluate_gate",
    "latest_reviews",
    "rule_name",
]


@dataclass(frozen=True, kw_only=True)
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
    gates: tuple[GateResult, ...] = ()

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
            "gates": [g.to_dict() for g in self.gates],
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _unlisted_emergency_approvals(results: list[GateResult], evidence: Evidence) -> tuple[str, ...]:
    """Break-glass takes the emergency approvers, reason and ticket whatever the stage lists: on a stage
    without the `approvals` gate, what the emergency rule still lacks (nothing when the stage runs it)."""
    if any(r.name == "approvals" for r in results):
        return ()
    found = APPROVALS_GATE.evaluate(evidence)  # under the emergency rule, as the promotion declares one
    return tuple(f"break-glass: {reason}" for reason in found.reasons) if found.state != "success" else ()


def _override(results: list[GateResult], evidence: Evidence) -> tuple[list[GateResult], bool]:
    """An emergency overrides a closed window when every other gate passed and the emergency approvers
    approved (and only then)."""
    closed = [
        r for r in results if r.name == "window" and r.state == "pending" and r.detail.get("overridable")
    ]
    others = [r for r in results if r not in closed]
    if not closed or evidence.emergency is None or worst([r.state for r in others]) != "success":
        return results, False
    lacking = _unlisted_emergency_approvals(results, evidence)
    if lacking:
        waiting = replace(closed[0], reasons=(*closed[0].reasons, *lacking))
        return [waiting if r in closed else r for r in results], False
    opened = GateResult(
        name="window", state="success", reasons=(), detail={**closed[0].detail, "overridden": True}
    )
    return [opened if r in closed else r for r in results], True


def evaluate_gate(gates: Sequence[str], evidence: Evidence, *, problems: Sequence[str] = ()) -> GateVerdict:
    """Decide: success, pending (waiting for approvals, a window or a backup) or failure.

    `gates` is the stage's `gates:` list; `problems` are integrity failures of the PR itself (edits outside
    what a promotion may change, content no promotion run produced, …): any of them fails the gate."""
    results, overridden = _override(run_gates(gates, evidence), evidence)
    state = worst([r.state for r in results] + (["failure"] if problems else []))
    ordered = sorted(results, key=lambda r: {"failure": 0, "pending": 1, "success": 2}[r.state])
    reasons = tuple(problems) + tuple(reason for r in ordered for reason in r.reasons)
    name, rule = active_rule(evidence)
    approvals = next((r for r in results if r.name == "approvals"), None)
    if approvals is not None:
        counted, ignored = approvals.detail["counted"], approvals.detail["ignored"]
        required = rule.count
    else:  # the stage requires no approvals: show how the reviews would count, require none
        counted, ignored, _ = count_approvals(evidence, rule)
        required = 0
    window = next((r.detail.get("window") for r in results if r.name == "window"), None)
    policy = evidence.policy
    post_review = bool(evidence.emergency and policy.emergency and policy.emergency.post_review)
    return GateVerdict(
        state=state,
        description=_describe(state, name, len(counted), required, reasons=reasons, overridden=overridden),
        rule=name,
        required=required,
        eligible_from=tuple(rule.from_),
        counted=tuple(counted),
        ignored=tuple(ignored),
        reasons=reasons,
        content_hash=evidence.content_hash,
        window=window,
        window_overridden=overridden,
        emergency=evidence.emergency is not None,
        post_review=post_review,
        backup_required=bool(approvals and approvals.detail["backup_required"]),
        backup_recorded=evidence.backup_recorded,
        gates=tuple(results),
    )


def _describe(
    state: GateState, rule: str, counted: int, required: int, *, reasons: Sequence[str], overridden: bool
) -> str:
    head = f"{rule}: {counted}/{required} approvals"
    if state == "success":
        text = head + (", window overridden (emergency)" if overridden else ", ready to merge")
    else:
        text = f"{head}; {reasons[0]}" if reasons else head
    return text if len(text) <= _DESCRIPTION_MAX else text[: _DESCRIPTION_MAX - 1] + "…"
