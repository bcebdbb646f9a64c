"""Which supply-chain attestations an image carries in its registry (SBOM, provenance), verified with the
target environment's key: `pr show --registry` reads them for the CAB view."""

from __future__ import annotations

from gitops.image.reference import pinned_ref
from gitops.image.registry import RegistryClient
from gitops.supply import attest, keys
from gitops.supply.store import read_layers

CYCLONEDX_PREDICATE = "https://cyclonedx.org/bom"
PREDICATES = (("SBOM (CycloneDX)", CYCLONEDX_PREDICATE), ("provenance (SLSA)", attest.SLSA_PREDICATE))


def attestations_present(image: str, public_key_pem: bytes, *, timeout: float = 30.0) -> dict[str, bool]:
    """Per attestation kind: is there one for `image`'s digest, signed by the key? (ExternalError when the
    registry cannot be read; a forged or foreign attestation counts as absent.)"""
    ref = pinned_ref(image)
    key = keys.load_public_key(public_key_pem)
    layers = read_layers(RegistryClient.for_ref(ref, timeout=timeout), ref, "att")
    return {name: bool(attest.verified_attestations(layers, ref, key, kind)[0]) for name, kind in PREDICATES}
