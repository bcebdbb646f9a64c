"""Migration scripts the way odoo/modules/migration.py finds and runs them.

Folders `migrations/<ver>/` and `upgrades/<ver>/` hold `pre-*.py`, `post-*.py` and `end-*.py`. `<ver>` is
`x.y[.z]` (the series is prepended) or a full `<series>.x.y.z`; `0.0.0` runs on any upgrade. A script runs
when the installed version < `<ver>` ≤ the manifest version. Fresh installs never run them.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

MIGRATION_DIRS = ("migrations", "upgrades")
STAGES = ("pre", "post", "end")
_FOLDER_RE = re.compile(r"^\d+(?:\.\d+)+$")
Version = tuple[int, ...]


def parse_version(text: str) -> Version | None:
    """`17.0.1.2.3` → (17, 0, 1, 2, 3); None when not purely numeric."""
    parts = text.split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else None


def full_folder_version(folder: str, series: str) -> str:
    """Odoo's `convert_version`: short folder names get the series prepended."""
    if folder == "0.0.0" or folder.count(".") > 2:
        return folder
    return f"{series}.{folder}"


def series_of(version: str) -> str:
    return ".".join(version.split(".")[:2])


@dataclass(frozen=True, kw_only=True)
class MigrationFolder:
    module: str
    path: Path
    relpath: str
    version: str

    @property
    def runs_always(self) -> bool:
        return self.version == "0.0.0"


@dataclass(frozen=True, kw_only=True)
class MigrationScript:
    """One script that will run for an upgrade, with a digest of its content (part of the fingerprint)."""

    module: str
    version: str
    stage: str
    path: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {
            "module": self.module,
            "version": self.version,
            "stage": self.stage,
            "path": self.path,
            "sha256": self.sha256,
        }


def migration_folders(module: str, addon_path: Path, series: str) -> list[MigrationFolder]:
    """Version folders under `migrations/` and `upgrades/` (others are not Odoo's)."""
    found: list[MigrationFolder] = []
    for top in MIGRATION_DIRS:
        base = addon_path / top
        try:
            names = sorted(e.name for e in os.scandir(base) if e.is_dir() and _FOLDER_RE.match(e.name))
        except OSError:
            continue
        found.extend(
            MigrationFolder(
                module=module,
                path=base / name,
                relpath=f"{top}/{name}",
                version=full_folder_version(name, series),
            )
            for name in names
        )
    return found


def _runs(folder: MigrationFolder, installed: Version, target: Version) -> bool:
    if folder.runs_always:
        return installed < target
    version = parse_version(folder.version)
    return version is not None and installed < version <= target


def _scripts_in(folder: MigrationFolder) -> list[MigrationScript]:
    scripts: list[MigrationScript] = []
    for entry in sorted(os.scandir(folder.path), key=lambda e: e.name):
        stage = entry.name.split("-", 1)[0]
        if stage in STAGES and "-" in entry.name and entry.name.endswith(".py") and entry.is_file():
            digest = hashlib.sha256(Path(entry.path).read_bytes()).hexdigest()
            scripts.append(
                MigrationScript(
                    module=folder.module,
                    version=folder.version,
                    stage=stage,
                    path=f"{folder.relpath}/{entry.name}",
                    sha256=digest,
                )
            )
    return scripts


def applicable_scripts(
    module: str, addon_path: Path, *, installed: str, target: str
) -> list[MigrationScript]:
    """Scripts Odoo runs when upgrading `module` from version `installed` to `target`."""
    old, new = parse_version(installed), parse_version(target)
    if old is None or new is None:
        return []
    scripts: list[MigrationScript] = []
    for folder in migration_folders(module, addon_path, series_of(target)):
        if _runs(folder, old, new):
            scripts.extend(_scripts_in(folder))
    return scripts


def folders_above(module: str, addon_path: Path, manifest_version: str) -> list[MigrationFolder]:
    """Folders versioned above the manifest: their scripts never run (pylint-odoo E8145)."""
    target = parse_version(manifest_version)
    if target is None:
        return []
    return [
        folder
        for folder in migration_folders(module, addon_path, series_of(manifest_version))
        if not folder.runs_always and (v := parse_version(folder.version)) is not None and v > target
    ]
