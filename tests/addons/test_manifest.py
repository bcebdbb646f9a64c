"""The manifest reader: one dict literal and nothing else, as Odoo's `ast.literal_eval` demands; every
malformed file is a problem with file:line (exit 2 through the CLI), never an exception."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitops.addons.manifest import literal_value, parse_manifest, parse_manifest_tree, plain_manifest
from gitops.cli.main import main

GOOD = "{'name': 'X', 'version': '17.0.1.0.0', 'depends': ['base']}\n"
HUGE_SUM = "{'name': 'X', 'version': " + "+".join(["1"] * 300_000) + "}\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "__manifest__.py"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("import os\n" + GOOD, 1, "an Import statement"),
        ("# comment\nX = 1\n" + GOOD, 2, "an Assign statement"),
        ("'''docstring'''\n" + GOOD, 1, "a Constant expression"),
        (GOOD + "print('loaded')\n", 2, "a Call expression"),
        (GOOD + GOOD, 2, "a second dict"),
        ("if True:\n    " + GOOD, 1, "an If statement"),
        ("", 1, "manifest is empty"),
        ("# only a comment\n", 1, "manifest is empty"),
        ("['not', 'a', 'dict']\n", 1, "a List expression"),
    ],
)
def test_anything_but_a_single_dict_literal_is_refused_with_its_line(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    manifest, problems = parse_manifest(_write(tmp_path, text), display="m/__manifest__.py")
    assert manifest is None
    assert [(p.file, p.line) for p in problems] == [("m/__manifest__.py", line)]
    assert fragment in problems[0].message


@pytest.mark.parametrize(
    "text",
    [
        HUGE_SUM,
        "{'name': " + "[" * 300_000 + "]" * 300_000 + "}\n",
        "{'name': " + "-" * 300_000 + "1}\n",
        "{'name': " + "not " * 300_000 + "1}\n",
    ],
    ids=["300k-term-sum", "deep-list", "unary-chain", "not-chain"],
)
def test_parser_limits_are_a_problem_not_an_exception(tmp_path: Path, text: str) -> None:
    manifest, problems = parse_manifest(_write(tmp_path, text))
    assert manifest is None
    assert len(problems) == 1 and problems[0].line >= 1


def test_comments_and_a_trailing_comma_are_fine(tmp_path: Path) -> None:
    manifest, problems = parse_manifest(_write(tmp_path, "# -*- coding: utf-8 -*-\n# header\n" + GOOD))
    assert problems == []
    assert manifest is not None and manifest.data["depends"] == ["base"]
    assert manifest.line_of("name") == 3


@pytest.mark.parametrize("text", ["import os\n" + GOOD, HUGE_SUM])
def test_cli_checksums_exit_2_with_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str
) -> None:
    addon = tmp_path / "addons" / "bad_addon"
    addon.mkdir(parents=True)
    (addon / "__manifest__.py").write_text(text)
    code = main(["addons", "checksums", str(tmp_path / "addons"), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 2, data
    assert data["error"] == "config"
    [problem] = data["problems"]
    assert problem["file"].endswith("bad_addon/__manifest__.py") and problem["line"] == 1


@pytest.mark.parametrize(
    "source",
    ["'x'", "1", "-1", "True", "None", "b'x'", "['a', 'b']", "[]", "['a', -1]", "['a', ['b']]", "('a',)",
     "{'a': ['b']}", "{1, 2}", "[x]", "['a' 'b']", "f'x'", "[*a]"],
)  # fmt: skip
def test_literal_value_answers_what_literal_eval_answers(source: str) -> None:
    node = ast.parse(source, mode="eval").body
    try:
        expected: object = ast.literal_eval(node)
    except ValueError as exc:
        expected = ("ValueError", str(exc))
    try:
        got: object = literal_value(node)
    except ValueError as exc:
        got = ("ValueError", str(exc))
    assert (type(got), got) == (type(expected), expected)


# manifests the plain reader takes, and pieces around them that it must leave to `ast`: escapes, prefixes,
# triple quotes, numbers it does not read, comments, tabs, CR, a BOM, a NUL, an indent, repeated keys
GOOD_KEYS = ["'name'", '"version"', "'depends'", "'a:b'", "'é'", "'x\"y'", '"x\'y"', "'#'", "''", "'\x0c'",
             "'k1'", "'k2'", "'k3'", "'k4'", "'k5'", "'k6'", "'k7'", "'k8'"]  # fmt: skip
GOOD_VALUES = ["'X'", '"y"', "'{'", "True", "False", "None", "0", "10", "[]", "['a']", "['a',]",
               "[ 'a' ,\n 'b' , ]", "['a', \"b\"]", "'\u2028'"]  # fmt: skip
BAD_VALUES = ["'\\n'", "'\\''", "u'x'", "b'x'", "r'x'", "'" * 3 + "x" + "'" * 3, "'a' 'b'", "007", "-1",
              "1.5", "1_0", "0x1", "9" * 19, "Truex", "['a' 'b']", "[1]", "[,]", "('a',)", "{'python': []}",
              "'\r'", "'\x00'", "'a\tb'", "...", "b"]  # fmt: skip
BAD_HEADS = [" ", "\ufeff", "# c\n", "x = 1\n", "\t", "\r\n", "\\\n", "# -*- coding: latin-1 -*-\n"]
BAD_PIECES = [":", ",",
             "'", '"', "[", "]", "{", "}", "\t", "\r\n", "# c\n", "\\\n", "\x00", "\x0c", " ", "\n",
              "\r"]  # fmt: skip
SPACES = ["", " ", "\n", "  \n  "]


def _items(keys: st.SearchStrategy[str], values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    """Items under distinct keys (a repeated key is left to `ast`: test_the_plain_reader_takes_...)."""
    spaces = st.sampled_from(SPACES)
    item = st.tuples(keys, spaces, spaces, values)
    return st.lists(item, max_size=5, unique_by=lambda i: i[0]).map(
        lambda found: [f"{k}{a}:{b}{v}" for k, a, b, v in found]
    )


def _mostly(good: list[str], bad: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(*[st.sampled_from(good)] * 6, st.sampled_from(bad))


def _texts(items: st.SearchStrategy[list[str]], heads: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda head, found, sep, last, tail: (
            head + "{" + (sep.join(found) + last if found else "") + "}" + tail
        ),
        heads,
        items,
        st.sampled_from([",", ", ", ",\n    ", " ,\n"]),
        st.sampled_from(["", ",", " ,\n"]),
        st.sampled_from(["", "\n", "  \n\n"]),
    )


GOOD_TEXTS = _texts(
    _items(st.sampled_from(GOOD_KEYS), st.sampled_from(GOOD_VALUES)), st.sampled_from(["", "\n"])
)
NEAR_TEXTS = _texts(
    _items(st.sampled_from(GOOD_KEYS), _mostly(GOOD_VALUES, BAD_VALUES)),
    _mostly(["", "\n", "\n\n"], BAD_HEADS),
)


def _spliced(text: str, cuts: list[tuple[int, str]]) -> str:
    for at, piece in cuts:
        at %= len(text) + 1
        text = text[:at] + piece + text[at:]
    return text


PLAIN_TEXTS = st.builds(
    _spliced, NEAR_TEXTS, st.lists(st.tuples(st.integers(0, 1000), st.sampled_from(BAD_PIECES)), max_size=1)
)


@settings(max_examples=1500, deadline=None, database=None)
@given(text=PLAIN_TEXTS, encoding=st.sampled_from(["utf-8", "latin-1"]))
def test_the_plain_reader_answers_what_ast_answers_or_leaves_it_to_ast(text: str, encoding: str) -> None:
    source = text.encode(encoding, "replace")
    plain = plain_manifest(source)
    if plain is None:
        return
    manifest, problems = parse_manifest_tree(source, "m/__manifest__.py")
    assert problems == [] and manifest is not None, source
    data, lines = plain
    assert repr(data) == repr(dict(manifest.data))  # repr: True is not 1, a list is not a tuple
    assert lines == dict(manifest.lines)


def test_the_plain_reader_takes_the_usual_manifest() -> None:
    source = (
        b"\n{\n    'name': 'X \xc3\xa9',\n    \"version\": '17.0.1.0.0',\n    'depends' : [ 'base',\n"
        b"        'mail', ],\n    'installable': True,\n    'application': False,\n    'sequence': 10,\n"
        b"    'auto_install' :None,\n}\n"
    )
    assert plain_manifest(source) is not None
    manifest, _ = parse_manifest_tree(source, "m")
    assert manifest is not None and plain_manifest(source) == (dict(manifest.data), dict(manifest.lines))
    assert manifest.line_of("depends") == 5 and manifest.data["sequence"] == 10


@settings(max_examples=300, deadline=None, database=None)
@given(text=GOOD_TEXTS)
def test_the_plain_reader_takes_every_plain_manifest(text: str) -> None:
    manifest, problems = parse_manifest_tree(text.encode(), "m")
    assert manifest is not None and problems == []
    assert plain_manifest(text.encode()) == (dict(manifest.data), dict(manifest.lines))
    repeated = (
        text.replace("{", "{'k1': 1, ", 1).replace("}", ", 'k1': 2}", 1) if text.count("}") == 1 else text
    )
    assert plain_manifest(repeated.encode()) is None or repeated == text  # `ast` reports the repeated key
