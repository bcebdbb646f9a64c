"""Rollback-readiness probes against a real docker-registry, with real cosign-compatible signatures."""

from __future__ import annotations

import json
import uuid

import pytest

from gitops.image.registry import RegistryClient
from gitops.supply.signer import sign
from gitops.verify.probes import cosign_signature, registry_image_exists
from tests.fixtures.registry import Registry
from tests.fixtures.supply import KeyFiles
from tests.verify.objects import digest

pytestmark = pytest.mark.registry

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def push_minimal_image(registry: Registry, repo: str) -> str:
    """An image with a config and no layers; returns `host/repo@digest`."""
    client = RegistryClient(registry.host, scheme="http")
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    )
    config_digest = client.push_blob(repo, config.encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": len(config),
        },
        "layers": [],
    }
    pushed = client.put_manifest(repo, "1.3.1", json.dumps(manifest).encode(), OCI_MANIFEST)
    return f"{registry.host}/{repo}@{pushed}"


def test_image_exists_asks_the_registry(registry: Registry) -> None:
    image = push_minimal_image(registry, f"verify/odoo-{uuid.uuid4().hex[:8]}")
    assert registry_image_exists(image) is True
    assert registry_image_exists(image.rpartition("@")[0] + "@" + digest("never-pushed")) is False


def test_signature_verifies_only_with_the_signing_key(
    registry: Registry, signing_keys: KeyFiles, other_keys: KeyFiles
) -> None:
    image = push_minimal_image(registry, f"verify/odoo-{uuid.uuid4().hex[:8]}")
    unsigned_ok, unsigned_reason = cosign_signature(image, signing_keys.public)
    assert unsigned_ok is False and unsigned_reason
    sign(image, signing_keys.private)
    ok, reason = cosign_signature(image, signing_keys.public)
    assert ok is True, reason
    other_ok, _ = cosign_signature(image, other_keys.public)
    assert other_ok is False


def test_unreadable_key_or_unreachable_registry_cannot_be_checked(tmp_path, registry: Registry) -> None:  # type: ignore[no-untyped-def]
    ok, reason = cosign_signature(f"{registry.host}/x/y@{digest('a')}", tmp_path / "missing.pub")
    assert ok is None and "cannot read public key" in reason
    key = tmp_path / "k.pub"
    key.write_text("-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n")
    ok, reason = cosign_signature(f"127.0.0.1:9/x/y@{digest('a')}", key)
    assert ok is None and "could not be checked" in reason
