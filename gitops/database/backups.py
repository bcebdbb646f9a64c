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

from psycopg import IsolationLevel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gitops.database.postgres import Server, connect, module_states, pg_dump, pg_restore, table_counts
from gitops.errors import VerificationError

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
    with connect(server, autocommit=False) as conn:
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        row = conn.execute("SELECT pg_export_snapshot(), current_setting('server_version')").fetchone()
        assert row is not None
        snapshot, version = str(row[0]), str(row[1])
        tables, modules = table_counts(conn), module_states(conn)
        taken_at = datetime.now(UTC)
        pg_dump(server, ["-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(partial)])
        conn.rollback()
    manifest = BackupManifest(
        database=server.dbname,
        taken_at=taken_at,
        sha256=file_sha256(partial),
        size=partial.stat().st_size,
        tables=tables,
        modules=modules,
        server_version=version,
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
