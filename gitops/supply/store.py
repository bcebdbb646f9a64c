"""Where cosign keeps signatures and attestations without a referrers API: `sha256-<hex>.sig` / `.att` tags.

Each signature (attestation) is one layer of an OCI manifest under that tag; adding one appends a layer and
re-tags, never dropping the earlier ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from gitops.image.assemble import dump_json
from gitops.image.reference import ImageRef
from gitops.image.registry import OCI_MANIFEST, RegistryClient, sha256_digest

SIMPLESIGNING_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_TYPE = "application/vnd.dsse.envelope.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
PREDICATE_ANNOTATION = "predicateType"
KEY_ID_ANNOTATION = "dev.odoo-gitops/key-id"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class StoredLayer:
    """One signature or attestation: its blob and the layer annotations."""

    media_type: str
    blob: bytes
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return sha256_digest(self.blob)


def tag_for(digest: str, suffix: str) -> str:
    """`sha256:<hex>` → `sha256-<hex>.<suffix>`."""
    return digest.replace(":", "-") + f".{suffix}"


def _descriptor(layer: StoredLayer) -> dict[str, object]:
    return {
        "mediaType": layer.media_type,
        "size": len(layer.blob),
        "digest": layer.digest,
        "annotations": dict(layer.annotations),
    }


def _config(layer_digests: list[str]) -> bytes:
    return dump_json(
        {
            "architecture": "",
            "created": ZERO_TIME,
            "history": [{"created": ZERO_TIME}],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": layer_digests},
            "config": {},
        }
    )


def read_descriptors(client: RegistryClient, image: ImageRef, suffix: str) -> list[dict[str, object]] | None:
    """The layer descriptors under the tag, or None when the tag does not exist."""
    manifest = client.find_manifest(image.path, tag_for(image.pinned_digest, suffix))
    if manifest is None:
        return None
    layers = manifest.json().get("layers") or []
    return [layer for layer in layers if isinstance(layer, dict)]


def read_layers(client: RegistryClient, image: ImageRef, suffix: str) -> list[StoredLayer] | None:
    descriptors = read_descriptors(client, image, suffix)
    if descriptors is None:
        return None
    return [
        StoredLayer(
            media_type=str(d.get("mediaType", "")),
            blob=client.get_blob(image.path, str(d["digest"])),
            annotations={str(k): str(v) for k, v in dict(d.get("annotations") or {}).items()},  # type: ignore[call-overload]
        )
        for d in descriptors
    ]


def append_layer(client: RegistryClient, image: ImageRef, suffix: str, layer: StoredLayer) -> str:
    """Upload the blob, then the manifest with the layer appended (an identical layer is not added twice)."""
    existing = read_descriptors(client, image, suffix) or []
    new = _descriptor(layer)
    descriptors = existing if new in existing else [*existing, new]
    client.push_blob(image.path, layer.blob)
    config = _config([str(d["digest"]) for d in descriptors])
    client.push_blob(image.path, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": CONFIG_TYPE, "size": len(config), "digest": sha256_digest(config)},
        "layers": descriptors,
    }
    raw = json.dumps(manifest, separators=(",", ":")).encode()
    client.put_manifest(image.path, sha256_digest(raw), raw, OCI_MANIFEST)
    return client.put_manifest(image.path, tag_for(image.pinned_digest, suffix), raw, OCI_MANIFEST)
