"""in-toto attestations in DSSE envelopes, stored as cosign does under `sha256-<hex>.att`."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from gitops.image.reference import ImageRef
from gitops.image.registry import RegistryClient
from gitops.supply import keys
from gitops.supply.store import (
    DSSE_TYPE,
    KEY_ID_ANNOTATION,
    PREDICATE_ANNOTATION,
    SIGNATURE_ANNOTATION,
    StoredLayer,
    append_layer,
    read_layers,
)

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
VULN_PREDICATE = "https://cosign.sigstore.dev/attestation/vuln/v1"
SLSA_PREDICATE = "https://slsa.dev/provenance/v1"


@dataclass(frozen=True)
class Attestation:
    """A verified attestation: the statement's predicate for the image digest."""

    predicate_type: str
    predicate: dict[str, Any]


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE pre-authentication encoding: what the signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def statement(image: ImageRef, predicate_type: str, predicate: dict[str, Any]) -> bytes:
    data = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": image.repository, "digest": {"sha256": image.pinned_digest.split(":", 1)[1]}}],
        "predicateType": predicate_type,
        "predicate": predicate,
    }
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def envelope(
    image: ImageRef, predicate_type: str, predicate: dict[str, Any], key: ec.EllipticCurvePrivateKey
) -> bytes:
    body = statement(image, predicate_type, predicate)
    signature = keys.sign_bytes(key, pae(PAYLOAD_TYPE, body))
    data = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(body).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
    }
    return json.dumps(data, separators=(",", ":")).encode()


def attach(
    client: RegistryClient,
    image: ImageRef,
    predicate_type: str,
    predicate: dict[str, Any],
    key: ec.EllipticCurvePrivateKey,
) -> None:
    layer = StoredLayer(
        media_type=DSSE_TYPE,
        blob=envelope(image, predicate_type, predicate, key),
        annotations={
            SIGNATURE_ANNOTATION: "",
            PREDICATE_ANNOTATION: predicate_type,
            KEY_ID_ANNOTATION: keys.key_id(key.public_key()),
        },
    )
    append_layer(client, image, "att", layer)


def _decode(blob: bytes) -> tuple[bytes, list[bytes]] | None:
    try:
        data = json.loads(blob)
        if data.get("payloadType") != PAYLOAD_TYPE:
            return None
        body = base64.b64decode(data["payload"], validate=True)
        sigs = [base64.b64decode(s["sig"], validate=True) for s in data.get("signatures", [])]
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return None
    return body, sigs


def open_envelope(layer: StoredLayer, image: ImageRef, key: ec.EllipticCurvePublicKey) -> Attestation | None:
    """The attestation when the envelope is signed by `key` and its subject is `image`'s digest."""
    decoded = _decode(layer.blob) if layer.media_type == DSSE_TYPE else None
    if decoded is None:
        return None
    body, signatures = decoded
    if not any(keys.verify_bytes(key, sig, pae(PAYLOAD_TYPE, body)) for sig in signatures):
        return None
    try:
        data = json.loads(body)
        subjects = [s["digest"]["sha256"] for s in data["subject"]]
        predicate_type, predicate = str(data["predicateType"]), data["predicate"]
    except (ValueError, KeyError, TypeError):
        return None
    if image.pinned_digest.split(":", 1)[1] not in subjects or not isinstance(predicate, dict):
        return None
    return Attestation(predicate_type=predicate_type, predicate=predicate)


def verified_attestations(
    layers: Sequence[StoredLayer] | None, image: ImageRef, key: ec.EllipticCurvePublicKey, predicate_type: str
) -> tuple[list[Attestation], int]:
    """(valid attestations of `predicate_type`, count of layers of that type that did not verify)."""
    found, rejected = [], 0
    for layer in layers or []:
        if layer.annotations.get(PREDICATE_ANNOTATION, predicate_type) != predicate_type:
            continue
        attestation = open_envelope(layer, image, key)
        if attestation is None:
            rejected += 1
        elif attestation.predicate_type == predicate_type:
            found.append(attestation)
    return found, rejected


def read_attestations(
    client: RegistryClient, image: ImageRef, key: ec.EllipticCurvePublicKey, predicate_type: str
) -> tuple[list[Attestation], int]:
    return verified_attestations(read_layers(client, image, "att"), image, key, predicate_type)
