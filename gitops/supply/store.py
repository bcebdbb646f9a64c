"""Where cosign keeps signatures and attestations without a referrers API: `sha256-<hex>.sig` / `.att` tags.

Each signature (attestation) is one layer of an OCI manifest under that tag; adding one appends a layer and
re-tags, never dropping the earlier ones. The registry has no compare-and-swap on tags, so a writer reads the
tag back after writing it and merges again when a concurrent writer's manifest dropped a layer it had seen.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gitops.errors import ExternalError
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
WRITE_ATTEMPTS = 30
CONTENDED_STABLE_READS = 3
SETTLE_SECONDS = (0.05, 0.15)  # longer than another writer's read → config push → manifest put on a LAN


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


def _merge(first: Sequence[dict[str, object]], *more: Sequence[dict[str, object]]) -> list[dict[str, object]]:
    merged = list(first)
    for descriptors in more:
        merged.extend(d for d in descriptors if d not in merged)
    return merged


def _manifest(client: RegistryClient, image: ImageRef, descriptors: list[dict[str, object]]) -> bytes:
    """The tag's manifest for `descriptors`, its config blob already uploaded."""
    config = _config([str(d["digest"]) for d in descriptors])
    client.push_blob(image.path, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": CONFIG_TYPE, "size": len(config), "digest": sha256_digest(config)},
        "layers": descriptors,
    }
    return json.dumps(manifest, separators=(",", ":")).encode()


def _put_tag(client: RegistryClient, image: ImageRef, tag: str, raw: bytes, layer: StoredLayer) -> bool:
    """Write the tag; False when the registry lost a blob to a concurrent upload of the same bytes
    (distribution answers BLOB_UNKNOWN while another upload of an identical blob commits): push it again."""
    try:
        client.put_manifest(image.path, tag, raw, OCI_MANIFEST)
    except ExternalError as exc:
        if "BLOB_UNKNOWN" not in exc.message:
            raise
        client.push_blob(image.path, layer.blob)
        return False
    return True


def append_layer(client: RegistryClient, image: ImageRef, suffix: str, layer: StoredLayer) -> str:
    """Upload the blob, then the manifest with the layer appended to every layer already there (an identical
    layer is not added twice); returns the tag.

    Done only once the tag has held every layer this writer has seen for one settle interval: a concurrent
    writer's manifest built from an older read (it would drop our layer) is merged back before returning.
    """
    client.push_blob(image.path, layer.blob)
    tag = tag_for(image.pinned_digest, suffix)
    seen = [_descriptor(layer)]
    previous: list[dict[str, object]] | None = None
    stable, needed = 0, 1
    for _ in range(WRITE_ATTEMPTS):
        current = read_descriptors(client, image, suffix) or []
        merged = _merge(current, seen)
        stable = stable + 1 if merged == current and current == previous else 0
        if stable >= needed:
            return tag
        if previous is not None and current != previous:
            needed = CONTENDED_STABLE_READS  # another writer is active: wait out its in-flight writes too
        if merged != current:
            raw = _manifest(client, image, merged)
            if (read_descriptors(client, image, suffix) or []) == current:  # keep the read → put window short
                current = merged if _put_tag(client, image, tag, raw, layer) else current
        seen, previous = _merge(seen, current), current
        time.sleep(random.uniform(*SETTLE_SECONDS))
    raise ExternalError(
        f"{image.path}:{tag} keeps being rewritten by concurrent writers; this layer may not be recorded",
        hint="run the command again (adding the same signature twice is harmless)",
    )
