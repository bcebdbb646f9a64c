"""`pr show --registry`: SBOM and provenance attestations read from a real registry (Debian docker-registry),
verified with the target's key; a foreign key's attestation counts as absent; an unreachable registry is said,
not a crash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops.board.attestations import CYCLONEDX_PREDICATE, attestations_present
from gitops.image.reference import pinned_ref
from gitops.image.registry import RegistryClient
from gitops.supply import attest, keys
from tests.board.test_cab import promote, show
from tests.fixtures.promote import Stage, SupplyDouble, real_stage
from tests.fixtures.registry import BaseImage, Registry, docker_cli
from tests.fixtures.supply import KeyFiles

NONE_YET = {"SBOM (CycloneDX)": False, "provenance (SLSA)": False}


@pytest.fixture
def own_image(registry: Registry, base_image: BaseImage) -> str:
    """The base image under a repository of this test's own (its attestations touch nobody else's)."""
    repository = f"{registry.host}/test/board-attestations"
    docker_cli("tag", base_image.pinned, f"{repository}:1")
    docker_cli("push", f"{repository}:1")
    return f"{repository}@{base_image.digest}"


def attach(image: str, kind: str, key: KeyFiles) -> None:
    ref = pinned_ref(image)
    attest.attach(
        RegistryClient.for_ref(ref), ref, kind, {"made": "by the test"}, keys.load_private_key(key.private)
    )


@pytest.mark.registry
@pytest.mark.docker
def test_attestations_are_read_and_verified(
    own_image: str, signing_keys: KeyFiles, other_keys: KeyFiles
) -> None:
    public = signing_keys.public.read_bytes()
    assert attestations_present(own_image, public) == NONE_YET
    attach(own_image, CYCLONEDX_PREDICATE, other_keys)  # a foreign signer: not evidence
    assert attestations_present(own_image, public) == NONE_YET
    attach(own_image, CYCLONEDX_PREDICATE, signing_keys)
    assert attestations_present(own_image, public) == {"SBOM (CycloneDX)": True, "provenance (SLSA)": False}
    attach(own_image, attest.SLSA_PREDICATE, signing_keys)
    assert attestations_present(own_image, public) == {"SBOM (CycloneDX)": True, "provenance (SLSA)": True}


@pytest.fixture
def live(
    tmp_path: Path, own_image: str, signing_keys: KeyFiles, supply_double: SupplyDouble
) -> Iterator[Stage]:
    yield from real_stage(tmp_path, own_image, signing_keys.public.read_bytes())


@pytest.mark.registry
@pytest.mark.docker
def test_pr_show_lists_them_in_the_evidence(
    live: Stage, own_image: str, signing_keys: KeyFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    attach(own_image, CYCLONEDX_PREDICATE, signing_keys)
    number = promote(capsys, live)
    code, out = show(capsys, live, number, "--registry")
    assert code == 0
    assert "- SBOM (CycloneDX): present\n- provenance (SLSA): MISSING\n" in out
    code, out = show(capsys, live, number)
    assert "- SBOM, provenance: not checked (pass --registry" in out


def test_an_unreachable_registry_is_said(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    number = promote(capsys, stage)  # the images are on registry.example.com, which cannot be reached here
    code, out = show(capsys, stage, number, "--registry")
    assert code == 0
    assert "- SBOM, provenance: cannot check: " in out
