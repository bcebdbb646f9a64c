"""Semver and tags from git tags."""

from __future__ import annotations

import pytest

from gitops.errors import UsageError
from gitops.image.versioning import next_version, parse_tag, source_version
from tests.fixtures.addonsrepo import AddonsRepo


def test_next_version_rules() -> None:
    assert next_version(["v1.2.0"], {"v1.2.0": 0}, 5) == "1.2.0"
    assert next_version(["v1.2.0", "1.3.0"], {"v1.2.0": 4, "1.3.0": 2}, 9) == "1.3.1-dev.2"
    assert next_version(["v2.0.0-rc.1"], {"v2.0.0-rc.1": 3}, 9) == "2.0.0-rc.1.dev.3"
    assert next_version(["release-x"], {"release-x": 0}, 7) == "0.0.0-dev.7"
    assert next_version([], {}, 7) == "0.0.0-dev.7"
    assert parse_tag("v1.0.0") is not None and parse_tag("nope") is None


def test_source_version_from_a_real_repo(addons_repo: AddonsRepo) -> None:
    facts = source_version(addons_repo.path)
    assert facts.version == "1.2.0"
    assert facts.tags() == ("1.2.0", facts.revision[:12])
    assert facts.committed_at.isoformat() == "2026-03-01T10:00:00+00:00"
    assert not facts.dirty
    (addons_repo.path / "x.txt").write_text("x")
    addons_repo.commit("more", date="2026-03-05T10:00:00+00:00")
    later = source_version(addons_repo.path)
    assert later.version == "1.2.1-dev.1"
    assert later.tags()[0] == "1.2.1-dev.1"
    addons_repo.git("remote", "add", "origin", "https://user:hunter2@git.example.com/addons.git")
    assert source_version(addons_repo.path).source == "https://git.example.com/addons.git"


def test_not_a_git_repo(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="not inside a git repository"):
        source_version(tmp_path)
