"""`backup restore` (the refresh Job) restores only a backup whose manifest's signature verifies with the
source's key: a manifest edited or swapped after its rehearsal, a missing or malformed signature, another
key's signature or a signed manifest replayed under another backup's name exit 3 with nothing restored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops.cli.main import main
from gitops.database.backups import manifest_path
from gitops.supply import blob_signature
from gitops.supply.keys import load_private_key
from tests.database.test_rehearsal import (  # noqa: F401 - a real signed backup
    _verify,
    backed_up,
    copy_backup,
    prod_backup,
)
from tests.database.test_rehearsal_signature import ATTACKS
from tests.fixtures.postgres import PgCluster
from tests.fixtures.supply import make_keys

TARGET = "uat_signed"


def _restore(tmp_path: Path, backup: Path, *extra: str) -> int:
    config = tmp_path / "examples"
    argv = ["backup", "restore", "uat", "--backup", str(backup), "--config-repo", str(config)]
    return main([*argv, "--unmasked", "--replace", *extra])


@pytest.fixture
def target(postgres: PgCluster, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ODOO_GITOPS_DATABASE_URL", postgres.dsn(TARGET))
    yield TARGET
    if TARGET in postgres.databases():
        postgres.drop_database(TARGET)


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_a_tampered_or_unsigned_manifest_is_not_restored(
    attack: str,
    postgres: PgCluster,
    backed_up: Path,  # noqa: F811 - the imported fixture
    target: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tamper, needle = ATTACKS[attack]
    tamper(backed_up)
    assert _restore(tmp_path, backed_up, "--source-env", "prod") == 3
    assert needle in capsys.readouterr().err
    assert target not in postgres.databases()


def test_a_manifest_swapped_after_the_rehearsal_is_not_restored_as_latest_verified(
    postgres: PgCluster,
    backed_up: Path,  # noqa: F811 - the imported fixture
    target: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ODOO_GITOPS_DATABASE_URL", postgres.dsn("postgres"))
    assert _verify(tmp_path, backed_up, capsys)[0] == 0  # rehearsed: it passed
    path = manifest_path(backed_up)
    data = json.loads(path.read_text())
    data["tables"]["res_partner"] += 5  # the swap keeps the dump; only the signature can tell
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    monkeypatch.setenv("ODOO_GITOPS_DATABASE_URL", postgres.dsn(target))
    latest = backed_up.with_name("latest-verified")
    assert _restore(tmp_path, latest, "--source-env", "prod") == 3
    err = capsys.readouterr().err
    assert "no backup with a valid signature" in err and "signature does not verify" in err
    assert target not in postgres.databases()


def test_another_keys_signature_and_a_replayed_name_are_refused(
    postgres: PgCluster,
    backed_up: Path,  # noqa: F811 - the imported fixture
    target: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    replayed = copy_backup(backed_up, tmp_path / "prod-2099.dump")
    assert _restore(tmp_path, replayed, "--source-env", "prod") == 3
    assert "renamed or replayed" in capsys.readouterr().err
    other = make_keys(tmp_path / "other", monkeypatch)
    assert _restore(tmp_path, backed_up, "--public-key", str(other.public)) == 3
    assert "signed by another key" in capsys.readouterr().err
    assert target not in postgres.databases()


def test_a_good_signature_restores_and_a_restore_without_a_key_is_a_usage_error(
    postgres: PgCluster,
    prod_backup: Path,  # noqa: F811 - the imported fixture
    backed_up: Path,  # noqa: F811 - the imported fixture
    target: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _restore(tmp_path, backed_up) == 2
    assert "--public-key FILE, or --source-env ENV" in capsys.readouterr().err
    assert target not in postgres.databases()
    key = prod_backup.parent / "keys" / "cosign.pub"
    assert _restore(tmp_path, backed_up.with_name("latest-verified"), "--public-key", str(key)) == 0
    assert target in postgres.databases()
    resigned = load_private_key(prod_backup.parent / "keys" / "cosign.key")
    assert blob_signature.sign_file(manifest_path(backed_up), resigned)  # still the right key: restores
    assert _restore(tmp_path, backed_up, "--source-env", "prod") == 0
