"""Edits of config-repo files that leave everything we do not own byte-for-byte unchanged.

`values.yaml` and tenant files are user-owned: only `image.repository` and `image.digest` are rewritten, by
a line-level edit that keeps comments, quoting, key order and every other line as they were. `release.yaml`
is written only by the toolkit, in one canonical layout (gitops/config/release_file.py).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import yaml

from gitops.config.release_file import render_release, scalar
from gitops.errors import ConfigError, Problem

__all__ = [  # render_release: the one release.yaml serialiser, also importable from here
    "ChartRelease",
    "ImageFields",
    "edit_image_text",
    "edit_image_value",
    "read_image_fields",
    "render_release",
    "set_block_fields",
    "set_image_fields",
]
IMAGE_KEYS = ("repository", "digest")
_TOP_KEY_RE = re.compile(r"^[^\s#-][^:]*:")
_CHILD_RE = re.compile(
    r"^(?P<indent>[ \t]+)(?P<q>[\"']?)(?P<key>[A-Za-z_][\w-]*)(?P=q):(?P<sep>[ \t]*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s#](?:[^#\n]*[^\s#])?)?(?P<rest>[ \t]*(?:#.*)?)$"
)
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ImageFields:
    repository: str
    digest: str


def _quoted_like(old: str | None, new: str) -> str:
    if old and old[0] in "\"'":
        return f"{old[0]}{new}{old[0]}"
    return new


@functools.lru_cache(maxsize=8)
def _block_patterns(name: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The header line of top-level block `name` (quoted or spaced too), and the same key with a value."""
    key = rf"(?:{re.escape(name)}|\"{re.escape(name)}\"|'{re.escape(name)}')[ \t]*"
    return re.compile(rf"^{key}:[ \t]*(#.*)?$"), re.compile(rf"^{key}:[ \t]*[^\s#]")


def _find_block(lines: list[str], name: str) -> tuple[int, int] | None:
    """(index of the top-level `name:` line, index after its block) or None when there is none."""
    header, inline = _block_patterns(name)
    for i, line in enumerate(lines):
        if inline.match(line) and not header.match(line):
            raise ValueError(f"line {i + 1}: '{name}:' must be a block mapping for odoo-gitops to edit it")
        if header.match(line):
            end = i + 1
            while end < len(lines) and not _TOP_KEY_RE.match(lines[end]):
                end += 1
            while end > i + 1 and not lines[end - 1].strip():
                end -= 1  # trailing blank lines belong to the gap, not the block
            return i, end
    return None


def _child_indent(lines: list[str], start: int, end: int) -> str:
    for line in lines[start + 1 : end]:
        match = _CHILD_RE.match(line.rstrip("\n"))
        if match:
            return match.group("indent")
    return "  "


def set_block_fields(text: str, name: str, wanted: Mapping[str, str]) -> str:
    """Return `text` with the keys of top-level block `name` set to the given YAML scalars (already
    rendered); every other line untouched. A missing block is appended at the end."""
    return _set_block(text, name, wanted)[0]


def _set_block(text: str, name: str, wanted: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """`set_block_fields`, and the scalar each key of `wanted` now holds as written (quoted like before)."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    block = _find_block(lines, name)
    if block is None:
        return "".join([*lines, f"{name}:\n", *(f"  {k}: {v}\n" for k, v in wanted.items())]), dict(wanted)
    start, end = block
    indent = _child_indent(lines, start, end)
    written: dict[str, str] = {}
    for i in range(start + 1, end):
        match = _CHILD_RE.match(lines[i].rstrip("\n"))
        if not match or match.group("indent") != indent or match.group("key") not in wanted:
            continue
        key = match.group("key")
        value = _quoted_like(match.group("value"), wanted[key])
        sep = match.group("sep") or " "
        quote = match.group("q")
        lines[i] = f"{indent}{quote}{key}{quote}:{sep}{value}{match.group('rest')}\n"
        written[key] = value
    missing = [f"{indent}{k}: {v}\n" for k, v in wanted.items() if k not in written]
    lines[end:end] = missing
    return "".join(lines), {**written, **{k: v for k, v in wanted.items() if k not in written}}


def set_image_fields(text: str, image: ImageFields) -> str:
    """Return `text` with `image.repository` / `image.digest` set; every other line untouched."""
    return set_block_fields(text, "image", {"repository": image.repository, "digest": image.digest})


@dataclass(frozen=True)
class ChartRelease:
    """The toolkit-owned `release:` block of Helm values: it drives the chart's migration and backup hooks."""

    version: str
    changed_modules: tuple[str, ...]
    schema_change: bool
    backup_required: bool

    def rendered(self) -> dict[str, str]:
        return dict(self._rendered)

    def parsed(self) -> dict[str, Any]:
        return dict(self._parsed)

    @cached_property
    def _rendered(self) -> dict[str, str]:
        """Computed once per promotion (which writes the same block into every tenant file)."""
        return {
            "version": scalar(self.version),
            "changedModules": "[" + ", ".join(scalar(m) for m in self.changed_modules) + "]",
            "schemaChange": scalar(self.schema_change),
            "backupRequired": scalar(self.backup_required),
        }

    @cached_property
    def _parsed(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "changedModules": list(self.changed_modules),
            "schemaChange": self.schema_change,
            "backupRequired": self.backup_required,
        }


def _block(data: Any, name: str) -> dict[str, Any] | None:
    block = data.get(name) if isinstance(data, dict) else None
    return block if isinstance(block, dict) else None


def read_image_fields(text: str) -> ImageFields | None:
    return _image_fields(yaml.load(text, Loader=_Loader))  # noqa: S506 - CSafeLoader/SafeLoader only


def _image_fields(data: Any) -> ImageFields | None:
    image = _block(data, "image")
    if image is None or not all(isinstance(image.get(k), str) for k in IMAGE_KEYS):
        return None
    return ImageFields(image["repository"], image["digest"])


_OWN_FLOW_LINE_RE = re.compile(r"^[ \t]+changedModules: \[[\w., -]*\][ \t]*$", re.M)
_ODD_OWNED_KEY_RE = re.compile(r"^(?:[\"'](?:image|release)[\"']|(?:image|release)[ \t]+)[ \t]*:", re.M)


def _needs_parse_check(text: str) -> bool:
    """Plain block YAML is fully described by its indentation, which the line edit follows; anything
    fancier (anchors, aliases, flow collections other than the toolkit's own `changedModules` line, tabs,
    several documents, directives, quoted or spaced `image`/`release` keys, a repeated block) is re-parsed
    to prove the edit landed where YAML says `image` / `release` are."""
    scan = _OWN_FLOW_LINE_RE.sub("", text)
    return (
        any(mark in scan for mark in ("&", "*", "{", "[", "\t", "\n---", "%YAML", "? "))
        or _ODD_OWNED_KEY_RE.search(text) is not None
        or text.count("\nimage:") + text.startswith("image:") > 1
        or text.count("\nrelease:") + text.startswith("release:") > 1
    )


def _landed(data: Any, image: ImageFields, release: ChartRelease | None) -> bool:
    """Whether YAML sees in the edited text's value `data` exactly the values we meant to write (checked
    for anything but plain block YAML from the user: there the line edit follows its indentation exactly)."""
    if _image_fields(data) != image:
        return False
    written = _block(data, "release") if release else None
    return release is None or (
        written is not None and {k: written.get(k) for k in release._parsed} == release._parsed
    )


def edit_image_text(
    old: str, image: ImageFields, *, display: str, release: ChartRelease | None = None
) -> str:
    """A Helm values file's text with its image fields (and, given `release`, the toolkit's `release:`
    block) set; every other byte is kept (CRLF files stay CRLF). ConfigError naming `display` when the
    layout cannot be edited."""
    return edit_image_value(old, image, display=display, release=release)[0]


def edit_image_value(
    old: str,
    image: ImageFields,
    *,
    display: str,
    release: ChartRelease | None = None,
    old_value: Any = None,
) -> tuple[str, Any]:
    """`edit_image_text`, and the value YAML reads from the edited text when it is known (else None): the
    parse that proves the edit landed, for anything but plain block YAML (LF line ends); without parsing,
    given `old_value` (the value YAML reads from `old`), for a file of plain block YAML whose `image:` and
    `release:` blocks hold one `key: scalar` per line (`_plain_block`): `old_value` with the keys the edit
    wrote set to the scalars it wrote."""
    crlf = "\r\n" in old
    if crlf:
        old = old.replace("\r\n", "\n")
    try:
        new, image_written = _set_block(
            old, "image", {"repository": image.repository, "digest": image.digest}
        )
        release_written: dict[str, str] = {}
        if release is not None:
            new, release_written = _set_block(new, "release", release._rendered)
        blocks = {"image": image_written, **({"release": release_written} if release is not None else {})}
        if _needs_parse_check(old):
            value = yaml.load(new, Loader=_Loader)  # noqa: S506 - CSafeLoader/SafeLoader only
            landed = _landed(value, image, release)
            value = None if crlf else value
        else:
            landed, value = True, _edited_value(old, old_value, blocks) if old_value is not None else None
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError([Problem(display, 0, f"cannot edit the image fields: {exc}")]) from None
    if not landed:
        raise ConfigError(
            [Problem(display, 0, "cannot edit the image fields: unexpected layout of 'image:' or 'release:'")]
        )
    return (new.replace("\n", "\r\n") if crlf else new), value


_DOCUMENT_MARK_RE = re.compile(r"^(?:---|\.\.\.)(?:[ \t]|$)", re.M)


@functools.lru_cache(maxsize=64)
def _scalar_value(written: str) -> Any:
    """The value YAML reads from one scalar as the line edit wrote it after `key: `."""
    return yaml.load(f"k: {written}\n", Loader=_Loader)["k"]  # noqa: S506 - CSafeLoader/SafeLoader only


def _plain_block(lines: list[str], name: str) -> bool | None:
    """Whether top-level block `name` is present, when it is absent or each line in it is blank, a comment
    or one `key: scalar` (a quoted scalar closed on its line) at the block's indentation: YAML then reads
    it line by line. None: it is not that plain."""
    block = _find_block(lines, name)
    if block is None:
        return False
    start, end = block
    indent = _child_indent(lines, start, end)
    for line in lines[start + 1 : end]:
        bare = line.rstrip("\n")
        if not bare.strip() or bare.lstrip().startswith("#"):
            continue
        match = _CHILD_RE.match(bare)
        if match is None or match.group("indent") != indent:
            return None
        value = match.group("value") or ""
        if value[:1] in ("'", '"') and (len(value) < 2 or value[-1] != value[0]):
            return None
    return True


def _edited_value(old: str, old_value: Any, blocks: Mapping[str, Mapping[str, str]]) -> Any:
    """The value of the edited plain text, derived from `old_value` (see `edit_image_value`); None: not
    certain."""
    if not isinstance(old_value, dict) or _DOCUMENT_MARK_RE.search(old):
        return None
    lines = old.splitlines(keepends=True)
    if not old_value and any(line.strip() and not line.lstrip().startswith("#") for line in lines):
        return None  # a document that is not a mapping (`~`): the loader shows it as {}
    value = dict(old_value)
    for name, written in blocks.items():
        before = old_value.get(name)
        present = _plain_block(lines, name)
        if present is None or present != (name in old_value) or not isinstance(before, dict | None):
            return None
        value[name] = {**(before or {}), **{k: _scalar_value(v) for k, v in written.items()}}
    return value
