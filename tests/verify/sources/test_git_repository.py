"""GitRepository: its artifact revision names the commit itself."""

from __future__ import annotations

from gitops.verify.sources.git_repository import read, refresh_annotations, verdict
from gitops.verify.verdict import State
from tests.verify.kubeserver import KINDS, validate
from tests.verify.objects import gitrepository, sha

SHA = sha("promoted")


def accepts(candidate: str) -> bool:
    return candidate == SHA


def test_reading_names_the_commit_of_the_artifact() -> None:
    obj = gitrepository("config", revision=SHA)
    validate(KINDS["gitrepositories"], obj)
    reading = read(obj, accepts=accepts)
    assert reading.verdict.state is State.OK
    assert reading.revision == f"main@sha1:{SHA}" and reading.commit == SHA and reading.digest is None


def test_an_older_commit_or_none_keeps_it_pending() -> None:
    older = read(gitrepository("config", revision=sha("old")), accepts=accepts)
    assert older.verdict.state is State.PENDING and older.commit == sha("old")
    empty = read(gitrepository("config"), accepts=accepts)
    assert empty.verdict.state is State.PENDING and empty.revision is None and empty.commit is None
    assert verdict(gitrepository("config"), accepts=accepts).state is State.PENDING


def test_refresh_asks_source_controller_to_fetch() -> None:
    assert refresh_annotations("t1") == {"reconcile.fluxcd.io/requestedAt": "t1"}
