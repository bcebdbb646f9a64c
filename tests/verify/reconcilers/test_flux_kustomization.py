"""Kustomization reading an OCIRepository: the applied digest must be the source's artifact and its origin
revision the promoted commit (or a descendant); git sources are covered by tests/verify/test_flux.py."""

from __future__ import annotations

from typing import Any

from gitops.verify.reconcilers import flux_kustomization as ks_kind
from gitops.verify.sources.oci_repository import read as read_oci
from gitops.verify.sources.protocol import SourceRef
from gitops.verify.verdict import State
from tests.verify.kubeserver import KINDS, validate
from tests.verify.objects import digest, oci_kustomization, oci_revision, ocirepository, sha

SHA = sha("promoted")
NEWER = sha("newer")
OLD = sha("old")
TOKEN = "2026-05-04T10:00:00.123456789Z"


def accepts(candidate: str) -> bool:
    return candidate in (SHA, NEWER)


def read(ks: dict[str, Any], source: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    validate(KINDS["kustomizations"], ks)
    reading = read_oci(source, accepts=accepts) if source is not None else None
    return ks_kind.read(ks, accepts=accepts, requested_at=TOKEN, source=reading, chart_version=None)


def test_the_promoted_artifact_applied_is_ok_and_names_its_commit() -> None:
    result = read(
        oci_kustomization("odoo", applied="a", origin=SHA, handled=TOKEN),
        ocirepository("config", artifact="a", origin=SHA),
    )
    assert result.verdict.state is State.OK, result.verdict
    assert result.revision == SHA and result.namespace == "odoo-prod"


def test_without_lastappliedoriginrevision_the_sources_annotation_names_the_commit() -> None:
    ks = oci_kustomization("odoo", applied="a", handled=TOKEN)  # kustomize-controller before 1.5
    result = read(ks, ocirepository("config", artifact="a", origin=NEWER))
    assert result.verdict.state is State.OK and result.revision == NEWER
    alone = read(ks)  # no source visible: nothing names the commit
    assert alone.verdict.state is State.PENDING and alone.revision is None


def test_an_artifact_built_from_an_older_commit_is_pending_and_says_so() -> None:
    result = read(
        oci_kustomization("odoo", applied="a", origin=OLD, handled=TOKEN),
        ocirepository("config", artifact="a", origin=OLD),
    )
    assert result.verdict.state is State.PENDING
    expected = f"last applied revision is {oci_revision('a')} (built from {OLD[:12]}), not the promoted"
    assert any(expected in m for m in result.verdict.missing), result.verdict.missing


def test_a_promoted_origin_on_another_artifact_than_the_sources_is_pending() -> None:
    result = read(
        oci_kustomization("odoo", applied="a", origin=SHA, handled=TOKEN),
        ocirepository("config", artifact="b", origin=NEWER),
    )
    assert result.verdict.state is State.PENDING
    assert any(f"source artifact is {oci_revision('b')}" in m for m in result.verdict.missing)


def test_a_newer_artifact_that_failed_fails_fast() -> None:
    ks = oci_kustomization(
        "odoo", applied="a", origin=OLD, attempted="b", ready="False", reason="BuildFailed", handled=TOKEN
    )
    result = read(ks, ocirepository("config", artifact="b", origin=SHA))
    assert result.verdict.state is State.FAILED
    assert "newer revision failed" in result.verdict.reasons[0]


def test_stalled_on_an_artifact_of_unknown_origin_is_only_pending() -> None:
    ks = oci_kustomization(
        "odoo", applied="a", origin=OLD, attempted="c", ready="False", reason="BuildFailed", stalled=True
    )
    assert read(ks, ocirepository("config", artifact="b", origin=SHA)).verdict.state is State.PENDING


def test_a_bucket_source_fails_fast() -> None:
    ks = oci_kustomization("odoo", applied="a", origin=SHA, handled=TOKEN)
    ks["spec"]["sourceRef"] = {"kind": "Bucket", "name": "config"}
    ref = ks_kind.source_ref(ks, None)
    assert ref == SourceRef("Bucket", "flux-system", "config")
    from gitops.verify.sources.registry import read_source

    reading = read_source(ref, None, allowed=ks_kind.SOURCE_KINDS, accepts=accepts)
    result = ks_kind.read(ks, accepts=accepts, requested_at=TOKEN, source=reading, chart_version=None)
    assert result.verdict.state is State.FAILED
    assert any("a Bucket source proves no config-repo commit" in r for r in result.verdict.reasons)


def test_source_ref_follows_the_override_and_cross_namespace_references() -> None:
    ks = oci_kustomization("odoo", applied="a", origin=SHA)
    assert ks_kind.source_ref(ks, None) == SourceRef("OCIRepository", "flux-system", "config")
    ks["spec"]["sourceRef"]["namespace"] = "shared"
    assert ks_kind.source_ref(ks, "other") == SourceRef("OCIRepository", "shared", "other")


def test_the_applied_commit_of_a_git_revision_is_its_own() -> None:
    ks = oci_kustomization("odoo", applied="a", origin=OLD)
    ks["status"]["lastAppliedRevision"] = f"main@sha1:{SHA}"
    assert ks_kind.applied_commit(ks) == SHA
    assert digest("a") not in str(ks_kind.applied_commit(ks))


def test_forged_revisions_prove_nothing() -> None:
    """Bypass attempts: a git-form revision claimed over an OCI source, an origin revision that names the
    promoted commit beside an older git revision, a digest that differs from the source's by one digit."""
    source = ocirepository("config", artifact="a", origin=SHA)
    git_claim = oci_kustomization("odoo", applied="a", origin=SHA, handled=TOKEN)
    git_claim["status"]["lastAppliedRevision"] = git_claim["status"]["lastAttemptedRevision"] = (
        f"main@sha1:{SHA}"
    )
    assert read(git_claim, source).verdict.state is State.PENDING  # not the source's artifact

    origin_claim = oci_kustomization("odoo", applied="a", origin=SHA, handled=TOKEN)
    origin_claim["status"]["lastAppliedRevision"] = origin_claim["status"]["lastAttemptedRevision"] = (
        f"main@sha1:{OLD}"
    )
    assert ks_kind.applied_commit(origin_claim) == OLD  # the git revision's own commit wins

    near = oci_kustomization("odoo", applied="a", origin=SHA, handled=TOKEN)
    revision = oci_revision("a")
    twin = revision[:-1] + ("0" if revision[-1] != "0" else "1")
    near["status"]["lastAppliedRevision"] = near["status"]["lastAttemptedRevision"] = twin
    result = read(near, source)
    assert result.verdict.state is State.PENDING
    assert any("source artifact is" in m for m in result.verdict.missing)
