"""The chart's backup Job, end to end without a cluster: its exact command line (as rendered by helm,
tests/charts/test_backup_job.py), with the Job's environment (DSN `dbname=…`, the rest from PG* variables,
the key mounted from a Secret, its password as COSIGN_PASSWORD), runs against a real PostgreSQL and writes
the dump, manifest and signature to the backup store; the rehearsal CronJob's command line then passes on
that store and commits a record the `rehearsal` gate accepts."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops.cli.main import main
from gitops.database.backups import manifest_path
from gitops.supply.blob_signature import signature_path
from gitops.verify.backup_contract import backup_id
from tests.charts.test_backup_job import KEY_DIR, backup_args
from tests.charts.test_data_jobs import rehearsal_args
from tests.database.test_rehearsal import _release_modules
from tests.database.test_rehearsal_cronjob import _gate, _main
from tests.fixtures.configrepo import ConfigRepoFixture, make_config_repo
from tests.fixtures.postgres import PgCluster
from tests.fixtures.supply import PASSWORD, KeyFiles, make_keys

BACKUP_ID = backup_id(database="acme-build", version="1.3.2", digest="sha256:" + "ab" * 32)


@pytest.fixture
def prod_database(postgres: PgCluster, odoo_template: str) -> Iterator[str]:
    """prod's database (a copy of the Odoo-shaped one) running prod's release modules."""
    name = postgres.create_database("acme-build", template=odoo_template)
    try:
        with postgres.connect(name) as conn:
            for module in _release_modules():
                conn.execute("INSERT INTO ir_module_module (name, state) VALUES (%s, 'installed')", (module,))
        yield name
    finally:
        postgres.drop_database(name)


@pytest.fixture
def job_env(postgres: PgCluster, prod_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The backup Job's environment, as the chart renders it (PG* from the database Secret)."""
    monkeypatch.setenv("ODOO_GITOPS_DATABASE_URL", f"dbname={prod_database}")
    monkeypatch.setenv("PGHOST", postgres.host)
    monkeypatch.setenv("PGPORT", str(postgres.port))
    monkeypatch.setenv("PGUSER", postgres.user)
    monkeypatch.setenv("PGPASSWORD", postgres.password)
    monkeypatch.setenv("HOME", "/tmp")


def _run_backup_job(store: Path, key: KeyFiles, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    """The Job's command line with /backup and the mounted Secret mapped to folders of this test."""
    args = backup_args("prod", f"/backup/{BACKUP_ID}.dump")
    mounted = {"/backup/": f"{store}/", f"{KEY_DIR}/": f"{key.private.parent}/"}
    argv = []
    for arg in args:
        for inside, outside in mounted.items():
            arg = arg.replace(inside, outside, 1) if arg.startswith(inside) else arg
        argv.append(arg)
    code = main(["backup", "create", *argv])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def _config_repo(tmp_path: Path, key: KeyFiles) -> ConfigRepoFixture:
    repo = make_config_repo(tmp_path / "config")
    shutil.copyfile(key.public, repo.work / "keys" / "cosign.pub")
    repo.commit_all("prod's backups are signed with this key")
    return repo


def test_the_backup_jobs_command_line_writes_what_the_rehearsal_cronjob_accepts(
    job_env: None,
    postgres: PgCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = make_keys(tmp_path / "backup-key", monkeypatch)  # the Secret: cosign.key + its password
    monkeypatch.setenv("COSIGN_PASSWORD", PASSWORD)
    store = tmp_path / "backup"
    store.mkdir()
    code, result = _run_backup_job(store, key, capsys)
    assert code == 0, result
    dump = store / f"{BACKUP_ID}.dump"
    assert result["signature"] == str(signature_path(manifest_path(dump)))
    assert sorted(p.name for p in store.iterdir()) == sorted(
        [dump.name, manifest_path(dump).name, signature_path(manifest_path(dump)).name]
    )  # no partial file left behind
    assert json.loads(manifest_path(dump).read_text())["file"] == dump.name
    assert postgres.password not in json.dumps(result)

    repo = _config_repo(tmp_path, key)
    assert _gate(_main(repo), BACKUP_ID)[0] == "pending"  # never rehearsed
    monkeypatch.setenv("ODOO_GITOPS_DATABASE_URL", "dbname=postgres")  # the CronJob's: a scratch database
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    args = rehearsal_args("prod", "/backup/latest", str(repo.remote), job="odoo-rehearsal-29411280")
    argv = [a.replace("/backup/", f"{store}/", 1) if a.startswith("/backup/") else a for a in args]
    code = main(["backup", "verify", *argv])
    rehearsal = json.loads(capsys.readouterr().out)
    assert code == 0, rehearsal
    assert rehearsal["passed"] is True and rehearsal["signature"] == "verified"
    assert rehearsal["backup"] == dump.name and rehearsal["problems"] == []
    assert _gate(_main(repo), BACKUP_ID) == ("success", ())


def test_without_the_key_password_nothing_is_written(
    job_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = make_keys(tmp_path / "backup-key", monkeypatch)
    monkeypatch.setenv("COSIGN_PASSWORD", "not-the-password")  # a wrong Secret key: refused before the dump
    store = tmp_path / "backup"
    store.mkdir()
    code, _ = _run_backup_job(store, key, capsys)
    assert code != 0 and list(store.iterdir()) == []
