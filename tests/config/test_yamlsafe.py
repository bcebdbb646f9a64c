from __future__ import annotations

import pytest

from gitops.config.yamlsafe import MAX_BYTES, parse_yaml
from gitops.errors import ConfigError


def test_lines_recorded_for_keys_and_items() -> None:
    doc = parse_yaml("a: 1\nb:\n  - x\n  - y: 2\n", "f.yaml")
    assert doc.data == {"a": 1, "b": ["x", {"y": 2}]}
    assert doc.line_of(("a",)) == 1
    assert doc.line_of(("b", 1, "y")) == 4
    assert doc.line_of(("b", 1, "missing")) == 4  # falls back to the closest known prefix


def test_no_arbitrary_objects() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("x: !!python/object/apply:os.system ['true']\n", "f.yaml")
    assert caught.value.problems[0].line == 1


def test_recursive_alias_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a: &a [*a]\n", "f.yaml")
    assert "alias" in caught.value.message or "expands" in caught.value.message


def test_many_aliases_refused() -> None:
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 150) + "]\n"
    with pytest.raises(ConfigError) as caught:
        parse_yaml(text, "f.yaml")
    assert "aliases" in caught.value.message


def test_huge_document_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml("a: '" + "x" * MAX_BYTES + "'\n", "big.yaml")
    assert "larger than" in caught.value.message


def test_empty_document() -> None:
    assert parse_yaml("", "e.yaml").data is None
