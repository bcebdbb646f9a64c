"""Open (or update) the PR of one lifecycle change and record it in the audit log.

One branch per change and environment, named from them; a re-run finds the open PR by its branch and
updates it, so it never opens a second one. The audit entry is keyed by the change's content, so a re-run
with the same content adds none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from gitops.config.models import GatePolicy
from gitops.forge.protocol import CommitStatus, PullRequest
from gitops.forge.session import Session
from gitops.gates.approvals import eligible_users
from gitops.gates.policy import STATUS_CONTEXT
from gitops.lifecycle.branch import Changes, push_change
from gitops.promote.auditing import record_audit
from gitops.promote.lifecyclefacts import content_key

Kind = Literal["create", "extend", "expire", "refresh"]
Action = Literal["created", "updated", "unchanged"]
LABEL = "odoo-gitops:lifecycle"


def branch_name(kind: str, env: str) -> str:
    return f"lifecycle/{kind}/{env}"


@dataclass(frozen=True)
class ChangeRequest:
    """One lifecycle change of `env`, ready to propose."""

    kind: Kind
    env: str
    title: str
    body: str
    changes: Changes
    policy: GatePolicy  # whose approvals the change needs (the environment's policy on main)
    rule: Literal["standard", "normal", "destructive"] = "normal"
    mention: str | None = None
    audit: Mapping[str, Any] = field(default_factory=dict)

    @property
    def branch(self) -> str:
        return branch_name(self.kind, self.env)


@dataclass(frozen=True)
class ChangeResult:
    kind: str
    env: str
    action: Action
    branch: str
    head_sha: str
    pushed: bool
    pull: PullRequest
    audit_seq: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "env": self.env,
            "action": self.action,
            "branch": self.branch,
            "head_sha": self.head_sha,
            "pushed": self.pushed,
            "pull_request": self.pull.to_dict(),
            "audit_seq": self.audit_seq,
        }


def approval_text(policy: GatePolicy, rule: str) -> str:
    """What the environment's gate policy asks before this change merges."""
    found = policy.rule(rule)  # type: ignore[arg-type]
    if found is None or found.count == 0:
        return f"no approval required by the `{rule}` rule of the environment's gate policy"
    sources = ", ".join(found.from_) or "anyone"
    return f"{found.count} approval(s) from {sources} (the `{rule}` rule of the environment's gate policy)"


def render_body(request: ChangeRequest) -> str:
    mention = f"\n\ncc @{request.mention} (owner of `{request.env}`)" if request.mention else ""
    approvals = approval_text(request.policy, request.rule)
    return f"{request.body.rstrip()}\n\n**Approvals:** {approvals}.{mention}\n"


def _reviewers(policy: GatePolicy, author: str) -> list[str]:
    return sorted(u for u in eligible_users(policy, policy.reviewers) if u != author.lower())


def _publish(session: Session, request: ChangeRequest, head: str) -> tuple[PullRequest, Action]:
    forge = session.forge
    mine = next((p for p in forge.open_pulls(base=session.checkout.branch) if p.head == request.branch), None)
    body = render_body(request)
    labels = sorted({LABEL, f"lifecycle:{request.kind}"})
    if mine is None:
        pull = forge.create_pull(
            head=request.branch,
            base=session.checkout.branch,
            title=request.title,
            body=body,
            labels=labels,
            reviewers=_reviewers(request.policy, forge.whoami()),
        )
        action: Action = "created"
    elif (mine.title, mine.body.strip(), sorted(mine.labels)) == (request.title, body.strip(), labels):
        pull, action = mine, "unchanged"
    else:
        merged = sorted(set(mine.labels) | set(labels))
        pull, action = forge.update_pull(mine, title=request.title, body=body, labels=merged), "updated"
    if action != "unchanged":
        forge.set_status(
            head, CommitStatus(STATUS_CONTEXT, "pending", "awaiting approvals per the env's policy")
        )
    return pull, action


def propose(session: Session, request: ChangeRequest, *, now: datetime) -> ChangeResult:
    """Push the change's branch, open or update its PR, then audit it (keyed by content: no duplicates)."""
    message = f"{request.title}\n\nLifecycle-Env: {request.env}\nLifecycle-Change: {request.kind}\n"
    head, pushed = push_change(session.checkout, request.branch, request.changes, message)
    pull, action = _publish(session, request, head)
    tree = content_key(request.changes)
    data = {
        "change": request.kind,
        "pr": pull.number,
        "url": pull.url,
        "branch": request.branch,
        "head": head,
    }
    entry = ("refresh" if request.kind == "refresh" else "lifecycle", {**data, **request.audit})
    key = f"lifecycle:{request.kind}:{request.env}:{tree}:{session.actor}"
    seq = record_audit(session.checkout, request.env, session.actor, [(*entry, key)], now)
    return ChangeResult(request.kind, request.env, action, request.branch, head, pushed, pull, seq)


def describe(results: Sequence[ChangeResult]) -> str:
    return "\n".join(f"{r.kind} {r.env}: PR #{r.pull.number} {r.action} ({r.pull.url})" for r in results)
