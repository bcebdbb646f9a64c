"""sign / verify-signature against the real registry, including every bad-signature case (exit 3)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from gitops.cli.main import main
from gitops.image.build import BuildResult
from gitops.image.reference import parse_image_ref
from gitops.image.registry import OCI_MANIFEST, RegistryClient, sha256_digest
from gitops.supply.evidence import check_signature
from gitops.supply.signer import sign
from gitops.supply.store import tag_for
from tests.fixtures.registry import BaseImage, Registry
from tests.fixtures.supply import KeyFiles, make_keys

pytestmark = [pytest.mark.docker, pytest.mark.registry]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main([*args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def sig_manifest(registry: Registry, image: str) -> dict[str, object]:
    ref = parse_image_ref(image)
    assert ref.digest
    client = RegistryClient(registry.host, scheme="http")
    return client.get_manifest(ref.path, tag_for(ref.digest, "sig")).json()


def test_sign_then_verify_and_signing_twice_is_idempotent(
    capsys: pytest.CaptureFixture[str], registry: Registry, pushed_image: BuildResult, signing_keys: KeyFiles
) -> None:
    code, signed = cli(capsys, "sign", pushed_image.image, "--key", str(signing_keys.private))
    assert code == 0, signed
    assert signed["signature_tag"] == tag_for(pushed_image.digest, "sig")
    manifest = sig_manifest(registry, pushed_image.image)
    layers = manifest["layers"]
    assert isinstance(layers, list) and len(layers) == 1
    assert layers[0]["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    assert layers[0]["annotations"]["dev.cosignproject.cosign/signature"]
    payload = json.loads(
        RegistryClient(registry.host, scheme="http").get_blob(
            parse_image_ref(pushed_image.image).path, layers[0]["digest"]
        )
    )
    assert payload["critical"]["image"]["docker-manifest-digest"] == pushed_image.digest
    assert payload["critical"]["identity"]["docker-reference"] == pushed_image.repository
    assert payload["critical"]["type"] == "cosign container image signature"

    code, verified = cli(capsys, "verify-signature", pushed_image.image, "--key", str(signing_keys.public))
    assert code == 0, verified
    assert verified["ok"] is True and verified["signatures"] == 1

    # signing again with the same key is idempotent, as cosign's dupe detector makes it: no second layer
    before = sig_manifest(registry, pushed_image.image)
    code, again = cli(capsys, "sign", pushed_image.image, "--key", str(signing_keys.private))
    assert code == 0 and again["added"] is False and signed["added"] is True
    assert sig_manifest(registry, pushed_image.image) == before
    evidence = check_signature(pushed_image.image, signing_keys.public.read_bytes())
    assert evidence.ok and evidence.signatures == 1
    assert len(evidence.key_id) == 64


def test_missing_signature_exit_3(
    capsys: pytest.CaptureFixture[str], pushed_image: BuildResult, signing_keys: KeyFiles
) -> None:
    code, result = cli(capsys, "verify-signature", pushed_image.image, "--key", str(signing_keys.public))
    assert code == 3
    assert "no signature found" in str(result["reason"])
    assert "no signature found" in capsys.readouterr().out + str(result)


def test_wrong_key_exit_3(
    capsys: pytest.CaptureFixture[str],
    pushed_image: BuildResult,
    signing_keys: KeyFiles,
    other_keys: KeyFiles,
) -> None:
    assert cli(capsys, "sign", pushed_image.image, "--key", str(signing_keys.private))[0] == 0
    code, result = cli(capsys, "verify-signature", pushed_image.image, "--key", str(other_keys.public))
    assert code == 3
    assert "signed with another key" in str(result["reason"])


def _replace_sig_layers(registry: Registry, image: str, target_digest: str, payload: bytes | None) -> None:
    """Write a `.sig` manifest for `target_digest` re-using the layers of `image`'s signature,
    optionally with the payload blob swapped for `payload` (the signature annotation kept)."""
    ref = parse_image_ref(image)
    client = RegistryClient(registry.host, scheme="http")
    manifest = sig_manifest(registry, image)
    layer = dict(manifest["layers"][0])  # type: ignore[index]
    if payload is not None:
        client.push_blob(ref.path, payload)
        layer.update(digest=sha256_digest(payload), size=len(payload))
    manifest["layers"] = [layer]
    raw = json.dumps(manifest).encode()
    client.put_manifest(ref.path, tag_for(target_digest, "sig"), raw, OCI_MANIFEST)


def test_tampered_payload_exit_3(
    capsys: pytest.CaptureFixture[str], registry: Registry, pushed_image: BuildResult, signing_keys: KeyFiles
) -> None:
    assert cli(capsys, "sign", pushed_image.image, "--key", str(signing_keys.private))[0] == 0
    ref = parse_image_ref(pushed_image.image)
    original = RegistryClient(registry.host, scheme="http").get_blob(
        ref.path,
        sig_manifest(registry, pushed_image.image)["layers"][0]["digest"],  # type: ignore[index]
    )
    tampered = original.replace(b'"optional":null', b'"optional":{"approved":"yes"}')
    assert tampered != original
    _replace_sig_layers(registry, pushed_image.image, pushed_image.digest, tampered)
    code, result = cli(capsys, "verify-signature", pushed_image.image, "--key", str(signing_keys.public))
    assert code == 3
    assert "tampered" in str(result["reason"])


def test_signature_for_another_digest_exit_3(
    capsys: pytest.CaptureFixture[str],
    registry: Registry,
    base_image: BaseImage,
    pushed_image: BuildResult,
    signing_keys: KeyFiles,
) -> None:
    assert cli(capsys, "sign", pushed_image.image, "--key", str(signing_keys.private))[0] == 0
    # a different image in the same repository: copy the valid signature of the first one onto it
    unsigned = f"{pushed_image.repository}@{base_image.digest}"
    client = RegistryClient(registry.host, scheme="http")
    path = parse_image_ref(pushed_image.repository).path
    base_path = parse_image_ref(base_image.repository).path
    base_manifest = client.get_manifest(base_path, base_image.digest)
    for layer in [base_manifest.json()["config"], *base_manifest.json()["layers"]]:
        client.copy_blob(client, base_path, path, layer["digest"])
    client.put_manifest(path, base_image.digest, base_manifest.raw, base_manifest.media_type)
    _replace_sig_layers(registry, pushed_image.image, base_image.digest, None)
    code, result = cli(capsys, "verify-signature", unsigned, "--key", str(signing_keys.public))
    assert code == 3
    assert f"signature is for another image digest ({pushed_image.digest})" in str(result["reason"])


def test_registry_down_is_exit_1(
    capsys: pytest.CaptureFixture[str], doomed_registry: Registry, signing_keys: KeyFiles
) -> None:
    doomed_registry.stop()
    image = f"{doomed_registry.host}/test/x@sha256:{'a' * 64}"
    code, result = cli(capsys, "verify-signature", image, "--key", str(signing_keys.public), "--timeout", "2")
    assert code == 1
    assert "unreachable" in str(result["message"])


def _layer_key_ids(registry: Registry, image: str) -> list[str]:
    layers = sig_manifest(registry, image)["layers"]
    return [layer["annotations"]["dev.odoo-gitops/key-id"] for layer in layers]  # type: ignore[union-attr,index]


def test_a_second_key_adds_a_signature_and_either_key_verifies(
    capsys: pytest.CaptureFixture[str],
    registry: Registry,
    pushed_image: BuildResult,
    signing_keys: KeyFiles,
    other_keys: KeyFiles,
) -> None:
    first = cli(capsys, "sign", pushed_image.image, "--key", str(signing_keys.private))[1]
    second = cli(capsys, "sign", pushed_image.image, "--key", str(other_keys.private))[1]
    assert first["key_id"] != second["key_id"]
    assert _layer_key_ids(registry, pushed_image.image) == [first["key_id"], second["key_id"]]
    for keys_ in (signing_keys, other_keys):
        code, verified = cli(capsys, "verify-signature", pushed_image.image, "--key", str(keys_.public))
        assert code == 0, verified
        assert verified["ok"] is True and verified["signatures"] == 1
    # the first key signing again changes nothing: no duplicate layer, no lost signature
    before = sig_manifest(registry, pushed_image.image)
    assert cli(capsys, "sign", pushed_image.image, "--key", str(signing_keys.private))[0] == 0
    assert sig_manifest(registry, pushed_image.image) == before


def test_concurrent_signers_with_different_keys_all_keep_their_signature(
    capsys: pytest.CaptureFixture[str],
    registry: Registry,
    pushed_image: BuildResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No compare-and-swap on tags: each signer reads back and merges until the tag holds its layer."""
    keysets = [make_keys(tmp_path / f"signer-{n}", monkeypatch) for n in range(4)]
    start = threading.Barrier(len(keysets))
    failures: list[BaseException] = []

    def signer(key_files: KeyFiles) -> None:
        start.wait()
        try:
            sign(pushed_image.image, key_files.private)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=signer, args=(k,)) for k in keysets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert len(_layer_key_ids(registry, pushed_image.image)) == len(keysets)
    for key_files in keysets:
        code, verified = cli(capsys, "verify-signature", pushed_image.image, "--key", str(key_files.public))
        assert code == 0 and verified["signatures"] == 1, verified
