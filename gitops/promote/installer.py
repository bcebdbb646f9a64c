"""Install a release through a PR, the machinery promote and rollback share: clone the config repository,
push the change on its promotion branch, publish the PR, put it on record."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from gitops.config import store as config_store
from gitops.config.files import Files
from gitops.config.loader import ConfigRepo
from gitops.forge.protocol import Forge, PullRequest
from gitops.gates.evidence import WindowState
from gitops.gates.registry import stage_gates
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout
from gitops.promote.auditing import Log, audit_backup, audit_promotion, read_log
from gitops.promote.branch_push import push_promotion_branch
from gitops.promote.promotion import (
    BRANCH_PREFIXES,
    Install,
    PromoteOptions,
    PromotionResult,
    Seams,
    branch_name,
)
from gitops.promote.publishing import Draft, Publication, Published, draft_of, publish
from gitops.promote.pullfacts import head_content
from gitops.promote.release_files import (
    Edits,
    edited_paths,
    install_files,
    new_release_data,
    written_content,
)
from gitops.promote.run_state import RunState, prior_run, run_state
from gitops.promote.stage_seams import WindowCheck, window_state
from gitops.promote.waves import runs_already

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class PromotionContext:
    """One promote or rollback run: the config repository cloned, its forge, and work started early."""

    checkout: ConfigCheckout
    repo: ConfigRepo
    forge: Forge
    seams: Seams
    options: PromoteOptions
    now: datetime
    promotion_heads: Callable[[], dict[str, str]]  # promote/ and rollback/ branches as of the clone
    open_pulls: Callable[[], list[PullRequest]]  # the forge's open PRs to main, listed while the run decides
    cloned_main: str  # main's commit at the clone: the one `repo` was loaded from

    def settle(self) -> None:
        """Wait for the background work that may write into the clone (a forge keeping its PRs in git
        fetches them into it), whatever became of it: before the clone is removed."""
        with contextlib.suppress(Exception):
            self.open_pulls()

    window: Later[WindowState | None]  # the target's window verdict at `now`, started once the run decided
    edits: Edits = field(default_factory=dict)  # tenant and values files edited ahead of time


def in_background(work: Callable[[], T]) -> Callable[[], T]:
    """Start `work` on a worker thread (git subprocesses and pure computation overlap the caller's own
    work); the returned function waits for its result and re-raises its error."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="odoo-gitops")
    future = pool.submit(work)
    pool.shutdown(wait=False)
    return future.result


class Later(Generic[T]):
    """Work started on a worker thread when asked to (`start`) or first waited for (calling it): work the
    run needs late, kept off the CPU while the run decides (and the schema evidence is computed beside it)."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._result: Callable[[], T] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._result is None:
                self._result = in_background(self._work)

    def __call__(self) -> T:
        self.start()
        assert self._result is not None
        return self._result()


def window_verdict(repo: ConfigRepo, env: str, now: datetime, check: WindowCheck) -> WindowState | None:
    """The change-window verdict for `env` at `now`; None when its stage has no window gate."""
    stage = repo.pipeline_for(env).stage(env)
    if stage is None or "window" not in stage.gates:
        return None
    return window_state(repo, env, now, check)


def _early_git(checkout: ConfigCheckout) -> dict[str, str]:
    plumbing.warm_idents(checkout)
    return checkout.remote_heads(*(f"{p}*" for p in BRANCH_PREFIXES))


def clone_config(options: PromoteOptions) -> ConfigCheckout:
    """The config repository, cloned without a working tree (its files are read from git objects)."""
    return ConfigCheckout.clone(options.remote, options.workdir / "config", working_tree=False)


def open_context(
    options: PromoteOptions, seams: Seams, target: str, *, checkout: ConfigCheckout | None = None
) -> PromotionContext:
    """Clone (unless given the clone) and load the config; start what can run while the caller decides."""
    checkout = checkout or clone_config(options)
    # while the config loads: the remote's promotion branches (one ls-remote), the commit identities
    heads = in_background(lambda: _early_git(checkout))
    repo = config_store.load_checkout(checkout)
    now = options.now or datetime.now(UTC)
    # the window verdict, started once the run has decided (promote's wait for the schema evidence, or
    # install_release)
    window = Later(lambda: window_verdict(repo, target, now, seams.window_check))
    forge = seams.forge(checkout)
    # one request the PR publication needs, made while the run decides (awaited before the run writes to
    # git, and by `settle`; a refusal drops the answer and its error); a PR opened meanwhile to the same
    # branch is found when creating it fails (gitops.forge)
    pulls = in_background(lambda: forge.open_pulls(base=checkout.branch))
    return PromotionContext(
        checkout=checkout,
        repo=repo,
        forge=forge,
        seams=seams,
        options=options,
        now=now,
        promotion_heads=heads,
        open_pulls=pulls,
        cloned_main=checkout.head(),
        window=window,
    )


def _ahead(read: Callable[[], Log]) -> Log | None:
    """What was read ahead, or None when that failed (the reader then reads again and meets the error)."""
    try:
        return read()
    except Exception:
        return None


def files_in(files: Files, paths: list[str]) -> dict[str, bytes | None] | None:
    """The bytes of `paths` (None: absent) in the files the config was loaded from; None when one of them is
    a symbolic link (git gives a link's own bytes: ask git)."""
    if any(files.is_link(path) for path in paths):
        return None
    found: dict[str, bytes | None] = {}
    for path in paths:
        try:
            found[path] = files.read(path)
        except FileNotFoundError:
            found[path] = None
    return found


def _commit_message(install: Install) -> tuple[str, dict[str, str]]:
    trailers = {
        "Promoted-From": install.source,
        "Image-Digest": install.image.partition("@")[2],
        "Change-Class": install.schema.change_class + (" destructive" if install.schema.destructive else ""),
    }
    message = (
        f"{'Roll back' if install.kind == 'rollback' else 'Promote'} {install.target} to {install.version}"
        + (f" ({install.wave})" if install.wave else "")
    )
    return message, trailers


def install_release(ctx: PromotionContext, install: Install) -> PromotionResult:
    """Push the config change for `install` and open, update or leave alone its PR."""
    target = ctx.repo.env(install.target)
    current = target.release
    base = PromotionResult.up_to_date(install)
    if runs_already(current, install):
        return replace(base, notes=(f"{install.target} already runs {install.version}; nothing to do",))
    branch = branch_name(install.kind, install.target, install.version, install.image, install.wave)
    listed = ctx.open_pulls()  # before git writes to the clone: a forge keeping PRs in git fetched into it
    log = in_background(lambda: read_log(ctx.checkout, install.target, ctx.cloned_main))  # for the audit
    ctx.window.start()  # for the PR, while git edits and pushes (unless the wait for the schema evidence did)
    runs: list[RunState] = []
    notes: list[str] = []
    written: dict[str, Any] = {}  # text -> the value YAML reads from it, for texts the edit wrote
    edits: list[tuple[Mapping[str, bytes | None], dict[str, bytes]]] = []  # the last edit: before, changed

    def edit(files: Mapping[str, bytes | None], earlier: Mapping[str, Any] | None) -> dict[str, bytes]:
        run = run_state(ctx.options, prior_run(earlier, install), ctx.now, notes)
        runs[:] = [run]
        release = new_release_data(current, install, run)
        changed = install_files(
            files, target, install, release, read_backs=written, loaded=ctx.repo.files, edits=ctx.edits
        )
        edits[:] = [(files, changed)]
        return changed

    message, trailers = _commit_message(install)
    hashes: dict[str, str] = {}  # commit -> content hash, computed while that commit is being pushed

    def content_of(sha: str, on_main: bool = False) -> str:
        """The content hash of `sha` as the gate computes it: from what the edit wrote when `sha` is that
        edit on top of main, else read back from git."""
        if sha not in hashes:
            hashes[sha] = (
                written_content(ctx.repo, install.target, *edits[0], known=written)
                if on_main and edits
                else head_content(ctx.checkout, ctx.repo, install.target, sha, known=written)
            )
        return hashes[sha]

    drafts: dict[str, Draft] = {}  # head -> the PR as it will be sent, made while that head is pushed

    def publication(sha: str) -> Publication:
        return Publication(
            target=target,
            branch=branch,
            head=sha,
            content_hash=content_of(sha),
            actor=ctx.options.actor,
            window=ctx.window(),
            emergency=runs[0].emergency,
            gates=stage_gates(ctx.repo, install.target),
        )

    def meanwhile(sha: str, on_main: bool) -> None:
        content_of(sha, on_main)
        drafts[sha] = draft_of(install, publication(sha), listed)

    head, pushed = push_promotion_branch(
        ctx.checkout,
        branch,
        edited_paths(target, install),
        edit,
        message=message,
        trailers=trailers,
        known_heads=ctx.promotion_heads(),
        meanwhile=meanwhile,
        cloned=(ctx.cloned_main, lambda paths: files_in(ctx.repo.files, paths)),
    )
    draft = drafts.get(head)
    where = draft.where if draft is not None else publication(head)
    content_hash, run = where.content_hash, runs[0]
    audited: list[int | None] = []

    def record(opened: Published) -> None:
        """The PR on record, while the forge is asked for what follows its creation."""
        audited[:] = [audit_promotion(ctx.checkout, install, where, opened, now=ctx.now, log=_ahead(log))]
        if run.backup is not None:
            audit_backup(ctx.checkout, install, where, run.backup, now=ctx.now)

    published = publish(
        ctx.forge, ctx.checkout.branch, install, where, open_pulls=listed, then=record, draft=draft
    )
    seq = audited[0]
    return replace(
        base,
        action=published.action,
        branch=branch,
        head_sha=head,
        pushed=pushed,
        pull=published.pull,
        content_hash=content_hash,
        superseded=published.superseded,
        audit_seq=seq,
        notes=tuple(notes),
    )
