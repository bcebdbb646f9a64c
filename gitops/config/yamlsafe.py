"""Safe YAML loading that remembers where every value came from.

Values are built with PyYAML's SafeLoader (no arbitrary objects). Alias bombs and oversized documents are
refused before anything is expanded. Every mapping key and sequence item is mapped to its 1-based line so
that validation errors can name file and line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops.errors import ConfigError, Problem

MAX_BYTES = 1_048_576
MAX_NODES = 100_000
MAX_ALIASES = 100
MAX_DEPTH = (
    100  # nesting levels; real config files use fewer than 20, and deeper ones would exhaust the stack
)
_C_LOADER: Any = getattr(yaml, "CSafeLoader", None)

YamlPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Document:
    """A parsed YAML file: its data, the file name to report, and the line of every path in it."""

    file: str
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)

    def line_of(self, path: YamlPath) -> int:
        """Line of the longest prefix of `path` that the document knows; 1 for the document itself."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:end]))
            if line:
                return line
        return 1

    def problem(self, path: YamlPath, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), message)


def _expanded_size(node: yaml.Node, memo: dict[int, int], on_stack: set[int]) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    if key in on_stack:  # recursive alias: infinite expansion
        return MAX_NODES + 1
    on_stack.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, memo, on_stack) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(
            _expanded_size(k, memo, on_stack) + _expanded_size(v, memo, on_stack) for k, v in node.value
        )
    on_stack.discard(key)
    memo[key] = min(size, MAX_NODES + 1)
    return memo[key]


class _CountingLoader(yaml.SafeLoader):
    """SafeLoader that counts alias references while composing."""

    aliases_seen = 0
    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases_seen += 1
            if self.aliases_seen > MAX_ALIASES:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _Refused(mark.line + 1, f"more than {MAX_ALIASES} YAML aliases; refusing to expand")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                _too_deep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Refused(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _too_deep(mark: Any) -> None:
    raise _Refused(mark.line + 1, f"nested more than {MAX_DEPTH} levels deep; refusing to load")


def _scalar(loader: Any, node: yaml.Node, *, deep: bool = False) -> Any:
    """A value built by PyYAML's SafeConstructor; a value it cannot build (a timestamp such as
    2026-02-30T10:00:00Z, `!!float abc`) is a problem on its line, not an internal error."""
    try:
        return loader.construct_object(node, deep=deep)
    except (ValueError, OverflowError) as exc:
        shown = node.value if isinstance(node, yaml.ScalarNode) else node.tag
        raise _Refused(node.start_mark.line + 1, f"invalid value {shown!r}: {exc}") from None


_STR_TAG = "tag:yaml.org,2002:str"


def _key(
    key_node: yaml.Node,
    path: YamlPath,
    seen: dict[object, int],
    *,
    loader: Any,
    doc: Document,
    problems: list[Problem],
) -> tuple[Any, YamlPath]:
    """A mapping key, built, checked against the keys `seen` before it, with its line recorded; returns
    the key and the path of its value."""
    # plain string keys (nearly all) need no constructor; anything else is built as YAML says
    key = key_node.value if key_node.tag == _STR_TAG else _scalar(loader, key_node, deep=True)
    line = key_node.start_mark.line + 1
    hashable = key if isinstance(key, str | int | float | bool) or key is None else str(key)
    if hashable in seen:
        problems.append(Problem(doc.file, line, f"duplicate key {key!r} (first at line {seen[hashable]})"))
    seen[hashable] = line
    child = (*path, str(key) if not isinstance(key, int) else key)
    doc.lines.setdefault(child, line)
    return key, child


def _collect_lines(
    node: yaml.Node, path: YamlPath, loader: Any, doc: Document, problems: list[Problem]
) -> None:
    """Lines and duplicate keys of a document with merge keys (its values come from construct_document);
    every scalar is built once here so that a bad one is reported on its line."""
    if len(path) > MAX_DEPTH:
        _too_deep(node.start_mark)
    if isinstance(node, yaml.ScalarNode) and node.tag != _STR_TAG:
        _scalar(loader, node)
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag != "tag:yaml.org,2002:merge":
                _, child = _key(key_node, path, seen, loader=loader, doc=doc, problems=problems)
                _collect_lines(value_node, child, loader, doc, problems)
            else:  # merged values keep the lines of where they are written; only check they can be built
                _collect_lines(value_node, (*path, "<<"), loader, Document(doc.file, None, {}), problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines.setdefault((*path, index), item.start_mark.line + 1)
            _collect_lines(item, (*path, index), loader, doc, problems)


_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


def _build(node: yaml.Node, path: YamlPath, loader: Any, doc: Document, problems: list[Problem]) -> Any:
    """Construct `node` and record its lines and duplicate keys in one walk (what `_collect_lines` plus
    `construct_document` do in two). Plain strings, lists and dicts are built here; every other scalar
    and any explicitly tagged collection is left to the SafeConstructor, so values are the same."""
    if len(path) > MAX_DEPTH:
        _too_deep(node.start_mark)
    if isinstance(node, yaml.ScalarNode):
        return node.value if node.tag == _STR_TAG else _scalar(loader, node)
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
        items = []
        for index, item in enumerate(node.value):
            doc.lines.setdefault((*path, index), item.start_mark.line + 1)
            items.append(_build(item, (*path, index), loader, doc, problems))
        return items
    if not isinstance(node, yaml.MappingNode) or node.tag != _MAP_TAG:
        return _scalar(loader, node, deep=True)  # !!set, !!omap, ...: as PyYAML builds them
    mapping: dict[Any, Any] = {}
    seen: dict[object, int] = {}
    for key_node, value_node in node.value:
        key, child = _key(key_node, path, seen, loader=loader, doc=doc, problems=problems)
        value = _build(value_node, child, loader, doc, problems)
        try:
            mapping[key] = value
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found unhashable key", key_node.start_mark
            ) from None
    return mapping


def _holds_aliases(text: str) -> bool:
    """Whether `text` holds an anchor or an alias: '&' or '*' outside quoted scalars and comments (a cron
    schedule "0 3 * * 0" holds neither), as libyaml's scanner reads it; a text it cannot scan counts."""
    if "&" not in text and "*" not in text:
        return False
    try:
        return any(type(token) in _ALIAS_TOKENS for token in yaml.scan(text, Loader=_C_LOADER))
    except yaml.YAMLError:
        return True


_ALIAS_TOKENS = (yaml.AliasToken, yaml.AnchorToken)


def _loader(text: str) -> Any:
    """libyaml's parser when the text holds no anchors or aliases: ~10x faster on config repos with hundreds
    of tenant files. Anything else goes through the alias-counting loader."""
    if _C_LOADER is not None and not _holds_aliases(text):
        return _C_LOADER(text)
    return _CountingLoader(text)


def parse_yaml(text: str, file: str) -> Document:
    """Parse one YAML document safely. Raises ConfigError naming the file and line on any problem."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise ConfigError([Problem(file, 0, f"file is larger than {MAX_BYTES} bytes; refusing to load")])
    try:
        loader = _loader(text)  # the reader checks characters as the loader is built
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(file, 1, f"YAML error: {exc}")]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(file, None, {})
        # without '*' there is no alias, so nothing expands beyond what the (size-capped) text holds
        if "*" in text and _expanded_size(node, {}, set()) > MAX_NODES:
            raise _Refused(
                node.start_mark.line + 1,
                f"document expands to more than {MAX_NODES} nodes (YAML alias bomb?); refusing to load",
            )
        doc = Document(file, None, {(): node.start_mark.line + 1})
        problems: list[Problem] = []
        if "<<" in text:  # merge keys: PyYAML's constructor flattens them
            _collect_lines(node, (), loader, doc, problems)
            data = loader.construct_document(node)
        else:
            data = _build(node, (), loader, doc, problems)
    except _Refused as refused:
        raise ConfigError([Problem(file, refused.line, refused.message)]) from None
    except RecursionError:  # aliases nesting deep structures in each other
        message = f"nested more than {MAX_DEPTH} levels deep; refusing to load"
        raise ConfigError([Problem(file, 1, message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        reason = exc.problem or exc.context or "invalid YAML"
        raise ConfigError([Problem(file, line, f"YAML syntax error: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(file, 0, f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    if problems:
        raise ConfigError(problems)
    return Document(file, data, doc.lines)


def read_yaml(read: Callable[[], bytes], name: str) -> Document:
    """Read (with `read`) and parse a YAML file; a missing or unreadable file is a ConfigError naming it."""
    try:
        raw = read()
    except FileNotFoundError:
        raise ConfigError([Problem(name, 0, "file not found")]) from None
    except OSError as exc:
        raise ConfigError([Problem(name, 0, f"cannot read file: {exc.strerror}")]) from None
    if len(raw) > MAX_BYTES:
        raise ConfigError([Problem(name, 0, f"file is larger than {MAX_BYTES} bytes; refusing to load")])
    return parse_yaml(decode_text(raw, name), name)


def decode_text(raw: bytes, name: str) -> str:
    """A config file's bytes as text; ConfigError naming the file and the first bad byte otherwise."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(name, 0, f"not UTF-8 text (byte {exc.start})")]) from None


def load_yaml(path: Path, *, display: str | None = None) -> Document:
    """Read and parse a YAML file on disk (see read_yaml)."""
    return read_yaml(path.read_bytes, display or str(path))
