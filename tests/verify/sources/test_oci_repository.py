"""OCIRepository: the digest revision names no commit; the origin revision annotation does."""

from __future__ import annotations

from typing import Any

import pytest

from gitops.verify.sources.oci_repository import oci_digest, read, verdict
from gitops.verify.verdict import State
from tests.verify.kubeserver import KINDS, validate
from tests.verify.objects import ORIGIN, digest, ocirepository, sha

SHA = sha("promoted")
NEWER = sha("newer")
OLD = sha("old")


def accepts(candidate: str) -> bool:
    return candidate in (SHA, NEWER)


def repo(**kwargs: Any) -> dict[str, Any]:
    obj = ocirepository("config", **kwargs)
    validate(KINDS["ocirepositories"], obj)
    return obj


@pytest.mark.parametrize(
    "revision",
    [f"latest@{digest('a')}", digest("a"), f"v1.4.0@{digest('a')}", f"latest/{digest('a')[7:]}"],
)
def test_every_revision_form_yields_the_digest(revision: str) -> None:
    assert oci_digest(revision) == digest("a")


@pytest.mark.parametrize(
    "revision",
    [None, "", f"main@sha1:{SHA}", SHA, "latest@sha256:abc", f"a/b@{digest('a')}", f"latest@{digest('a')}x"],
)
def test_other_revisions_yield_no_digest(revision: object) -> None:
    assert oci_digest(revision) is None


def test_an_artifact_built_from_the_promoted_commit_or_a_descendant_is_ok() -> None:
    assert verdict(repo(artifact="a", origin=SHA), accepts=accepts).state is State.OK
    assert verdict(repo(artifact="a", origin=NEWER), accepts=accepts).state is State.OK
    assert verdict(repo(artifact="a", origin=SHA, legacy=True), accepts=accepts).state is State.OK


def test_reading_gives_the_revision_the_commit_and_the_digest() -> None:
    reading = read(repo(artifact="a", origin=SHA), accepts=accepts)
    assert reading.revision == f"latest@{digest('a')}"
    assert reading.commit == SHA and reading.digest == digest("a")
    assert reading.commit_of(f"latest@{digest('a')}") == SHA  # this artifact: its commit
    assert reading.commit_of(f"latest@{digest('b')}") is None  # another artifact proves nothing
    assert reading.commit_of(f"main@sha1:{OLD}") == OLD


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"artifact": "a", "origin": OLD}, "not the promoted revision or a descendant"),
        ({"artifact": "a"}, f"carries no {ORIGIN} annotation"),
        ({}, "artifact revision is (none), not an OCI digest"),
    ],
)
def test_what_keeps_it_pending(kwargs: dict[str, Any], expected: str) -> None:
    result = verdict(repo(**kwargs), accepts=accepts)
    assert result.state is State.PENDING
    assert any(expected in m for m in result.missing), result.missing


def test_an_origin_that_names_no_commit_proves_nothing() -> None:
    obj = repo(artifact="a", origin=SHA)
    obj["status"]["artifact"]["metadata"][ORIGIN] = "v1.4.0"  # a tag: no commit to check
    result = verdict(obj, accepts=accepts)
    assert result.state is State.PENDING and "names no git commit" in result.missing[0]
    assert read(obj, accepts=accepts).commit is None


def test_a_forged_digest_revision_with_a_sha_inside_is_not_a_commit() -> None:
    obj = repo(artifact="a", origin=OLD)
    obj["status"]["artifact"]["revision"] = f"latest/{SHA}"  # 40 hex after a slash: not an OCI digest
    result = verdict(obj, accepts=accepts)
    assert result.state is State.PENDING and "not an OCI digest" in result.missing[0]


def test_fetch_failures_and_unverified_signatures_are_reported() -> None:
    obj = repo(artifact="a", origin=SHA)
    obj["status"]["conditions"] += [
        {
            "type": "FetchFailed",
            "status": "True",
            "reason": "OCIArtifactPullFailed",
            "message": "unauthorized",
            "lastTransitionTime": "2026-05-04T10:00:00Z",
        },
        {
            "type": "SourceVerified",
            "status": "False",
            "reason": "VerificationError",
            "message": "no matching signatures",
            "lastTransitionTime": "2026-05-04T10:00:00Z",
        },
    ]
    validate(KINDS["ocirepositories"], obj)
    result = verdict(obj, accepts=accepts)
    assert result.state is State.PENDING
    assert any("FetchFailed (OCIArtifactPullFailed): unauthorized" in m for m in result.missing)
    assert any("signature verification failed: no matching signatures" in m for m in result.missing)


def test_a_generation_not_yet_observed_keeps_it_pending() -> None:
    obj = repo(artifact="a", origin=SHA)
    obj["metadata"]["generation"] = 2
    assert "has not observed the latest generation" in verdict(obj, accepts=accepts).missing[0]
