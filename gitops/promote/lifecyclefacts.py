"""What a lifecycle PR (`env create|extend|expire`, `refresh`) is about, from git: never from its body.

The change and the environment come from the branch `lifecycle/<change>/<env>`; the paths come from the
diff of its head against main; the content is matched (by its content key) to the lifecycle run recorded in
the environment's audit log on main, which also says who proposed it and (for `create`) the template whose
policy governs the new environment. A path the change's kind may not touch, or content no lifecycle run
produced, is an integrity problem: the gate fails. The facts are PullFacts, so the gate engine of promotion
PRs (gitops.promote.pulls) evaluates them unchanged: approvals per the env's policy, audit first."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping

from gitops.audit import AuditEntry
from gitops.config.loader import ConfigRepo
from gitops.errors import ExternalError
from gitops.forge.protocol import PullRequest
from gitops.gates.evidence import LifecycleChange
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout
from gitops.promote.headmodes import non_file_problems

LIFECYCLE_RE = re.compile(
    r"lifecycle/(?P<change>create|extend|expire|refresh)/(?P<env>[A-Za-z0-9][A-Za-z0-9_.-]*)"
)
LIFECYCLE_ENTRY_KINDS = frozenset({"lifecycle", "refresh"})
# the approval rule each kind of change is counted under (gitops.lifecycle builds its requests with these)
CHANGE_RULES = {"create": "normal", "extend": "normal", "expire": "destructive", "refresh": "destructive"}
LIFECYCLE_GATES = ("approvals", "lifecycle_backup")
# a refresh overwrites the env's database and an expire deletes it: changes the env's change windows govern
# (a payroll freeze of staging holds for a refresh of staging too); create and extend touch no data
WINDOWED_CHANGES = frozenset({"refresh", "expire"})


def lifecycle_gates(kind: str) -> tuple[str, ...]:
    """The gates a lifecycle PR of `kind` (`lifecycle:<change>`) runs, in order."""
    return (("window",) if kind.removeprefix("lifecycle:") in WINDOWED_CHANGES else ()) + LIFECYCLE_GATES


def content_key(changes: Mapping[str, bytes | None]) -> str:
    """A hash of what a change writes and deletes: its audit key and the content approvals are bound to."""
    digest = hashlib.sha256()
    for path, data in sorted(changes.items()):
        digest.update(path.encode() + b"\0" + (hashlib.sha256(data).digest() if data is not None else b"-"))
    return digest.hexdigest()[:32]


def is_lifecycle_branch(branch: str) -> bool:
    return LIFECYCLE_RE.fullmatch(branch) is not None


def lifecycle_branch(branch: str) -> tuple[str, str] | None:
    """(env, change) of a lifecycle branch `lifecycle/<change>/<env>`; None for any other branch."""
    match = LIFECYCLE_RE.fullmatch(branch)
    return None if match is None else (match["env"], match["change"])


def _pipeline_file(path: str) -> bool:
    return path.startswith("pipelines/") and path.count("/") == 1 and path.endswith(".yaml")


def allowed(change: str, env: str, path: str, *, created: bool, deleted: bool) -> bool:
    """May a `change` PR of `env` touch `path` (created: new at the head; deleted: gone at the head)?"""
    own = path.startswith(f"envs/{env}/")
    if change == "create":
        return (own and created) or (_pipeline_file(path) and not created and not deleted)
    if change == "expire":
        return (own and deleted) or (_pipeline_file(path) and not created and not deleted)
    if change == "extend":
        return path == f"envs/{env}/env.yaml" and not created and not deleted
    return path in {f"envs/{env}/env.yaml", f"envs/{env}/values.yaml"} and not created and not deleted


def _run_key(entry: AuditEntry) -> str | None:
    """The content key a lifecycle run was audited under (`lifecycle:<change>:<env>:<content>:<actor>`)."""
    parts = (entry.key or "").split(":")
    return parts[3] if len(parts) >= 5 and parts[0] == "lifecycle" else None


def read_lifecycle_pull(
    checkout: ConfigCheckout,
    repo: ConfigRepo,
    pull: PullRequest,
    *,
    fetch_head: Callable[[ConfigCheckout, PullRequest], str],
    audit_log_at: Callable[[ConfigCheckout, str, str], tuple[list[AuditEntry], str | None]],
) -> dict[str, object]:
    """The fields of the lifecycle PR's PullFacts (gitops.promote.pullfacts builds them)."""
    match = LIFECYCLE_RE.fullmatch(pull.head)
    if match is None:
        raise ExternalError(f"PR #{pull.number} ({pull.head}) is not a lifecycle PR")
    change, env = match["change"], match["env"]
    main = f"refs/remotes/origin/{checkout.branch}"
    head = fetch_head(checkout, pull)
    bases = plumbing.merge_bases(checkout, main, head)
    status = plumbing.git(checkout, "diff", "--name-status", "--no-renames", "-z", bases[0], head).stdout
    fields = [f.decode("utf-8", "surrogateescape") for f in status.split(b"\0") if f]
    changed = dict(zip(fields[1::2], fields[0::2], strict=False))
    paths = sorted(changed)
    criss_cross = plumbing.criss_cross_problem(bases, head)
    problems = ([criss_cross] if criss_cross else []) + [
        f"the PR {'creates' if how == 'A' else 'deletes' if how == 'D' else 'edits'} {path}, which an "
        f"`{change}` change of {env!r} may not"
        for path, how in sorted(changed.items())
        if not allowed(change, env, path, created=how == "A", deleted=how == "D")
    ]
    problems += non_file_problems(checkout, bases[0], head)
    heads = plumbing.read_blobs(checkout, head, paths)
    content = content_key({p: heads.get(p) for p in paths})
    entries, untrusted = audit_log_at(checkout, main, env)
    if untrusted:
        problems.append(untrusted)
    runs = [
        e
        for e in entries
        if e.kind in LIFECYCLE_ENTRY_KINDS
        and e.data.get("branch") == pull.head
        and e.data.get("change") == change
    ]
    run = next((e for e in reversed(runs) if _run_key(e) == content), None)
    if run is None:
        problems.append(
            f"the head {head[:12]} holds content no `odoo-gitops {lifecycle_verb(change)}` run pushed to "
            f"{pull.head} (content {content[:16]}… is not in audit/{env}.jsonl on main): run it again"
        )
    policy_env = env
    if change == "create":
        template = str(run.data.get("template")) if run is not None else ""
        policy_env = template if template in repo.envs else ""
        if not policy_env:
            problems.append(f"the environment {env!r} is created from no template known on main")
    elif env not in repo.envs:
        problems.append(f"{env!r} is not an environment on main")
        policy_env = ""
    return {
        "kind": f"lifecycle:{change}",
        "target": env,
        "head": head,
        "paths": tuple(paths),
        "content_hash": content,
        "hashed_paths": tuple(paths),
        "run": run,
        "promoters": tuple(sorted({e.actor for e in runs})),
        "destructive": CHANGE_RULES[change] == "destructive",
        "policy_env": policy_env or None,
        "problems": tuple(problems),
        "tenants": (),
        "completes_env": False,
        "release": None,
        "change_class": "normal",
        "emergency": None,
        "backup_recorded": False,
        "backup_ids": (),
    }


def lifecycle_verb(change: str) -> str:
    """The command that makes a `change` PR (`env create`, `refresh`)."""
    return "refresh" if change == "refresh" else f"env {change}"


def content_at(forge_read: Callable[[str, str], str | None], sha: str, paths: tuple[str, ...]) -> str:
    """The content key at commit `sha` over the PR's paths (for a review given there)."""
    files = {p: forge_read(sha, p) for p in paths}
    return content_key({p: None if t is None else t.encode() for p, t in files.items()})


def lifecycle_change(repo: ConfigRepo, kind: str, env: str) -> LifecycleChange:
    """What the `kind` change of `env` asks under `env`'s config on main (docs/nonprod.md, "Lifecycle rules"):

    - refresh overwrites the target's database: the target's own backup policy applies (it sets `recovery:`
      or its `destructive` rule `require_backup`): a backup of the target proven by a rehearsal under the
      target's objectives, not a promotion's backup before a migration;
    - expire deletes the environment: approvals under its `destructive` rule, where its owner also counts;
      when its `data_policy` is `production`, its final backup must be proven the same way (the merge entry
      records which one);
    - create and extend touch no data."""
    change = kind.removeprefix("lifecycle:")
    found = repo.envs.get(env)
    config = found.config if found is not None else None
    if config is None or change not in {"refresh", "expire"}:
        return LifecycleChange(change=change, env=env)
    if change == "refresh":
        rule = config.gate_policy.rule("destructive")
        needed = config.recovery is not None or bool(rule and rule.require_backup)
        why = f"a refresh overwrites {env!r}'s database: its backup policy asks for a rehearsed backup first"
        return LifecycleChange(change=change, env=env, backup_required=needed, backup_why=why)
    owner = frozenset({config.owner}) if config.owner else frozenset()
    final = config.data_policy == "production"
    why = f"expiring {env!r} deletes production data: its final backup must be proven by a rehearsal"
    return LifecycleChange(change=change, env=env, approvers=owner, backup_required=final, backup_why=why)
