"""Fuzz the image reference / digest parser (`gitops.image.reference`).

Property: an `ImageRef` or a `UsageError` (exit 2), never another exception; what parses prints back to a
reference that parses to the same value, and no part of it holds whitespace or control characters.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gitops.errors import UsageError
from gitops.image.reference import parse_image_ref
from tests.fuzz.profiles import FUZZ

pytestmark = pytest.mark.fuzz

HEX = "0123456789abcdef"
DIGEST = "sha256:" + "a" * 64
_SAFE = re.compile(r"[\x00-\x20\x7f]")

PARTS = st.sampled_from(
    [
        "reg.example:5000",
        "localhost",
        "127.0.0.1:5000",
        "docker.io",
        "odoo",
        "team/odoo",
        "a__b",
        "x-y",
        "UP",
        "",
    ]
)
TAGS = st.one_of(st.none(), st.sampled_from(["18.0", "latest", "v1.2.0", "-bad", "a" * 129, "t\n", "t t"]))
DIGESTS = st.one_of(
    st.none(),
    st.text(HEX, min_size=60, max_size=68).map(lambda h: f"sha256:{h}"),
    st.sampled_from([DIGEST, DIGEST + "\n", DIGEST.upper(), "sha512:" + "a" * 128, "sha256:", "md5:abc"]),
)
STRUCTURED = st.builds(
    lambda host, path, tag, digest: (
        host
        + ("/" if host and path else "")
        + path
        + (f":{tag}" if tag is not None else "")
        + (f"@{digest}" if digest is not None else "")
    ),
    PARTS,
    st.sampled_from(["odoo", "org/odoo", "a/b/c", "Odoo", "o..o", "o/", "/o", ""]),
    TAGS,
    DIGESTS,
)


@FUZZ
@given(text=st.one_of(st.text(max_size=80), STRUCTURED))
@example(text=f"reg.example:5000/odoo@{DIGEST}")
@example(text=f"odoo:18.0@{DIGEST}")
@example(text=f"reg/odoo@{DIGEST}\n")
@example(text="reg/odoo@sha256:" + "a" * 63)
@example(text="@" * 5)
@example(text=":" * 5)
@example(text="reg/odoo:" + "a" * 10_000)
@example(text="\x00")
def test_parse_image_ref_returns_a_reference_or_a_usage_error(text: str) -> None:
    try:
        ref = parse_image_ref(text)
    except UsageError as exc:
        assert exc.exit_code == 2
        return
    assert parse_image_ref(str(ref)) == ref
    assert ref.digest is None or re.fullmatch(r"sha256:[0-9a-f]{64}", ref.digest)
    assert not _SAFE.search(f"{ref.host}{ref.path}{ref.tag or ''}"), ref
