"""release.yaml as bytes: the one serialiser (used by promotions and by verify) and the one reader.

release.yaml is written only by the toolkit, in one canonical layout: a header, a fixed key order, None
and empty values left out, plain scalars unquoted, so unchanged fields produce unchanged lines and a
promotion's diff shows only what it changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import yaml

RELEASE_HEADER = "# Written by odoo-gitops. Do not edit by hand.\n"
RELEASE_KEY_ORDER = (
    "image",
    "version",
    "source_commit",
    "modules",
    "schema_fingerprint",
    "change_class",
    "destructive",
    "promoted_from",
    "promoted_at",
    "verification",
    "backup",
    "emergency",
    "previous",
    "tenants",
)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def scalar(value: Any) -> str:
    """One YAML scalar as the toolkit writes it (timestamps in UTC with `Z`, strings quoted only when
    they would not read back as themselves)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if _reads_back_as_itself(text):
        return text
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar; control characters escaped


@lru_cache(maxsize=4096)
def _reads_back_as_itself(text: str) -> bool:
    """Can `text` be written unquoted? (A pure function of the string; a promotion asks about the same
    version, digest and module names for every tenant.)"""
    plain = re.fullmatch(r"[A-Za-z0-9@/._+-][A-Za-z0-9@:/._+-]*", text) is not None
    return plain and bool(yaml.load(text, Loader=_Loader) == text)  # noqa: S506 - a safe loader


def _emit(data: Mapping[str, Any], indent: int = 0) -> list[str]:
    lines = []
    pad = " " * indent
    for key, value in data.items():
        if value is None or (isinstance(value, Mapping | list | tuple) and not value):
            continue
        if isinstance(value, Mapping):
            lines.append(f"{pad}{key}:")
            lines += _emit(value, indent + 2)
        elif isinstance(value, list | tuple):
            lines.append(f"{pad}{key}: [{', '.join(scalar(v) for v in value)}]")
        else:
            lines.append(f"{pad}{key}: {scalar(value)}")
    return lines


def _canonical_order(data: Mapping[str, Any]) -> dict[str, Any]:
    known = [k for k in RELEASE_KEY_ORDER if k in data]
    ordered = {k: data[k] for k in known + [k for k in data if k not in RELEASE_KEY_ORDER]}
    if isinstance(ordered.get("previous"), Mapping):
        ordered["previous"] = _canonical_order(ordered["previous"])
    return ordered


def render_release(data: Mapping[str, Any]) -> str:
    """release.yaml text in the canonical layout (fixed key order, None and empty values left out)."""
    return RELEASE_HEADER + "\n".join(_emit(_canonical_order(data))) + "\n"


def parse_release(text: str | bytes) -> dict[str, Any]:
    """release.yaml's data (timestamps as aware datetimes); ValueError when it is not a YAML mapping."""
    data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    if not isinstance(data, dict):
        raise ValueError("release.yaml is not a YAML mapping")
    return data
