"""A fingerprint of the database schema one addon declares: its models and fields as the static parser sees
them, and its migration scripts. Recorded with each module of a release (`build` writes it into the image's
module label and the release record), so a promotion can tell a code-only change from a schema change by
comparing two release records, without the addons repository. None when the addon cannot be fully parsed:
unknown evidence is never read as "no schema change".
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from gitops.addons.changes import to_jsonable
from gitops.addons.models import parse_module

PREFIX = "ss1:"


def _migration_files(addon_path: Path) -> list[tuple[str, str]]:
    root = addon_path / "migrations"
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found.append((path.relative_to(root).as_posix(), hashlib.sha256(path.read_bytes()).hexdigest()))
    return found


def schema_state(module: str, addon_path: Path) -> str | None:
    """The schema fingerprint of `module` at `addon_path`, or None when some file could not be parsed."""
    schema = parse_module(module, addon_path)
    if schema.problems:
        return None
    data = {
        "models": {name: to_jsonable(model) for name, model in sorted(schema.models.items())},
        "migrations": _migration_files(addon_path),
    }
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()
