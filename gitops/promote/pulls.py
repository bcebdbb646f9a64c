"""Work on open promotion PRs: evaluate and publish the gate, approve, merge (any forge).

Every fact comes from git (gitops.promote.pullfacts), never from the PR body; policy comes from main. A
verdict is written to the audit log before anything is published: if the audit write fails, no status,
comment or merge happens and the command exits non-zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from gitops.config.loader import ConfigRepo
from gitops.config.models import GatePolicy
from gitops.config.types import format_duration
from gitops.errors import PolicyError, UsageError
from gitops.forge.protocol import CommitStatus, Forge, PullRequest
from gitops.gates.evidence import Emergency, Evidence, SupplyResult, WindowState
from gitops.gates.policy import STATUS_CONTEXT, GateVerdict, evaluate_gate
from gitops.gates.registry import stage_gates
from gitops.gates.rehearsal_facts import rehearsal_facts
from gitops.gitstore.checkout import ConfigCheckout
from gitops.promote.auditing import record_audit
from gitops.promote.lifecyclefacts import lifecycle_branch, lifecycle_change, lifecycle_gates, lifecycle_verb
from gitops.promote.plan import soak_of
from gitops.promote.pullfacts import BRANCH_RE, PullFacts, content_at, read_pull
from gitops.promote.stage_seams import WindowCheck, override_record, window_state

POST_REVIEW_MARK = "<!-- odoo-gitops:post-review -->"


@dataclass(frozen=True)
class GateReport:
    pull: PullRequest
    facts: PullFacts
    verdict: GateVerdict
    audit_seq: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "pull_request": self.pull.to_dict(),
            "target": self.facts.target,
            "wave": self.facts.wave,
            "tenants": list(self.facts.tenants),
            "head_sha": self.pull.head_sha,
            "verdict": self.verdict.to_dict(),
            "audit_seq": self.audit_seq,
        }


def excluded_identities(forge: Forge, pull: PullRequest, facts: PullFacts) -> dict[str, str]:
    """Who may not approve: commit authors, everyone who ran a promotion of this PR, the PR author."""
    excluded = {a.lower(): "commit author" for a in forge.commit_authors(pull.number)}
    excluded.update({actor.lower(): "promotion actor" for actor in facts.promoters})
    excluded[pull.author.lower()] = "PR author"
    return excluded


def _window(repo: ConfigRepo, env: str, now: datetime, check: WindowCheck) -> Callable[[], WindowState]:
    cache: list[WindowState] = []

    def get() -> WindowState:
        if not cache:
            cache.append(window_state(repo, env, now, check))
        return cache[0]

    return get


def declared_emergency(facts: PullFacts) -> Emergency | None:
    """The head's emergency, declared when the audited promote run of this content ran (the override of a
    closed window is counted from then: gitops.gates.window.stale_emergency)."""
    if facts.emergency is None or facts.run is None:
        return facts.emergency
    return replace(facts.emergency, declared_at=datetime.fromisoformat(facts.run.at))


def gather_evidence(
    forge: Forge,
    repo: ConfigRepo,
    pull: PullRequest,
    facts: PullFacts,
    *,
    now: datetime,
    window_check: WindowCheck,
) -> Evidence:
    reviews = forge.reviews(pull.number)
    bindings = {}
    for sha in {r.commit_id for r in reviews} | {facts.head}:
        found = content_at(forge.read_file, sha, facts)
        if found is not None:
            bindings[sha] = found

    def supply(what: str) -> Callable[[], SupplyResult | None]:
        return lambda: facts.supply(what)

    return Evidence(
        phase="merge",
        policy=_policy(repo, facts),
        change_class=facts.change_class,
        destructive=facts.destructive,
        content_hash=facts.content_hash,
        bindings=bindings,
        reviews=reviews,
        excluded=excluded_identities(forge, pull, facts),
        window=_window(repo, facts.policy_env or facts.target, now, window_check),
        emergency=declared_emergency(facts),
        backup_recorded=facts.backup_recorded,
        signature=supply("signature"),
        scan=supply("scan"),
        rehearsal=lambda: rehearsal_facts(repo, facts.target, facts.backup_ids),
        lifecycle=lifecycle_change(repo, facts.kind, facts.target) if facts.lifecycle else None,
        now=now,
    )


def _policy(repo: ConfigRepo, facts: PullFacts) -> GatePolicy:
    """Policy from main: the target's, or for a lifecycle PR the env that governs it (none known: an empty
    policy, and the PR's integrity problems fail the gate)."""
    if facts.lifecycle:
        env = facts.policy_env
        return repo.env(env).config.gate_policy if env and env in repo.envs else GatePolicy()
    return repo.env(facts.target).config.gate_policy


def _label_problems(repo: ConfigRepo, pull: PullRequest, facts: PullFacts) -> list[str]:
    policy = _policy(repo, facts)
    label = policy.emergency.label if policy.emergency else "emergency"
    labelled = label in pull.labels
    if labelled and facts.emergency is None:
        return [
            f"the PR is labelled {label!r} but its promotion declares no emergency "
            "(promote --emergency REASON --ticket T declares one; a label alone does not)"
        ]
    if facts.emergency is not None and not labelled:
        return [
            f"the promotion declares an emergency but the PR lacks the {label!r} label; re-run promote "
            "(with --no-emergency to drop the emergency)"
        ]
    return []


def _base_problems(checkout: ConfigCheckout, pull: PullRequest) -> list[str]:
    """The gate compares the head with main: a PR into another base (or retargeted to one after its
    approvals) would merge something the gate never checked."""
    if pull.base == checkout.branch:
        return []
    main = checkout.branch
    return [f"the PR's base is {pull.base}, not {main}: the gate only judges PRs into {main}"]


def evaluate_pull(
    forge: Forge,
    checkout: ConfigCheckout,
    repo: ConfigRepo,
    pull: PullRequest,
    *,
    now: datetime,
    window_check: WindowCheck,
) -> tuple[PullFacts, GateVerdict]:
    """The gate verdict for `pull`: facts from git, policy from `repo` (main, never the PR head)."""
    facts = read_pull(checkout, repo, pull)
    evidence = gather_evidence(forge, repo, pull, facts, now=now, window_check=window_check)
    problems = list(facts.problems) + _label_problems(repo, pull, facts) + _base_problems(checkout, pull)
    problems += soak_problems(repo, facts, now)
    gates = lifecycle_gates(facts.kind) if facts.lifecycle else stage_gates(repo, facts.target)
    verdict = evaluate_gate(gates, evidence, problems=problems)
    return facts, verdict


def soak_problems(repo: ConfigRepo, facts: PullFacts, now: datetime) -> list[str]:
    """The source's soak, checked again with the gate's clock: promote checked it with the clock of the
    machine it ran on. Nothing to say when the source runs another release since (it moved on)."""
    source = str(facts.run.data.get("source") or "") if facts.run and facts.kind == "promotion" else ""
    found = repo.envs.get(source)
    release = found.release if found is not None else None
    if release is None or release.image != facts.image:
        return []
    stage = next((p.stage(source) for p in repo.pipelines.values() if p.index_of(source) is not None), None)
    soak = soak_of(stage.soak if stage is not None else timedelta(0), release, now)
    if soak.satisfied or soak.required <= timedelta(0):
        return []
    elapsed = (
        "not verified"
        if soak.elapsed is None
        else f"{format_duration(soak.elapsed)} of {format_duration(soak.required)}"
    )
    return [f"soak time in {source!r} not over at the gate's clock ({elapsed}): wait, then check again"]


def _audit_entries(
    pull: PullRequest, facts: PullFacts, verdict: GateVerdict, now: datetime
) -> list[tuple[str, dict[str, Any], str]]:
    ref = f"{facts.target}#{pull.number}"
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
    if verdict.window_overridden and verdict.window is not None and facts.emergency is not None:
        approvers = [a.user for a in verdict.counted]
        record = override_record(
            verdict.window,
            env=facts.target,
            reason=facts.emergency.reason,
            ticket=facts.emergency.ticket,
            who=", ".join(facts.promoters) or pull.author,
            when=now,
        )
        data = {
            **record,
            "pr": pull.number,
            "broke_glass": list(facts.promoters),
            "approvers": approvers,
            "post_review": verdict.post_review,
        }
        entries.append(("override", data, f"override:{ref}:{verdict.content_hash}"))
    entries.append(
        (
            "gate",
            {
                "pr": pull.number,
                "head": pull.head_sha,
                "state": verdict.state,
                "rule": verdict.rule,
                "content_hash": verdict.content_hash,
                "reasons": list(verdict.reasons),
            },
            f"gate:{ref}:{pull.head_sha}:{verdict.state}:{len(verdict.counted)}:{len(verdict.reasons)}",
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
    """Evaluate the gate of PR `number`, audit it, then publish it as commit status `odoo-gitops/gate`."""
    pull = forge.get_pull(number)
    if pull.state == "merged":
        repair_merge_audit(forge, checkout, pull, actor=actor, now=now)
    if pull.state != "open":
        raise UsageError(f"PR #{number} is {pull.state}; the gate applies to open PRs")
    facts, verdict = evaluate_pull(forge, checkout, repo, pull, now=now, window_check=window_check)
    seq = None
    if publish:
        # audit first: a verdict nobody can trace is never published
        seq = record_audit(checkout, facts.target, actor, _audit_entries(pull, facts, verdict, now), now)
        forge.set_status(pull.head_sha, CommitStatus(STATUS_CONTEXT, verdict.state, verdict.description))
        if verdict.post_review and verdict.state == "success":
            _flag_post_review(forge, pull, facts)
    return GateReport(pull, facts, verdict, seq)


def _flag_post_review(forge: Forge, pull: PullRequest, facts: PullFacts) -> None:
    """Ask for the CAB's post-review once. Only the notice itself counts as already posted: anyone can comment
    the bare marker (invisible on GitHub), which must not silence it."""
    emergency = facts.emergency
    ticket = emergency.ticket if emergency else None
    reason = emergency.reason if emergency else None
    notice = (
        f"{POST_REVIEW_MARK}\n**Post-review required.** This emergency change (ticket "
        f"{_plain(ticket)}, reason: {_plain(reason)}) was allowed outside the normal "
        "gates. The CAB must review it after the merge."
    )
    if any(c.strip() == notice for c in forge.comments(pull.number)):
        return
    forge.comment(pull.number, notice)


def _plain(text: str | None) -> str:
    from gitops.promote.body import md_escape

    return md_escape(text or "(none)")


def _merge_data(pull: PullRequest, sha: str | None, **extra: Any) -> dict[str, Any]:
    return {"pr": pull.number, "merge_commit": sha, "head": pull.head_sha, **extra}


def merged_branch(branch: str) -> tuple[str, str | None] | None:
    """(env whose audit log records the PR's merge, lifecycle change or None) for a branch odoo-gitops
    makes (promote/…, rollback/…, lifecycle/…); None for any other branch."""
    match = BRANCH_RE.fullmatch(branch)
    if match is not None:
        return match["target"], None
    return lifecycle_branch(branch)


def _merge_key(target: str, number: int) -> str:
    """The one key of a PR's merge entry: the merge and its repair write under it, so at most one lands."""
    return f"merge:{target}#{number}"


def repair_merge_audit(
    forge: Forge, checkout: ConfigCheckout, pull: PullRequest, *, actor: str, now: datetime
) -> int | None:
    """A PR merged without its merge entry (a crash between the merge and the audit write): record it once.
    Promotion, rollback and lifecycle PRs alike: the branch names the env whose log holds the entry."""
    merged = merged_branch(pull.head)
    if merged is None:
        return None
    target, change = merged
    data = _merge_data(pull, forge.merge_commit(pull.number), repaired=True, **_change(change))
    return record_audit(checkout, target, actor, [("merge", data, _merge_key(target, pull.number))], now)


def _change(change: str | None) -> dict[str, Any]:
    return {} if change is None else {"change": change}


def _lifecycle_merge_data(facts: PullFacts, verdict: GateVerdict) -> dict[str, Any]:
    """A lifecycle merge records its change and the backup its env's policy asked for (expire: the last)."""
    if not facts.lifecycle:
        return {}
    proven = next((g for g in verdict.gates if g.name == "lifecycle_backup" and g.detail.get("backup")), None)
    backup = {"backup": proven.detail["backup"]} if proven is not None else {}
    return {**_change(facts.kind.removeprefix("lifecycle:")), **backup}


def merge_message(pull: PullRequest, facts: PullFacts) -> str:
    """The merge commit's subject names the kind: `Merge env create qa-2 (#12)`, `Merge promotion #7: …`."""
    if facts.lifecycle:
        return (
            f"Merge {lifecycle_verb(facts.kind.removeprefix('lifecycle:'))} {facts.target} (#{pull.number})"
        )
    return f"Merge {facts.kind} #{pull.number}: {pull.title}"


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
    """Merge PR `number` if (and only if) its gate says success; audit the merge.

    A PR already merged (an earlier run crashed after the merge) gets its missing merge entry, once."""
    pull = forge.get_pull(number)
    if pull.state == "merged":
        repair_merge_audit(forge, checkout, pull, actor=actor, now=now)
        raise UsageError(f"PR #{number} is already merged (its merge is in the audit log)")
    report = check_gate(forge, checkout, repo, number, now=now, window_check=window_check, actor=actor)
    if report.verdict.state != "success":
        raise PolicyError(
            f"PR #{number} cannot be merged: gate is {report.verdict.state}", reasons=report.verdict.reasons
        )
    pull, facts = report.pull, report.facts
    sha = forge.merge_pull(pull, message=merge_message(pull, facts))
    data = _merge_data(
        pull,
        sha,
        image=facts.image,
        version=facts.version,
        tenants=list(facts.tenants),
        rule=report.verdict.rule,
        emergency=report.verdict.emergency,
        **_lifecycle_merge_data(facts, report.verdict),
    )
    seq = record_audit(
        checkout, facts.target, actor, [("merge", data, _merge_key(facts.target, number))], now
    )
    return GateReport(pull, facts, report.verdict, seq), sha
