"""HelmRelease with an OCI chart (`spec.chartRef` → OCIRepository): the newest release must be of the
source's artifact, and that artifact built from the promoted commit."""

from __future__ import annotations

from typing import Any

from gitops.verify.reconcilers import flux_helmrelease as hr_kind
from gitops.verify.sources.oci_repository import read as read_oci
from gitops.verify.sources.protocol import SourceRef
from gitops.verify.verdict import State
from tests.verify.kubeserver import KINDS, validate
from tests.verify.objects import digest, helmrelease, oci_helmrelease, ocirepository, sha

SHA = sha("promoted")
OLD = sha("old")
TOKEN = "2026-05-04T10:00:00.123456789Z"


def accepts(candidate: str) -> bool:
    return candidate == SHA


def read(hr: dict[str, Any], source: dict[str, Any] | None):  # type: ignore[no-untyped-def]
    validate(KINDS["helmreleases"], hr)
    reading = read_oci(source, accepts=accepts) if source is not None else None
    return hr_kind.read(hr, accepts=accepts, requested_at=TOKEN, source=reading, chart_version=None)


def test_the_release_of_the_promoted_artifact_is_ok() -> None:
    result = read(
        oci_helmrelease("odoo", artifact="a", handled=TOKEN),
        ocirepository("charts", artifact="a", origin=SHA),
    )
    assert result.verdict.state is State.OK, result.verdict
    assert result.revision == SHA


def test_the_chart_version_suffix_proves_the_artifact_without_ocidigest() -> None:
    hr = oci_helmrelease("odoo", artifact="a", oci_digest=False, handled=TOKEN)
    assert read(hr, ocirepository("charts", artifact="a", origin=SHA)).verdict.state is State.OK
    other = read(hr, ocirepository("charts", artifact="b", origin=SHA))
    assert other.verdict.state is State.PENDING


def test_a_release_of_another_artifact_is_pending() -> None:
    result = read(
        oci_helmrelease("odoo", artifact="a", handled=TOKEN),
        ocirepository("charts", artifact="b", origin=SHA),
    )
    assert result.verdict.state is State.PENDING
    missing = "\n".join(result.verdict.missing)
    assert f"not {digest('b')}" in missing and "attempted chart artifact" in missing


def test_the_promoted_artifact_built_from_an_older_commit_is_pending() -> None:
    result = read(
        oci_helmrelease("odoo", artifact="a", handled=TOKEN),
        ocirepository("charts", artifact="a", origin=OLD),
    )
    assert result.verdict.state is State.PENDING and result.revision == OLD


def test_source_ref_reads_chartref_then_the_chart_templates_sourceref() -> None:
    assert hr_kind.source_ref(oci_helmrelease("odoo", artifact="a"), None) == SourceRef(
        "OCIRepository", "flux-system", "charts"
    )
    assert hr_kind.source_ref(helmrelease("odoo", source="cfg"), None) == SourceRef(
        "GitRepository", "flux-system", "cfg"
    )
    bare = helmrelease("odoo")
    del bare["spec"]["chart"]
    assert hr_kind.source_ref(bare, None) is None


def test_no_chart_source_is_pending() -> None:
    bare = helmrelease("odoo", handled=TOKEN)
    del bare["spec"]["chart"]
    result = hr_kind.read(bare, accepts=accepts, requested_at=TOKEN, source=None, chart_version=None)
    assert result.verdict.state is State.PENDING and "names no chart source" in result.verdict.missing[-1]
