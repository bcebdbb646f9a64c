"""What a module's manifest says changed (version, depends, data files and their noupdate flags), and
the consistency rules a release must keep: no version downgrade, a version bump with every schema change,
no migrations folder above the manifest version, a migration script with every destructive change."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from gitops.addons.changes import DESTRUCTIVE, INFO, Change, DiffError, to_jsonable
from gitops.addons.discovery import Addon
from gitops.addons.migrations import MigrationScript, folders_above, parse_version

_NOUPDATE_RE = re.compile(rb"<(?:odoo|data|openerp)\b[^>]*?\bnoupdate\s*=\s*[\"']([^\"']*)[\"']")


def _list_change(kind: str, new: Addon, *, key: str, before: Any, after: Any) -> list[Change]:
    if to_jsonable(before) == to_jsonable(after):
        return []
    return [
        Change(
            kind=kind,
            module=new.name,
            severity=INFO,
            before=to_jsonable(before),
            after=to_jsonable(after),
            file=new.manifest_file,
            line=new.parsed.line_of(key),
        )
    ]


def _noupdate_flags(addon: Addon, name: str) -> tuple[str, ...] | None:
    try:
        return tuple(v.decode("utf-8", "replace") for v in _NOUPDATE_RE.findall(addon.files.read(name)))
    except OSError:
        return None


def _data_change(
    new: Addon,
    kind: str,
    *,
    before: Any = None,
    after: Any = None,
    name: str | None = None,
    message: str = "",
) -> Change:
    return Change(
        kind=kind,
        module=new.name,
        severity=INFO,
        field=name,
        before=before,
        after=after,
        message=message,
        file=new.manifest_file,
        line=new.parsed.line_of("data"),
    )


def _data_file_changes(old: Addon, new: Addon) -> list[Change]:
    old_files = {*old.data_files, *old.demo_files}
    new_files = {*new.data_files, *new.demo_files}
    changes = [_data_change(new, "data_file_added", after=name) for name in sorted(new_files - old_files)]
    changes.extend(
        _data_change(new, "data_file_removed", before=name, message="records only in this file are deleted")
        for name in sorted(old_files - new_files)
    )
    for name in sorted(old_files & new_files):
        if name.endswith(".xml"):
            before, after = _noupdate_flags(old, name), _noupdate_flags(new, name)
            if before != after:
                changes.append(_data_change(new, "noupdate", before=before, after=after, name=name))
    return changes


def manifest_changes(old: Addon, new: Addon) -> list[Change]:
    return [
        *_list_change("version", new, key="version", before=old.version, after=new.version),
        *_list_change("depends", new, key="depends", before=sorted(old.depends), after=sorted(new.depends)),
        *_list_change(
            "external_dependencies",
            new,
            key="external_dependencies",
            before=old.external_dependencies,
            after=new.external_dependencies,
        ),
        *_data_file_changes(old, new),
    ]


def version_errors(old: Addon, new: Addon, changes: Sequence[Change]) -> list[DiffError]:
    before, after = parse_version(old.version), parse_version(new.version)
    if before is None or after is None:
        return []
    if after < before:
        return [_version_error(new, "version_downgrade", f"version goes down: {old.version} → {new.version}")]
    if after == before and any(c.touches_schema for c in changes):
        message = (
            f"schema changes but the version stays {new.version}: migration scripts will not run and "
            "Odoo.sh will not update; bump the manifest version"
        )
        return [_version_error(new, "schema_change_without_version_bump", message)]
    return []


def _version_error(new: Addon, rule: str, message: str) -> DiffError:
    return DiffError(
        rule=rule,
        module=new.name,
        message=message,
        file=new.manifest_file,
        line=new.parsed.line_of("version"),
    )


def migration_errors(
    new: Addon, changes: Sequence[Change], scripts: Sequence[MigrationScript], *, upgraded: bool
) -> list[DiffError]:
    errors = [
        DiffError(
            rule="migrations_above_manifest",
            module=new.name,
            file=str(folder.path),
            line=0,
            message=f"{folder.relpath} is above the manifest version {new.version}: its scripts never run",
        )
        for folder in folders_above(new.name, new.files, new.version)
    ]
    destructive = [c for c in changes if c.severity == DESTRUCTIVE]
    if upgraded and destructive and not scripts:
        what = ", ".join(sorted({".".join(filter(None, (c.model, c.field))) or c.kind for c in destructive}))
        errors.append(
            DiffError(
                rule="destructive_without_migration",
                module=new.name,
                file=new.manifest_file,
                line=new.parsed.line_of("version"),
                message=f"destructive change ({what}) without a migration script for "
                f"{new.version} (migrations/<version>/pre-*.py or post-*.py)",
            )
        )
    return errors
