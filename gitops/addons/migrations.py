"""Migration scripts the way odoo/modules/migration.py finds and runs them.

Folders `migrations/<ver>/` and `upgrades/<ver>/` hold `pre-*.py`, `post-*.py` and `end-*.py`. `<ver>` is
`x.y[.z]` (the series is prepended) or a full `<series>.x.y.z`; `0.0.0` runs on any upgrade. A script runs
when the installed version < `<ver>` ≤ the manifest version. Fresh installs never run them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from gitops.addons.files import AddonFiles, DirFiles

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


def _files(addon: Path | AddonFiles) -> AddonFiles:
    return DirFiles(addon) if isinstance(addon, Path) else addon


def migration_folders(module: str, addon: Path | AddonFiles, series: str) -> list[MigrationFolder]:
    """Version folders under `migrations/` and `upgrades/` (others are not Odoo's)."""
    files = _files(addon)
    found: list[MigrationFolder] = []
    for top in MIGRATION_DIRS:
        listing = files.listing(top)
        if listing is None:
            continue
        found.extend(
            MigrationFolder(
                module=module,
                path=Path(files.display(f"{top}/{name}")),
                relpath=f"{top}/{name}",
                version=full_folder_version(name, series),
            )
            for name in sorted(name for name, _ in listing[1] if _FOLDER_RE.match(name))
        )
    return found


def _runs(folder: MigrationFolder, installed: Version, target: Version) -> bool:
    if folder.runs_always:
        return installed < target
    version = parse_version(folder.version)
    return version is not None and installed < version <= target


def _scripts_in(folder: MigrationFolder, files: AddonFiles) -> list[MigrationScript]:
    scripts: list[MigrationScript] = []
    listing = files.listing(folder.relpath) or ([], [])
    for name in sorted([*listing[0], *(d for d, _ in listing[1])]):
        relpath = f"{folder.relpath}/{name}"
        stage = name.split("-", 1)[0]
        if stage in STAGES and "-" in name and name.endswith(".py") and files.is_file(relpath):
            scripts.append(
                MigrationScript(
                    module=folder.module,
                    version=folder.version,
                    stage=stage,
                    path=relpath,
                    sha256=hashlib.sha256(files.read(relpath)).hexdigest(),
                )
            )
    return scripts


def applicable_scripts(
    module: str, addon: Path | AddonFiles, *, installed: str, target: str
) -> list[MigrationScript]:
    """Scripts Odoo runs when upgrading `module` from version `installed` to `target`."""
    old, new = parse_version(installed), parse_version(target)
    if old is None or new is None:
        return []
    files = _files(addon)
    scripts: list[MigrationScript] = []
    for folder in migration_folders(module, files, series_of(target)):
        if _runs(folder, old, new):
            scripts.extend(_scripts_in(folder, files))
    return scripts


def folders_above(module: str, addon: Path | AddonFiles, manifest_version: str) -> list[MigrationFolder]:
    """Folders versioned above the manifest: their scripts never run (pylint-odoo E8145)."""
    target = parse_version(manifest_version)
    if target is None:
        return []
    return [
        folder
        for folder in migration_folders(module, addon, series_of(manifest_version))
        if not folder.runs_always and (v := parse_version(folder.version)) is not None and v > target
    ]
