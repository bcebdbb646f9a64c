"""Adapters for the outside facts rollback readiness needs: does an image digest still exist in its
registry, and does its signature verify. They wrap issue 5's registry client and signature evidence;
tests substitute their own callables through `Probes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gitops.errors import ExternalError

ImageExists = Callable[[str], "bool | None"]
SignatureCheck = Callable[[str, Path], "tuple[bool | None, str]"]
LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


def split_registry(image: str) -> tuple[str, str, str]:
    """'reg.example.com:5000/a/b@sha256:…' → ('reg.example.com:5000', 'a/b', 'sha256:…')."""
    name, _, digest = image.partition("@")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest, digest
    return "registry-1.docker.io", name if "/" in name else f"library/{name}", digest


def registry_image_exists(image: str) -> bool | None:
    """True/False from the registry; None when the registry client is not available."""
    try:
        from gitops.image.registry import RegistryClient  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    host, repo, digest = split_registry(image)
    scheme = "http" if host.split(":")[0] in LOOPBACK else "https"
    client = RegistryClient(host, scheme=scheme, timeout=15.0, retries=2)
    try:
        return bool(client.manifest_exists(repo, digest))
    except ExternalError:
        raise
    except Exception as exc:  # the adapter boundary: nothing third-party leaks out
        raise ExternalError(f"registry {host}: {type(exc).__name__}") from None


def cosign_signature(image: str, public_key: Path) -> tuple[bool | None, str]:
    """(ok, reason) from the signature evidence of issue 5; (None, why) when it cannot be checked."""
    try:
        from gitops.supply.evidence import check_signature  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None, "signature verification is not available in this build"
    try:
        evidence = check_signature(image, public_key.read_bytes())
    except OSError as exc:
        return None, f"cannot read public key {public_key}: {exc.strerror}"
    return bool(evidence.ok), str(evidence.reason or "")


@dataclass(frozen=True)
class Probes:
    image_exists: ImageExists = registry_image_exists
    signature: SignatureCheck = cosign_signature
