"""gitops/promote/edit.py `edit_image_value`: the value YAML reads from an edited values or tenant file, known
without parsing it (promote hashes hundreds of tenant files per promotion). Whenever it says a value, that
value must be what YAML reads from the edited text (the gate parses the text: a difference would fail the
promotion's own PR); when it cannot be certain it says None and the text is parsed."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gitops.config.yamlsafe import parse_yaml
from gitops.errors import ConfigError
from gitops.promote.edit import ChartRelease, ImageFields, edit_image_value

LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
IMAGE = ImageFields("127.0.0.1:5000/acme/odoo", "sha256:" + "2" * 64)
HOOKS = ChartRelease(
    "1.5.0", ("acme_site_diary", "acme_retention"), schema_change=True, backup_required=False
)


def loaded(text: str) -> Any:
    """The value the config load keeps for a tenant file (an empty document is {})."""
    data = parse_yaml(text, "tenant.yaml").data
    return {} if data is None else data


def edited(old: str, release: ChartRelease | None = HOOKS) -> tuple[str, Any]:
    return edit_image_value(old, IMAGE, display="tenant.yaml", release=release, old_value=loaded(old))


def parsed(text: str) -> Any:
    return yaml.load(text, Loader=LOADER)  # a safe loader


@pytest.mark.parametrize(
    "old",
    [
        "tenant: acme\nodoo:\n  dbfilter: '^acme$'\n",
        "",
        "# only a comment\n",
        'image:\n  repository: "old/repo"   # keep quotes\n  pullPolicy: IfNotPresent\n'
        "  digest: 'sha256:1'\n",
        "image:\n  # inside\n  repository: old\n\n  tag: 1.0\nreplicas: 3\n",
        "release:\n  version: 1.4.0\n  note: kept\n  changedModules: [a, b]\nimage:\n  digest: x\n",
        "tenant: acme\r\nimage:\r\n  repository: old\r\n",
        "image:\n",
    ],
)
def test_plain_files_are_known_without_a_parse_and_known_right(old: str) -> None:
    new, value = edited(old)
    assert value is not None, "a plain block file is derived, not parsed"
    assert value == parsed(new)
    assert value["image"]["repository"] == IMAGE.repository
    assert value["release"]["schemaChange"] is True


@pytest.mark.parametrize(
    ("old", "why"),
    [
        ('image:\n  repository: "multi\n  x: y"\n  digest: d\n', "a quoted scalar over two lines"),
        ("image:\n  repository: old\n    continued\n", "a plain scalar continued on the next line"),
        ("image:\n  pull:\n    policy: Always\n", "a nested mapping inside the block"),
        ("a: 1\n...\n", "a document end marker: appended keys would start a second document"),
        ("image: |\n  text\n", "a block scalar"),
    ],
)
def test_files_the_line_edit_may_not_describe_are_left_to_the_parser(old: str, why: str) -> None:
    try:
        _, value = edited(old)
    except ConfigError:
        return  # refused outright: nothing hashed at all
    assert value is None, why


@pytest.mark.parametrize("old", ["base: &b {a: 1}\nother: *b\n", "image:\n  pullSecrets: [a, b]\n"])
def test_a_file_the_edit_proves_by_parsing_it_gives_that_parse(old: str) -> None:
    new, value = edited(old)
    assert value == parsed(new) and value["image"]["digest"] == IMAGE.digest
    _, crlf = edited(old.replace("\n", "\r\n"))
    assert crlf is None  # parsed with LF line ends: not offered for the CRLF text


def test_without_a_release_block_to_write_only_the_image_changes() -> None:
    old = "release:\n  version: 1.4.0\nimage:\n  repository: old\n"
    new, value = edited(old, release=None)
    assert value == parsed(new)
    assert value["release"] == {"version": "1.4.0"}


def test_no_old_value_means_no_derived_value() -> None:
    new, value = edit_image_value("a: 1\n", IMAGE, display="t.yaml", release=HOOKS)
    assert value is None and parsed(new)["image"]["digest"] == IMAGE.digest


# ---------------------------------------------------------------- property: derived == parsed, any file

KEYS = st.sampled_from(["repository", "digest", "pullPolicy", "tag", "version", "note", "changedModules"])
SCALARS = st.sampled_from(
    [
        "abc", "1.5", "1.5.0", "true", "yes", "on", "null", "~", "", "2026-01-01", "0x1f", "'single'",
        '"double"', '"esc \\" q"', "'it''s'", "a:b", "a # comment", "[x, y]", "{a: 1}", '"open', "-1",
    ]
)  # fmt: skip
INDENTS = st.sampled_from(["  ", "    ", " "])


@st.composite
def block(draw: st.DrawFn, name: str) -> str:
    indent = draw(INDENTS)
    lines = [f"{name}:" + draw(st.sampled_from(["", "   # c", " "])) + "\n"]
    for _ in range(draw(st.integers(0, 4))):
        kinds = ["pair", "pair", "pair", "comment", "blank", "deeper", "odd-indent", "closing"]
        kind = draw(st.sampled_from(kinds))
        key, value = draw(KEYS), draw(SCALARS)
        lines.append(
            {
                "pair": f"{indent}{key}: {value}\n",
                "comment": f"{indent}# note\n",
                "blank": "\n",
                "deeper": f"{indent}  {value or 'x'}\n",
                "odd-indent": f"{indent} {key}: {value}\n",
                "closing": f'{indent}{key}: y"\n',  # closes a double-quoted scalar opened lines above
            }[kind]
        )
    return "".join(lines)


@st.composite
def tenant_file(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["image", "release", "scalar", "nested", "comment", "blank"]))
        if kind in ("image", "release"):
            parts.append(draw(block(kind)))
        elif kind == "scalar":
            parts.append(f"{draw(st.sampled_from(['tenant', 'replicas', 'x']))}: {draw(SCALARS)}\n")
        elif kind == "nested":
            parts.append(f"odoo:\n  dbfilter: {draw(SCALARS)}\n")
        else:
            parts.append("# top comment\n" if kind == "comment" else "\n")
    text = "".join(parts)
    return text.replace("\n", "\r\n") if draw(st.booleans()) else text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=tenant_file(), with_release=st.booleans())
def test_a_derived_value_is_always_what_yaml_reads(old: str, with_release: bool) -> None:
    try:
        before = loaded(old)
        assume(isinstance(before, dict))
        new, value = edited(old, HOOKS if with_release else None)
    except ConfigError:
        assume(False)  # the loader or the editor refuses the file: no hash is ever made of it
        return
    if value is not None:
        assert value == parsed(new)
