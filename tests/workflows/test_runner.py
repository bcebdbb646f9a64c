"""The test runner itself: GitHub's expression semantics and file commands, on small workflows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.workflows.runner import (
    ExpressionError,
    Runner,
    Strict,
    condition,
    evaluate,
    parse_file_commands,
    runner_env,
    substitute,
)

FUNCTIONS: dict[str, Any] = {"always": lambda: True, "success": lambda: True, "failure": lambda: False}
CONTEXTS: dict[str, Any] = {
    "inputs": Strict({"pr": "", "record": True, "timeout": 900}, "input"),
    "secrets": Strict({"token": ""}, "secret"),
    "github": {"token": "gh-token", "sha": "abc"},
    "steps": Strict({"plan": {"outputs": {"allowed": "true"}}}, "step id"),
    "env": {"REGISTRY_PASSWORD": ""},
}


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("secrets.token || github.token", "gh-token"),  # `||` yields the first truthy value
        ("inputs.pr || 'all'", "all"),
        ("inputs.record && steps.plan.outputs.allowed == 'true'", True),
        ("steps.plan.outputs.allowed == 'TRUE'", True),  # strings compare case-insensitively
        ("env.REGISTRY_PASSWORD != ''", False),
        ("env.UNSET == ''", True),  # null and '' are equal (both 0)
        ("!(inputs.timeout == '900')", False),  # a number equals its text
        ("steps.plan.outputs.missing", None),
    ],
)
def test_expressions_follow_githubs_semantics(expression: str, value: Any) -> None:
    assert evaluate(expression, CONTEXTS, FUNCTIONS) == value


def test_substitution_turns_values_into_text() -> None:
    text = "${{ inputs.record }}/${{ inputs.timeout }}/${{ inputs.pr }}x"
    assert substitute(text, CONTEXTS, FUNCTIONS) == "true/900/x"


@pytest.mark.parametrize(
    "expression", ["inputs.no-such-input", "secrets.typo", "steps.nope.outputs.x", "vars.x", "fromJSON('1')"]
)
def test_unknown_names_and_functions_raise(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, CONTEXTS, FUNCTIONS)


def test_a_condition_without_a_status_function_requires_success() -> None:
    failed = {**FUNCTIONS, "success": lambda: False, "failure": lambda: True}
    assert condition("steps.plan.outputs.allowed == 'true'", CONTEXTS, FUNCTIONS) is True
    assert condition("steps.plan.outputs.allowed == 'true'", CONTEXTS, failed) is False
    assert condition("${{ always() }}", CONTEXTS, failed) is True
    assert condition(None, CONTEXTS, failed) is False


def test_file_commands_read_lines_and_heredocs() -> None:
    text = "a=1\nb=x=y\nnotes<<EOF\nline 1\nline 2\nEOF\n"
    assert parse_file_commands(text) == {"a": "1", "b": "x=y", "notes": "line 1\nline 2"}


WORKFLOW = """
on:
  workflow_call:
    inputs:
      word: {type: string, default: hello}
    outputs:
      said: {value: "${{ jobs.j.outputs.said }}"}
jobs:
  j:
    runs-on: ubuntu-24.04
    outputs:
      said: ${{ steps.say.outputs.said }}
    steps:
      - uses: actions/checkout@0000000000000000000000000000000000000000
      - run: |
          mkdir -p "$RUNNER_TEMP/bin"
          printf '#!/bin/sh\\necho shimmed\\n' > "$RUNNER_TEMP/bin/greet"
          chmod +x "$RUNNER_TEMP/bin/greet"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
          echo "FROM_ENV=carried" >> "$GITHUB_ENV"
      - id: say
        env:
          WORD: ${{ inputs.word }}
        run: |
          echo "said=$WORD $(greet) $FROM_ENV" >> "$GITHUB_OUTPUT"
          echo "### $WORD" >> "$GITHUB_STEP_SUMMARY"
      - name: pipe
        run: false | true
      - name: after a failure
        if: failure()
        run: echo never
"""


def run_small(tmp_path: Path, workflow: str, **kw: Any) -> Any:
    path = tmp_path / "w.yml"
    path.write_text(workflow)
    (tmp_path / "ws").mkdir()
    (tmp_path / "temp").mkdir()
    runner = Runner(path, tmp_path / "ws", tmp_path / "temp", ["/usr/bin", "/bin"], {}, runner_env())
    return runner.run(**kw)


def test_steps_share_outputs_env_path_and_summary(tmp_path: Path) -> None:
    job = run_small(tmp_path, WORKFLOW, inputs={"word": "hi"})
    assert job.outputs == {"said": "hi shimmed carried"}
    assert job.summary == "### hi\n"
    assert job.steps[0].outcome == "would run"
    assert job.step("pipe").outcome == "success"  # GitHub's default shell is `bash -e`: no pipefail
    assert job.step("after a failure").outcome == "skipped"
    assert not job.failed


def test_defaults_shell_bash_turns_on_pipefail_and_a_failure_stops_the_job(tmp_path: Path) -> None:
    job = run_small(tmp_path, "defaults: {run: {shell: bash}}\n" + WORKFLOW)
    assert job.step("pipe").outcome == "failure"
    assert job.step("after a failure").outcome == "success"
    assert job.failed


def test_undeclared_inputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="not declared"):
        run_small(tmp_path, WORKFLOW, inputs={"wrod": "typo"})
