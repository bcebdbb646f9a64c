"""Signatures over files (a backup's manifest), as `cosign sign-blob --key` writes them: the base64 of an
ASN.1 DER ECDSA P-256 signature over SHA-256 of the file's exact bytes, in `<file>.sig`. The same keys as
the image signatures (gitops.supply.keys); `cosign verify-blob --key cosign.pub --signature F.sig F`
accepts it."""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from gitops.errors import PolicyError
from gitops.supply import keys

SUFFIX = ".sig"


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


def sign_file(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    """Write `<path>.sig` for the bytes of `path` now (complete or not at all: written, then renamed)."""
    sig = signature_path(path)
    partial = sig.with_name(f".{sig.name}.partial")
    partial.write_bytes(base64.b64encode(keys.sign_bytes(key, path.read_bytes())) + b"\n")
    os.replace(partial, sig)
    return sig


def verify_file(path: Path, public_pem: bytes, *, what: str = "file") -> str:
    """The key id that signed the bytes of `path`; PolicyError (exit 3) naming `what` when the signature
    is missing, malformed or does not verify with `public_pem` (the file was edited or signed by another
    key)."""
    key = keys.load_public_key(public_pem)
    sig = signature_path(path)
    try:
        encoded = sig.read_bytes()
    except FileNotFoundError:
        raise PolicyError(f"{path.name}: the {what} is not signed (no {sig.name})") from None
    try:
        signature = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PolicyError(f"{sig.name}: not a base64 signature") from None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"{path.name}: cannot read the {what} ({exc.strerror})") from None
    if not keys.verify_bytes(key, signature, data):
        raise PolicyError(
            f"{path.name}: the {what}'s signature does not verify with key {keys.key_id(key)[:12]} "
            "(edited after signing, or signed by another key)"
        )
    return keys.key_id(key)
