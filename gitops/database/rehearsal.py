"""Restore rehearsal: a backup counts only if it was restored and checked. Restore it into a scratch
database, check tables and row counts against its manifest and Odoo's module states against the manifest
and the release, measure the restore time (RTO) and the backup's age (RPO), drop the scratch database,
return the record. A backup whose manifest's signature does not verify, or whose bytes differ from its
manifest's sha256, fails without being restored (the signature check is handed in by the caller:
gitops.supply.blob_signature, a later layer)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gitops.database.backups import (
    BackupManifest,
    file_sha256,
    read_manifest,
    restore_backup,
)
from gitops.database.postgres import (
    Server,
    connect,
    create_database,
    drop_database,
    module_states,
    table_counts,
)
from gitops.errors import GitopsError

RECORD_KIND = "restore-rehearsal"
_TRANSITIONAL = frozenset({"to install", "to upgrade", "to remove"})


@dataclass(frozen=True)
class RehearsalRecord:
    env: str
    backup: str
    backup_sha256: str | None
    taken_at: str | None
    rehearsed_at: str
    passed: bool
    rto_seconds: float | None
    rpo_seconds: float | None
    tables_checked: int
    rows_checked: int
    modules_checked: int
    problems: list[str] = field(default_factory=list)
    kind: str = RECORD_KIND
    signature: str = "unchecked"  # of the manifest: verified, failed (exit 3), unchecked (no manifest)
    manifest_key_id: str | None = None  # the key that signed the manifest

    @property
    def signature_failed(self) -> bool:
        return self.signature == "failed"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def count_problems(expected: Mapping[str, int], actual: Mapping[str, int]) -> list[str]:
    problems = [f"table {t} missing after restore" for t in sorted(set(expected) - set(actual))]
    problems += [f"table {t} not in the manifest" for t in sorted(set(actual) - set(expected))]
    problems += [
        f"table {t}: {actual[t]} rows restored, manifest says {n}"
        for t, n in sorted(expected.items())
        if t in actual and actual[t] != n
    ]
    return problems


def module_problems(
    manifest: Mapping[str, str], restored: Mapping[str, str], release: Iterable[str]
) -> list[str]:
    problems = []
    if dict(restored) != dict(manifest):
        changed = sorted(k for k in set(manifest) | set(restored) if manifest.get(k) != restored.get(k))
        problems.append("module states differ from the manifest: " + ", ".join(changed[:20]))
    problems += [f"module {m} is {restored[m]!r} (an interrupted update)" for m in sorted(restored)
                 if restored[m] in _TRANSITIONAL]  # fmt: skip
    problems += [
        f"release module {m} is not installed in the backup ({restored.get(m, 'absent')})"
        for m in sorted(set(release))
        if restored.get(m) != "installed"
    ]
    return problems


def rehearse(
    server: Server,
    backup: Path,
    *,
    env: str,
    release_modules: Iterable[str] = (),
    check_signature: Callable[[Path], str],
    now: datetime | None = None,
) -> RehearsalRecord:
    """Rehearse the restore of `backup` on `server` (a scratch database is created and dropped).
    `check_signature(backup)` returns the id of the key that signed its manifest, or raises when the signature
    does not verify or the signed manifest names another backup (gitops.cli.backup_signed.check_signed)."""
    started = now or datetime.now(UTC)
    try:
        manifest = read_manifest(backup)
    except GitopsError as exc:
        return _failed(env, backup, started, [exc.message], None)
    try:
        key_id = check_signature(backup)
    except GitopsError as exc:
        # nothing of an unproven manifest goes on record (a bad signature, or a signed manifest of another
        # backup: renamed or replayed)
        return replace(_failed(env, backup, started, [exc.message], None), signature="failed")
    actual = file_sha256(backup) if backup.is_file() else None
    if actual != manifest.sha256:
        why = "missing" if actual is None else "its sha256 differs from the manifest (corrupted or replaced)"
        return replace(
            _failed(env, backup, started, [f"backup file {why}"], manifest),
            signature="verified",
            manifest_key_id=key_id,
        )
    scratch = server.on(f"rehearsal_{secrets.token_hex(6)}")
    create_database(server, scratch.dbname)
    try:
        found = _restore_and_check(
            scratch, backup, manifest, env=env, started=started, release=set(release_modules)
        )
        return replace(found, signature="verified", manifest_key_id=key_id)
    finally:
        drop_database(server, scratch.dbname)


def _restore_and_check(
    scratch: Server, backup: Path, manifest: BackupManifest, *, env: str, started: datetime, release: set[str]
) -> RehearsalRecord:
    clock = time.monotonic()
    try:
        restore_backup(scratch, backup)
    except GitopsError as exc:
        return _failed(env, backup, started, [f"restore failed: {exc.message[-500:]}"], manifest)
    rto = time.monotonic() - clock
    with connect(scratch) as conn:
        counts, modules = table_counts(conn), module_states(conn)
    problems = count_problems(manifest.tables, counts) + module_problems(manifest.modules, modules, release)
    return RehearsalRecord(
        env=env,
        backup=backup.name,
        backup_sha256=manifest.sha256,
        taken_at=manifest.taken_at.isoformat(),
        rehearsed_at=started.isoformat(timespec="seconds"),
        passed=not problems,
        rto_seconds=round(rto, 3),
        rpo_seconds=round((started - manifest.taken_at).total_seconds(), 3),
        tables_checked=len(counts),
        rows_checked=sum(counts.values()),
        modules_checked=len(modules),
        problems=problems,
    )


def _failed(
    env: str, backup: Path, started: datetime, problems: list[str], manifest: BackupManifest | None
) -> RehearsalRecord:
    return RehearsalRecord(
        env=env,
        backup=backup.name,
        backup_sha256=manifest.sha256 if manifest else None,
        taken_at=manifest.taken_at.isoformat() if manifest else None,
        rehearsed_at=started.isoformat(timespec="seconds"),
        passed=False,
        rto_seconds=None,
        rpo_seconds=round((started - manifest.taken_at).total_seconds(), 3) if manifest else None,
        tables_checked=0,
        rows_checked=0,
        modules_checked=0,
        problems=problems,
    )


def objective_problems(record: RehearsalRecord, *, rpo: timedelta | None, rto: timedelta | None) -> list[str]:
    """Why a rehearsal does not meet an environment's recovery objectives (empty: it does)."""
    problems = [] if record.passed else ["the rehearsal failed: " + "; ".join(record.problems)]
    if rto is not None and (record.rto_seconds is None or record.rto_seconds > rto.total_seconds()):
        problems.append(f"restore took {record.rto_seconds}s, objective (RTO) is {rto.total_seconds():g}s")
    if rpo is not None and (record.rpo_seconds is None or record.rpo_seconds > rpo.total_seconds()):
        problems.append(f"backup is {record.rpo_seconds}s old, objective (RPO) is {rpo.total_seconds():g}s")
    return problems
