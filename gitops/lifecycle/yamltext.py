"""Edits of a YAML file's text that keep everything else byte for byte (comments, order, formatting).

Each edit is checked by parsing the result: when the text edit does not produce exactly the intended data
(an unusual layout, flow style), the caller gets a ValueError and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:")


def parse(text: str) -> Any:
    """The data of `text` (ValueError when it is not YAML, e.g. after an edit broke an alias)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"the edited text is not valid YAML ({exc.__class__.__name__})") from None


def _render(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False, allow_unicode=True)


def _block(lines: list[str], key: str) -> tuple[int, int] | None:
    """[start, end) of the top-level `key:` and its continuation lines."""
    start = next(
        (i for i, line in enumerate(lines) if (m := _TOP_KEY.match(line)) and m.group(1) == key), None
    )
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and _continues(lines[end]):
        end += 1
    while end > start + 1 and lines[end - 1].strip()[:1] in ("", "#"):  # blanks and comments after it stay
        end -= 1
    return start, end


def _continues(line: str) -> bool:
    """Part of the block above: indented, blank, a comment, or an item of an unindented sequence."""
    return line[:1] in (" ", "\t", "#") or not line.strip() or line.startswith("- ") or line.rstrip() == "-"


def set_key(text: str, key: str, value: Any) -> str:
    """`key: value` at the top level: its block replaced in place, or appended."""
    lines = text.splitlines(keepends=True)
    rendered = _render(key, value).splitlines(keepends=True)
    found = _block(lines, key)
    if found is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines += rendered
    else:
        lines[found[0] : found[1]] = rendered
    return _checked(text, "".join(lines), lambda data: {**data, key: value})


def remove_key(text: str, key: str) -> str:
    lines = text.splitlines(keepends=True)
    found = _block(lines, key)
    if found is None:
        return text
    del lines[found[0] : found[1]]
    return _checked(text, "".join(lines), lambda data: {k: v for k, v in data.items() if k != key})


def _checked(before: str, after: str, expect: Any) -> str:
    old, new = parse(before) or {}, parse(after) or {}
    if not isinstance(old, Mapping) or new != expect(dict(old)):
        raise ValueError("the file's layout cannot be edited safely in place")
    return after


def _stage_items(lines: list[str]) -> tuple[int, int, str] | None:
    """[first, end) of the `stages:` block's lines and the indentation of its `- ` items."""
    found = _block(lines, "stages")
    if found is None:
        return None
    items = [line for line in lines[found[0] + 1 : found[1]] if line.lstrip().startswith("- ")]
    if not items:
        return None
    return found[0] + 1, found[1], items[0][: len(items[0]) - len(items[0].lstrip())]


def add_stage(text: str, stage: Mapping[str, Any]) -> str:
    """Append `stage` as the last item of the pipeline's `stages:` list."""
    lines = text.splitlines(keepends=True)
    found = _stage_items(lines)
    if found is None:
        raise ValueError("the pipeline has no block-style `stages:` list to add to")
    _, end, indent = found
    rendered = yaml.safe_dump([dict(stage)], default_flow_style=None, sort_keys=False)
    item = "".join(indent + line + "\n" if line else "\n" for line in rendered.splitlines())
    if end and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines[end:end] = [item]

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "stages": [*data.get("stages", []), dict(stage)]}

    return _checked(text, "".join(lines), expect)


def remove_stage(text: str, env: str) -> str:
    """Remove the stage of `env` from the pipeline's `stages:` list."""
    lines = text.splitlines(keepends=True)
    found = _stage_items(lines)
    if found is None:
        raise ValueError("the pipeline has no block-style `stages:` list")
    first, end, indent = found
    starts = [i for i in range(first, end) if lines[i].startswith(indent + "- ")]
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else end
        item = parse("".join(line[len(indent) :] for line in lines[start:stop]))
        if isinstance(item, list) and item and isinstance(item[0], Mapping) and item[0].get("env") == env:
            del lines[start:stop]
            break
    else:
        raise ValueError(f"no stage for {env!r} in the pipeline")

    def expect(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "stages": [s for s in data.get("stages", []) if s.get("env") != env]}

    return _checked(text, "".join(lines), expect)


def rename_tokens(text: str, old: str, new: str) -> str:
    """Every whole occurrence of `old` (not inside a longer name) replaced by `new`."""
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(old)}(?![A-Za-z0-9])", new, text)
