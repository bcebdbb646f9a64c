"""File signatures as `cosign sign-blob` writes them, with the image signing keys."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from gitops.errors import PolicyError, exit_code_of
from gitops.supply import blob_signature
from gitops.supply.keys import key_id, load_private_key, load_public_key
from tests.fixtures.supply import KeyFiles


def test_a_signed_file_verifies_and_names_its_key(signing_keys: KeyFiles, tmp_path: Path) -> None:
    path = tmp_path / "b.dump.manifest.json"
    path.write_bytes(b'{"sha256": "00"}\n')
    sig = blob_signature.sign_file(path, load_private_key(signing_keys.private))
    assert sig == tmp_path / "b.dump.manifest.json.sig" and not list(tmp_path.glob(".*partial"))
    pem = signing_keys.public.read_bytes()
    assert blob_signature.verify_file(path, pem) == key_id(load_public_key(pem))
    # the format cosign verify-blob reads: base64 of a DER ECDSA signature over SHA-256 of the bytes
    load_public_key(pem).verify(
        base64.b64decode(sig.read_bytes()), path.read_bytes(), ec.ECDSA(hashes.SHA256())
    )


@pytest.mark.parametrize(
    ("tamper", "needle"),
    [
        (lambda p, s: p.write_bytes(p.read_bytes() + b" "), "does not verify"),  # one byte more
        (lambda p, s: s.unlink(), "is not signed"),
        (lambda p, s: s.write_bytes(b"%%%"), "not a base64 signature"),
        (lambda p, s: s.write_bytes(base64.b64encode(b"\x30\x02\x00\x00")), "does not verify"),  # bad DER
        (lambda p, s: p.unlink(), "cannot read"),
    ],
)
def test_an_edited_file_or_a_bad_signature_is_a_policy_refusal(
    signing_keys: KeyFiles, tmp_path: Path, tamper: object, needle: str
) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(b"{}\n")
    sig = blob_signature.sign_file(path, load_private_key(signing_keys.private))
    tamper(path, sig)  # type: ignore[operator]
    with pytest.raises(PolicyError) as caught:
        blob_signature.verify_file(path, signing_keys.public.read_bytes(), what="backup manifest")
    assert needle in caught.value.message and exit_code_of(caught.value) == 3


def test_another_keys_signature_does_not_verify(
    signing_keys: KeyFiles, other_keys: KeyFiles, tmp_path: Path
) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(b"{}\n")
    blob_signature.sign_file(path, load_private_key(other_keys.private))
    with pytest.raises(PolicyError, match="signed by another key"):
        blob_signature.verify_file(path, signing_keys.public.read_bytes())
