"""Adapters for the outside facts rollback readiness needs: does an image digest still exist in its
registry, and does its signature verify. They use the registry client and the signature evidence of
gitops.image / gitops.supply; tests may substitute other callables through `Probes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gitops.errors import GitopsError
from gitops.image.reference import pinned_ref
from gitops.image.registry import RegistryClient
from gitops.supply.evidence import check_signature

ImageExists = Callable[[str], "bool | None"]
SignatureCheck = Callable[[str, Path], "tuple[bool | None, str]"]


def registry_image_exists(image: str) -> bool | None:
    """True/False from the registry (HEAD of the manifest by digest); ExternalError when unreachable."""
    ref = pinned_ref(image)
    client = RegistryClient.for_ref(ref, timeout=15.0, retries=2)
    return client.manifest_exists(ref.path, ref.pinned_digest)


def cosign_signature(image: str, public_key: Path) -> tuple[bool | None, str]:
    """(ok, reason) of the cosign signature check; (None, why) when it cannot be checked."""
    try:
        pem = public_key.read_bytes()
    except OSError as exc:
        return None, f"cannot read public key {public_key}: {exc.strerror}"
    try:
        evidence = check_signature(image, pem)
    except GitopsError as exc:
        return None, f"signature could not be checked: {exc.message}"
    return evidence.ok, evidence.reason


@dataclass(frozen=True)
class Probes:
    image_exists: ImageExists = registry_image_exists
    signature: SignatureCheck = cosign_signature
