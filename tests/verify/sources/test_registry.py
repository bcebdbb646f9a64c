"""The source registry: one module per kind; a kind a reconciler cannot read fails, it never waits."""

from __future__ import annotations

from gitops.verify.sources import git_repository, oci_repository
from gitops.verify.sources.protocol import SourceRef
from gitops.verify.sources.registry import SOURCES, read_source, resources, supported
from gitops.verify.verdict import State
from tests.verify.objects import ocirepository, sha

SHA = sha("promoted")
BOTH = frozenset({"GitRepository", "OCIRepository"})


def test_each_kind_is_listed_under_its_kubernetes_kind() -> None:
    assert {"GitRepository": git_repository, "OCIRepository": oci_repository} == SOURCES
    assert all(kind == source.RESOURCE.kind for kind, source in SOURCES.items())
    assert resources() == {git_repository.RESOURCE, oci_repository.RESOURCE}


def test_a_kind_is_read_only_where_the_reconciler_accepts_it() -> None:
    ref = SourceRef("OCIRepository", "flux-system", "config")
    assert supported(ref, BOTH) is oci_repository
    assert supported(ref, frozenset({"GitRepository"})) is None
    assert supported(SourceRef("Bucket", "flux-system", "b"), BOTH | {"Bucket"}) is None  # not registered


def test_an_unsupported_kind_fails_and_says_which_are_read() -> None:
    reading = read_source(
        SourceRef("HelmRepository", "flux-system", "charts"), None, allowed=BOTH, accepts=bool
    )
    assert reading.verdict.state is State.FAILED
    assert reading.verdict.subject == "HelmRepository flux-system/charts"
    assert (
        "proves no config-repo commit (verify reads: GitRepository, OCIRepository)"
        in reading.verdict.reasons[0]
    )
    assert reading.commit is None


def test_a_source_not_visible_yet_is_pending_and_a_visible_one_is_read() -> None:
    ref = SourceRef("OCIRepository", "flux-system", "config")
    assert read_source(ref, None, allowed=BOTH, accepts=bool).verdict.state is State.PENDING
    obj = ocirepository("config", artifact="a", origin=SHA)
    reading = read_source(ref, obj, allowed=BOTH, accepts=lambda c: c == SHA)
    assert reading.verdict.state is State.OK and reading.commit == SHA


def test_a_reference_names_its_namespace_or_the_objects_and_may_be_renamed() -> None:
    obj = {"metadata": {"name": "k", "namespace": "apps"}}
    assert SourceRef.named_by(obj, {"kind": "GitRepository", "name": "cfg"}) == SourceRef(
        "GitRepository", "apps", "cfg"
    )
    shared = {"kind": "OCIRepository", "name": "cfg", "namespace": "shared"}
    assert SourceRef.named_by(obj, shared, "other") == SourceRef("OCIRepository", "shared", "other")
    assert SourceRef.named_by(obj, None) is None
    assert SourceRef.named_by(obj, {"name": "cfg"}) is None  # no kind: nothing to read
