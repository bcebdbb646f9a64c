"""Publish a pushed install on the forge: one set of facts (`facts_of`) feeds the PR's title, body,
marker, labels and reviewers; then the pending status, and older PRs to the same target are superseded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from gitops.config.loader import EnvBundle
from gitops.config.models import EmergencyDeclaration, ReleaseRecord
from gitops.forge.protocol import CommitStatus, Forge, OpensInSteps, PullRequest
from gitops.gates.evidence import WindowState
from gitops.gates.policy import STATUS_CONTEXT, eligible_users, rule_name
from gitops.promote import body as pr_body
from gitops.promote.marker import PromotionMarker, parse_marker, replace_marker
from gitops.promote.promotion import BRANCH_PREFIXES, Action, Install


@dataclass(frozen=True, kw_only=True)
class Publication:
    """Where and how an install was pushed, and what the PR says about its surroundings."""

    target: EnvBundle
    branch: str
    head: str
    content_hash: str
    actor: str
    window: WindowState | None  # the target's window verdict (None: not gated by windows)
    emergency: EmergencyDeclaration | None
    gates: tuple[str, ...]  # the stage's gates, as the gate registry lists them


@dataclass(frozen=True, kw_only=True)
class Published:
    pull: PullRequest
    action: Action
    superseded: tuple[int, ...]


def approval_text(target: EnvBundle, install: Install) -> tuple[str, bool]:
    """The approvals the PR needs, in words; and whether the change advisory board must approve."""
    policy = target.config.gate_policy
    name = rule_name(install.schema.change_class, install.schema.destructive)
    rule = policy.rule(name)
    count = rule.count if rule else 0
    sources = rule.from_ if rule else ()
    cab = name != "standard" and count > 0
    text = pr_body.describe_approvals(name, count, sources, backup=bool(rule and rule.require_backup))
    if policy.emergency:
        e = policy.emergency.approvals
        if e is not None:
            text += (
                f" Emergency path: label `{policy.emergency.label}` + {e.count} approval(s) from "
                f"{', '.join(e.from_) or 'anyone'} + reason and ticket."
            )
    return pr_body.Markdown(text), cab


def reviewers(target: EnvBundle, author: str) -> list[str]:
    users = eligible_users(target.config.gate_policy, target.config.gate_policy.reviewers)
    return sorted(u for u in users if u != author.lower())


def rollback_text(current: ReleaseRecord | None, install: Install) -> str:
    if install.kind == "rollback":
        return pr_body.Markdown(
            "This PR is itself a rollback; its own rollback target is the release it replaces."
        )
    if current is None:
        return pr_body.Markdown("None: this is the first release of the environment.")
    verified = "verified" if current.verification else "NOT verified"
    return pr_body.Markdown(
        f"`odoo-gitops rollback {install.target}` returns to {current.version} "
        f"(`{current.image}`, {verified})."
    )


def facts_of(install: Install, where: Publication) -> pr_body.BodyFacts:
    """Everything the PR says about `install`: title, body, labels and marker all read these."""
    target, emergency = where.target, where.emergency
    return pr_body.BodyFacts(
        kind=install.kind,
        source=install.source,
        target=install.target,
        wave=install.wave,
        tenants=install.tenants,
        actor=where.actor,
        change_class=install.schema.change_class,
        destructive=install.schema.destructive,
        version_from=target.release.version if target.release else None,
        version_to=install.version,
        image_from=target.release.image if target.release else None,
        image_to=install.image,
        source_commit=install.source_commit,
        modules=install.changes,
        schema=install.schema,
        signature=install.signature,
        scan=install.scan,
        scan_policy=f"target policy: fail at {target.config.scan_policy.severity} and above",
        window=pr_body.describe_window(where.window),
        approvals=approval_text(target, install)[0],
        rollback=rollback_text(target.release, install),
        content_hash=where.content_hash,
        emergency={"reason": emergency.reason, "ticket": emergency.ticket} if emergency else None,
        restore=install.restore.model_dump(mode="json") if install.restore else None,
        gates=where.gates,
    )


def marker_of(
    install: Install, facts: pr_body.BodyFacts, branch: str, earlier: PromotionMarker | None
) -> PromotionMarker:
    """The PR's hidden marker: the facts the gate trusts, keeping the head bindings of earlier runs."""
    emergency = facts.emergency or {}
    listed = len(facts.tenants) <= pr_body.TENANTS_LISTED
    reason, ticket = emergency.get("reason"), emergency.get("ticket")
    return PromotionMarker(
        kind=install.kind,
        source=facts.source,
        target=facts.target,
        wave=facts.wave,
        tenants=facts.tenants if listed else (),
        tenant_count=None if listed else len(facts.tenants),
        image=facts.image_to,
        version=facts.version_to,
        content_hash=facts.content_hash,
        change_class=facts.change_class,
        destructive=facts.destructive,
        actor=facts.actor,
        branch=branch,
        schema_diff_computed=facts.schema.computed,
        emergency_reason=pr_body.clip(reason) if reason else reason,
        emergency_ticket=pr_body.clip(ticket) if ticket else ticket,
        bindings=dict(earlier.bindings) if earlier else {},
    )


@dataclass(frozen=True, kw_only=True)
class Draft:
    """What publish sends for `where`, made before it is sent (while the branch is pushed)."""

    where: Publication
    mine: PullRequest | None  # the open PR of the branch, from an earlier run
    marker: PromotionMarker
    title: str
    text: str
    labels: list[str]
    emergency_label: str


def draft_of(install: Install, where: Publication, open_pulls: Sequence[PullRequest]) -> Draft:
    """The PR's title, body, marker and labels for `where`, given the open PRs to the base branch."""
    mine = next((p for p in open_pulls if p.head == where.branch), None)
    facts = facts_of(install, where)
    marker = marker_of(install, facts, where.branch, parse_marker(mine.body) if mine else None).bind(
        where.head
    )
    policy = where.target.config.gate_policy
    emergency_label = policy.emergency.label if policy.emergency else "emergency"
    _, cab = approval_text(where.target, install)
    return Draft(
        where=where,
        mine=mine,
        marker=marker,
        title=pr_body.title(facts),
        text=pr_body.render_body(facts, marker.render()),
        labels=pr_body.labels(facts, cab_required=cab, emergency_label=emergency_label),
        emergency_label=emergency_label,
    )


def publish(
    forge: Forge,
    base_branch: str,
    install: Install,
    where: Publication,
    *,
    open_pulls: Sequence[PullRequest] | None = None,
    then: Callable[[Published], None] | None = None,
    draft: Draft | None = None,
) -> Published:
    """Open the PR for `where.branch`, or update it (labels people added are kept); mark its head pending
    and close older PRs to the same target. `open_pulls`: the open PRs to `base_branch`, when listed;
    `draft`: what to send, made from this very `where` and those PRs beforehand (`draft_of`).

    `then(published)` is called once the PR exists (its number and URL known; `superseded`: the PRs this
    run closes). With a forge that opens PRs in steps (gitops.forge.protocol.OpensInSteps) it runs while
    the requests that follow are made (labels, reviewers, the status, superseding), on a worker thread;
    else after them. Either way both are over when publish returns; `then`'s error is raised first."""
    open_pulls = forge.open_pulls(base=base_branch) if open_pulls is None else open_pulls
    if draft is None or draft.where is not where:
        draft = draft_of(install, where, open_pulls)
    mine, marker, title, text, wanted = draft.mine, draft.marker, draft.title, draft.text, draft.labels
    emergency_label = draft.emergency_label
    steps = forge if isinstance(forge, OpensInSteps) else None
    action: Action
    opened_in_steps = mine is None and steps is not None
    if steps is not None and mine is None:  # its author is the one the forge names: no request to ask it
        pull = steps.open_pull(head=where.branch, base=base_branch, title=title, body=text)
        action = "created"
    elif mine is None:
        pull = forge.create_pull(
            head=where.branch,
            base=base_branch,
            title=title,
            body=text,
            labels=wanted,
            reviewers=reviewers(where.target, forge.whoami()),
        )
        action = "created"
    else:
        keep = [label for label in mine.labels if not pr_body.managed(label, emergency_label)]
        labels = sorted(set(keep) | set(wanted))
        if (mine.title, mine.body, sorted(mine.labels)) == (title, replace_marker(text, marker), labels):
            pull, action = mine, "unchanged"
        else:
            pull, action = forge.update_pull(mine, title=title, body=text, labels=labels), "updated"
    older = superseded_by(open_pulls, install.target, where.branch)
    published = Published(pull=pull, action=action, superseded=tuple(p.number for p in older))

    def rest() -> Published:
        finished = (
            steps.finish_pull(pull, labels=wanted, reviewers=reviewers(where.target, pull.author))
            if steps is not None and opened_in_steps
            else pull
        )
        if action != "unchanged" and pull.head_sha == where.head:
            forge.set_status(
                where.head, CommitStatus(STATUS_CONTEXT, "pending", "awaiting odoo-gitops gate check")
            )
        supersede(forge, older, install.target, pull)
        return replace(published, pull=finished)

    if then is None:
        return rest()
    if steps is None:
        done = rest()
        then(published)
        return done
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoo-gitops-forge")
    try:
        requests = pool.submit(rest)
        then(published)
    finally:
        pool.shutdown(wait=True)  # the requests are over whatever `then` did; its error goes first
    return requests.result()


def superseded_by(open_pulls: Sequence[PullRequest], target: str, branch: str) -> list[PullRequest]:
    """The other open PRs to `target`: a newer promotion replaces them."""
    return [
        pull
        for pull in open_pulls
        if pull.head != branch and any(pull.head.startswith(f"{p}{target}/") for p in BRANCH_PREFIXES)
    ]


def supersede(forge: Forge, older: Sequence[PullRequest], target: str, new: PullRequest) -> None:
    """Close `older` PRs to `target` (see `superseded_by`), each with a comment naming `new`."""
    for pull in older:
        forge.comment(
            pull.number,
            pr_body.bounded(
                f"Superseded by #{new.number} ({new.url}): a newer promotion to `{target}` was opened. "
                "odoo-gitops closed this PR."
            ),
        )
        forge.close_pull(pull.number)
