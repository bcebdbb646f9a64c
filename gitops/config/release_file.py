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
    return double_quoted(text)


def _escaped(char: str) -> str:
    code = ord(char)
    if code > 0xFFFF:
        return f"\\U{code:08x}"  # YAML's 8-digit escape (JSON would write a surrogate pair YAML rejects)
    if 0xD800 <= code <= 0xDFFF:
        return "\\ufffd"  # a lone surrogate (an undecodable byte from the command line) is no character
    return json.dumps(char)[1:-1]


def double_quoted(text: str) -> str:
    """`text` as a YAML double-quoted scalar, ASCII only: a JSON string is one (control characters
    escaped), except for characters outside the BMP and lone surrogates, escaped the YAML way."""
    quoted = json.dumps(text)
    if "\\ud" not in quoted:
        return quoted
    return '"' + "".join(_escaped(c) for c in text) + '"'


@lru_cache(maxsize=4096)
def _reads_back_as_itself(text: str) -> bool:
    """Can `text` be written unquoted? (A pure function of the string; a promotion asks about the same
    version, digest and module names for every tenant.)"""
    if re.fullmatch(r"[A-Za-z0-9@/._+-][A-Za-z0-9@:/._+-]*", text) is None:
        return False
    try:
        return bool(yaml.load(text, Loader=_Loader) == text)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return False  # `@...` (a reserved indicator) is not a plain scalar: quote it


_SCALAR_TYPES = frozenset({str, bool, int, float, datetime, type(None)})
Memo = dict[tuple[Any, ...], Any]


def _flat(data: Mapping[str, Any], *context: Any) -> tuple[Any, ...] | None:
    """A hashable key for a mapping of scalars, types included (True == 1, yet they are written apart);
    None for any other mapping. Hundreds of tenants of one promotion get the same entry: each such entry
    is rendered (and read back) once per release.yaml."""
    items: list[Any] = list(context)
    for key, value in data.items():
        if type(key) is not str or type(value) not in _SCALAR_TYPES:
            return None
        items += (key, type(value), value)
    return tuple(items)


def _emit(data: Mapping[str, Any], indent: int = 0, memo: Memo | None = None) -> list[str]:
    lines = []
    pad = " " * indent
    memo = {} if memo is None else memo
    for key, value in data.items():
        if value is None or (isinstance(value, Mapping | list | tuple) and not value):
            continue
        if isinstance(value, Mapping):
            lines.append(f"{pad}{key}:")
            flat = _flat(value, indent)
            if flat is None:
                lines += _emit(value, indent + 2, memo)
            else:
                if flat not in memo:
                    memo[flat] = _emit(value, indent + 2, memo)
                lines += memo[flat]
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


class _Unknown(Exception):
    """A value whose read-back is not certain without parsing the text."""


@lru_cache(maxsize=4096)
def _quoted_read_back(text: str) -> Any:
    try:
        return yaml.load(double_quoted(text), Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        raise _Unknown from None


def _scalar_read_back(value: Any, *, in_flow: bool = False) -> Any:
    """What YAML reads for `scalar(value)`: exact for the types the toolkit writes, _Unknown otherwise."""
    if type(value) in (bool, int):
        return value
    if isinstance(value, datetime) and not in_flow:
        return value.astimezone(UTC)  # written in UTC with `Z`, read back as an aware datetime
    if not isinstance(value, str):
        raise _Unknown  # floats (inf, 1e+20), dates, timestamps in a list, other objects: parse to be sure
    text = str(value)
    if _reads_back_as_itself(text):
        if in_flow and ":" in text:
            raise _Unknown  # a `:` inside a flow sequence: leave it to the parser
        return text
    return _quoted_read_back(text)


def _mapping_read_back(data: Mapping[str, Any], memo: Memo | None = None) -> dict[str, Any] | None:
    """Mirror of _emit: None and empty values left out, a mapping with no lines reads back as None."""
    out: dict[str, Any] = {}
    memo = {} if memo is None else memo
    for key, value in data.items():
        if value is None or (isinstance(value, Mapping | list | tuple) and not value):
            continue
        if not isinstance(key, str) or ":" in key or not _reads_back_as_itself(key):
            raise _Unknown  # keys are written unquoted
        if isinstance(value, Mapping):
            flat = _flat(value)
            if flat is None:
                out[key] = _mapping_read_back(value, memo)
            else:
                if flat not in memo:
                    memo[flat] = _mapping_read_back(value, memo)
                found = memo[flat]  # scalars only: a copy of the mapping is a value of its own
                out[key] = dict(found) if found is not None else None
        elif isinstance(value, list | tuple):
            out[key] = [_scalar_read_back(v, in_flow=True) for v in value]
        else:
            out[key] = _scalar_read_back(value)
    return out or None


def read_back(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The value `parse_release(render_release(data))` returns, computed without rendering or parsing;
    None when that is not certain (a type or string the parser must see). A promotion hashes the
    release.yaml it wrote with this value instead of parsing 100 kB of YAML it produced itself."""
    try:
        value = _mapping_read_back(_canonical_order(data))
    except _Unknown:
        return None
    return value


def parse_release(text: str | bytes) -> dict[str, Any]:
    """release.yaml's data (timestamps as aware datetimes); ValueError when it is not a YAML mapping."""
    data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    if not isinstance(data, dict):
        raise ValueError("release.yaml is not a YAML mapping")
    return data
