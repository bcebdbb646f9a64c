"""Open or update the promotion PR: preconditions, config-repo edit, push, forge, audit.

`install_release` is the core shared by `promote` (a release from the source environment) and `rollback`
(the target's previous release); both end in the same PR machinery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from gitops.config import store as config_store
from gitops.config.loader import ConfigRepo, EnvBundle
from gitops.config.models import BackupRecord, EmergencyDeclaration, ModuleRecord, ReleaseRecord, ReleaseRef
from gitops.config.yamlsafe import decode_text
from gitops.errors import PolicyError, UsageError
from gitops.forge.protocol import CommitStatus, Forge, PullRequest
from gitops.gates.evidence import Evidence, SupplyResult, WindowState
from gitops.gates.policy import STATUS_CONTEXT, eligible_users, rule_name
from gitops.gates.registry import run_gates, stage_gates
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout, NonFastForward, format_trailers
from gitops.promote import body as pr_body
from gitops.promote.auditing import record_audit
from gitops.promote.edit import ChartRelease, ImageFields, edit_image_text, render_release
from gitops.promote.evidence import (
    SchemaDiff,
    SupplyChecks,
    WindowCheck,
    compute_schema_diff,
    fail_closed_diff,
    schema_diff_from,
    window_state,
)
from gitops.promote.marker import PromotionMarker, parse_marker, replace_marker
from gitops.promote.plan import ModuleChange, make_plan, missing_key_reasons, module_changes
from gitops.promote.pullfacts import head_content
from gitops.promote.waves import _explicit_wave, resolve_waves, runs_already, select_tenants, tenant_image

__all__ = ["record_audit"]  # re-exported: audit writers import it from here

T = TypeVar("T")
Action = Literal["created", "updated", "unchanged", "up-to-date"]
BRANCH_PREFIXES = ("promote/", "rollback/")


@dataclass(frozen=True)
class Seams:
    """The outside world a promotion talks to besides git."""

    forge: Callable[[ConfigCheckout], Forge]
    supply: SupplyChecks
    window_check: WindowCheck


@dataclass(frozen=True)
class PromoteOptions:
    remote: str
    workdir: Path
    actor: str
    tenants: tuple[str, ...] | None = None
    wave: str | None = None
    addons_repo: Path | None = None
    emergency_reason: str | None = None
    emergency_ticket: str | None = None
    no_emergency: bool = False
    backup_id: str | None = None
    backup_location: str | None = None
    with_db_restore: bool = False
    now: datetime | None = None


@dataclass(frozen=True)
class Install:
    """A release to install into `target` (or into some of its tenants)."""

    kind: Literal["promotion", "rollback"]
    source: str
    target: str
    image: str
    version: str
    source_commit: str
    modules: dict[str, ModuleRecord]
    schema: SchemaDiff
    wave: str | None
    tenants: tuple[str, ...]
    completes_env: bool
    changes: tuple[ModuleChange, ...]
    signature: str = "not checked"
    scan: str = "not checked"
    restore: BackupRecord | None = None
    supply: tuple[tuple[str, SupplyResult], ...] = ()  # what the promote-time gates saw (audited)


@dataclass(frozen=True)
class PromotionResult:
    action: Action
    kind: str
    source: str
    target: str
    wave: str | None
    tenants: tuple[str, ...]
    branch: str | None
    head_sha: str | None
    pushed: bool
    pull: PullRequest | None
    content_hash: str | None
    change_class: str | None
    destructive: bool
    superseded: tuple[int, ...] = ()
    audit_seq: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.kind,
            "source": self.source,
            "target": self.target,
            "wave": self.wave,
            "tenants": list(self.tenants),
            "branch": self.branch,
            "head_sha": self.head_sha,
            "pushed": self.pushed,
            "pull_request": self.pull.to_dict() if self.pull else None,
            "content_hash": self.content_hash,
            "change_class": self.change_class,
            "destructive": self.destructive,
            "superseded": list(self.superseded),
            "audit_seq": self.audit_seq,
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------- small pure helpers


def short_digest(image: str) -> str:
    return image.partition("@")[2].removeprefix("sha256:")[:12]


def branch_name(kind: str, target: str, version: str, image: str, wave: str | None) -> str:
    prefix = "rollback" if kind == "rollback" else "promote"
    suffix = f"-{wave}" if wave else ""
    return f"{prefix}/{target}/{version}-{short_digest(image)}{suffix}"


# ---------------------------------------------------------------- release.yaml content


def _previous(current: ReleaseRecord | None) -> dict[str, Any] | None:
    if current is None:
        return None
    if current.verification is not None:
        return {
            "image": current.image,
            "version": current.version,
            "source_commit": current.source_commit,
            "modules": {n: m.model_dump() for n, m in current.modules.items()},
            "schema_fingerprint": current.schema_fingerprint,
            "verification": current.verification.model_dump(exclude_defaults=True),
        }
    return current.previous.model_dump(exclude_defaults=True) if current.previous else None


@dataclass(frozen=True, kw_only=True)
class RunState:
    """What this run writes besides the release itself: when it was first promoted (kept across re-runs),
    the backup recorded for it and the emergency it declares."""

    promoted_at: datetime
    backup: BackupRecord | None = None
    emergency: EmergencyDeclaration | None = None


def _dump(model: Any) -> dict[str, Any] | None:
    return model.model_dump(exclude_defaults=True) if model is not None else None


def new_release_data(current: ReleaseRecord | None, install: Install, run: RunState) -> dict[str, Any]:
    """The target's next release.yaml, keys in ReleaseRecord order (unchanged keys → unchanged lines).

    Every wave records its change class and destructive flag with its tenants (the gate binds approvals to
    them); a backup is recorded with what the PR installs (the env, or the wave's tenants)."""
    tenants = {
        t: s.model_dump(exclude_defaults=True) for t, s in (current.tenants if current else {}).items()
    }
    own_backup = run.backup if not install.completes_env else None
    for tenant in install.tenants:
        tenants[tenant] = {
            "image": install.image,
            "version": install.version,
            "change_class": install.schema.change_class,
            "destructive": install.schema.destructive or None,
            "promoted_at": run.promoted_at,
            "backup": _dump(own_backup),
        }
    if current is not None and not install.completes_env:
        data = current.model_dump(exclude_defaults=True)
        data.pop("tenants", None)
        data.pop("emergency", None)
        return {**data, "emergency": _dump(run.emergency), "tenants": tenants}
    return {
        "image": install.image,
        "version": install.version,
        "source_commit": install.source_commit,
        "modules": {n: m.model_dump() for n, m in sorted(install.modules.items())},
        "schema_fingerprint": install.schema.fingerprint,
        "change_class": install.schema.change_class,
        "destructive": install.schema.destructive or None,
        "promoted_from": install.source,
        "promoted_at": run.promoted_at,
        "backup": _dump(run.backup),
        "emergency": _dump(run.emergency),
        "previous": _previous(current),
        "tenants": tenants,
    }


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    import json

    return dict(json.loads(json.dumps(data, default=lambda v: v.isoformat().replace("+00:00", "Z"))))


# ---------------------------------------------------------------- git


def _existing_release(checkout: ConfigCheckout, branch: str, path: str) -> dict[str, Any] | None:
    """release.yaml as an earlier run of the same promotion left it on its branch (None: no such run)."""
    import yaml

    raw = plumbing.read_blob(checkout, f"refs/remotes/origin/{branch}", path)
    data = yaml.safe_load(raw) if raw else None
    return data if isinstance(data, dict) else None


def prior_run(data: Mapping[str, Any] | None, install: Install) -> dict[str, Any]:
    """What an earlier run of this promotion recorded and a re-run keeps: `promoted_at` (so a re-run changes
    nothing), the backup and the emergency declaration (never silently dropped)."""
    if not data:
        return {}
    ours = [data] if data.get("image") == install.image and install.completes_env else []
    ours += [
        s for t, s in (data.get("tenants") or {}).items() if t in install.tenants and isinstance(s, dict)
    ]
    ours = [s for s in ours if s.get("image") == install.image]
    if not ours:
        return {}
    stamps = [s["promoted_at"] for s in ours if isinstance(s.get("promoted_at"), datetime)]
    backups = [s["backup"] for s in ours if isinstance(s.get("backup"), dict)]
    if install.completes_env and isinstance(data.get("backup"), dict):
        backups.insert(0, data["backup"])
    return {
        "promoted_at": max(stamps) if stamps else None,
        "backup": backups[0] if backups else None,
        "emergency": data.get("emergency") if isinstance(data.get("emergency"), dict) else None,
    }


def _main_touched(checkout: ConfigCheckout, branch_sha: str, paths: list[str]) -> bool:
    """Did main change any of `paths` since the promotion branch forked from it?"""
    try:
        base = checkout.repo.git.merge_base(branch_sha, f"origin/{checkout.branch}")
        return bool(checkout.repo.git.diff("--name-only", base, f"origin/{checkout.branch}", "--", *paths))
    except Exception:
        return True


Edit = Callable[[Mapping[str, bytes | None], Mapping[str, Any] | None], dict[str, bytes]]


def push_promotion_branch(
    checkout: ConfigCheckout,
    branch: str,
    paths: list[str],
    edit: Edit,
    *,
    message: str,
    trailers: Mapping[str, str],
    known_heads: Mapping[str, str] | None = None,
) -> tuple[str, bool]:
    """Create or refresh `branch` so it holds `edit` on top of main. Returns (head sha, pushed?).

    `edit` gets the current bytes of `paths` on the base (None: absent) and release.yaml (`paths[0]`) as an
    earlier run left it on the branch (None: first run), and returns the files it changes.
    The commit is built with plumbing, never in the working tree, so hundreds of tenant files cost one
    `cat-file` and one `fast-import`. `known_heads` (the remote's branches listed since the clone) saves
    asking the remote on the first attempt."""
    full = message.rstrip() + "\n\n" + format_trailers(trailers) + "\n"
    for attempt in range(5):
        if attempt:  # the clone is fresh on the first attempt; a race shows up as a rejected push
            checkout.fetch(f"+refs/heads/{checkout.branch}:refs/remotes/origin/{checkout.branch}")
        existing = known_heads.get(branch) if known_heads is not None else checkout.remote_sha(branch)
        known_heads = None  # a retry follows a rejected push: ask the remote again
        base, earlier = f"refs/remotes/origin/{checkout.branch}", None
        if existing:
            checkout.fetch(f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
            earlier = _existing_release(checkout, branch, paths[0])
            if not _main_touched(checkout, existing, paths):
                base = existing
        changed = edit(plumbing.read_blobs(checkout, base, paths), earlier)
        if not changed and base == existing:
            return existing, False
        if changed:
            sha = plumbing.commit_files(checkout, base, changed, full, ref=f"refs/heads/{branch}")
        else:
            sha = checkout.repo.git.rev_parse(base)
        if existing == sha:
            return sha, False
        try:
            checkout.push(sha, branch, force_with_lease=existing or "")
            return sha, True
        except NonFastForward:
            continue
    raise PolicyError(f"could not push {branch}: the remote branch keeps moving")


def chart_release(target: EnvBundle, install: Install) -> ChartRelease:
    """The `release:` block the chart's hooks read: which modules to update, and whether to back up first."""
    rule = target.config.gate_policy.approvals.get(
        rule_name(install.schema.change_class, install.schema.destructive)
    )
    schema_change = install.schema.change_class != "standard" or install.schema.destructive
    return ChartRelease(
        version=install.version,
        changed_modules=tuple(c.name for c in install.changes if c.change != "removed"),
        schema_change=schema_change,
        backup_required=install.schema.destructive or bool(schema_change and rule and rule.require_backup),
    )


def _edited_paths(target: EnvBundle, install: Install) -> list[str]:
    rel_dir = target.dir.relative_to(target.dir.parents[1]).as_posix()
    paths = [f"{rel_dir}/release.yaml"]
    if install.completes_env:
        paths.append(f"{rel_dir}/values.yaml")
    paths += [f"{rel_dir}/tenants/{t}.yaml" for t in install.tenants]
    return paths


def install_files(
    current: Mapping[str, bytes | None], target: EnvBundle, install: Install, release: dict[str, Any]
) -> dict[str, bytes]:
    """The files `install` changes, given the `current` bytes of its paths (`_edited_paths`):
    release.yaml, the image fields and the chart's `release:` block of values.yaml and tenant files."""
    image = ImageFields(*install.image.split("@", 1))
    hooks = chart_release(target, install)
    release_path, *values_paths = _edited_paths(target, install)
    wanted = {release_path: render_release(release)}
    for path in values_paths:
        wanted[path] = edit_image_text(
            decode_text(current[path] or b"", path), image, display=path, release=hooks
        )
    changed = {path: text.encode("utf-8") for path, text in wanted.items()}
    return {path: data for path, data in changed.items() if data != current.get(path)}


# ---------------------------------------------------------------- the PR


def _approval_text(target: EnvBundle, install: Install) -> tuple[str, bool]:
    policy = target.config.gate_policy
    name = rule_name(install.schema.change_class, install.schema.destructive)
    rule = policy.approvals.get(name)
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


def _reviewers(target: EnvBundle, author: str) -> list[str]:
    users = eligible_users(target.config.gate_policy, target.config.gate_policy.reviewers)
    return sorted(u for u in users if u != author.lower())


def _rollback_text(current: ReleaseRecord | None, install: Install) -> str:
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


@dataclass(frozen=True)
class _Context:
    checkout: ConfigCheckout
    repo: ConfigRepo
    forge: Forge
    seams: Seams
    options: PromoteOptions
    now: datetime
    promotion_heads: Callable[[], dict[str, str]]  # promote/ and rollback/ branches as of the clone
    window: Callable[[], WindowState | None]  # the target's window verdict at `now`


def install_release(ctx: _Context, install: Install) -> PromotionResult:
    """Push the config change for `install` and open, update or leave alone its PR."""
    target = ctx.repo.env(install.target)
    current = target.release
    base = PromotionResult(
        "up-to-date", install.kind, install.source, install.target, install.wave, install.tenants,
        None, None, False, None, None, install.schema.change_class, install.schema.destructive,
    )  # fmt: skip
    if runs_already(current, install):
        return replace(base, notes=(f"{install.target} already runs {install.version}; nothing to do",))
    branch = branch_name(install.kind, install.target, install.version, install.image, install.wave)
    runs: list[RunState] = []
    notes: list[str] = []

    def edit(files: Mapping[str, bytes | None], earlier: Mapping[str, Any] | None) -> dict[str, bytes]:
        run = run_state(ctx.options, prior_run(earlier, install), ctx.now, notes)
        runs[:] = [run]
        return install_files(files, target, install, new_release_data(current, install, run))

    trailers = {
        "Promoted-From": install.source,
        "Image-Digest": install.image.partition("@")[2],
        "Change-Class": install.schema.change_class + (" destructive" if install.schema.destructive else ""),
    }
    message = (
        f"{'Roll back' if install.kind == 'rollback' else 'Promote'} {install.target} to {install.version}"
        + (f" ({install.wave})" if install.wave else "")
    )
    head, pushed = push_promotion_branch(
        ctx.checkout,
        branch,
        _edited_paths(target, install),
        edit,
        message=message,
        trailers=trailers,
        known_heads=ctx.promotion_heads(),
    )
    content_hash = head_content(ctx.checkout, ctx.repo, install.target, head)
    run = runs[0]
    pull, action, superseded = _publish(
        ctx,
        install,
        target,
        branch=branch,
        head=head,
        content_hash=content_hash,
        window=ctx.window(),
        run=run,
    )
    seq = _audit_promotion(
        ctx,
        install,
        branch=branch,
        head=head,
        content_hash=content_hash,
        pull=pull,
        superseded=superseded,
        run=run,
    )
    if run.backup is not None:
        _audit_backup(ctx, install, branch, run.backup)
    return replace(
        base,
        action=action,
        branch=branch,
        head_sha=head,
        pushed=pushed,
        pull=pull,
        content_hash=content_hash,
        superseded=superseded,
        audit_seq=seq,
        notes=tuple(notes),
    )


def run_state(options: PromoteOptions, prior: Mapping[str, Any], now: datetime, notes: list[str]) -> RunState:
    """This run's promoted_at, backup and emergency: the options given, else what an earlier run recorded."""
    backup = _backup(options, prior, now)
    emergency = None
    if options.emergency_reason is not None or options.emergency_ticket is not None:
        reason = (options.emergency_reason or "").strip()
        if not reason:
            raise UsageError("--emergency needs a non-blank REASON (and --ticket ID)")
        emergency = EmergencyDeclaration(
            reason=reason, ticket=(options.emergency_ticket or "").strip() or None
        )
    elif prior.get("emergency") and not options.no_emergency:
        emergency = EmergencyDeclaration.model_validate(prior["emergency"])
        notes.append(
            f"kept the emergency declared by an earlier run (ticket {emergency.ticket}); "
            "--no-emergency drops it"
        )
    return RunState(promoted_at=prior.get("promoted_at") or now, backup=backup, emergency=emergency)


def _backup(options: PromoteOptions, prior: Mapping[str, Any], now: datetime) -> BackupRecord | None:
    earlier = BackupRecord.model_validate(prior["backup"]) if prior.get("backup") else None
    if not options.backup_id:
        return earlier
    if earlier is not None and earlier.id == options.backup_id:
        return earlier  # recording the same backup again changes nothing
    return BackupRecord(id=options.backup_id, completed_at=now, location=options.backup_location)


def _audit_backup(ctx: _Context, install: Install, branch: str, backup: BackupRecord) -> None:
    data = {
        "id": backup.id,
        "location": backup.location,
        "completed_at": backup.completed_at.isoformat(),
        "branch": branch,
        "tenants": list(install.tenants),
        "version": install.version,
    }
    key = f"backup:{install.target}:{branch}:{backup.id}"
    record_audit(ctx.checkout, install.target, ctx.options.actor, [("backup", data, key)], ctx.now)


def in_background(work: Callable[[], T]) -> Callable[[], T]:
    """Start `work` on a worker thread (git subprocesses and pure computation overlap the caller's own
    work); the returned function waits for its result and re-raises its error."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoo-gitops")
    future = pool.submit(work)
    pool.shutdown(wait=False)
    return future.result


def _window_verdict(repo: ConfigRepo, env: str, now: datetime, check: WindowCheck) -> WindowState | None:
    """The change-window verdict for `env` at `now`; None when its stage has no window gate."""
    stage = repo.pipeline_for(env).stage(env)
    if stage is None or "window" not in stage.gates:
        return None
    return window_state(repo, env, now, check)


def _publish(
    ctx: _Context,
    install: Install,
    target: EnvBundle,
    *,
    branch: str,
    head: str,
    content_hash: str,
    window: WindowState | None,
    run: RunState,
) -> tuple[PullRequest, Action, tuple[int, ...]]:
    forge = ctx.forge
    base_branch = ctx.checkout.branch
    open_pulls = forge.open_pulls(base=base_branch)
    mine = next((p for p in open_pulls if p.head == branch), None)
    author = mine.author if mine else forge.whoami()
    approvals, cab = _approval_text(target, install)
    emergency = None
    if run.emergency is not None:
        emergency = {"reason": run.emergency.reason, "ticket": run.emergency.ticket}
    facts = pr_body.BodyFacts(
        kind=install.kind,
        source=install.source,
        target=install.target,
        wave=install.wave,
        tenants=install.tenants,
        actor=ctx.options.actor,
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
        window=pr_body.describe_window(window),
        approvals=approvals,
        rollback=_rollback_text(target.release, install),
        content_hash=content_hash,
        emergency=emergency,
        restore=install.restore.model_dump(mode="json") if install.restore else None,
        gates=stage_gates(ctx.repo, install.target),
    )
    old_marker = parse_marker(mine.body) if mine else None
    marker = PromotionMarker(
        kind=install.kind,
        source=install.source,
        target=install.target,
        wave=install.wave,
        tenants=install.tenants,
        image=install.image,
        version=install.version,
        content_hash=content_hash,
        change_class=install.schema.change_class,
        destructive=install.schema.destructive,
        actor=ctx.options.actor,
        branch=branch,
        schema_diff_computed=install.schema.computed,
        emergency_reason=run.emergency.reason if run.emergency else None,
        emergency_ticket=run.emergency.ticket if run.emergency else None,
        bindings=dict(old_marker.bindings) if old_marker else {},
    ).bind(head)
    text = pr_body.render_body(facts, marker.render())
    policy = target.config.gate_policy
    emergency_label = policy.emergency.label if policy.emergency else "emergency"
    wanted = pr_body.labels(facts, cab_required=cab, emergency_label=emergency_label)
    if mine is None:
        pull = forge.create_pull(
            head=branch,
            base=base_branch,
            title=pr_body.title(facts),
            body=text,
            labels=wanted,
            reviewers=_reviewers(target, author),
        )
        action: Action = "created"
    else:
        keep = [label for label in mine.labels if not pr_body.managed(label, emergency_label)]
        labels = sorted(set(keep) | set(wanted))
        title = pr_body.title(facts)
        if (mine.title, mine.body, sorted(mine.labels)) == (title, replace_marker(text, marker), labels):
            pull, action = mine, "unchanged"
        else:
            pull, action = forge.update_pull(mine, title=title, body=text, labels=labels), "updated"
    if action != "unchanged" and pull.head_sha == head:
        forge.set_status(head, CommitStatus(STATUS_CONTEXT, "pending", "awaiting odoo-gitops gate check"))
    superseded = _supersede(forge, open_pulls, install.target, branch, pull)
    return pull, action, superseded


def _supersede(
    forge: Forge, open_pulls: list[PullRequest], target: str, branch: str, new: PullRequest
) -> tuple[int, ...]:
    closed = []
    for pull in open_pulls:
        same_target = any(pull.head.startswith(f"{p}{target}/") for p in BRANCH_PREFIXES)
        if same_target and pull.head != branch:
            forge.comment(
                pull.number,
                f"Superseded by #{new.number} ({new.url}): a newer promotion to `{target}` was opened. "
                "odoo-gitops closed this PR.",
            )
            forge.close_pull(pull.number)
            closed.append(pull.number)
    return tuple(closed)


def _audit_promotion(
    ctx: _Context,
    install: Install,
    *,
    branch: str,
    head: str,
    content_hash: str,
    pull: PullRequest,
    superseded: tuple[int, ...],
    run: RunState,
) -> int | None:
    data = {
        "pr": pull.number,
        "url": pull.url,
        "branch": branch,
        "head": head,
        "source": install.source,
        "image": install.image,
        "version": install.version,
        "change_class": install.schema.change_class,
        "destructive": install.schema.destructive,
        "schema_diff_computed": install.schema.computed,
        "tenants": list(install.tenants),
        "wave": install.wave,
        "content_hash": content_hash,
        "superseded": list(superseded),
        "supply": {name: {"ok": r.ok, "text": r.text} for name, r in install.supply},
    }
    if run.emergency is not None:
        data["emergency"] = run.emergency.model_dump()
    if install.restore:
        data["restore_from_backup"] = install.restore.id
    kind = "rollback" if install.kind == "rollback" else "promotion"
    # one entry per actor and content: everyone who ran this promotion is on record (and may not approve it)
    entries = [(kind, data, f"{kind}:{install.target}:{branch}:{content_hash}:{ctx.options.actor}")]
    return record_audit(ctx.checkout, install.target, ctx.options.actor, entries, ctx.now, fetch_first=False)


# ---------------------------------------------------------------- promote and rollback


def _open(options: PromoteOptions, seams: Seams, target: str) -> _Context:
    checkout = ConfigCheckout.clone(options.remote, options.workdir / "config", working_tree=False)
    # the remote's promotion branches are listed (one ls-remote) while the config loads
    heads = in_background(lambda: checkout.remote_heads(*(f"{p}*" for p in BRANCH_PREFIXES)))
    repo = config_store.load_checkout(checkout)
    now = options.now or datetime.now(UTC)
    # the window verdict runs while preconditions are checked and git edits and pushes
    window = in_background(lambda: _window_verdict(repo, target, now, seams.window_check))
    return _Context(checkout, repo, seams.forge(checkout), seams, options, now, heads, window)


def _public_key(repo: ConfigRepo, target: EnvBundle) -> bytes | None:
    signing = target.config.signing
    return repo.files.read(signing.public_key) if signing else None


def _supply_evidence(ctx: _Context, target: EnvBundle, image: str) -> Evidence:
    """Promote-time evidence for the stage's gates; the registry asks only for what its gates need."""
    key = _public_key(ctx.repo, target)
    policy = target.config.scan_policy

    def signature() -> SupplyResult:
        if key is None:
            return SupplyResult(
                ok=False, text=f"{target.name!r} has no signing.public_key: cannot verify the signature"
            )
        sig = ctx.seams.supply.signature(image, key)
        if not sig.ok:
            return SupplyResult(
                ok=False, text=f"image signature does not verify with {target.name}'s key: {sig.reason}"
            )
        return SupplyResult(ok=True, text=f"verified (key {sig.key_id})")

    def scan() -> SupplyResult:
        if not policy.required:
            return SupplyResult(ok=True, text="not required by the scan policy")
        if key is None:
            return SupplyResult(
                ok=False,
                text=f"{target.name!r} has no signing.public_key: cannot verify the scan attestation",
            )
        ev = ctx.seams.supply.scan(image, key, policy)
        counts = ", ".join(f"{k} {v}" for k, v in sorted((ev.counts_by_severity or {}).items()))
        text = f"({counts or 'no findings'}; trivy {ev.trivy_version}, scanned {ev.scanned_at})"
        if not ev.ok:
            return SupplyResult(
                ok=False, text=f"no passing scan attestation under {target.name}'s policy: {ev.reason} {text}"
            )
        return SupplyResult(ok=True, text=f"passed {text}")

    return Evidence(
        phase="promote",
        policy=target.config.gate_policy,
        change_class="normal",
        destructive=False,
        signature=_once(signature),
        scan=_once(scan),
        now=ctx.now,
    )


def _once(work: Callable[[], T]) -> Callable[[], T]:
    done: list[T] = []

    def get() -> T:
        if not done:
            done.append(work())
        return done[0]

    return get


def _supply_reasons(
    ctx: _Context, target: EnvBundle, image: str, gates: tuple[str, ...]
) -> tuple[list[str], tuple[tuple[str, SupplyResult], ...]]:
    """Run the stage's promote-time gates; (reasons they refuse, the evidence they saw)."""
    missing = missing_key_reasons(target, gates)
    if missing:  # one sentence for both gates, as plan says it
        return missing, ()
    evidence = _supply_evidence(ctx, target, image)
    results = run_gates(gates, evidence)
    reasons = [reason for r in results if r.state != "success" for reason in r.reasons]
    seen = []
    for name, get in (("signature", evidence.signature), ("scan", evidence.scan)):
        if name in gates:
            found = get()
            if found is not None:
                seen.append((name, found))
    return reasons, tuple(seen)


def _schema(options: PromoteOptions, old: ReleaseRecord | None, new: ReleaseRecord) -> SchemaDiff:
    if options.addons_repo is None:
        return fail_closed_diff(
            old_modules=old.modules if old else {},
            new_modules=new.modules,
            declared_destructive=new.destructive,
            fingerprint=new.schema_fingerprint,
        )
    return schema_diff_from(
        compute_schema_diff(options.addons_repo, old.source_commit if old else None, new.source_commit)
    )


def promote(source_env: str, target_env: str, *, options: PromoteOptions, seams: Seams) -> PromotionResult:
    """Open (or update) the PR that promotes `source_env`'s release into `target_env`. Exit 3 on policy."""
    ctx = _open(options, seams, target_env)
    plan = make_plan(ctx.repo, source_env, target_env, now=ctx.now)
    source, target = ctx.repo.env(source_env), ctx.repo.env(target_env)
    release = source.release
    assert release is not None  # make_plan refuses a source without a release
    wave, tenants, completes, wave_reasons = select_tenants(
        target, plan.waves, release.image, options, ctx.now
    )
    changes = module_changes(target.release.modules if target.release else {}, release.modules)
    probe = Install(
        "promotion", source_env, target_env, release.image, release.version, release.source_commit,
        dict(release.modules), fail_closed_diff(old_modules={}, new_modules={}, declared_destructive=False,
        fingerprint=None), wave, tenants, completes, changes,
    )  # fmt: skip
    if runs_already(target.release, probe):
        return install_release(ctx, probe)
    reasons = list(plan.reasons) + wave_reasons
    supply_reasons, supply = _supply_reasons(ctx, target, release.image, plan.gates)
    reasons += supply_reasons
    schema = _schema(options, target.release, release) if not reasons else probe.schema
    reasons += [f"addons diff: {error}" for error in schema.errors]
    if reasons:
        raise PolicyError(f"cannot promote {source_env} → {target_env}", reasons=reasons)
    shown = dict(supply)
    install = replace(
        probe,
        schema=schema,
        signature=_shown(shown.get("signature"), "not required by the pipeline"),
        scan=_shown(shown.get("scan"), "not required by the pipeline"),
        supply=supply,
    )
    return install_release(ctx, install)


def _shown(result: SupplyResult | None, default: str) -> str:
    if result is None:
        return default
    return result.text if result.ok else f"FAILED: {result.text}"


def schema_changed(current: ReleaseRecord, previous: ReleaseRef) -> bool | None:
    """Did `current` change the schema relative to `previous`? None when that is unknown; callers treat
    unknown as a change (fail closed). Evidence: the destructive flag, the same modules, or every changed
    module recording the same schema fingerprint on both sides (build's gitops.addons.schema_state). A
    recorded class alone is not evidence (records older than the schema fingerprints carry one too)."""
    if current.destructive:
        return True
    if current.modules == previous.modules:
        return False
    diff = fail_closed_diff(
        old_modules=previous.modules,
        new_modules=current.modules,
        declared_destructive=False,
        fingerprint=None,
    )
    return None if diff.destructive else False


_PREVIOUSLY_ACCEPTED = (
    ("signature", SupplyResult(ok=True, text="previously verified in this environment")),
    ("scan", SupplyResult(ok=True, text="previously accepted in this environment")),
)


@dataclass(frozen=True)
class _Back:
    """One rollback: from which release (`version_from`, and what is known of its schema) back to `to`."""

    to: ReleaseRef
    version_from: str
    schema: bool | None  # the release rolled back changed the schema: yes, no, unknown
    unknown_why: str
    backup: BackupRecord | None
    wave: str | None
    tenants: tuple[str, ...]
    completes_env: bool
    modules_from: Mapping[str, ModuleRecord] | None  # None: not recorded
    backup_rule: str = "release.backup"


def _rollback_tenants(
    ctx: _Context, target: EnvBundle, options: PromoteOptions
) -> tuple[str | None, tuple[str, ...]]:
    """(wave name, tenants) that --tenants / --wave name; (None, ()) for the whole environment."""
    enabled = target.config.enabled_tenants()
    if (options.tenants or options.wave) and not enabled:
        raise UsageError(f"--tenants/--wave: {target.name!r} has no enabled tenants")
    if options.tenants:
        unknown = sorted(set(options.tenants) - set(enabled))
        if unknown:
            raise UsageError(f"--tenants: {', '.join(unknown)} not enabled tenants of {target.name!r}")
        chosen = tuple(sorted(set(options.tenants)))
        return _explicit_wave(chosen), chosen
    if options.wave:
        waves = {w.name: w for w in resolve_waves(ctx.repo.pipeline_for(target.name), target)}
        if options.wave not in waves:
            raise UsageError(f"--wave {options.wave!r}: no such wave for {target.name!r}")
        return options.wave, waves[options.wave].tenants
    return None, ()


def _tenant_backup(current: ReleaseRecord) -> BackupRecord | None:
    """A backup usable for tenants ahead of the env: one recorded after the env's own release went out."""
    backup = current.backup
    if backup is None or current.promoted_at is None or backup.completed_at < current.promoted_at:
        return None
    return backup


def _run(tenants: Sequence[str]) -> str:
    return f"{', '.join(tenants)} {'runs' if len(tenants) == 1 else 'run'}"


def _scope(ctx: _Context, target: EnvBundle, current: ReleaseRecord) -> _Back:
    """What goes back where: the whole env to `previous`; tenants ahead of the env (a canary) to the env's
    release; other tenants to `previous`. Tenants in both situations are refused (roll them back apart)."""
    env = target.name
    wave, chosen = _rollback_tenants(ctx, target, ctx.options)
    enabled = tuple(target.config.enabled_tenants())
    ahead = [t for t in chosen if tenant_image(current, t) != current.image]
    level = [t for t in chosen if t not in ahead]
    if ahead and level:
        raise UsageError(
            f"{_run(ahead)} a release ahead of {env}'s {current.version} and {_run(level)} "
            f"{current.version}: roll them back separately (--tenants {','.join(ahead)}, then "
            f"--tenants {','.join(level)})"
        )
    own = {current.tenants[t].image: current.tenants[t] for t in ahead}
    if len(own) > 1:
        raise UsageError(f"{', '.join(ahead)} run different releases: roll them back separately")
    if own:
        (state,) = own.values()
        return _Back(
            to=current, version_from=state.version, schema=None,
            unknown_why="release.yaml records no modules or schema fingerprint for a tenant's own release",
            backup=_tenant_backup(current), wave=wave, tenants=chosen, completes_env=False, modules_from=None,
            backup_rule=f"release.backup, completed after {env}'s {current.version} was promoted",
        )  # fmt: skip
    if current.previous is None:
        raise PolicyError(
            f"cannot roll back {env}", reasons=[f"envs/{env}/release.yaml records no previous release"]
        )
    whole = not chosen or set(chosen) == set(enabled)
    schema, why = schema_changed(current, current.previous), "no schema fingerprint recorded"
    canaries = [t for t in enabled if whole and tenant_image(current, t) != current.image]
    if canaries and schema is False:  # they go back from their own release, whose schema is not recorded
        schema, why = (
            None,
            f"{_run(canaries)} a later release whose schema release.yaml does not record",
        )
    return _Back(
        to=current.previous, version_from=current.version, schema=schema, unknown_why=why,
        backup=current.backup, wave=None if whole else wave, tenants=enabled if whole else chosen,
        completes_env=whole, modules_from=current.modules,
    )  # fmt: skip


def _restore_reasons(back: _Back, with_db_restore: bool, where: str) -> tuple[list[str], BackupRecord | None]:
    """Fail closed: a schema change, known or not, is rolled back only with a database restore."""
    if back.schema is False:
        return [], None
    which = f"backup {back.backup.id}" if back.backup else "a database backup"
    if back.schema is None:
        said = (
            f"it is unknown whether {back.version_from} changed the database schema{where} "
            f"({back.unknown_why}); treated as a schema change (fail closed): "
            f"re-run with --with-db-restore to restore {which}"
        )
    else:
        said = (
            f"release {back.version_from} changed the database schema{where}; rolling back the image alone "
            f"would leave the schema ahead of the code. Re-run with --with-db-restore to restore {which}"
        )
    if not with_db_restore:
        return [said], None
    if back.backup is None:
        return [
            f"--with-db-restore: no backup recorded for {back.version_from}{where} ({back.backup_rule})"
        ], None
    return [], back.backup


def rollback(env: str, *, options: PromoteOptions, seams: Seams) -> PromotionResult:
    """Open a PR that returns `env` (or the tenants of --tenants / --wave) to the previous verified release
    (same machinery as promote)."""
    ctx = _open(options, seams, env)
    target = ctx.repo.env(env)
    current = target.release
    if current is None:
        raise PolicyError(f"cannot roll back {env}", reasons=[f"envs/{env}/release.yaml records no release"])
    back = _scope(ctx, target, current)
    where = "" if back.completes_env else f" of {', '.join(back.tenants)}"
    reasons = []
    if back.to.verification is None:
        what = "the previous release" if back.modules_from is not None else f"{env}'s release"
        reasons.append(f"{what} {back.to.version} was never verified in {env}")
    restore_reasons, restore = _restore_reasons(back, options.with_db_restore, where)
    reasons += restore_reasons
    if reasons:
        raise PolicyError(f"cannot roll back {env}{where}", reasons=reasons)
    changes = (
        module_changes(dict(back.modules_from), back.to.modules) if back.modules_from is not None else ()
    )
    known = back.schema is not None and bool(current.schema_fingerprint and back.to.schema_fingerprint)
    schema = SchemaDiff(
        computed=known,
        change_class="normal" if changes or back.schema is not False else "standard",
        destructive=restore is not None,
        fingerprint=back.to.schema_fingerprint,
        note=None if known else "schema fingerprints unknown: treated as a schema change",
    )
    install = Install(
        "rollback", env, env, back.to.image, back.to.version, back.to.source_commit,
        dict(back.to.modules), schema, back.wave, back.tenants, back.completes_env, changes,
        signature="previously verified in this environment", scan="previously accepted in this environment",
        restore=restore, supply=_PREVIOUSLY_ACCEPTED,
    )  # fmt: skip
    return install_release(ctx, install)


def pull_marker(pull: PullRequest) -> PromotionMarker:
    marker = parse_marker(pull.body)
    if marker is None:
        raise UsageError(f"PR #{pull.number} was not opened by odoo-gitops (no promotion marker in its body)")
    return marker
