"""cosign simple-signing: sign an image digest, verify signatures (the decision is a pure function)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from gitops.errors import ExternalError
from gitops.image.reference import ImageRef
from gitops.image.registry import RegistryClient
from gitops.supply import keys
from gitops.supply.store import (
    KEY_ID_ANNOTATION,
    SIGNATURE_ANNOTATION,
    SIMPLESIGNING_TYPE,
    StoredLayer,
    append_layer,
    read_layers,
    tag_for,
)

SIGNATURE_TYPE = "cosign container image signature"


@dataclass(frozen=True)
class SignatureEvidence:
    """What `check_signature` found: ok when at least one signature by the key covers this digest."""

    ok: bool
    reason: str
    digest: str
    signatures: int
    key_id: str

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "digest": self.digest,
            "signatures": self.signatures,
            "key_id": self.key_id,
        }


def simple_signing_payload(image: ImageRef, optional: dict[str, str] | None = None) -> bytes:
    """The payload cosign signs (Go's json.Marshal layout: compact, this key order)."""
    payload = {
        "critical": {
            "identity": {"docker-reference": image.repository},
            "image": {"docker-manifest-digest": image.digest},
            "type": SIGNATURE_TYPE,
        },
        "optional": optional,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def signature_layer(image: ImageRef, key: ec.EllipticCurvePrivateKey) -> StoredLayer:
    payload = simple_signing_payload(image)
    signature = base64.b64encode(keys.sign_bytes(key, payload)).decode()
    return StoredLayer(
        media_type=SIMPLESIGNING_TYPE,
        blob=payload,
        annotations={SIGNATURE_ANNOTATION: signature, KEY_ID_ANNOTATION: keys.key_id(key.public_key())},
    )


def require_image(client: RegistryClient, image: ImageRef) -> None:
    if not client.manifest_exists(image.path, image.pinned_digest):
        raise ExternalError(f"image {image.pinned} not found in the registry", hint="build and push it first")


def signed_by(layers: Sequence[StoredLayer] | None, image: ImageRef, key: ec.EllipticCurvePublicKey) -> bool:
    """True when one of `layers` is already a valid signature of `image` by `key` (cosign's dupe detector)."""
    wanted = keys.key_id(key)
    return any(check_layer(layer, image, key, wanted) is None for layer in layers or ())


def sign_image(client: RegistryClient, image: ImageRef, key: ec.EllipticCurvePrivateKey) -> tuple[str, bool]:
    """Add a signature layer under `sha256-<hex>.sig`, keeping every signature already there.

    Returns the tag and whether a layer was added: signing again with a key that already has a valid
    signature of this digest adds nothing, as cosign does.
    """
    require_image(client, image)
    if signed_by(read_layers(client, image, "sig"), image, key.public_key()):
        return tag_for(image.pinned_digest, "sig"), False
    return append_layer(client, image, "sig", signature_layer(image, key)), True


# ------------------------------------------------------------------ verification (pure)


def _payload(blob: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(blob)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def check_layer(
    layer: StoredLayer, image: ImageRef, key: ec.EllipticCurvePublicKey, wanted_id: str
) -> str | None:
    """None when the layer is a valid signature by `key` for `image`, else why not."""
    if layer.media_type != SIMPLESIGNING_TYPE:
        return f"layer of type {layer.media_type!r} is not a simple-signing signature"
    try:
        signature = base64.b64decode(layer.annotations.get(SIGNATURE_ANNOTATION, ""), validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if not (signature and keys.verify_bytes(key, signature, layer.blob)):
        signer = layer.annotations.get(KEY_ID_ANNOTATION)
        if signer and signer != wanted_id:
            return f"signed with another key (key id {signer[:16]}…), not the given key ({wanted_id[:16]}…)"
        return "signature does not verify with the given key: the payload or the signature was tampered with"
    critical = (_payload(layer.blob) or {}).get("critical") or {}
    signed_digest = (critical.get("image") or {}).get("docker-manifest-digest")
    signed_ref = (critical.get("identity") or {}).get("docker-reference")
    if signed_digest != image.digest:
        return f"signature is for another image digest ({signed_digest}), not {image.digest}"
    if signed_ref != image.repository:
        return f"signature is for repository {signed_ref!r}, not {image.repository!r}"
    return None


def evaluate_signatures(
    layers: Sequence[StoredLayer] | None, image: ImageRef, key: ec.EllipticCurvePublicKey
) -> SignatureEvidence:
    wanted = keys.key_id(key)
    digest = image.digest or ""
    if not layers:
        tag = tag_for(digest, "sig")
        return SignatureEvidence(
            False, f"no signature found for {image.pinned} (no tag {tag})", digest, 0, wanted
        )
    problems = [check_layer(layer, image, key, wanted) for layer in layers]
    valid = sum(1 for p in problems if p is None)
    if valid:
        return SignatureEvidence(
            True, f"{valid} valid signature(s) by key {wanted[:16]}…", digest, valid, wanted
        )
    reasons = "; ".join(dict.fromkeys(p for p in problems if p))
    return SignatureEvidence(False, reasons, digest, 0, wanted)


def verify_image(client: RegistryClient, image: ImageRef, public_key_pem: bytes) -> SignatureEvidence:
    key = keys.load_public_key(public_key_pem)
    require_image(client, image)
    return evaluate_signatures(read_layers(client, image, "sig"), image, key)
