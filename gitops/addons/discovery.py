"""Find the addons under one or more roots and validate their manifests against an Odoo series.

An addon is a directory holding `__manifest__.py`; nested repositories are searched too, hidden directories
are not. Manifests are read with `ast.literal_eval`: module code is never imported. Every problem (file:line)
is collected before `ConfigError` is raised.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gitops.addons.core import SUPPORTED_SERIES, core_addons
from gitops.addons.files import AddonFiles, DirFiles
from gitops.addons.links import UnsafeLink, check_addon_root, classify_link, symlinks_under
from gitops.addons.manifest import (
    MANIFEST,
    VERSION_RE,
    Manifest,
    check_shape,
    check_version,
    parse_manifest,
    parse_manifest_source,
)
from gitops.errors import ConfigError, Problem

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})


@dataclass(frozen=True, kw_only=True)
class Addon:
    """One addon: where it is and what its manifest says (`manifest`: the literal dict, read-only)."""

    name: str
    path: Path
    parsed: Manifest
    reader: AddonFiles | None = field(default=None, compare=False, repr=False)

    @property
    def files(self) -> AddonFiles:
        """Where its files are read: the directory `path`, or (`reader`) blobs of a git commit."""
        return self.reader if self.reader is not None else DirFiles(self.path)

    @property
    def manifest(self) -> Mapping[str, Any]:
        return self.parsed.data

    @property
    def manifest_file(self) -> str:
        return self.parsed.file

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", ""))

    @property
    def depends(self) -> tuple[str, ...]:
        return tuple(self.manifest.get("depends", ()))

    @property
    def installable(self) -> bool:
        return bool(self.manifest.get("installable", True))

    @property
    def data_files(self) -> tuple[str, ...]:
        return tuple(self.manifest.get("data", ()))

    @property
    def demo_files(self) -> tuple[str, ...]:
        return tuple(self.manifest.get("demo", ()))

    @property
    def external_dependencies(self) -> Mapping[str, tuple[str, ...]]:
        raw = self.manifest.get("external_dependencies", {})
        return {key: tuple(sorted(values)) for key, values in sorted(raw.items())}


@dataclass(frozen=True, kw_only=True)
class AddonSet:
    """The installable addons of a tree, by name, plus those marked `installable: False`."""

    addons: Mapping[str, Addon]
    series: str | None
    roots: tuple[Path, ...]
    not_installable: Mapping[str, Addon] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Addon:
        return self.addons[name]

    def __contains__(self, name: object) -> bool:
        return name in self.addons

    def __iter__(self) -> Iterator[str]:
        return iter(self.addons)

    def __len__(self) -> int:
        return len(self.addons)

    def dependency_closure(self, name: str) -> tuple[str, ...]:
        """In-tree addons `name` depends on, directly or not, dependencies first (Odoo's load order)."""
        order: list[str] = []
        _visit(self.addons, name, {name}, order)
        return tuple(order)


def _visit(addons: Mapping[str, Addon], current: str, seen: set[str], order: list[str]) -> None:
    """Depth first, dependencies before dependents. A module-level function: a nested one that calls
    itself is a reference cycle, which would keep the whole addon set (and the git trees its readers
    hold) alive until the cycle collector runs."""
    for dep in addons[current].depends if current in addons else ():
        if dep not in seen and dep in addons:
            seen.add(dep)
            _visit(addons, dep, seen, order)
            order.append(dep)


def _candidate_dirs(root: Path) -> Iterator[Path]:
    """Addon directories below `root` (root included), sorted; addons are not searched for nested addons."""
    if (root / MANIFEST).is_file():
        yield root
        return
    try:
        with os.scandir(root) as scan:
            entries = sorted((e for e in scan if _walkable(e)), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path = root / entry.name
        if (path / MANIFEST).is_file():
            yield path
        elif not entry.is_symlink():
            yield from _candidate_dirs(path)


def _walkable(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir() and not entry.name.startswith(".") and entry.name not in _SKIPPED_DIRS
    except OSError:
        return False


ParsedManifest = tuple[Manifest | None, list[Problem]]


def load_addon(
    path: Path,
    problems: list[Problem],
    reader: AddonFiles | None = None,
    parsed: ParsedManifest | None = None,
) -> Addon | None:
    """The addon at `path` (read through `reader` when given; `parsed`: its manifest, parsed already), or
    None with its manifest's problems."""
    if parsed is None:
        parsed = (
            parse_manifest(path / MANIFEST)
            if reader is None
            else parse_manifest_source(manifest_bytes(reader), reader.display(MANIFEST))
        )
    manifest, found = parsed
    problems.extend(found)
    if manifest is None:
        return None
    shape = check_shape(manifest)
    problems.extend(shape)
    if not _NAME_RE.match(path.name):
        problems.append(
            Problem(manifest.file, 1, f"addon directory name {path.name!r} is not a Python identifier")
        )
    return None if shape else Addon(name=path.name, path=path, parsed=manifest, reader=reader)


def manifest_bytes(reader: AddonFiles) -> bytes | OSError:
    try:
        return reader.read(MANIFEST)
    except OSError as exc:
        return exc


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _check_links(addon: Path, root: Path, problems: list[Problem]) -> None:
    """Every symlink of the addon stays in the addons tree (`gitops.addons.links`); named relative to it."""
    try:
        if addon.is_symlink():
            check_addon_root(addon, tree=root)
    except UnsafeLink as exc:
        problems.append(Problem(_relative(addon, root), 0, str(exc)))
        return
    for link in symlinks_under(addon):
        try:
            classify_link(link, addon=addon, tree=root)
        except UnsafeLink as exc:
            problems.append(Problem(_relative(link, root), 0, str(exc)))


def _scan(roots: Sequence[Path], problems: list[Problem]) -> list[Addon]:
    found: list[Addon] = []
    seen: set[tuple[int, int]] = set()
    for root in roots:
        if not root.is_dir():
            problems.append(Problem(str(root), 0, "addons root is not a directory"))
            continue
        # real directories first: a symlinked copy (setuptools-odoo setup/, a symlink farm) is the duplicate
        for path in sorted(_candidate_dirs(root), key=Path.is_symlink):
            stat = os.stat(path)
            if (stat.st_dev, stat.st_ino) in seen:
                continue
            seen.add((stat.st_dev, stat.st_ino))
            _check_links(path, root, problems)
            addon = load_addon(path, problems)
            if addon is not None:
                found.append(addon)
    return found


def _infer_series(addons: Iterable[Addon], problems: list[Problem]) -> str | None:
    by_series: dict[str, list[Addon]] = {}
    for addon in addons:
        match = VERSION_RE.match(addon.version)
        if match:
            by_series.setdefault(match["series"], []).append(addon)
    if len(by_series) <= 1:
        return next(iter(by_series), None)
    majority = Counter({s: len(a) for s, a in by_series.items()}).most_common(1)[0][0]
    for series, members in by_series.items():
        if series != majority:
            problems.extend(
                a.parsed.problem(
                    "version",
                    f"version {a.version!r} is for Odoo {series}, most addons are "
                    f"for {majority}; pass the series explicitly",
                )
                for a in members
            )
    return majority


def _check_duplicates(addons: Sequence[Addon], problems: list[Problem]) -> dict[str, Addon]:
    by_name: dict[str, Addon] = {}
    for addon in addons:
        first = by_name.get(addon.name)
        if first is None:
            by_name[addon.name] = addon
        else:
            problems.append(
                Problem(addon.manifest_file, 1, f"duplicate addon name {addon.name!r}: also at {first.path}")
            )
    return by_name


def _check_references(addon: Addon, tree: AddonSet, known: frozenset[str], problems: list[Problem]) -> None:
    for dep in addon.depends:
        if dep in tree.not_installable and dep not in tree:
            problems.append(addon.parsed.problem("depends", f"depends on {dep!r}, which is not installable"))
        elif dep not in tree and dep not in known:
            where = f"a known Odoo {tree.series} community addon" if tree.series else "a known addon"
            problems.append(
                addon.parsed.problem(
                    "depends",
                    f"depends on {dep!r}, which is neither in the addons tree nor {where} "
                    "(declare it as a known module if it comes from elsewhere)",
                )
            )
    files = addon.files
    for key in ("data", "demo"):
        for name in addon.manifest.get(key, ()):
            if not files.is_file(name):
                problems.append(addon.parsed.problem(key, f"{key} file {name!r} does not exist"))


def discover(
    roots: Sequence[Path], *, series: str | None = None, known_modules: Iterable[str] = ()
) -> AddonSet:
    """Find and validate every addon under `roots`.

    `series` (e.g. '17.0') fixes the Odoo series the manifest versions must carry; when omitted it is
    inferred from the versions. Dependencies must be in the tree, in the series' well-known community addons,
    or in `known_modules`. Raises `ConfigError` with every problem found (file:line).
    """
    if series is not None:
        core_addons(series)  # fails early for an unsupported series
    problems: list[Problem] = []
    addons = _scan([Path(r) for r in roots], problems)
    return addon_set(
        addons, [Path(r) for r in roots], series=series, known_modules=known_modules, problems=problems
    )


def addon_set(
    addons: Sequence[Addon],
    roots: Sequence[Path],
    *,
    series: str | None,
    known_modules: Iterable[str],
    problems: list[Problem],
) -> AddonSet:
    """Validate the addons found under `roots` (versions, series, duplicates, references) into an
    AddonSet; `ConfigError` with every problem, `problems` (found while loading them) included."""
    if series is not None:
        core_addons(series)
    for addon in addons:
        problems.extend(check_version(addon.parsed, series))
    effective = series or _infer_series(addons, problems)
    if effective is not None and effective not in SUPPORTED_SERIES:
        problems.append(
            Problem(
                str(roots[0]), 0, f"Odoo series {effective} is not supported ({', '.join(SUPPORTED_SERIES)})"
            )
        )
    installable = _check_duplicates([a for a in addons if a.installable], problems)
    tree = AddonSet(
        addons=MappingProxyType(dict(sorted(installable.items()))),
        series=effective,
        roots=tuple(Path(r) for r in roots),
        not_installable=MappingProxyType({a.name: a for a in addons if not a.installable}),
    )
    # series unknown or unsupported (already a problem): accept any series' core names rather than pile on
    core_series = (effective,) if effective in SUPPORTED_SERIES else SUPPORTED_SERIES
    known = frozenset(known_modules).union(*(core_addons(s) for s in core_series))
    for addon in tree.addons.values():
        _check_references(addon, tree, known, problems)
    if problems:
        raise ConfigError(problems, hint="fix the manifests and symlinks listed above")
    return tree
