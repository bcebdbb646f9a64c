"""Audit entries appended to audit/<env>.jsonl on the config repository's main branch (plumbing, no
working tree), idempotent by key, retried on a race with another writer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from gitops.audit import audit_path
from gitops.audit.log import append_text, verify_text
from gitops.config.models import BackupRecord
from gitops.errors import ConfigError, ExternalError, Problem
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout, format_trailers
from gitops.gitstore.commit_loop import Tip, commit, fetched_tip
from gitops.promote.promotion import Install
from gitops.promote.publishing import Publication, Published

Log = tuple[str, bytes | None]
"""An audit log read ahead: the commit of main it was read at, and its bytes there (None: no log yet)."""


def read_log(checkout: ConfigCheckout, env: str, commit: str) -> Log:
    """`env`'s audit log at `commit` of main."""
    rel = audit_path(Path(), env).as_posix()
    return commit, plumbing.read_blobs(checkout, commit, [rel])[rel]


def record_audit(
    checkout: ConfigCheckout,
    env: str,
    actor: str,
    entries: Sequence[tuple[str, Mapping[str, Any], str]],
    now: datetime,
    *,
    fetch_first: bool = True,
    files: Mapping[str, bytes] | None = None,
    log: Log | None = None,
) -> int | None:
    """Append entries (idempotent by key) to audit/<env>.jsonl on main and push; returns the last seq.
    `files` (path -> bytes) are written in the same commit, and only when an entry was appended: a re-run
    whose entries are all on record changes nothing.
    A log whose chain is broken is refused (ConfigError, exit 2): nothing is appended, so nothing that
    follows the audit write (a status, a merge) happens either.

    Written with plumbing on top of the latest main, without touching the working tree;
    a race with another writer re-reads main and tries again (keys make the retry safe). `log`: the log
    read ahead: the first attempt builds on the commit it was read at, with its bytes (the push is leased on
    that commit: when main has moved since, it is refused and the next attempt fetches and reads again)."""
    if not entries:
        return None
    main = checkout.branch
    rel = audit_path(Path(), env).as_posix()
    seqs: list[int] = []

    def edit(tip: Tip) -> dict[str, bytes]:
        ahead = log[1] if log is not None and tip.parent == log[0] else tip.read([rel])[rel]  # first attempt
        before = ahead or b""
        after, seqs[:] = _appended(before, rel=rel, env=env, actor=actor, entries=entries, now=now, main=main)
        return {**(files or {}), rel: after} if after != before else {}

    commit(
        checkout,
        main,
        edit,
        message=f"Audit: {entries[0][0]} in {env}\n\n{format_trailers({'Audit-Env': env})}",
        tip=lambda attempt: (
            log[0]
            if log is not None and not attempt
            else fetched_tip(checkout, main, fetch=bool(attempt or fetch_first))
        ),
        gave_up=lambda: ExternalError(f"could not append to {rel} on {main}: the branch keeps moving"),
    )
    return seqs[-1]


def _appended(
    before: bytes,
    *,
    rel: str,
    env: str,
    actor: str,
    entries: Sequence[tuple[str, Mapping[str, Any], str]],
    now: datetime,
    main: str,
) -> tuple[bytes, list[int]]:
    """The log `before` with `entries` appended (a key already on record is not appended again) and the
    entries' sequence numbers; refused when the chain of `before` is broken."""
    text = before.decode("utf-8")
    chain = verify_text(text, env, rel)
    if not chain.ok:  # never extend (or publish on top of) a log that was tampered with
        raise ConfigError(
            [Problem(rel, chain.first_bad_line or 0, f"audit chain broken on {main}: {chain.reason}")]
        )
    seqs = []
    for kind, data, key in entries:
        text, entry = append_text(
            text, where=rel, env=env, kind=kind, actor=actor, data=data, key=key, at=now
        )
        seqs.append(entry.seq)
    return text.encode("utf-8"), seqs


def audit_promotion(
    checkout: ConfigCheckout,
    install: Install,
    pushed: Publication,
    published: Published,
    *,
    now: datetime,
    log: Log | None = None,
) -> int | None:
    """The promotion (or rollback) on record: one entry per actor and content, so everyone who ran this
    promotion is on record (and may not approve it)."""
    pull = published.pull
    data: dict[str, Any] = {
        "pr": pull.number,
        "url": pull.url,
        "branch": pushed.branch,
        "head": pushed.head,
        "source": install.source,
        "image": install.image,
        "version": install.version,
        "change_class": install.schema.change_class,
        "destructive": install.schema.destructive,
        "schema_diff_computed": install.schema.computed,
        "tenants": list(install.tenants),
        "wave": install.wave,
        "content_hash": pushed.content_hash,
        "superseded": list(published.superseded),
        "supply": {name: {"ok": r.ok, "text": r.text} for name, r in install.supply},
    }
    if pushed.emergency is not None:
        data["emergency"] = pushed.emergency.model_dump()
    if install.restore:
        data["restore_from_backup"] = install.restore.id
    kind = "rollback" if install.kind == "rollback" else "promotion"
    key = f"{kind}:{install.target}:{pushed.branch}:{pushed.content_hash}:{pushed.actor}"
    return record_audit(
        checkout, install.target, pushed.actor, [(kind, data, key)], now, fetch_first=False, log=log
    )


def audit_backup(
    checkout: ConfigCheckout, install: Install, pushed: Publication, backup: BackupRecord, *, now: datetime
) -> None:
    """The backup this run recorded for what the PR installs."""
    data = {
        "id": backup.id,
        "location": backup.location,
        "completed_at": backup.completed_at.isoformat(),
        "branch": pushed.branch,
        "tenants": list(install.tenants),
        "version": install.version,
    }
    key = f"backup:{install.target}:{pushed.branch}:{backup.id}"
    record_audit(checkout, install.target, pushed.actor, [("backup", data, key)], now)
