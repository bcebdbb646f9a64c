"""cosign key files: format, encryption, password handling."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gitops.cli.main import main
from gitops.errors import UsageError
from gitops.supply import keys
from tests.fixtures.supply import PASSWORD, KeyFiles


def test_keygen_cli_writes_cosign_formats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", PASSWORD)
    assert main(["keygen", "--output-dir", str(tmp_path / "keys"), "--json"]) == 0
    out = capsys.readouterr()
    assert PASSWORD not in out.out + out.err
    written = json.loads(out.out)
    signing_keys = KeyFiles(private=Path(written["private_key"]), public=Path(written["public_key"]))
    text = signing_keys.private.read_text()
    assert text.startswith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")
    body = json.loads(base64.b64decode("".join(text.strip().splitlines()[1:-1])))
    assert body["kdf"]["name"] == "scrypt"
    assert body["kdf"]["params"] == {"N": 32768, "r": 8, "p": 1}
    assert body["cipher"]["name"] == "nacl/secretbox"
    assert len(base64.b64decode(body["cipher"]["nonce"])) == 24
    assert signing_keys.private.stat().st_mode & 0o077 == 0
    assert signing_keys.public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert written["key_id"] == keys.key_id(keys.load_public_key(signing_keys.public.read_bytes()))


def test_private_key_decrypts_and_matches_public_key(signing_keys: KeyFiles) -> None:
    private = keys.decrypt_private_key(signing_keys.private.read_bytes(), PASSWORD.encode())
    public = keys.load_public_key(signing_keys.public.read_bytes())
    signature = keys.sign_bytes(private, b"payload")
    assert keys.verify_bytes(public, signature, b"payload")
    assert not keys.verify_bytes(public, signature, b"payload!")
    assert keys.key_id(public) == keys.key_id(private.public_key())


def test_wrong_password_is_a_clear_usage_error(signing_keys: KeyFiles) -> None:
    with pytest.raises(UsageError, match="wrong password"):
        keys.decrypt_private_key(signing_keys.private.read_bytes(), b"not it")


def test_missing_password_env_and_no_overwrite(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    signing_keys: KeyFiles,
) -> None:
    monkeypatch.delenv("COSIGN_PASSWORD")
    assert main(["keygen", "--output-dir", str(tmp_path / "k")]) == 2
    assert "COSIGN_PASSWORD is not set" in capsys.readouterr().err
    monkeypatch.setenv("COSIGN_PASSWORD", PASSWORD)
    before = signing_keys.private.read_bytes()
    assert main(["keygen", "--output-dir", str(signing_keys.private.parent)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err
    assert signing_keys.private.read_bytes() == before


def test_legacy_cosign_pem_header_is_read(signing_keys: KeyFiles) -> None:
    legacy = signing_keys.private.read_bytes().replace(b"SIGSTORE", b"COSIGN")
    assert keys.decrypt_private_key(legacy, PASSWORD.encode()).curve.name == "secp256r1"


def test_not_a_key_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.key"
    path.write_text("hello")
    with pytest.raises(UsageError, match="not a cosign private key"):
        keys.decrypt_private_key(path.read_bytes(), b"x", where=str(path))
    with pytest.raises(UsageError, match="PUBLIC KEY"):
        keys.load_public_key(b"nope")


def test_cosign_v2_scrypt_cost_decrypts() -> None:
    """cosign 2.x writes N=65536 (64 MiB for scrypt): hashlib's default memory cap would refuse it."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    pem = keys.encrypt_private_key(key, b"", scrypt_n=65536)
    assert keys.key_id(keys.decrypt_private_key(pem, b"").public_key()) == keys.key_id(key.public_key())
