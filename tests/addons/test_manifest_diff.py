"""gitops/addons/manifest_diff.py: manifest and data-file changes, and the version and migration rules,
on addons written to disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops.addons.changes import DESTRUCTIVE, SCHEMA, Change
from gitops.addons.discovery import Addon, discover
from gitops.addons.manifest_diff import manifest_changes, migration_errors, version_errors
from tests.fixtures.addons import write_addon


def addon(root: Path, version: str = "17.0.1.0.0", **kw: Any) -> Addon:
    write_addon(root, "acme_visit", version=version, **kw)
    return discover([root])["acme_visit"]


def change(kind: str, severity: str = SCHEMA) -> Change:
    return Change(kind=kind, module="acme_visit", severity=severity, model="crm.visit", field="rating")


def test_manifest_changes_name_what_changed(tmp_path: Path) -> None:
    xml = '<odoo><data noupdate="1"/></odoo>'
    old = addon(
        tmp_path / "old",
        data=["data/a.xml", "data/gone.xml"],
        files={"data/a.xml": "<odoo/>", "data/gone.xml": "<odoo/>"},
    )
    new = addon(
        tmp_path / "new",
        version="17.0.1.1.0",
        depends=["base", "mail"],
        data=["data/a.xml", "data/new.xml"],
        files={"data/a.xml": xml, "data/new.xml": "<odoo/>"},
    )
    found = {(c.kind, c.field): c for c in manifest_changes(old, new)}
    assert set(found) == {
        ("version", None),
        ("depends", None),
        ("data_file_added", None),
        ("data_file_removed", None),
        ("noupdate", "data/a.xml"),
    }
    assert (found[("version", None)].before, found[("version", None)].after) == ("17.0.1.0.0", "17.0.1.1.0")
    assert found[("data_file_removed", None)].message == "records only in this file are deleted"
    assert (found[("noupdate", "data/a.xml")].before, found[("noupdate", "data/a.xml")].after) == ((), ("1",))
    assert manifest_changes(old, old) == []


def test_a_schema_change_needs_a_version_bump_and_no_downgrade(tmp_path: Path) -> None:
    old = addon(tmp_path / "old", version="17.0.1.1.0")
    same = addon(tmp_path / "same", version="17.0.1.1.0")
    lower = addon(tmp_path / "lower", version="17.0.1.0.0")
    higher = addon(tmp_path / "higher", version="17.0.1.2.0")
    assert [e.rule for e in version_errors(old, same, [change("field_added")])] == [
        "schema_change_without_version_bump"
    ]
    assert version_errors(old, same, []) == []  # code only: no bump needed
    assert [e.rule for e in version_errors(old, lower, [])] == ["version_downgrade"]
    assert version_errors(old, higher, [change("field_added")]) == []


def test_a_destructive_upgrade_needs_a_migration_script(tmp_path: Path) -> None:
    new = addon(tmp_path / "new", version="17.0.1.1.0")
    destructive = [change("field_removed", DESTRUCTIVE)]
    errors = migration_errors(new, destructive, (), upgraded=True)
    assert [e.rule for e in errors] == ["destructive_without_migration"]
    assert "crm.visit.rating" in errors[0].message
    assert migration_errors(new, destructive, (), upgraded=False) == []  # a new module has nothing to migrate


def test_a_migrations_folder_above_the_manifest_never_runs(tmp_path: Path) -> None:
    script = {"migrations/17.0.2.0.0/post-migrate.py": "def migrate(cr, version):\n    pass\n"}
    new = addon(tmp_path / "new", version="17.0.1.1.0", files=script)
    assert [e.rule for e in migration_errors(new, [], (), upgraded=True)] == ["migrations_above_manifest"]
