"""Image reference parsing."""

from __future__ import annotations

import pytest

from gitops.errors import UsageError
from gitops.image.reference import parse_image_ref, parse_repository, pinned_ref

DIGEST = "sha256:" + "a" * 64


def test_parse_forms() -> None:
    ref = parse_image_ref(f"127.0.0.1:5000/org/odoo:18.0@{DIGEST}")
    assert (ref.host, ref.path, ref.tag, ref.digest) == ("127.0.0.1:5000", "org/odoo", "18.0", DIGEST)
    assert ref.default_scheme == "http"
    hub = parse_image_ref("odoo:18.0")
    assert (hub.repository, hub.api_host, hub.default_scheme) == (
        "docker.io/library/odoo",
        "registry-1.docker.io",
        "https",
    )
    assert parse_image_ref("ghcr.io/acme/odoo").reference == "latest"
    assert pinned_ref(f"ghcr.io/acme/odoo@{DIGEST}").pinned == f"ghcr.io/acme/odoo@{DIGEST}"


@pytest.mark.parametrize(
    ("text", "message"),
    [("reg/Odoo@" + DIGEST, "invalid repository path"), ("reg/odoo@sha256:12", "invalid digest"),
     ("reg/odoo:bad tag", "invalid tag")],
)  # fmt: skip
def test_bad_references(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_image_ref(text)


def test_pinning_and_repository_rules() -> None:
    with pytest.raises(UsageError, match="not pinned by digest"):
        pinned_ref("reg.example.com/odoo:18.0")
    with pytest.raises(UsageError, match="must not carry a tag"):
        parse_repository("reg.example.com/odoo:18.0")
