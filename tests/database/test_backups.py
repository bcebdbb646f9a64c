"""gitops/database/backups.py against a real PostgreSQL: a backup and its manifest appear together and agree
with the database, a backup whose bytes or manifest are wrong is refused before anything is restored, and a
restore never overwrites a database unless asked (nor leaves half a one behind)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitops.database.backups import (
    check_backup,
    file_sha256,
    manifest_path,
    read_manifest,
    restore_fresh,
    take_backup,
)
from gitops.errors import ExternalError, UsageError, VerificationError
from tests.database.helpers import server
from tests.fixtures.postgres import PgCluster


@pytest.fixture
def source(postgres: PgCluster) -> Iterator[str]:
    name = postgres.create_database("backups_source")
    with postgres.connect(name) as conn:
        conn.execute("CREATE TABLE res_partner (id serial PRIMARY KEY, name text)")
        conn.execute("INSERT INTO res_partner (name) SELECT 'p' || g FROM generate_series(1, 25) g")
        conn.execute("CREATE TABLE ir_module_module (name text, state text)")
        conn.execute("INSERT INTO ir_module_module VALUES ('base', 'installed'), ('acme_x', 'to upgrade')")
    yield name
    postgres.drop_database(name)


@pytest.fixture
def backup(postgres: PgCluster, source: str, tmp_path: Path) -> Path:
    path = tmp_path / "prod.dump"
    take_backup(server(postgres, source), path)
    return path


def test_a_backup_and_its_manifest_describe_the_same_snapshot(
    postgres: PgCluster, source: str, tmp_path: Path
) -> None:
    path = tmp_path / "prod.dump"
    manifest = take_backup(server(postgres, source), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "prod.dump",
        "prod.dump.manifest.json",
    ]  # no partials
    assert manifest.database == source
    assert manifest.tables == {"ir_module_module": 2, "res_partner": 25}
    assert manifest.modules == {"acme_x": "to upgrade", "base": "installed"}
    assert (manifest.sha256, manifest.size) == (file_sha256(path), path.stat().st_size)
    assert read_manifest(path) == manifest
    assert check_backup(path) == manifest


def test_a_backup_whose_bytes_differ_from_its_manifest_is_refused(backup: Path) -> None:
    with backup.open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(VerificationError, match="its sha256 differs from the manifest"):
        check_backup(backup)
    backup.unlink()
    with pytest.raises(VerificationError, match="missing, or its sha256 differs"):
        check_backup(backup)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.unlink(), "prod.dump.manifest.json: the backup has no manifest"),
        (
            lambda p: p.write_text("{not json"),
            "prod.dump.manifest.json: unreadable manifest (1 invalid field(s))",
        ),
        (
            lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "sha256": "x", "size": -1})),
            "prod.dump.manifest.json: unreadable manifest (2 invalid field(s))",
        ),
    ],
)
def test_a_missing_or_malformed_manifest_is_a_verification_failure(
    backup: Path, edit: Callable[[Path], object], message: str
) -> None:
    edit(manifest_path(backup))
    with pytest.raises(VerificationError) as caught:
        read_manifest(backup)
    assert caught.value.message == message


def test_a_restore_makes_a_new_database_and_overwrites_one_only_when_asked(
    postgres: PgCluster, backup: Path
) -> None:
    target = server(postgres, "backups_restored")
    postgres.drop_database("backups_restored")
    try:
        restore_fresh(target, backup)
        with postgres.connect("backups_restored") as conn:
            assert conn.execute("SELECT count(*) FROM res_partner").fetchone() == (25,)
            conn.execute("DELETE FROM res_partner")
        with pytest.raises(UsageError, match="'backups_restored' exists; pass --replace"):
            restore_fresh(target, backup)
        with postgres.connect("backups_restored") as conn:
            assert conn.execute("SELECT count(*) FROM res_partner").fetchone() == (0,)  # untouched
        restore_fresh(target, backup, replace=True)
        with postgres.connect("backups_restored") as conn:
            assert conn.execute("SELECT count(*) FROM res_partner").fetchone() == (25,)
    finally:
        postgres.drop_database("backups_restored")


def test_a_failed_restore_leaves_no_database_behind(
    postgres: PgCluster, backup: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"PGDMP" + b"\0" * 64)  # not a dump, with a manifest that matches its bytes
    manifest = json.loads(manifest_path(backup).read_text())
    manifest.update(sha256=file_sha256(broken), size=broken.stat().st_size)
    manifest_path(broken).write_text(json.dumps(manifest))
    postgres.drop_database("backups_broken")
    with pytest.raises(ExternalError):
        restore_fresh(server(postgres, "backups_broken"), broken)
    assert "backups_broken" not in postgres.databases()
