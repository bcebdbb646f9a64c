"""gitops/config/store.py: the config repository loaded from git objects at HEAD of a clone without a
working tree (real git): the same config as on disk, files inside and outside the preloaded folders read as
committed."""

from __future__ import annotations

from pathlib import Path

from gitops.config.loader import load_config
from gitops.config.store import load_checkout, tree_files
from gitops.gitstore.checkout import ConfigCheckout
from tests.fixtures.configrepo import ConfigRepoFixture


def test_a_clone_without_a_working_tree_loads_the_config_at_head(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    (config_repo.work / "envs/staging/values.yaml").write_text("image: {digest: sha256:feed}\n")
    config_repo.commit_all("staging values")
    checkout = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "clone", working_tree=False)
    assert not (checkout.root / "envs").exists()  # nothing written to disk
    repo = load_checkout(checkout)
    on_disk = load_config(config_repo.work)
    assert sorted(repo.envs) == sorted(on_disk.envs) == ["dev", "prod", "staging"]
    assert repo.env("prod").config == on_disk.env("prod").config
    assert repo.env("prod").release == on_disk.env("prod").release
    assert sorted(repo.calendars) == sorted(on_disk.calendars)


def test_files_in_and_outside_the_preloaded_folders_read_as_committed(
    config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    checkout = ConfigCheckout.clone(str(config_repo.remote), tmp_path / "clone", working_tree=False)
    files = tree_files(checkout, "HEAD", preload=("envs/",))
    pipeline = (config_repo.work / "pipelines/odoo.yaml").read_bytes()
    assert files.read("pipelines/odoo.yaml") == pipeline
    assert files.read("envs/prod/env.yaml") == (config_repo.work / "envs/prod/env.yaml").read_bytes()
    assert files.kind("pipelines/odoo.yaml") == "file"
    assert files.kind("pipelines/none.yaml") != "file"
