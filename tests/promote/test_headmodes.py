"""non_file_problems on a real clone: a changed path that is a symlink or a gitlink at the head is named;
an executable bit, an edit, an addition or a deletion of a regular file is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.gitstore.checkout import ConfigCheckout
from gitops.promote.headmodes import non_file_problems
from tests.fixtures.configrepo import ConfigRepoFixture, git


@pytest.fixture
def checkout(config_repo: ConfigRepoFixture, tmp_path: Path) -> ConfigCheckout:
    return ConfigCheckout.clone(str(config_repo.remote), tmp_path / "c", depth=1)


def test_symlinks_and_gitlinks_are_named(checkout: ConfigCheckout) -> None:
    root = checkout.root
    base = git(root, "rev-parse", "HEAD")
    values = git(root, "rev-parse", "HEAD:envs/prod/values.yaml")
    git(root, "update-index", "--cacheinfo", f"120000,{values},envs/prod/values.yaml")
    git(root, "update-index", "--chmod=+x", "envs/prod/release.yaml")
    git(root, "update-index", "--add", "--cacheinfo", f"160000,{base},envs/prod/tenants/sub.yaml")
    git(root, "update-index", "--force-remove", "envs/staging/values.yaml")
    git(root, "commit", "-q", "-m", "modes")
    head = git(root, "rev-parse", "HEAD")
    why = " at the head (odoo-gitops writes regular files only)"
    assert non_file_problems(checkout, base, head) == [
        "envs/prod/tenants/sub.yaml is a submodule (gitlink)" + why,
        "envs/prod/values.yaml is a symlink" + why,
    ]
    assert non_file_problems(checkout, base, base) == []
