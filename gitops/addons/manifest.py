"""Read `__manifest__.py` files without executing them: `ast.parse` + `ast.literal_eval`, with key lines."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gitops.errors import Problem

MANIFEST = "__manifest__.py"
VERSION_RE = re.compile(r"^(?P<series>\d+\.\d+)\.\d+\.\d+\.\d+$")
_LIST_OF_STR_KEYS = ("depends", "data", "demo", "qweb", "excludes")


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """A parsed manifest: its literal values and the 1-based line of each top-level key."""

    file: str
    data: Mapping[str, Any]
    lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int:
        return self.lines.get(key, 1)

    def problem(self, key: str, message: str) -> Problem:
        return Problem(self.file, self.line_of(key), message)


def _manifest_dict(tree: ast.Module, file: str) -> ast.Dict | Problem:
    """The dict, or where the file stops being one: Odoo reads the whole file with `ast.literal_eval`."""
    body = tree.body
    if len(body) == 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Dict):
        return body[0].value
    if not body:
        return Problem(file, 1, "manifest is empty: it must be a single dict literal")
    stray = next(
        (node for node in body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Dict))),
        body[1] if len(body) > 1 else body[0],
    )
    return Problem(
        file,
        stray.lineno,
        f"manifest must be a single dict literal and nothing else (Odoo reads it with ast.literal_eval); "
        f"found {_describe(stray)} here",
    )


def _describe(node: ast.stmt) -> str:
    if isinstance(node, ast.Expr):
        if isinstance(node.value, ast.Dict):
            return "a second dict"
        name = f"{type(node.value).__name__} expression"
    else:
        name = f"{type(node).__name__} statement"
    return f"{'an' if name[0] in 'AEIOU' else 'a'} {name}"


def literal_value(node: ast.expr) -> Any:
    """`ast.literal_eval(node)`, answered directly for a constant or a list of constants (most manifest
    and field values): literal_eval builds its helper closures on every call."""
    if type(node) is ast.Constant:
        return node.value
    if type(node) is ast.List and all(type(item) is ast.Constant for item in node.elts):
        return [item.value for item in node.elts]  # type: ignore[attr-defined]
    return ast.literal_eval(node)


def _literal_items(
    node: ast.Dict, file: str, problems: list[Problem]
) -> tuple[dict[str, Any], dict[str, int]]:
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in zip(node.keys, node.values, strict=True):
        line = (key_node or value_node).lineno
        if not isinstance(key_node, ast.Constant) or not isinstance(key_node.value, str):
            problems.append(Problem(file, line, "manifest keys must be string literals"))
            continue
        key = key_node.value
        try:
            data[key] = literal_value(value_node)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            problems.append(Problem(file, line, f"manifest key {key!r} is not a literal value"))
            continue
        if key in lines:
            problems.append(Problem(file, line, f"manifest key {key!r} is repeated"))
        lines[key] = line
    return data, lines


def parse_manifest(path: Path, *, display: str | None = None) -> tuple[Manifest | None, list[Problem]]:
    """Parse one manifest file. Never imports or executes it. Returns the manifest and its problems."""
    try:
        source: bytes | OSError = path.read_bytes()
    except OSError as exc:
        source = exc
    return parse_manifest_source(source, display or str(path))


# A plain manifest, read without building a syntax tree: one dict at the start of a line, string keys,
# values that are plain strings (no escape, prefix or line break: the text between the quotes is the value),
# True / False / None, decimal integers, or lists of plain strings; only spaces and line feeds between.
# There is no comment, so no coding declaration: the bytes are UTF-8 as Python reads them. Anything else
# (a repeated key, a tab, a comment, CRLF, a nested dict, ...) is parsed with `ast`, which says the same.
_PLAIN_STRING = r"'[^'\\\n\r\0]*'|" + r'"[^"\\\n\r\0]*"'
_SPACE = r"[ \n]*"
_PLAIN_VALUE = (
    rf"{_PLAIN_STRING}|True|False|None|0|[1-9][0-9]{{0,17}}"
    rf"|\[{_SPACE}(?:(?:{_PLAIN_STRING}){_SPACE},{_SPACE})*(?:(?:{_PLAIN_STRING}){_SPACE})?\]"
)
_PLAIN_HEAD = re.compile(r"\n*\{")
_PLAIN_ITEM = re.compile(rf"{_SPACE}({_PLAIN_STRING}){_SPACE}:{_SPACE}({_PLAIN_VALUE}){_SPACE}(,?)")
_PLAIN_TAIL = re.compile(r"[ \n]*\}[ \n]*")
_PLAIN_STRINGS = re.compile(_PLAIN_STRING)
_PLAIN_NAMES = {"True": True, "False": False, "None": None}


def plain_manifest(source: bytes) -> tuple[dict[str, Any], dict[str, int]] | None:
    """The values and key lines `ast` would read from a plain manifest (see above), or None when the
    source is not one (the caller then parses it with `ast`)."""
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError:
        return None
    head = _PLAIN_HEAD.match(text)
    if head is None:
        return None
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    pos, line, counted = head.end(), 1, 0
    while (item := _PLAIN_ITEM.match(text, pos)) is not None:
        key, raw = item.group(1)[1:-1], item.group(2)
        if key in data:
            return None  # `ast` reports the repeated key
        line += text.count("\n", counted, item.start(1))
        counted = item.start(1)
        first = raw[0]
        if first in "'\"":
            data[key] = raw[1:-1]
        elif first == "[":
            data[key] = [value[1:-1] for value in _PLAIN_STRINGS.findall(raw)]
        else:
            data[key] = _PLAIN_NAMES[raw] if raw in _PLAIN_NAMES else int(raw)
        lines[key] = line
        pos = item.end()
        if not item.group(3):  # no comma: the dict must end here
            break
    return (data, lines) if _PLAIN_TAIL.fullmatch(text, pos) is not None else None


def parse_manifest_source(source: bytes | OSError, file: str) -> tuple[Manifest | None, list[Problem]]:
    """Parse the bytes of a manifest (or report why they could not be read), naming it `file`."""
    if isinstance(source, OSError):
        return None, [Problem(file, 0, f"cannot read manifest: {source.strerror}")]
    plain = plain_manifest(source)
    if plain is not None:
        return Manifest(file=file, data=MappingProxyType(plain[0]), lines=MappingProxyType(plain[1])), []
    return parse_manifest_tree(source, file)


def parse_manifest_tree(source: bytes, file: str) -> tuple[Manifest | None, list[Problem]]:
    """Parse the bytes of any manifest with `ast` (what `plain_manifest` answers for plain ones)."""
    try:
        tree = ast.parse(source, filename=file)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 1
        return None, [Problem(file, line, f"manifest is not valid Python: {getattr(exc, 'msg', exc)}")]
    except (RecursionError, MemoryError):  # the parser's own limits on nesting and expression length
        return None, [Problem(file, 1, "manifest expression is too deeply nested or too long to parse")]
    node = _manifest_dict(tree, file)
    if isinstance(node, Problem):
        return None, [node]
    problems: list[Problem] = []
    data, lines = _literal_items(node, file, problems)
    return Manifest(file=file, data=MappingProxyType(data), lines=MappingProxyType(lines)), problems


def _is_str_list(value: object) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)


def check_shape(manifest: Manifest) -> list[Problem]:
    """Types of the keys the toolkit relies on."""
    data = manifest.data
    problems: list[Problem] = []
    if not isinstance(data.get("name"), str):
        problems.append(manifest.problem("name", "manifest needs a 'name' string"))
    if not isinstance(data.get("version"), str):
        problems.append(manifest.problem("version", "manifest needs a 'version' string like '17.0.1.0.0'"))
    for key in _LIST_OF_STR_KEYS:
        if key in data and not _is_str_list(data[key]):
            problems.append(manifest.problem(key, f"'{key}' must be a list of strings"))
    if "installable" in data and not isinstance(data["installable"], bool):
        problems.append(manifest.problem("installable", "'installable' must be True or False"))
    problems.extend(_check_external_dependencies(manifest))
    return problems


def _check_external_dependencies(manifest: Manifest) -> list[Problem]:
    value = manifest.data.get("external_dependencies", {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and _is_str_list(v) for k, v in value.items()
    ):
        return [
            manifest.problem("external_dependencies", "'external_dependencies' must map to lists of strings")
        ]
    return []


def check_version(manifest: Manifest, series: str | None) -> list[Problem]:
    """OCA rule: `<series>.x.y.z` (pylint-odoo `(<series>)\\.\\d+\\.\\d+\\.\\d+$`)."""
    version = manifest.data.get("version")
    if not isinstance(version, str):
        return []
    match = VERSION_RE.match(version)
    if match is None:
        expected = f"{series}.x.y.z" if series else "<series>.x.y.z"
        return [manifest.problem("version", f"version {version!r} must look like {expected}")]
    if series and match["series"] != series:
        return [manifest.problem("version", f"version {version!r} is not for Odoo {series} ({series}.x.y.z)")]
    return []
