"""What a promotion PR is about, derived from git: never from its body.

Target, kind and tenants come from the branch and the paths its head changes; the change class, the
destructive flag and who promoted come from the promotion runs recorded in the target's audit log on main
(trusted), matched to the head by content hash; the emergency declaration and recorded backups come from the
head's release.yaml (a backup counts only when its recording is audited too). Anything a promotion may not
do (edit a path outside the target's release, values and tenant files, change a values key other than the
image and release blocks, push content no promotion run produced) is an integrity problem: the gate fails.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml

from gitops.audit import AuditEntry, audit_path, read_entries, verify_chain
from gitops.config.loader import ConfigRepo
from gitops.config.models import ReleaseRecord
from gitops.errors import ConfigError, ExternalError
from gitops.forge.protocol import PullRequest
from gitops.gates.content import EDITABLE_VALUE_KEYS, FAST_SAFE_LOADER, hash_files
from gitops.gates.evidence import Emergency, SupplyResult
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout
from gitops.promote.headmodes import non_file_problems
from gitops.promote.lifecyclefacts import content_at as lifecycle_content_at
from gitops.promote.lifecyclefacts import is_lifecycle_branch, read_lifecycle_pull

BRANCH_RE = re.compile(r"(?P<prefix>promote|rollback)/(?P<target>[A-Za-z0-9][A-Za-z0-9_.-]*)/(?P<rest>[^/]+)")
RUN_KINDS = frozenset({"promotion", "rollback"})


@dataclass(frozen=True, kw_only=True)
class PullFacts:
    """A promotion PR as git shows it. `problems` non-empty: the PR is not a promotion odoo-gitops made."""

    number: int
    kind: str
    target: str
    branch: str
    head: str
    paths: tuple[str, ...]
    tenants: tuple[str, ...]
    completes_env: bool
    content_hash: str
    hashed_paths: tuple[str, ...]
    release: ReleaseRecord | None
    run: AuditEntry | None
    promoters: tuple[str, ...]
    change_class: str
    destructive: bool
    emergency: Emergency | None
    backup_recorded: bool
    backup_ids: tuple[str, ...]
    problems: tuple[str, ...]
    # the environment whose policy governs the PR (a lifecycle `create`: its template); None: the target's
    policy_env: str | None = None

    @property
    def lifecycle(self) -> bool:
        return self.kind.startswith("lifecycle:")

    @property
    def release_path(self) -> str:
        return release_path(self.target)

    @property
    def wave(self) -> str | None:
        return str(self.run.data.get("wave")) if self.run and self.run.data.get("wave") else None

    @property
    def image(self) -> str | None:
        if self.run is not None:
            return None if (v := self.run.data.get("image")) is None else str(v)  # lifecycle: None
        return self.release.image if self.release else None

    @property
    def version(self) -> str | None:
        if self.run is not None:
            return None if (v := self.run.data.get("version")) is None else str(v)  # lifecycle: None
        return self.release.version if self.release else None

    def supply(self, what: str) -> SupplyResult | None:
        """The signature / scan evidence the matched promotion run recorded (None: none recorded)."""
        recorded = (self.run.data.get("supply") or {}).get(what) if self.run else None
        if not isinstance(recorded, Mapping):
            return None
        return SupplyResult(ok=bool(recorded.get("ok")), text=str(recorded.get("text", "")))


def release_path(target: str) -> str:
    return f"envs/{target}/release.yaml"


def allowed_path(target: str, path: str, tenants: Sequence[str]) -> bool:
    if path in {release_path(target), f"envs/{target}/values.yaml"}:
        return True
    prefix = f"envs/{target}/tenants/"
    return path.startswith(prefix) and path.endswith(".yaml") and path[len(prefix) : -5] in tenants


def _load(text: str | None) -> Any:
    try:
        return yaml.load(text, Loader=FAST_SAFE_LOADER) if text is not None else None  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return Ellipsis


def _user_part(data: Any) -> Any:
    if isinstance(data, Mapping) or data is None:  # an empty file has no keys (so the config loader reads it)
        return {k: v for k, v in (data or {}).items() if k not in EDITABLE_VALUE_KEYS}
    return data


def _value_edit_problems(path: str, base: str | None, head: str | None) -> list[str]:
    """A promotion edits only the image and release blocks of a values or tenant file."""
    before, after = _load(base), _load(head)
    if after is Ellipsis:
        return [f"{path} at the head is not valid YAML"]
    if base is None:
        return [f"{path} is created by the PR (a promotion only edits existing values files)"]
    if _user_part(before) != _user_part(after):
        return [f"{path} changes keys other than {' and '.join(EDITABLE_VALUE_KEYS)} (a promotion may not)"]
    return []


def audit_log_at(checkout: ConfigCheckout, ref: str, env: str) -> tuple[list[AuditEntry], str | None]:
    """The entries of audit/<env>.jsonl at `ref`, and why they cannot be trusted (None: the chain holds)."""
    rel = audit_path(Path(), env).as_posix()
    raw = plumbing.read_blob(checkout, ref, rel) or b""
    with tempfile.TemporaryDirectory(prefix="odoo-gitops-audit-") as tmp:
        path = Path(tmp) / rel
        path.parent.mkdir(parents=True)
        path.write_bytes(raw)
        report = verify_chain(path, env)
        if not report.ok:
            return [], f"{rel} on main is not intact ({report.reason}): run `odoo-gitops audit verify {env}`"
        try:
            return read_entries(path), None
        except ConfigError as exc:
            return [], f"{rel} on main cannot be read: {exc}"


def fetch_head(checkout: ConfigCheckout, pull: PullRequest) -> str:
    """Fetch the PR's head branch into the checkout; the SHA must be the one the forge reports."""
    ref = f"refs/remotes/pull/{pull.number}"
    checkout.fetch(f"+refs/heads/{pull.head}:{ref}")
    sha = plumbing.git(checkout, "rev-parse", ref).stdout.decode().strip()
    if sha != pull.head_sha:
        raise ExternalError(
            f"PR #{pull.number}: its branch {pull.head} is at {sha[:12]}, the forge reports "
            f"{pull.head_sha[:12]} (a push in between?); run the command again"
        )
    return sha


def changed_paths(checkout: ConfigCheckout, base: str, head: str) -> list[str]:
    out = plumbing.git(checkout, "diff", "--name-only", "--no-renames", "-z", base, head).stdout
    return sorted(p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p)


def _parse_release(text: str | None) -> tuple[ReleaseRecord | None, str | None]:
    data = _load(text)
    if not isinstance(data, Mapping):
        return None, "is missing or not a YAML mapping"
    try:
        return ReleaseRecord.model_validate(data), None
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return None, f"is not a valid release record ({where}: {first['msg']})"


def _wave_tenants(target: str, paths: Sequence[str]) -> tuple[str, ...]:
    prefix = f"envs/{target}/tenants/"
    return tuple(sorted(p[len(prefix) : -5] for p in paths if p.startswith(prefix)))


def _backups(release: ReleaseRecord | None, tenants: Sequence[str], completes: bool) -> list[str] | None:
    """Backup ids the head records for what the PR installs; None when any part lacks one."""
    if release is None:
        return None
    ids = []
    if completes or not tenants:
        if release.backup is None:
            return None
        ids.append(release.backup.id)
    for tenant in tenants:
        state = release.tenants.get(tenant)
        if state is None or state.backup is None:
            if completes and release.backup is not None:
                continue  # the env-wide backup covers the last wave's tenants
            return None
        ids.append(state.backup.id)
    return sorted(set(ids))


def _strictest(classes: Sequence[str | None]) -> str:
    known = [c for c in classes if c]
    if "emergency" in known:
        return "emergency"
    return "standard" if known and all(c == "standard" for c in known) else "normal"


@dataclass(frozen=True)
class _Head:
    paths: list[str]
    files: dict[str, str | None]
    problems: list[str]


def _read_head(
    checkout: ConfigCheckout, repo: ConfigRepo, target: str, base: str, head: str, *, check: bool = True
) -> _Head:
    enabled = repo.env(target).config.enabled_tenants()
    paths = changed_paths(checkout, base, head)
    problems = [
        f"the PR edits {p}, which a promotion to {target!r} may not edit"
        for p in paths
        if not allowed_path(target, p, enabled)
    ]
    wanted = sorted({release_path(target), *(p for p in paths if allowed_path(target, p, enabled))})
    heads = plumbing.read_blobs(checkout, head, wanted)
    files = {p: _text(heads.get(p)) for p in wanted}
    if not check:
        return _Head(paths, files, problems)
    bases = plumbing.read_blobs(checkout, base, wanted)
    for path in wanted:
        if path != release_path(target) and path in paths:
            problems += _value_edit_problems(path, _text(bases.get(path)), files[path])
    before, after = _load(_text(bases.get(release_path(target)))), _load(files[release_path(target)])
    if isinstance(after, Mapping):
        problems += _verification_problems(target, before if isinstance(before, Mapping) else {}, after)
    return _Head(paths, files, problems)


def _verification(data: Any) -> Any:
    return data.get("verification") if isinstance(data, Mapping) else None


def _verification_problems(target: str, base: Mapping[str, Any], head: Mapping[str, Any]) -> list[str]:
    """Verifications are written by `odoo-gitops verify` on main, never by a promotion: the content hash
    leaves them out (main records them under open PRs), so the head may only carry the ones main had where
    promote puts them (the current release's may move to `previous`)."""
    where: list[str] = []
    top, previous = _verification(base), _verification(base.get("previous"))
    if _verification(head) not in (None, top):
        where.append("verification")
    if _verification(head.get("previous")) not in (None, top, previous):
        where.append("previous.verification")
    tenants, base_tenants = head.get("tenants") or {}, base.get("tenants") or {}
    if isinstance(tenants, Mapping) and isinstance(base_tenants, Mapping):
        for name, state in sorted(tenants.items()):
            if _verification(state) not in (None, _verification(base_tenants.get(name))):
                where.append(f"tenants.{name}.verification")
    return [
        f"{release_path(target)} at the head records {w} that main does not (verifications are written by "
        "`odoo-gitops verify` on main, never by a promotion)"
        for w in where
    ]


def _text(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", "replace")


def head_content(
    checkout: ConfigCheckout, repo: ConfigRepo, target: str, head: str, known: Mapping[str, Any] | None = None
) -> str:
    """The content hash of promotion commit `head` as the gate computes it (`known`: see hash_files)."""
    base = plumbing.merge_bases(checkout, f"refs/remotes/origin/{checkout.branch}", head)[0]
    seen = _read_head(checkout, repo, target, base, head, check=False)
    return hash_files(seen.files, release_path=release_path(target), known=known)


def read_pull(checkout: ConfigCheckout, repo: ConfigRepo, pull: PullRequest) -> PullFacts:
    """The facts of `pull`, from its head commit, main, and the target's audit log on main."""
    if is_lifecycle_branch(pull.head):
        return _lifecycle_facts(checkout, repo, pull)
    match = BRANCH_RE.fullmatch(pull.head)
    if match is None or match["target"] not in repo.envs:
        raise ExternalError(
            f"PR #{pull.number} ({pull.head}) is not a promotion PR: its branch is not "
            "promote/<env>/…, rollback/<env>/… (of an env of the config repo) or lifecycle/<change>/<env>"
        ) from None
    target, kind = match["target"], "rollback" if match["prefix"] == "rollback" else "promotion"
    main = f"refs/remotes/origin/{checkout.branch}"
    head = fetch_head(checkout, pull)
    bases = plumbing.merge_bases(checkout, main, head)
    seen = _read_head(checkout, repo, target, bases[0], head)
    problems = list(seen.problems) + non_file_problems(checkout, bases[0], head)
    if criss_cross := plumbing.criss_cross_problem(bases, head):
        problems.append(criss_cross)
    release, bad = _parse_release(seen.files[release_path(target)])
    if bad:
        problems.append(f"{release_path(target)} at the head {bad}")
    content = hash_files(seen.files, release_path=release_path(target))
    entries, untrusted = audit_log_at(checkout, main, target)
    if untrusted:
        problems.append(untrusted)
    runs = [e for e in entries if e.kind in RUN_KINDS and e.data.get("branch") == pull.head]
    run = next((e for e in reversed(runs) if e.data.get("content_hash") == content), None)
    if run is None:
        problems.append(
            f"the head {head[:12]} holds content no `odoo-gitops promote` run pushed to {pull.head} "
            f"(content {content[:16]}… is not in audit/{target}.jsonl on main): re-run the promotion"
        )
    tenants = _wave_tenants(target, seen.paths)
    completes = f"envs/{target}/values.yaml" in seen.paths or not repo.env(target).config.enabled_tenants()
    return _facts(
        pull=pull, kind=kind, target=target, head=head, seen=seen, content=content, release=release, run=run,
        runs=runs, entries=entries, tenants=tenants, completes=completes, problems=problems,
    )  # fmt: skip


def _facts(
    *,
    pull: PullRequest,
    kind: str,
    target: str,
    head: str,
    seen: _Head,
    content: str,
    release: ReleaseRecord | None,
    run: AuditEntry | None,
    runs: list[AuditEntry],
    entries: list[AuditEntry],
    tenants: tuple[str, ...],
    completes: bool,
    problems: list[str],
) -> PullFacts:
    claimed = [str(run.data.get("change_class")) if run else None]
    destructive = bool(run and run.data.get("destructive"))
    if release is not None:
        if completes:
            claimed.append(release.change_class)
            destructive = destructive or release.destructive
        for tenant in tenants:
            state = release.tenants.get(tenant)
            if state is not None:
                claimed.append(state.change_class)
                destructive = destructive or state.destructive
    declared = release.emergency if release is not None else None
    emergency = Emergency(declared.reason, declared.ticket) if declared else None
    backup_ids = _backups(release, tenants, completes)
    audited = {str(e.data.get("id")) for e in entries if e.kind == "backup"}
    recorded = bool(backup_ids) and all(i in audited for i in backup_ids or ())
    if backup_ids and not recorded:
        problems.append(
            "the head records backup(s) "
            + ", ".join(i for i in backup_ids if i not in audited)
            + f" that audit/{target}.jsonl does not (record backups with promote --backup-id)"
        )
    return PullFacts(
        number=pull.number,
        kind=kind,
        target=target,
        branch=pull.head,
        head=head,
        paths=tuple(seen.paths),
        tenants=tenants,
        completes_env=completes,
        content_hash=content,
        hashed_paths=tuple(sorted(seen.files)),
        release=release,
        run=run,
        promoters=tuple(sorted({e.actor for e in runs})),
        change_class=_strictest(claimed) if run else "normal",
        destructive=destructive if run else True,  # unknown content fails closed
        emergency=emergency,
        backup_recorded=recorded,
        backup_ids=tuple(backup_ids or ()),
        problems=tuple(problems),
    )


def content_at(forge_read: Callable[[str, str], str | None], sha: str, facts: PullFacts) -> str | None:
    """The content hash at commit `sha` of the PR (for a review given there), over the same files as the
    head's; None when that commit cannot be read (gone after a force-push)."""
    if sha == facts.head:
        return facts.content_hash
    if facts.lifecycle:
        return lifecycle_content_at(forge_read, sha, facts.hashed_paths)
    files = {path: forge_read(sha, path) for path in facts.hashed_paths}
    if files.get(facts.release_path) is None:
        return None
    return hash_files(files, release_path=facts.release_path)


def _lifecycle_facts(checkout: ConfigCheckout, repo: ConfigRepo, pull: PullRequest) -> PullFacts:
    """A lifecycle PR as PullFacts (gitops.promote.lifecyclefacts): no release, no tenants, no backup."""
    seen = read_lifecycle_pull(checkout, repo, pull, fetch_head=fetch_head, audit_log_at=audit_log_at)
    return PullFacts(number=pull.number, branch=pull.head, **seen)  # type: ignore[arg-type]
