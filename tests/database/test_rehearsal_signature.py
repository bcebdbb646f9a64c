"""A backup counts only when its manifest's signature verifies with the environment's key: every edit of a
signed manifest (row counts, the dump's sha256, when it was taken), a missing or malformed signature and a
signature by another key fail `backup verify` with exit 3 before anything is restored, and the failed
rehearsal on record blocks the destructive promotion that relies on the backup."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops.database.backups import file_sha256, manifest_path
from gitops.supply import blob_signature
from gitops.supply.keys import load_private_key
from tests.database.test_rehearsal import (  # noqa: F401 - a real backup
    _verify,
    backed_up,
    copy_backup,
    prod_backup,
)
from tests.database.test_rehearsal_evidence import _verdict
from tests.fixtures.postgres import PgCluster
from tests.fixtures.supply import make_keys


def _edit(field: str, value: Callable[[Any, Path], Any]) -> Callable[[Path], None]:
    def edit(backup: Path) -> None:
        path = manifest_path(backup)
        data = json.loads(path.read_text())
        data[field] = value(data[field], backup)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    return edit


def _fewer_rows(tables: dict[str, int], _: Path) -> dict[str, int]:
    return {**tables, "res_partner": tables["res_partner"] - 1}


def _replaced_dump(_: str, backup: Path) -> str:
    backup.write_bytes(backup.read_bytes()[:4096])  # another dump, its sha256 written into the manifest
    return file_sha256(backup)


def _unsigned(backup: Path) -> None:
    blob_signature.signature_path(manifest_path(backup)).unlink()


def _garbage(backup: Path) -> None:
    blob_signature.signature_path(manifest_path(backup)).write_text("not base64 !!\n")


def _signature_of_other_bytes(backup: Path) -> None:
    other = base64.b64decode(blob_signature.signature_path(manifest_path(backup)).read_bytes())
    forged = bytearray(other)
    forged[-1] ^= 0x01
    blob_signature.signature_path(manifest_path(backup)).write_bytes(base64.b64encode(bytes(forged)))


ATTACKS = {
    "row counts edited": (_edit("tables", _fewer_rows), "signature does not verify"),
    "dump replaced, sha256 edited": (_edit("sha256", _replaced_dump), "signature does not verify"),
    "taken_at edited (a fresher RPO)": (
        _edit("taken_at", lambda _v, _b: "2099-01-01T00:00:00+00:00"),
        "signature does not verify",
    ),
    "signature removed": (_unsigned, "the backup manifest is not signed (no prod.dump.manifest.json.sig)"),
    "signature not base64": (_garbage, "not a base64 signature"),
    "signature altered": (_signature_of_other_bytes, "signature does not verify"),
}


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_an_edited_manifest_or_a_missing_signature_fails_verify_and_the_gate(
    attack: str,
    postgres: PgCluster,
    backed_up: Path,  # noqa: F811 - the imported fixture
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tamper, needle = ATTACKS[attack]
    tamper(backed_up)
    before = postgres.databases()
    code, result = _verify(tmp_path, backed_up, capsys)
    assert code == 3, result
    assert result["passed"] is False and result["signature"] == "failed"
    assert any(needle in str(p) for p in result["problems"]), result["problems"]  # type: ignore[attr-defined]
    assert result["rto_seconds"] is None and result["taken_at"] is None  # nothing of the manifest on record
    assert postgres.databases() == before  # refused before anything was restored
    state, reasons = _verdict(tmp_path / "examples", "prod")
    assert state == "failure" and "the latest rehearsal of prod failed" in reasons[0]
    assert needle in reasons[0]


def test_a_manifest_signed_by_another_key_fails(
    postgres: PgCluster,
    backed_up: Path,  # noqa: F811 - the imported fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = make_keys(tmp_path / "other-keys", monkeypatch)
    blob_signature.sign_file(manifest_path(backed_up), load_private_key(other.private))
    code, result = _verify(tmp_path, backed_up, capsys)
    assert code == 3 and "signed by another key" in str(result["problems"])


def test_a_signed_manifest_moved_to_another_backups_name_fails(
    postgres: PgCluster,
    backed_up: Path,  # noqa: F811 - the imported fixture
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    replayed = copy_backup(backed_up, tmp_path / "prod-2099-01-01.dump")
    code, result = _verify(tmp_path, replayed, capsys)
    assert code == 3 and "renamed or replayed" in str(result["problems"])


def test_an_environment_without_a_signing_key_is_a_usage_error(
    postgres: PgCluster,
    backed_up: Path,  # noqa: F811 - the imported fixture
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env_yaml = tmp_path / "examples" / "envs" / "prod" / "env.yaml"
    text = env_yaml.read_text()
    env_yaml.write_text(text.replace("signing:\n  public_key: keys/cosign.pub\n", "", 1))
    assert "signing:" not in env_yaml.read_text()
    code = _verify_code(tmp_path, backed_up)
    assert code == 2 and "sets no signing.public_key" in capsys.readouterr().err
    assert not (tmp_path / "examples" / "envs" / "prod" / "rehearsal.json").exists()


def _verify_code(tmp_path: Path, backup: Path) -> int:
    from gitops.cli.main import main

    return main(
        ["backup", "verify", "prod", "--backup", str(backup), "--config-repo", str(tmp_path / "examples")]
    )
