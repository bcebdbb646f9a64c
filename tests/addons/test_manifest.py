"""The manifest reader: one dict literal and nothing else, as Odoo's `ast.literal_eval` demands; every
malformed file is a problem with file:line (exit 2 through the CLI), never an exception."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from gitops.addons.manifest import literal_value, parse_manifest
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
