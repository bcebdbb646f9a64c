"""Odoo addons: discovery and manifest validation, click-odoo-update checksums, static schema diff.

Public API:
- `discover(roots, *, series=None, known_modules=()) -> AddonSet`
- `checksums.addon_checksum(path, exclude_patterns=DEFAULT_EXCLUDES, keep_langs=()) -> str`
- `checksums.compute_checksums(addons) -> dict[str, ModuleFacts]`
- `diff.diff_addons(old_roots, new_roots, *, series=None) -> AddonsDiff`
"""

from gitops.addons.checksums import DEFAULT_EXCLUDES, ModuleFacts, addon_checksum, compute_checksums
from gitops.addons.core import SUPPORTED_SERIES, core_addons
from gitops.addons.discovery import Addon, AddonSet, discover
from gitops.addons.manifest import Manifest

__all__ = [
    "DEFAULT_EXCLUDES",
    "SUPPORTED_SERIES",
    "Addon",
    "AddonSet",
    "Manifest",
    "ModuleFacts",
    "addon_checksum",
    "compute_checksums",
    "core_addons",
    "discover",
]
