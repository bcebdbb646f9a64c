"""RegistryClient against the real registry: manifests, blobs (monolithic and chunked), tags, auth, errors."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest

from gitops.errors import ExternalError
from gitops.image.auth import Credentials, credentials_for
from gitops.image.registry import OCI_INDEX, OCI_MANIFEST, NotFound, RegistryClient, sha256_digest
from tests.fixtures.authproxy import PASSWORD, USER, AuthProxy
from tests.fixtures.registry import BaseImage, Registry

pytestmark = [pytest.mark.registry]


def client_for(registry: Registry, **kwargs: object) -> RegistryClient:
    return RegistryClient(registry.host, scheme="http", **kwargs)  # type: ignore[arg-type]


def test_blobs_monolithic_and_chunked(registry: Registry) -> None:
    client = client_for(registry)
    small, large = b"small blob", bytes(range(256)) * 40
    assert client.push_blob("test/blobs", small) == sha256_digest(small)
    assert client.push_blob("test/blobs", large, chunk_size=1000) == sha256_digest(large)
    assert client.get_blob("test/blobs", sha256_digest(large)) == large
    assert client.blob_exists("test/blobs", sha256_digest(small))
    assert not client.blob_exists("test/blobs", sha256_digest(b"absent"))
    with pytest.raises(NotFound, match="HTTP 404"):
        client.get_blob("test/blobs", sha256_digest(b"absent"))


def test_oci_manifest_index_and_tags(registry: Registry) -> None:
    client = client_for(registry)
    config = b"{}"
    client.push_blob("test/oci", config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": 2,
            "digest": sha256_digest(config),
        },
        "layers": [],
    }
    raw = json.dumps(manifest).encode()
    digest = client.put_manifest("test/oci", sha256_digest(raw), raw, OCI_MANIFEST)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "size": len(raw), "digest": digest,
                       "platform": {"os": "linux", "architecture": "amd64"}}],
    }  # fmt: skip
    raw_index = json.dumps(index).encode()
    client.put_manifest("test/oci", "multi", raw_index, OCI_INDEX)
    fetched = client.get_manifest("test/oci", "multi")
    assert fetched.media_type == OCI_INDEX and fetched.digest == sha256_digest(raw_index)
    assert client.get_manifest("test/oci", digest).media_type == OCI_MANIFEST
    assert client.manifest_exists("test/oci", digest)
    assert not client.manifest_exists("test/oci", sha256_digest(b"nope"))
    assert client.list_tags("test/oci") == ["multi"]
    assert client.list_tags("test/never-pushed") == []


def test_auth_flows_through_a_challenging_front(
    auth_proxy: AuthProxy,
    base_image: BaseImage,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("ODOO_GITOPS_REGISTRY_USERNAME", USER)
    monkeypatch.setenv("ODOO_GITOPS_REGISTRY_PASSWORD", PASSWORD)
    client = RegistryClient(auth_proxy.host, scheme="http")
    assert client.manifest_exists("test/odoo-base", base_image.digest)
    digest = client.push_blob("test/authed", b"pushed through the auth front")
    assert client.get_blob("test/authed", digest) == b"pushed through the auth front"
    expected = "Basic" if auth_proxy.mode == "basic" else "Bearer"
    assert expected in auth_proxy.seen_authorization
    if auth_proxy.mode == "bearer":
        assert any("service=test-registry" in r for r in auth_proxy.token_requests)
    assert PASSWORD not in caplog.text


def test_bad_credentials_are_a_clear_error_without_the_secret(
    auth_proxy: AuthProxy, base_image: BaseImage
) -> None:
    client = RegistryClient(auth_proxy.host, scheme="http", credentials=Credentials(USER, "wrong-password-1"))
    with pytest.raises(ExternalError) as info:
        client.manifest_exists("test/odoo-base", base_image.digest)
    assert "401" in info.value.message or "refused" in info.value.message
    assert "wrong-password-1" not in info.value.render()
    assert "wrong-password-1" not in repr(client._auth.credentials)


def test_credentials_from_docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = base64.b64encode(b"alice:pw-from-docker-config").decode()
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"https://reg.example.com": {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert credentials_for("reg.example.com") == Credentials("alice", "pw-from-docker-config")
    assert credentials_for("other.example.com") is None


def test_unreachable_registry_retries_then_external_error() -> None:
    from tests.fixtures.registry import free_port

    client = RegistryClient(f"127.0.0.1:{free_port()}", scheme="http", retries=2, backoff=0.01, timeout=2)
    with pytest.raises(ExternalError, match="unreachable"):
        client.manifest_exists("x/y", sha256_digest(b""))


def test_5xx_answers_are_retried(flaky_proxy: AuthProxy, base_image: BaseImage) -> None:
    flaky_proxy.failures_left = 2
    client = RegistryClient(flaky_proxy.host, scheme="http", retries=3, backoff=0.01)
    assert client.manifest_exists("test/odoo-base", base_image.digest)
    assert flaky_proxy.failures_left == 0
    flaky_proxy.failures_left = 10
    with pytest.raises(ExternalError, match="HTTP 503"):
        RegistryClient(flaky_proxy.host, scheme="http", retries=2, backoff=0.01).manifest_exists(
            "test/odoo-base", base_image.digest
        )
