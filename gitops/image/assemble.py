"""Pure image assembly: append layers and labels to a base image's manifest and config."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gitops.image.layer import Layer
from gitops.image.registry import DOCKER_MANIFEST, OCI_MANIFEST, sha256_digest

LAYER_TYPES = {
    DOCKER_MANIFEST: "application/vnd.docker.image.rootfs.diff.tar.gzip",
    OCI_MANIFEST: "application/vnd.oci.image.layer.v1.tar+gzip",
}
CONFIG_TYPES = {
    DOCKER_MANIFEST: "application/vnd.docker.container.image.v1+json",
    OCI_MANIFEST: "application/vnd.oci.image.config.v1+json",
}


@dataclass(frozen=True)
class ImagePlan:
    """Everything to upload for one image: blobs first (reused base layers, new layers, config), then the
    manifest by digest; tags come last."""

    manifest: bytes
    media_type: str
    config: bytes
    reused_layers: tuple[str, ...]
    new_layers: tuple[Layer, ...]

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def config_digest(self) -> str:
        return sha256_digest(self.config)


def dump_json(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def image_config(
    base_config: Mapping[str, Any],
    *,
    layers: Sequence[Layer],
    labels: Mapping[str, str],
    created: str,
    created_by: str,
) -> dict[str, Any]:
    config = copy.deepcopy(dict(base_config))
    inner = config.setdefault("config", {})
    inner["Labels"] = {**(inner.get("Labels") or {}), **labels}
    config["created"] = created
    rootfs = config.setdefault("rootfs", {"type": "layers", "diff_ids": []})
    rootfs["diff_ids"] = [*rootfs.get("diff_ids", []), *(layer.diff_id for layer in layers)]
    history = config.setdefault("history", [])
    history.extend({"created": created, "created_by": created_by} for _ in layers)
    return config


def plan_image(
    *,
    base_manifest: Mapping[str, Any],
    media_type: str,
    config: bytes,
    new_layers: Sequence[Layer],
) -> ImagePlan:
    """The manifest of the base with `new_layers` appended and `config` in place of the base config."""
    manifest = copy.deepcopy(dict(base_manifest))
    manifest["config"] = {
        "mediaType": manifest.get("config", {}).get("mediaType", CONFIG_TYPES[media_type]),
        "size": len(config),
        "digest": sha256_digest(config),
    }
    added = [
        {"mediaType": LAYER_TYPES[media_type], "size": layer.size, "digest": layer.digest}
        for layer in new_layers
    ]
    reused = tuple(layer["digest"] for layer in manifest.get("layers", []))
    manifest["layers"] = [*manifest.get("layers", []), *added]
    return ImagePlan(
        manifest=dump_json(manifest),
        media_type=media_type,
        config=config,
        reused_layers=reused,
        new_layers=tuple(new_layers),
    )
