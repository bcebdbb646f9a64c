from __future__ import annotations

import pytest

from gitops.verify.revision import git_sha
from tests.verify.objects import sha

SHA = sha("x")


@pytest.mark.parametrize(
    "revision",
    [SHA, f"main@sha1:{SHA}", f"sha1:{SHA}", f"main/{SHA}", f"v1.0.1@sha1:{SHA}", f"release/2026@sha1:{SHA}"],
)
def test_every_reconciler_form_yields_the_sha(revision: str) -> None:
    assert git_sha(revision) == SHA


@pytest.mark.parametrize(
    "revision", [None, "", "1.2.3", "1.2.3+abcdef012345", "sha256:" + "a" * 64, SHA[:12]]
)
def test_non_commit_revisions_yield_none(revision: object) -> None:
    assert git_sha(revision) is None
