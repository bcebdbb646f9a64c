"""gitops/addons/migrations.py: which migration scripts Odoo runs for an upgrade, found in real folders the
way odoo/modules/migration.py finds them (a missed script would hide a schema change from the diff)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gitops.addons.migrations import (
    applicable_scripts,
    folders_above,
    full_folder_version,
    migration_folders,
    parse_version,
    series_of,
)


def addon(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "acme_payroll_bridge"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize(
    ("text", "version"), [("17.0.1.2.3", (17, 0, 1, 2, 3)), ("1.0", (1, 0)), ("17.0.1.x", None), ("", None)]
)
def test_versions_are_numeric_tuples(text: str, version: tuple[int, ...] | None) -> None:
    assert parse_version(text) == version


def test_short_folder_names_get_the_series() -> None:
    assert full_folder_version("1.2.0", "17.0") == "17.0.1.2.0"
    assert full_folder_version("17.0.1.2.0", "17.0") == "17.0.1.2.0"
    assert full_folder_version("0.0.0", "17.0") == "0.0.0"
    assert series_of("17.0.1.2.0") == "17.0"


def test_only_version_folders_under_migrations_and_upgrades_count(tmp_path: Path) -> None:
    root = addon(tmp_path, {
        "migrations/1.1.0/pre-a.py": "", "upgrades/17.0.1.2.0/post-b.py": "", "migrations/notes/x.py": "",
        "scripts/1.3.0/pre-c.py": "", "migrations/0.0.0/end-d.py": "",
    })  # fmt: skip
    found = {(f.relpath, f.version) for f in migration_folders("m", root, "17.0")}
    assert found == {
        ("migrations/0.0.0", "0.0.0"),
        ("migrations/1.1.0", "17.0.1.1.0"),
        ("upgrades/17.0.1.2.0", "17.0.1.2.0"),
    }
    assert migration_folders("m", tmp_path / "absent", "17.0") == []


def test_a_script_runs_when_installed_is_below_its_folder_and_the_folder_at_or_below_the_target(
    tmp_path: Path,
) -> None:
    root = addon(tmp_path, {
        "migrations/1.0.0/pre-old.py": "old",  # already applied
        "migrations/1.1.0/pre-rename.py": "rename", "migrations/1.1.0/post-fill.py": "fill",
        "migrations/1.1.0/helper.py": "not a stage", "migrations/1.1.0/pre_no_dash.py": "",
        "migrations/1.2.0/end-check.py": "check",  # exactly the target: runs
        "migrations/1.3.0/pre-future.py": "future",  # above the manifest: never runs
        "migrations/0.0.0/end-always.py": "always",
    })  # fmt: skip
    scripts = applicable_scripts("acme_payroll_bridge", root, installed="17.0.1.0.0", target="17.0.1.2.0")
    assert sorted((s.path, s.stage, s.version) for s in scripts) == [
        ("migrations/0.0.0/end-always.py", "end", "0.0.0"),
        ("migrations/1.1.0/post-fill.py", "post", "17.0.1.1.0"),
        ("migrations/1.1.0/pre-rename.py", "pre", "17.0.1.1.0"),
        ("migrations/1.2.0/end-check.py", "end", "17.0.1.2.0"),
    ]
    rename = next(s for s in scripts if s.stage == "pre")
    assert rename.sha256 == hashlib.sha256(b"rename").hexdigest()
    assert rename.to_dict()["module"] == "acme_payroll_bridge"
    # the same version installed again: nothing runs, not even 0.0.0
    assert applicable_scripts("m", root, installed="17.0.1.2.0", target="17.0.1.2.0") == []
    assert applicable_scripts("m", root, installed="17.0.1.x", target="17.0.1.2.0") == []
    assert [f.relpath for f in folders_above("m", root, "17.0.1.2.0")] == ["migrations/1.3.0"]
    assert folders_above("m", root, "dev") == []
