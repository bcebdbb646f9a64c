"""cosign-compatible ECDSA P-256 keys: `cosign.key` (scrypt + secretbox encrypted PKCS#8), `cosign.pub`.

The password comes from COSIGN_PASSWORD (as with cosign in CI); it is registered as a secret, never printed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.secret
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gitops.errors import UsageError, register_secret

PASSWORD_ENV = "COSIGN_PASSWORD"  # noqa: S105 (the variable's name)
PEM_TYPES = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 32768, 8, 1
SCRYPT_MAXMEM = 256 * 1024 * 1024  # cosign keys use N up to 65536 (128*r*N = 64 MiB, plus overhead)


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes  # encrypted
    public_pem: bytes


def password_from_env() -> bytes:
    value = os.environ.get(PASSWORD_ENV)
    if value is None:
        raise UsageError(f"{PASSWORD_ENV} is not set", hint=f"export {PASSWORD_ENV} (it may be empty)")
    register_secret(value)
    return value.encode()


def _kdf(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=32)


def _pem(kind: str, body: bytes) -> bytes:
    text = base64.b64encode(body).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return ("\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"]) + "\n").encode()


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def encrypt_private_key(
    key: ec.EllipticCurvePrivateKey, password: bytes, *, scrypt_n: int = SCRYPT_N
) -> bytes:
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    salt, nonce = secrets.token_bytes(32), secrets.token_bytes(nacl.secret.SecretBox.NONCE_SIZE)
    box = nacl.secret.SecretBox(_kdf(password, salt, scrypt_n, SCRYPT_R, SCRYPT_P))
    body = {
        "kdf": {
            "name": "scrypt",
            "params": {"N": scrypt_n, "r": SCRYPT_R, "p": SCRYPT_P},
            "salt": base64.b64encode(salt).decode(),
        },
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(box.encrypt(der, nonce).ciphertext).decode(),
    }
    return _pem(PEM_TYPES[0], json.dumps(body).encode())


def generate_keypair(password: bytes) -> KeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    return KeyPair(private_pem=encrypt_private_key(key, password), public_pem=public_pem(key.public_key()))


def _pem_body(text: str, where: str) -> dict[str, object]:
    for kind in PEM_TYPES:
        begin, end = f"-----BEGIN {kind}-----", f"-----END {kind}-----"
        if begin in text and end in text:
            b64 = text.split(begin, 1)[1].split(end, 1)[0]
            try:
                data = json.loads(base64.b64decode("".join(b64.split())))
            except ValueError:
                break
            if isinstance(data, dict):
                return data
    raise UsageError(f"{where}: not a cosign private key (expected PEM '{PEM_TYPES[0]}')")


def decrypt_private_key(pem: bytes, password: bytes, *, where: str = "key") -> ec.EllipticCurvePrivateKey:
    body = _pem_body(pem.decode("utf-8", "replace"), where)
    try:
        kdf, cipher = body["kdf"], body["cipher"]
        if not isinstance(kdf, dict) or not isinstance(cipher, dict) or kdf.get("name") != "scrypt":
            raise ValueError("unsupported key encryption")
        params = kdf["params"]
        key = _kdf(password, base64.b64decode(kdf["salt"]), params["N"], params["r"], params["p"])
        der = nacl.secret.SecretBox(key).decrypt(
            base64.b64decode(str(body["ciphertext"])), base64.b64decode(cipher["nonce"])
        )
    except nacl.exceptions.CryptoError:
        raise UsageError(f"{where}: wrong password (COSIGN_PASSWORD) or corrupted key") from None
    except (KeyError, TypeError, ValueError):
        raise UsageError(f"{where}: malformed cosign private key") from None
    private = serialization.load_der_private_key(der, password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise UsageError(f"{where}: only ECDSA P-256 keys are supported")
    return private


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read key {path}: {exc.strerror}") from None
    return decrypt_private_key(pem, password_from_env(), where=str(path))


def load_public_key(pem: bytes, *, where: str = "public key") -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise UsageError(f"{where}: not a PEM 'PUBLIC KEY'") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise UsageError(f"{where}: only ECDSA P-256 public keys are supported")
    return key


def read_public_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read public key {path}: {exc.strerror}") from None


def key_id(key: ec.EllipticCurvePublicKey) -> str:
    """sha256 (hex) of the public key's DER SubjectPublicKeyInfo."""
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def sign_bytes(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ASN.1 DER ECDSA signature over SHA-256(data)."""
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def verify_bytes(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def write_keypair(directory: Path, pair: KeyPair, *, force: bool = False) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "cosign.key", directory / "cosign.pub"
    existing = [str(p) for p in (private, public) if p.exists()]
    if existing and not force:
        raise UsageError(
            f"refusing to overwrite {', '.join(existing)}", hint="pass --force or another directory"
        )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pair.private_pem)
    public.write_bytes(pair.public_pem)
    return private, public
