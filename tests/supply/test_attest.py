"""gitops/supply/attest.py: DSSE envelopes of in-toto statements, with real ECDSA keys: an attestation
counts only when signed by the key over the exact payload, for this image's digest, of the asked predicate
type; everything else is rejected (and counted) or ignored. The registry round trip: tests/image/test_build.py
and tests/supply/test_scan.py."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric import ec

from gitops.image.reference import pinned_ref
from gitops.supply import keys
from gitops.supply.attest import (
    PAYLOAD_TYPE,
    SLSA_PREDICATE,
    VULN_PREDICATE,
    Attestation,
    envelope,
    open_envelope,
    pae,
    statement,
    verified_attestations,
)
from gitops.supply.store import DSSE_TYPE, PREDICATE_ANNOTATION, StoredLayer

IMAGE = pinned_ref(f"registry.example.com/acme/odoo@sha256:{'a' * 64}")
OTHER = pinned_ref(f"registry.example.com/acme/odoo@sha256:{'b' * 64}")
KEY = ec.generate_private_key(ec.SECP256R1())
STRANGER = ec.generate_private_key(ec.SECP256R1())
SCAN = {"scanner": {"uri": "trivy", "result": {"HIGH": 0}}}


def layer(blob: bytes, predicate: str | None = VULN_PREDICATE, media_type: str = DSSE_TYPE) -> StoredLayer:
    return StoredLayer(media_type, blob, {PREDICATE_ANNOTATION: predicate} if predicate else {})


def signed(body: bytes, key: ec.EllipticCurvePrivateKey = KEY, payload_type: str = PAYLOAD_TYPE) -> bytes:
    sig = keys.sign_bytes(key, pae(payload_type, body))
    return json.dumps(
        {
            "payloadType": payload_type,
            "payload": base64.b64encode(body).decode(),
            "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}],
        }
    ).encode()


def test_pae_binds_the_type_and_the_length() -> None:
    assert pae("t", b"body") == b"DSSEv1 1 t 4 body"
    assert pae("ab", b"c") != pae("a", b"bc")


def test_the_statement_names_the_image_and_its_digest() -> None:
    data = json.loads(statement(IMAGE, VULN_PREDICATE, SCAN))
    assert data["subject"] == [{"name": "registry.example.com/acme/odoo", "digest": {"sha256": "a" * 64}}]
    assert (data["predicateType"], data["predicate"]) == (VULN_PREDICATE, SCAN)


def test_an_envelope_signed_by_the_key_for_this_image_opens() -> None:
    opened = open_envelope(layer(envelope(IMAGE, VULN_PREDICATE, SCAN, KEY)), IMAGE, KEY.public_key())
    assert opened == Attestation(VULN_PREDICATE, SCAN)


def test_forged_or_foreign_envelopes_do_not_open() -> None:
    good = envelope(IMAGE, VULN_PREDICATE, SCAN, KEY)
    public = KEY.public_key()
    assert open_envelope(layer(good), IMAGE, STRANGER.public_key()) is None  # another key
    assert open_envelope(layer(good), OTHER, public) is None  # another image's digest
    assert open_envelope(layer(envelope(IMAGE, VULN_PREDICATE, SCAN, STRANGER)), IMAGE, public) is None
    data = json.loads(good)
    forged_body = statement(IMAGE, VULN_PREDICATE, {"scanner": {"result": {"HIGH": 0, "forged": True}}})
    data["payload"] = base64.b64encode(forged_body).decode()  # the old signature over a new payload
    assert open_envelope(layer(json.dumps(data).encode()), IMAGE, public) is None
    assert open_envelope(layer(good, media_type="application/octet-stream"), IMAGE, public) is None
    other_type = signed(statement(IMAGE, VULN_PREDICATE, SCAN), payload_type="application/json")
    assert open_envelope(layer(other_type), IMAGE, public) is None
    for junk in (b"", b"[]", b"{}", b'{"payloadType": "application/vnd.in-toto+json", "payload": "!!"}'):
        assert open_envelope(layer(junk), IMAGE, public) is None
    assert open_envelope(layer(signed(b"not json")), IMAGE, public) is None
    not_a_mapping = json.dumps(
        {
            "subject": [{"digest": {"sha256": "a" * 64}}],
            "predicateType": VULN_PREDICATE,
            "predicate": ["a list"],
        }
    ).encode()
    assert open_envelope(layer(signed(not_a_mapping)), IMAGE, public) is None


def test_only_valid_attestations_of_the_asked_type_count_and_bad_ones_are_counted() -> None:
    public = KEY.public_key()
    vuln = layer(envelope(IMAGE, VULN_PREDICATE, SCAN, KEY))
    slsa = layer(envelope(IMAGE, SLSA_PREDICATE, {"buildType": "x"}, KEY), predicate=SLSA_PREDICATE)
    lying = layer(envelope(IMAGE, SLSA_PREDICATE, {"buildType": "x"}, KEY))  # annotation says vuln
    unannotated = layer(envelope(IMAGE, VULN_PREDICATE, SCAN, KEY), predicate=None)
    forged = layer(envelope(IMAGE, VULN_PREDICATE, SCAN, STRANGER))
    found, rejected = verified_attestations(
        [vuln, slsa, lying, unannotated, forged], IMAGE, public, VULN_PREDICATE
    )
    assert found == [Attestation(VULN_PREDICATE, SCAN), Attestation(VULN_PREDICATE, SCAN)]
    assert rejected == 1
    assert verified_attestations(None, IMAGE, public, VULN_PREDICATE) == ([], 0)
