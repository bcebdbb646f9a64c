"""What a release changes in the addons and the database schema, found statically.

`diff_addons(old_roots, new_roots)` discovers both trees, checksums every addon (click-odoo-update's hash),
and parses only the addons whose checksum changed (plus new ones). For those it reports manifest changes,
model and field changes with a severity, the migration scripts that will run, and breaks of the consistency
rules (schema change without version bump, migrations folder above the manifest, destructive change without
a migration script). A module whose Python cannot be parsed counts as a schema change (fail closed).

When a changed module extends a model defined by another addon of the tree, its in-tree dependencies are
parsed too, so overrides are compared on the merged field (e.g. `store=True` added to a computed field).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from gitops.addons.changes import DESTRUCTIVE, INFO, SCHEMA, Change, DiffError, to_jsonable
from gitops.addons.checksums import DEFAULT_EXCLUDES, ModuleFacts, compute_checksums
from gitops.addons.discovery import Addon, AddonSet, discover
from gitops.addons.manifest_diff import manifest_changes, migration_errors, version_errors
from gitops.addons.migrations import MigrationScript, applicable_scripts
from gitops.addons.models import ModelDef, ModuleSchema, ParsedFiles, parse_module
from gitops.addons.schema import compare_models
from gitops.errors import ConfigError, Problem

ChangeClass = Literal["standard", "normal"]


@dataclass(frozen=True, kw_only=True)
class ModuleDelta:
    """Version and checksum of a module on both sides (None where absent)."""

    name: str
    before: ModuleFacts | None
    after: ModuleFacts | None

    def to_dict(self) -> dict[str, Any]:
        def side(facts: ModuleFacts | None) -> dict[str, str] | None:
            return None if facts is None else {"version": facts.version, "checksum": facts.checksum}

        return {"before": side(self.before), "after": side(self.after)}


@dataclass(frozen=True, kw_only=True)
class AddonsDiff:
    """The result of `diff_addons`: changes, errors, module sets, change class and schema fingerprint."""

    series: str | None
    changes: tuple[Change, ...]
    errors: tuple[DiffError, ...]
    modules_added: tuple[str, ...]
    modules_removed: tuple[str, ...]
    modules_changed: tuple[str, ...]
    migration_scripts: tuple[MigrationScript, ...]
    modules: Mapping[str, ModuleDelta] = field(default_factory=dict)

    @property
    def schema_changes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.touches_schema)

    @property
    def change_class(self) -> ChangeClass:
        """`standard` when nothing touches the schema, `normal` otherwise."""
        return "normal" if self.schema_changes else "standard"

    @property
    def destructive(self) -> bool:
        return any(c.severity == DESTRUCTIVE for c in self.changes)

    @property
    def schema_fingerprint(self) -> str:
        """sha256 over the schema changes and the migration scripts' contents: what an approval binds to."""
        payload = {
            "changes": sorted((c.fingerprint_data() for c in self.schema_changes), key=_canonical),
            "migration_scripts": sorted(
                ({"module": s.module, "path": s.path, "sha256": s.sha256} for s in self.migration_scripts),
                key=_canonical,
            ),
        }
        return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "change_class": self.change_class,
            "destructive": self.destructive,
            "schema_fingerprint": self.schema_fingerprint,
            "modules_added": list(self.modules_added),
            "modules_removed": list(self.modules_removed),
            "modules_changed": list(self.modules_changed),
            "modules": {name: delta.to_dict() for name, delta in self.modules.items()},
            "changes": [c.to_dict() for c in self.changes],
            "migration_scripts": [s.to_dict() for s in self.migration_scripts],
            "errors": [e.to_dict() for e in self.errors],
        }


def _canonical(value: Any) -> str:
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class _Schemas:
    """Parses each addon at most once per side, and a Python file both sides hold (same name and bytes)
    once."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[Addon, ModuleSchema]] = {}  # by id(addon); the addon kept alive
        self._files: ParsedFiles = {}  # most files of a changed addon are the same on both sides

    def of(self, addon: Addon) -> ModuleSchema:
        if id(addon) not in self._cache:
            self._cache[id(addon)] = (addon, parse_module(addon.name, addon.files, self._files))
        return self._cache[id(addon)][1]


def _merge(layers: Iterable[Mapping[str, ModelDef]]) -> dict[str, ModelDef]:
    merged: dict[str, ModelDef] = {}
    for layer in layers:
        for name, model in layer.items():
            merged[name] = model.merged_over(merged.get(name))
    return merged


def _touched(*schemas: ModuleSchema) -> dict[str, frozenset[str]]:
    touched: dict[str, set[str]] = {}
    for schema in schemas:
        for name, model in schema.models.items():
            touched.setdefault(name, set()).update(model.fields)
    return {name: frozenset(fields) for name, fields in touched.items()}


def _needs_context(*schemas: ModuleSchema) -> bool:
    return any(not model.creates for schema in schemas for model in schema.models.values())


def _context(addon: Addon, tree: AddonSet, schemas: _Schemas) -> dict[str, ModelDef]:
    return _merge(schemas.of(tree[dep]).models for dep in tree.dependency_closure(addon.name))


def _unparsable(module: str, problems: Sequence[Problem]) -> list[Change]:
    return [
        Change(kind="unparsable", module=module, severity=SCHEMA, message=p.message, file=p.file, line=p.line)
        for p in problems
    ]


def _model_changes(
    old: Addon | None, new: Addon, new_tree: AddonSet, schemas: _Schemas, series: str | None
) -> list[Change]:
    before = schemas.of(old) if old is not None else ModuleSchema(module=new.name)
    after = schemas.of(new)
    if before.problems or after.problems:
        return _unparsable(new.name, [*before.problems, *after.problems])
    context = _context(new, new_tree, schemas) if _needs_context(before, after) else {}
    return compare_models(
        new.name,
        before=_merge([context, before.models]),
        after=_merge([context, after.models]),
        touched=_touched(before, after),
        series=series,
    )


@dataclass
class _Collector:
    changes: list[Change] = field(default_factory=list)
    errors: list[DiffError] = field(default_factory=list)
    scripts: list[MigrationScript] = field(default_factory=list)


def _diff_changed(out: _Collector, old: Addon, new: Addon, new_tree: AddonSet, schemas: _Schemas) -> None:
    changes = [*manifest_changes(old, new), *_model_changes(old, new, new_tree, schemas, new_tree.series)]
    scripts = applicable_scripts(new.name, new.files, installed=old.version, target=new.version)
    out.changes.extend(changes)
    out.scripts.extend(scripts)
    out.errors.extend(version_errors(old, new, changes))
    out.errors.extend(migration_errors(new, changes, scripts, upgraded=True))


def _diff_added(out: _Collector, new: Addon, new_tree: AddonSet, schemas: _Schemas) -> None:
    out.changes.append(
        Change(
            kind="module_added",
            module=new.name,
            severity=INFO,
            after=new.version,
            file=new.manifest_file,
            line=1,
        )
    )
    changes = _model_changes(None, new, new_tree, schemas, new_tree.series)
    out.changes.extend(changes)
    out.errors.extend(migration_errors(new, changes, (), upgraded=False))


def _discover_both(
    old_roots: Sequence[Path], new_roots: Sequence[Path], series: str | None, known: Sequence[str]
) -> tuple[AddonSet, AddonSet]:
    problems: list[Problem] = []
    found: list[AddonSet] = []
    for roots in (old_roots, new_roots):
        try:
            found.append(discover(roots, series=series, known_modules=known))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems, hint="fix the manifests listed above")
    return found[0], found[1]


def _checksums_of_both(
    old: AddonSet, new: AddonSet, exclude_patterns: Sequence[str], same: frozenset[str]
) -> tuple[dict[str, ModuleFacts], dict[str, ModuleFacts]]:
    """Both trees at once (addons in `same` left out): SHA-1 and reads release the GIL, so two threads use
    two cores."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="checksums") as pool:
        futures = [
            pool.submit(
                compute_checksums,
                [tree[name] for name in tree if name not in same],
                exclude_patterns=exclude_patterns,
            )
            for tree in (old, new)
        ]
        return futures[0].result(), futures[1].result()


def diff_addon_sets(
    old: AddonSet,
    new: AddonSet,
    *,
    exclude_patterns: Sequence[str] = DEFAULT_EXCLUDES,
    same: frozenset[str] = frozenset(),
) -> AddonsDiff:
    """Diff two discovered trees. Only addons whose checksum changed (and new ones) are parsed.

    `same` names addons known to hold identical files on both sides (equal git tree ids): their checksums
    are equal, so they are not computed."""
    before, after = _checksums_of_both(old, new, exclude_patterns, same)
    added = tuple(sorted(set(new) - set(old)))
    removed = tuple(sorted(set(old) - set(new)))
    changed = tuple(
        n for n in sorted(set(old) & set(new)) if n not in same and before[n].checksum != after[n].checksum
    )
    out = _Collector()
    schemas = _Schemas()
    for name in changed:
        _diff_changed(out, old[name], new[name], new, schemas)
    for name in added:
        _diff_added(out, new[name], new, schemas)
    out.changes.extend(
        Change(
            kind="module_removed",
            module=name,
            severity=SCHEMA,
            before=before[name].version,
            message="no longer shipped; its tables stay until it is uninstalled",
        )
        for name in removed
    )
    modules = {
        n: ModuleDelta(name=n, before=before.get(n), after=after.get(n)) for n in (*changed, *added, *removed)
    }
    return AddonsDiff(
        series=new.series,
        changes=tuple(out.changes),
        errors=tuple(out.errors),
        modules_added=added,
        modules_removed=removed,
        modules_changed=changed,
        migration_scripts=tuple(out.scripts),
        modules=MappingProxyType(dict(sorted(modules.items()))),
    )


def diff_addons(
    old_roots: Sequence[Path],
    new_roots: Sequence[Path],
    *,
    series: str | None = None,
    known_modules: Sequence[str] = (),
    exclude_patterns: Sequence[str] = DEFAULT_EXCLUDES,
) -> AddonsDiff:
    """Discover both trees (ConfigError listing every manifest problem of either) and diff them."""
    old, new = _discover_both(old_roots, new_roots, series, known_modules)
    return diff_addon_sets(old, new, exclude_patterns=exclude_patterns)
