"""Work on open promotion PRs: evaluate and publish the gate, approve, merge (any forge)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from gitops.config.loader import ConfigRepo
from gitops.errors import PolicyError, UsageError
from gitops.gates.content import migration_hash
from gitops.gates.policy import (
    STATUS_CONTEXT,
    Emergency,
    GateInput,
    GateVerdict,
    evaluate_gate,
)
from gitops.promote.evidence import WindowCheck, override_record, window_state
from gitops.promote.forge import CommitStatus, Forge, PullRequest
from gitops.promote.marker import PromotionMarker
from gitops.promote.repo import ConfigCheckout
from gitops.promote.service import pull_marker, record_audit

POST_REVIEW_MARK = "<!-- odoo-gitops:post-review -->"


@dataclass(frozen=True)
class GateReport:
    pull: PullRequest
    marker: PromotionMarker
    verdict: GateVerdict
    audit_seq: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "pull_request": self.pull.to_dict(),
            "target": self.marker.target,
            "wave": self.marker.wave,
            "head_sha": self.pull.head_sha,
            "verdict": self.verdict.to_dict(),
            "audit_seq": self.audit_seq,
        }


def _release_at(forge: Forge, sha: str, target: str) -> dict[str, Any] | None:
    text = forge.read_file(sha, f"envs/{target}/release.yaml")
    if text is None:
        return None
    data = yaml.safe_load(text)
    return data if isinstance(data, dict) else None


def _bindings(forge: Forge, marker: PromotionMarker, shas: set[str]) -> dict[str, str]:
    """Content hash at each commit, recomputed from the commit itself (the body marker is only a fallback:
    an edited PR body must not be able to revive an approval)."""
    found = {}
    for sha in shas:
        release = _release_at(forge, sha, marker.target)
        if release is not None:
            found[sha] = migration_hash(release, tenants=marker.tenants)
        elif sha in marker.bindings:
            found[sha] = marker.bindings[sha]
    return found


def _installs(marker: PromotionMarker, release: dict[str, Any]) -> bool:
    """Does the env-wide record at the head describe the release this PR installs (not a wave's)?"""
    return release.get("image") == marker.image


def _strictest_class(marker: PromotionMarker, release: dict[str, Any]) -> str:
    """The stricter of the marker's class and the head's record (a lowered class in the body never wins)."""
    classes = [marker.change_class]
    if _installs(marker, release):
        classes.append(str(release.get("change_class") or "normal"))
    return "standard" if all(c == "standard" for c in classes) else "normal"


def _excluded(forge: Forge, pull: PullRequest, marker: PromotionMarker) -> dict[str, str]:
    excluded = {a.lower(): "commit author" for a in forge.commit_authors(pull.number)}
    excluded[marker.actor.lower()] = "promotion actor"
    excluded[pull.author.lower()] = "PR author"
    return excluded


def evaluate_pull(
    forge: Forge, repo: ConfigRepo, pull: PullRequest, *, now: datetime, window_check: WindowCheck
) -> tuple[PromotionMarker, GateVerdict]:
    """The gate verdict for `pull`, with policy from `repo` (the base branch, never the PR head)."""
    marker = pull_marker(pull)
    target = repo.env(marker.target)
    head_release = _release_at(forge, pull.head_sha, marker.target)
    if head_release is None:
        raise PolicyError(f"PR #{pull.number}: envs/{marker.target}/release.yaml missing at the head")
    reviews = forge.reviews(pull.number)
    bindings = _bindings(forge, marker, {r.commit_id for r in reviews} | {pull.head_sha})
    stage = repo.pipeline_for(marker.target).stage(marker.target)
    window = None
    if stage is not None and "window" in stage.gates:
        window = window_state(repo, marker.target, now, window_check)
    policy = target.config.gate_policy
    label = policy.emergency.label if policy.emergency else "emergency"
    emergency = Emergency(marker.emergency_reason, marker.emergency_ticket) if label in pull.labels else None
    verdict = evaluate_gate(
        GateInput(
            policy=policy,
            change_class=_strictest_class(marker, head_release),
            destructive=marker.destructive
            or (_installs(marker, head_release) and bool(head_release.get("destructive"))),
            content_hash=bindings[pull.head_sha],
            bindings=bindings,
            reviews=reviews,
            excluded=_excluded(forge, pull, marker),
            window=window,
            emergency=emergency,
            backup_recorded=bool(head_release.get("backup")),
            now=now,
        )
    )
    return marker, verdict


def _audit_entries(
    pull: PullRequest, marker: PromotionMarker, verdict: GateVerdict, now: datetime
) -> list[tuple[str, dict[str, Any], str]]:
    ref = f"{marker.target}#{pull.number}"
    entries: list[tuple[str, dict[str, Any], str]] = [
        (
            "approval",
            {
                "pr": pull.number,
                "user": a.user,
                "review_id": a.review_id,
                "commit": a.commit_id,
                "content_hash": verdict.content_hash,
                "rule": verdict.rule,
            },
            f"approval:{ref}:{a.review_id}:{verdict.content_hash}",
        )
        for a in verdict.counted
    ]
    if verdict.window_overridden and verdict.window is not None:
        approvers = [a.user for a in verdict.counted]
        record = override_record(
            verdict.window,
            env=marker.target,
            reason=marker.emergency_reason,
            ticket=marker.emergency_ticket,
            who=", ".join(approvers),
            when=now,
        )
        data = {**record, "pr": pull.number, "approvers": approvers, "post_review": verdict.post_review}
        entries.append(("override", data, f"override:{ref}:{verdict.content_hash}"))
    entries.append(
        (
            "gate",
            {
                "pr": pull.number,
                "head": pull.head_sha,
                "state": verdict.state,
                "reasons": list(verdict.reasons),
            },
            f"gate:{ref}:{pull.head_sha}:{verdict.state}:{len(verdict.counted)}",
        )
    )
    return entries


def check_gate(
    forge: Forge,
    checkout: ConfigCheckout,
    repo: ConfigRepo,
    number: int,
    *,
    now: datetime,
    window_check: WindowCheck,
    actor: str,
    publish: bool = True,
) -> GateReport:
    """Evaluate the gate of PR `number`, publish it as commit status `odoo-gitops/gate`, audit it."""
    pull = forge.get_pull(number)
    if pull.state != "open":
        raise UsageError(f"PR #{number} is {pull.state}; the gate applies to open PRs")
    marker, verdict = evaluate_pull(forge, repo, pull, now=now, window_check=window_check)
    seq = None
    if publish:
        forge.set_status(pull.head_sha, CommitStatus(STATUS_CONTEXT, verdict.state, verdict.description))
        if verdict.post_review and verdict.state == "success":
            _flag_post_review(forge, pull, marker)
        seq = record_audit(checkout, marker.target, actor, _audit_entries(pull, marker, verdict, now), now)
    return GateReport(pull, marker, verdict, seq)


def _flag_post_review(forge: Forge, pull: PullRequest, marker: PromotionMarker) -> None:
    if any(POST_REVIEW_MARK in c for c in forge.comments(pull.number)):
        return
    forge.comment(
        pull.number,
        f"{POST_REVIEW_MARK}\n**Post-review required.** This emergency change (ticket "
        f"{marker.emergency_ticket}, reason: {marker.emergency_reason}) was allowed outside the normal "
        "gates. The CAB must review it after the merge.",
    )


def merge_pull(
    forge: Forge,
    checkout: ConfigCheckout,
    repo: ConfigRepo,
    number: int,
    *,
    now: datetime,
    window_check: WindowCheck,
    actor: str,
) -> tuple[GateReport, str]:
    """Merge PR `number` if (and only if) its gate says success; audit the merge."""
    report = check_gate(forge, checkout, repo, number, now=now, window_check=window_check, actor=actor)
    if report.verdict.state != "success":
        raise PolicyError(
            f"PR #{number} cannot be merged: gate is {report.verdict.state}", reasons=report.verdict.reasons
        )
    pull, marker = report.pull, report.marker
    sha = forge.merge_pull(pull, message=f"Merge promotion #{number}: {pull.title}")
    data = {
        "pr": number,
        "merge_commit": sha,
        "head": pull.head_sha,
        "image": marker.image,
        "version": marker.version,
        "rule": report.verdict.rule,
        "emergency": report.verdict.emergency,
    }
    seq = record_audit(
        checkout, marker.target, actor, [("merge", data, f"merge:{marker.target}#{number}")], now
    )
    return GateReport(pull, marker, report.verdict, seq), sha
