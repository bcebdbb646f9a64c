"""gitops/promote/release_files.py: which files an install changes, and the chart's `release:` block,
decided from the example config and values (tests/promote/test_release_record.py covers release.yaml)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gitops.config.files import DirectoryFiles, Files
from gitops.config.loader import EnvBundle, load_config
from gitops.config.models import ReleaseRecord
from gitops.errors import ConfigError
from gitops.promote.plan import module_changes
from gitops.promote.promotion import Install
from gitops.promote.release_files import (
    Edits,
    chart_release,
    edited_paths,
    install_files,
    new_release_data,
    prepare_edits,
)
from gitops.promote.run_state import RunState
from gitops.promote.stage_seams import SchemaDiff
from tests.fixtures.configrepo import copy_examples
from tests.fixtures.promote import release_data

AT = datetime(2026, 12, 8, 18, 0, tzinfo=UTC)
NEWER = {"acme_project_costing": "17.0.1.5.0", "acme_payroll_bridge": "17.0.1.0.3"}


@pytest.fixture
def prod(tmp_path: Path) -> EnvBundle:
    return load_config(copy_examples(tmp_path / "cfg")).env("prod")


def install(*, destructive: bool = False, change_class: str = "normal", **kw: Any) -> Install:
    old = ReleaseRecord.model_validate(release_data("1.4.0"))
    rel = ReleaseRecord.model_validate(release_data("1.5.0", modules=NEWER))
    schema = SchemaDiff(computed=True, change_class=change_class, destructive=destructive, fingerprint="fp")
    base: dict[str, Any] = {
        "kind": "promotion",
        "source": "staging",
        "target": "prod",
        "image": rel.image,
        "version": rel.version,
        "source_commit": rel.source_commit,
        "modules": dict(rel.modules),
        "schema": schema,
        "wave": None,
        "tenants": (),
        "completes_env": True,
        "changes": module_changes(dict(old.modules), dict(rel.modules)),
    }
    return Install(**{**base, **kw})


def test_the_whole_env_edits_release_and_values_a_wave_its_tenants(prod: EnvBundle) -> None:
    assert edited_paths(prod, install()) == ["envs/prod/release.yaml", "envs/prod/values.yaml"]
    wave = install(wave="canary", tenants=("acme-build",), completes_env=False)
    assert edited_paths(prod, wave) == ["envs/prod/release.yaml", "envs/prod/tenants/acme-build.yaml"]


@pytest.mark.parametrize(
    ("change_class", "destructive", "schema_change", "backup"),
    [
        ("standard", False, False, False),
        ("normal", False, True, False),  # prod's normal rule does not require a backup
        ("normal", True, True, True),  # destructive always backs up first
    ],
)
def test_the_chart_release_block_drives_the_hooks(
    prod: EnvBundle, change_class: str, destructive: bool, schema_change: bool, backup: bool
) -> None:
    hooks = chart_release(prod, install(change_class=change_class, destructive=destructive))
    assert (hooks.version, hooks.changed_modules) == ("1.5.0", ("acme_project_costing",))
    assert (hooks.schema_change, hooks.backup_required) == (schema_change, backup)


def test_install_files_return_only_what_changes(prod: EnvBundle) -> None:
    the_install = install()
    paths = edited_paths(prod, the_install)
    current = {p: (prod.dir.parents[1] / p).read_bytes() for p in paths}
    release = new_release_data(prod.release, the_install, RunState(promoted_at=AT))
    changed = install_files(current, prod, the_install, release)
    assert set(changed) == set(paths)
    values = changed["envs/prod/values.yaml"].decode()
    assert f"digest: {the_install.image.partition('@')[2]}" in values
    assert "version: 1.5.0" in values
    assert "web:\n  replicas: 3   # web pods" in values  # everything else is the user's, byte for byte
    again = install_files({**current, **changed}, prod, the_install, release)
    assert again == {}  # applied twice: nothing more changes


def prod_files(prod: EnvBundle) -> Files:
    return DirectoryFiles(prod.dir.parents[1])


def _files(prod: EnvBundle, the_install: Install) -> dict[str, bytes | None]:
    return {p: (prod.dir.parents[1] / p).read_bytes() for p in edited_paths(prod, the_install)}


@pytest.mark.parametrize(
    ("change_class", "destructive"), [("standard", False), ("normal", False), ("normal", True)]
)
def test_files_edited_ahead_of_the_schema_diff_are_what_the_install_writes(
    prod: EnvBundle, change_class: str, destructive: bool
) -> None:
    """While the schema diff is computed, the values and tenant files are edited for the `release:` blocks of
    the likely class (here standard), destructive or not; whichever diff comes, install_files writes what it
    writes without them, taking the edit it would make from them when there is one (normal and not
    destructive leads to a block not prepared: edited then; the one for another block is never taken)."""
    wave = install(wave="canary", tenants=("acme-build", "globex-consult"), completes_env=False)
    current = _files(prod, wave)
    edits: Edits = {}
    prepare_edits(
        current,
        prod,
        wave,
        loaded=prod_files(prod),
        edits=edits,
        likely=("standard", False),
        stop=lambda: False,
    )
    blocks = {key[3] for key in edits}
    assert len(blocks) == 2 and len(edits) == 2 * 2  # two blocks, two tenant files each
    final = install(
        wave="canary",
        tenants=("acme-build", "globex-consult"),
        completes_env=False,
        change_class=change_class,
        destructive=destructive,
    )
    release = new_release_data(prod.release, final, RunState(promoted_at=AT))
    plain = install_files(current, prod, final, release, read_backs={}, loaded=prod_files(prod))
    taken = dict(edits)
    marked = {key: (text + "# from the prepared edit\n", value) for key, (text, value) in taken.items()}
    used = install_files(current, prod, final, release, read_backs={}, loaded=prod_files(prod), edits=marked)
    mark = b"# from the prepared edit\n" if chart_release(prod, final) in blocks else b""
    assert bool(mark) == ((change_class, destructive) != ("normal", False))
    assert {p: d for p, d in used.items() if not p.endswith("release.yaml")} == {
        p: d + mark for p, d in plain.items() if not p.endswith("release.yaml")
    }
    assert (
        install_files(current, prod, final, release, read_backs={}, loaded=prod_files(prod), edits=taken)
        == plain
    )


def test_editing_ahead_stops_when_told_and_leaves_a_bad_file_to_the_install(prod: EnvBundle) -> None:
    the_install = install()
    current = _files(prod, the_install)
    edits: Edits = {}

    def ahead(files: dict[str, bytes | None], *, stop: bool) -> None:
        loaded = prod_files(prod)
        prepare_edits(
            files, prod, the_install, loaded=loaded, edits=edits, likely=("normal", True), stop=lambda: stop
        )

    ahead(current, stop=True)
    assert edits == {}
    broken = {**current, "envs/prod/values.yaml": b"image: [not, a, block]\n"}
    ahead(broken, stop=False)
    assert edits == {}
    release = new_release_data(prod.release, the_install, RunState(promoted_at=AT))
    with pytest.raises(ConfigError, match=r"envs/prod/values\.yaml"):
        install_files(broken, prod, the_install, release, edits=edits)
