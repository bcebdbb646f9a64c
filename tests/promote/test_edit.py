"""Image-field edits keep everything else byte-for-byte; release.yaml has one canonical layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.config.loader import load_config
from gitops.errors import ConfigError
from gitops.promote.edit import ChartRelease, ImageFields, edit_image_text, render_release, set_image_fields
from tests.fixtures.configrepo import git

OLD_DIGEST = "sha256:817ba1f956e4fdecb25bf4e3c49f81a21db3fb90d0621101169156d12ffd08cc"
NEW = ImageFields("registry.example.com/acme/odoo-next", "sha256:" + "1" * 64)

VALUES = """\
# user comment at the top
image:   # the image block
  # a comment inside the block
  repository: "registry.example.com/acme/odoo-custom"   # quoted, keep the quotes
  pullPolicy: IfNotPresent
  digest: sha256:817ba1f956e4fdecb25bf4e3c49f81a21db3fb90d0621101169156d12ffd08cc  # pinned

web:
  image:
    repository: sidecar/not-ours
    digest: keep-me
  replicas: 3   # web pods
"""


def _edit(path: Path, image: ImageFields, *, display: str, release: ChartRelease | None = None) -> bool:
    """Edit a file in place the way a promotion edits a blob; True when its text changed."""
    old = path.read_text()
    new = edit_image_text(old, image, display=display, release=release)
    path.write_text(new)
    return new != old


def test_only_the_image_lines_change() -> None:
    new = set_image_fields(VALUES, NEW).splitlines()
    old = VALUES.splitlines()
    changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    assert changed == [3, 5]
    assert new[3] == '  repository: "registry.example.com/acme/odoo-next"   # quoted, keep the quotes'
    assert new[5] == f"  digest: {NEW.digest}  # pinned"


def test_missing_keys_are_added_inside_the_block() -> None:
    text = "image:\n  pullPolicy: Always\nodoo:\n  workers: 2\n"
    assert set_image_fields(text, NEW) == (
        f"image:\n  pullPolicy: Always\n  repository: {NEW.repository}\n  digest: {NEW.digest}\n"
        "odoo:\n  workers: 2\n"
    )


def test_a_file_without_image_block_gets_one_appended() -> None:
    text = "# tenant\ntenant: acme\n"
    assert (
        set_image_fields(text, NEW)
        == text + f"image:\n  repository: {NEW.repository}\n  digest: {NEW.digest}\n"
    )


def test_flow_style_image_is_refused_with_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("image: {repository: a, digest: b}\n")
    with pytest.raises(ConfigError) as err:
        _edit(path, NEW, display="envs/x/values.yaml")
    assert "envs/x/values.yaml" in err.value.render()
    assert "block mapping" in err.value.render()


def test_editing_twice_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(VALUES)
    assert _edit(path, NEW, display="values.yaml") is True
    assert _edit(path, NEW, display="values.yaml") is False


def test_git_diff_shows_only_the_changed_lines(config_repo) -> None:  # type: ignore[no-untyped-def]
    work = config_repo.work
    _edit(work / "envs/prod/values.yaml", NEW, display="values.yaml")
    _edit(work / "envs/prod/tenants/acme-build.yaml", NEW, display="tenant")
    diff = git(work, "diff", "-U0", "--no-color")
    changes = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changes == [  # git lists envs/prod/tenants/ before envs/prod/values.yaml
        "+image:",
        f"+  repository: {NEW.repository}",
        f"+  digest: {NEW.digest}",
        "-  repository: registry.example.com/acme/odoo-custom",
        f"-  digest: {OLD_DIGEST}  # pinned by odoo-gitops",
        f"+  repository: {NEW.repository}",
        f"+  digest: {NEW.digest}  # pinned by odoo-gitops",
    ]


def test_release_layout_reproduces_the_examples(repo_root: Path) -> None:
    repo = load_config(repo_root)
    for name, bundle in repo.envs.items():
        assert bundle.release is not None, name
        rendered = render_release(bundle.release.model_dump(exclude_defaults=True))
        assert rendered == bundle.release_path.read_text(), name


def test_a_second_top_level_image_key_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("image:\n  repository: a\n  digest: b\nimage:\n  tag: latest\n")
    with pytest.raises(ConfigError):
        _edit(path, NEW, display="values.yaml")


def test_anchors_make_the_edit_prove_itself_by_parsing(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("base: &img\n  repository: a\n  digest: b\nimage: *img\n")
    with pytest.raises(ConfigError) as err:
        _edit(path, NEW, display="values.yaml")
    assert "block mapping" in err.value.render()


HOOKS = ChartRelease(
    version="1.5.0",
    changed_modules=("acme_project_costing", "acme_retention"),
    schema_change=True,
    backup_required=True,
)


def test_release_block_is_rewritten_in_place_and_nothing_else(config_repo) -> None:  # type: ignore[no-untyped-def]
    work = config_repo.work
    assert _edit(work / "envs/prod/values.yaml", NEW, display="values.yaml", release=HOOKS)
    assert not _edit(work / "envs/prod/values.yaml", NEW, display="values.yaml", release=HOOKS)
    diff = git(work, "diff", "-U0", "--no-color")
    changes = [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changes == [
        "-  repository: registry.example.com/acme/odoo-custom",
        f"-  digest: {OLD_DIGEST}  # pinned by odoo-gitops",
        f"+  repository: {NEW.repository}",
        f"+  digest: {NEW.digest}  # pinned by odoo-gitops",
        "-  version: 1.3.2",
        "-  changedModules: [acme_project_costing]",
        "-  schemaChange: false",
        "-  backupRequired: false",
        "+  version: 1.5.0",
        "+  changedModules: [acme_project_costing, acme_retention]",
        "+  schemaChange: true",
        "+  backupRequired: true",
    ]


def test_release_block_is_added_to_a_tenant_file(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "tenant.yaml"
    path.write_text("# tenant\ntenant: acme\nodoo:\n  dbfilter: '^acme$'\n")
    _edit(path, NEW, display="tenant.yaml", release=HOOKS)
    data = yaml.safe_load(path.read_text())
    assert data["release"] == HOOKS.parsed() and data["odoo"] == {"dbfilter": "^acme$"}
    assert path.read_text().startswith("# tenant\ntenant: acme\nodoo:\n  dbfilter: '^acme$'\n")


def test_a_crlf_file_is_edited_in_place_and_stays_crlf() -> None:
    old = VALUES.replace("\n", "\r\n")
    new = edit_image_text(old, NEW, display="values.yaml", release=HOOKS)
    assert new == edit_image_text(VALUES, NEW, display="values.yaml", release=HOOKS).replace("\n", "\r\n")
    assert new.count("image:") == old.count("image:") and "\n" not in new.replace("\r\n", "")


@pytest.mark.parametrize("key", ['"image"', "'image'", "image "])
def test_a_quoted_image_key_is_edited_in_place_not_appended_again(tmp_path: Path, key: str) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(
        f'tenant: acme\n{key}:  # ours\n  "repository": old/repo\n  digest: "{OLD_DIGEST}"\n'
        "odoo:\n  workers: 2\n"
    )
    assert _edit(path, NEW, display="envs/prod/tenants/acme.yaml")
    assert path.read_text() == (
        f'tenant: acme\n{key}:  # ours\n  "repository": {NEW.repository}\n  digest: "{NEW.digest}"\n'
        "odoo:\n  workers: 2\n"
    )
