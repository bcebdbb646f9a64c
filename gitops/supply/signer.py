"""The typed functions behind `keygen`, `sign` and `verify-signature` (and provenance after a build)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gitops.image.build import BuildResult
from gitops.image.reference import parse_image_ref, pinned_ref
from gitops.image.registry import RegistryClient
from gitops.supply import attest, keys
from gitops.supply.provenance import provenance_predicate
from gitops.supply.signing import SignatureEvidence, sign_image, verify_image


@dataclass(frozen=True)
class SignResult:
    image: str
    tag: str
    key_id: str
    added: bool = True  # False: this key had already signed this digest, nothing was written

    def to_dict(self) -> dict[str, object]:
        return {"image": self.image, "signature_tag": self.tag, "key_id": self.key_id, "added": self.added}


def keygen(output_dir: Path, *, force: bool = False) -> dict[str, str]:
    pair = keys.generate_keypair(keys.password_from_env())
    private, public = keys.write_keypair(output_dir, pair, force=force)
    key_id = keys.key_id(keys.load_public_key(pair.public_pem))
    return {"private_key": str(private), "public_key": str(public), "key_id": key_id}


def sign(image: str, key_path: Path, *, timeout: float = 30.0) -> SignResult:
    ref = pinned_ref(image)
    key = keys.load_private_key(key_path)
    tag, added = sign_image(RegistryClient.for_ref(ref, timeout=timeout), ref, key)
    return SignResult(image=ref.pinned, tag=tag, key_id=keys.key_id(key.public_key()), added=added)


def verify_signature(image: str, public_key: Path, *, timeout: float = 30.0) -> SignatureEvidence:
    ref = pinned_ref(image)
    pem = keys.read_public_key(public_key)
    return verify_image(RegistryClient.for_ref(ref, timeout=timeout), ref, pem)


def sign_build(
    result: BuildResult, key_path: Path, *, started: datetime, timeout: float = 30.0
) -> SignResult:
    """Sign a pushed build and attach its SLSA provenance."""
    ref = parse_image_ref(result.image)
    key = keys.load_private_key(key_path)
    client = RegistryClient.for_ref(ref, timeout=timeout)
    tag, added = sign_image(client, ref, key)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    predicate = provenance_predicate(
        result, started=started.strftime(stamp), finished=datetime.now(UTC).strftime(stamp)
    )
    attest.attach(client, ref, attest.SLSA_PREDICATE, predicate, key)
    return SignResult(image=ref.pinned, tag=tag, key_id=keys.key_id(key.public_key()), added=added)
