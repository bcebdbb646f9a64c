"""Module facts for the image labels and the Dockerfile: name, version, checksum, Python requirements.

Discovery and checksums come from the addons stage (`gitops.addons`): manifests are validated (file:line
problems, exit 2) and the checksum is click-odoo-update's addon hash, the value Odoo records at install.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitops.addons.checksums import compute_checksums
from gitops.addons.discovery import discover
from gitops.addons.schema_state import schema_state


@dataclass(frozen=True, kw_only=True)
class Module:
    name: str
    version: str
    checksum: str
    path: Path
    python_requirements: tuple[str, ...] = ()
    schema: str | None = None  # gitops.addons.schema_state: lets promote classify without the addons repo

    def record(self) -> dict[str, str]:
        found = {"version": self.version, "checksum": self.checksum}
        return {**found, "schema": self.schema} if self.schema else found


def module_facts(addons_dir: Path) -> list[Module]:
    """Every installable addon under `addons_dir`, sorted by name."""
    tree = discover([addons_dir])
    facts = compute_checksums(tree.addons)
    return [
        Module(
            name=name,
            version=fact.version,
            checksum=fact.checksum,
            path=fact.path,
            python_requirements=tuple(tree.addons[name].external_dependencies.get("python", ())),
            schema=schema_state(name, fact.path),
        )
        for name, fact in facts.items()
    ]


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
