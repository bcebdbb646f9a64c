"""Module facts for the image labels and the Dockerfile: name, version, checksum, Python requirements.

`module_facts` is the one call site for the addons stage's discovery and checksums (gitops.addons); until that
lands here it reads manifests itself and computes click-odoo-update's `addon_hash` (SHA-1 over relative path
and bytes of every kept file, `os.walk` order, default exclude patterns).
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops.errors import UsageError

MANIFEST_NAMES = ("__manifest__.py", "__openerp__.py")
HASH_EXCLUDES = ("*.pyc", "*.pyo", "i18n/*.pot", "i18n_extra/*.pot", "static/*", "tests/*")


@dataclass(frozen=True, kw_only=True)
class Module:
    name: str
    version: str
    checksum: str
    path: Path
    python_requirements: tuple[str, ...] = ()

    def record(self) -> dict[str, str]:
        return {"version": self.version, "checksum": self.checksum}


def _manifest(path: Path) -> dict[str, Any]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        data = (
            ast.literal_eval(tree.body[0].value) if tree.body and isinstance(tree.body[0], ast.Expr) else None
        )
    except (OSError, SyntaxError, ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the manifest ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a manifest must be a single dict literal")
    return data


def addon_hash(top: Path) -> str:
    digest = hashlib.sha1()  # click-odoo-update's checksum, not a security hash
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(root, name), top)
            if any(fnmatch.fnmatch(rel, pattern) for pattern in HASH_EXCLUDES):
                continue
            digest.update(rel.encode("utf-8"))
            digest.update(Path(root, name).read_bytes())
    return digest.hexdigest()


def _python_deps(manifest: dict[str, Any], where: Path) -> tuple[str, ...]:
    deps = (manifest.get("external_dependencies") or {}).get("python") or []
    if not isinstance(deps, list | tuple) or not all(isinstance(d, str) for d in deps):
        raise UsageError(f"{where}: external_dependencies.python must be a list of strings")
    return tuple(deps)


def module_facts(addons_dir: Path) -> list[Module]:
    """Every addon directly below `addons_dir` (a directory with a manifest), sorted by name."""
    modules = []
    for child in sorted(p for p in addons_dir.iterdir() if p.is_dir()):
        manifest_path = next((child / n for n in MANIFEST_NAMES if (child / n).is_file()), None)
        if manifest_path is None:
            continue
        manifest = _manifest(manifest_path)
        modules.append(
            Module(
                name=child.name,
                version=str(manifest.get("version", "0.0.0")),
                checksum=addon_hash(child),
                path=child,
                python_requirements=_python_deps(manifest, manifest_path),
            )
        )
    return modules


def _requirement_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def python_requirements(addons_dir: Path, modules: list[Module]) -> tuple[str, ...]:
    """Aggregated, de-duplicated requirements: `requirements.txt` files, then manifest `python` entries."""
    found = _requirement_lines(addons_dir / "requirements.txt")
    for module in modules:
        found += _requirement_lines(module.path / "requirements.txt") + list(module.python_requirements)
    return tuple(dict.fromkeys(found))
