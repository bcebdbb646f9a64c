"""Backups with a manifest: `pg_dump -Fc` of one consistent snapshot, and next to it
`<file>.manifest.json` with what the snapshot held (exact row count of every table, Odoo's module states),
the dump's sha256 and size, and when it was taken. A restore rehearsal checks a backup against it.

The row counts and the dump come from the same snapshot (`pg_export_snapshot` in a REPEATABLE READ
transaction, handed to `pg_dump --snapshot`), so they agree even while the database is written to.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gitops.database.postgres import (
    Server,
    connect,
    create_database,
    drop_database,
    module_states,
    pg_dump,
    pg_restore,
    snapshot,
    table_counts,
)
from gitops.errors import UsageError, VerificationError

MANIFEST_FORMAT = "odoo-gitops-backup/1"


class BackupManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["odoo-gitops-backup/1"] = "odoo-gitops-backup/1"
    database: str
    taken_at: datetime
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)
    tables: dict[str, int]
    modules: dict[str, str]
    server_version: str
    # the backup's file name, signed with the rest: a signed manifest moved next to another backup's name
    # (an old backup replayed as a new one) does not count (None: a manifest from before it was recorded)
    file: str | None = None


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".manifest.json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def take_backup(server: Server, backup: Path) -> BackupManifest:
    """Dump `server.dbname` to `backup` (custom format) and write its manifest. Both files appear only
    when complete (written under a temporary name, then renamed)."""
    partial = backup.with_name(f".{backup.name}.partial")
    with snapshot(server) as (conn, name):
        row = conn.execute("SELECT current_setting('server_version')").fetchone()
        version = str(row[0]) if row else "unknown"
        tables, modules = table_counts(conn), module_states(conn)
        taken_at = datetime.now(UTC)
        pg_dump(server, ["-Fc", "--no-owner", f"--snapshot={name}", "-f", str(partial)])
    manifest = BackupManifest(
        database=server.dbname,
        taken_at=taken_at,
        sha256=file_sha256(partial),
        size=partial.stat().st_size,
        tables=tables,
        modules=modules,
        server_version=version,
        file=backup.name,
    )
    os.replace(partial, backup)
    _write_json(manifest_path(backup), manifest.model_dump(mode="json"))
    return manifest


def _write_json(path: Path, data: object) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(partial, path)


def read_manifest(backup: Path) -> BackupManifest:
    """The manifest of `backup`; VerificationError when it is missing or malformed (a backup without one
    cannot be rehearsed against anything)."""
    path = manifest_path(backup)
    try:
        return BackupManifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise VerificationError(f"{path.name}: the backup has no manifest") from None
    except (OSError, ValidationError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"{exc.error_count()} invalid field(s)"
        raise VerificationError(f"{path.name}: unreadable manifest ({reason})") from None


def restore_backup(server: Server, backup: Path, *, jobs: int = 2) -> None:
    """pg_restore `backup` into the existing, empty database `server.dbname`; stops at the first error."""
    args = ["--exit-on-error", "--no-owner", f"--jobs={jobs}", "-d", server.dbname, str(backup)]
    pg_restore(server, args)


def check_backup(backup: Path) -> BackupManifest:
    """The manifest of a backup whose bytes match it; VerificationError otherwise."""
    manifest = read_manifest(backup)
    if not backup.is_file() or file_sha256(backup) != manifest.sha256:
        raise VerificationError(
            f"{backup.name}: missing, or its sha256 differs from the manifest (corrupted or replaced)"
        )
    return manifest


def database_exists(server: Server, name: str) -> bool:
    with connect(server.on("postgres")) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def restore_fresh(server: Server, backup: Path, *, replace: bool = False) -> BackupManifest:
    """Restore a checked backup into a new database `server.dbname` (dropped first with `replace`); a
    failed restore drops what it created."""
    manifest = check_backup(backup)
    if database_exists(server, server.dbname):
        if not replace:
            raise UsageError(f"database {server.dbname!r} exists; pass --replace to drop it first")
        drop_database(server, server.dbname)
    create_database(server, server.dbname)
    try:
        restore_backup(server, backup)
    except BaseException:
        drop_database(server, server.dbname)
        raise
    return manifest
