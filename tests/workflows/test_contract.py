"""The documented `--json` contract of the workflows: the checker can fail, and the docs name every key."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.components import REPO
from tests.workflows.contract import (
    BUILD,
    ERROR,
    GATE_CHECK,
    PLAN,
    PR_LIST,
    PROMOTE,
    VERIFY,
    key_paths,
    problems,
)

GATE_OK = {
    "pull_request": {
        "number": 7, "title": "t", "url": "u", "head": "promote/x", "head_sha": "a" * 40, "state": "open",
        "labels": ["env:prod"], "author": "ci-bot",
    },
    "target": "prod",
    "wave": None,
    "head_sha": "a" * 40,
    "verdict": {
        "state": "pending", "description": "d", "rule": "normal", "reasons": ["r"],
        "approvals": {"required": 2, "counted": [], "ignored": []}, "window": None,
    },
    "audit_seq": 3,
}  # fmt: skip


def test_the_documented_gate_shape_passes() -> None:
    assert problems(GATE_OK, GATE_CHECK) == []


def test_the_shape_gate_yml_used_to_guess_is_rejected() -> None:
    flat = {**GATE_OK, "state": "pending", "verdict": "pending"}  # `.status // .state // .verdict`
    assert ".verdict: expected an object, got str" in problems(flat, GATE_CHECK)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["verdict"].pop("state"), ".verdict.state: missing"),
        (lambda d: d["verdict"].update(state="passed"), ".verdict.state: 'passed' is not one of"),
        (lambda d: d["pull_request"].update(number="7"), ".pull_request.number: expected <class 'int'>"),
        (lambda d: d["verdict"].update(reasons="r"), ".verdict.reasons: expected an array"),
        (lambda d: d.update(audit_seq=True), ".audit_seq: expected int, got bool"),
    ],
)
def test_a_renamed_or_retyped_key_is_reported(change: object, expected: str) -> None:
    import copy

    data = copy.deepcopy(GATE_OK)
    change(data)  # type: ignore[operator]
    assert any(p.startswith(expected) for p in problems(data, GATE_CHECK)), problems(data, GATE_CHECK)


def section(path: str, heading: str) -> str:
    text = (REPO / path).read_text()
    start = text.index(heading)
    following = re.search(r"^#{1,3} ", text[start + len(heading) :], re.MULTILINE)
    return text[start : start + len(heading) + (following.start() if following else len(text))]


@pytest.mark.parametrize(
    ("name", "shape"),
    [("gate check", GATE_CHECK), ("pr list", PR_LIST), ("plan", PLAN), ("promote", PROMOTE),
     ("build", BUILD), ("error", ERROR)],
)  # fmt: skip
def test_docs_promote_names_every_key_the_workflows_read(name: str, shape: object) -> None:
    text = section("docs/promote.md", "## JSON the workflows read")
    missing = [k for k in key_paths(shape) if f"`{k}`" not in text]
    assert not missing, f"docs/promote.md does not name these {name} keys: {missing}"


def test_docs_verify_names_every_key_verify_yml_reads() -> None:
    text = section("docs/verify.md", "### The keys `verify.yml` reads")
    missing = [k for k in key_paths(VERIFY) if f"`{k}`" not in text]
    assert not missing, missing


def test_key_paths_walk_nested_and_array_shapes() -> None:
    assert key_paths(PR_LIST) == ["pull_requests", "pull_requests[].number", "pull_requests[].head"]
    assert "verdict.approvals.required" in key_paths(GATE_CHECK)
