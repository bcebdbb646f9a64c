"""gitops/cli/options.py: the one way a verb prints: one JSON document on stdout with --json (every string in
it redacted, the project's value types serialised), human text otherwise, progress on stderr."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path

import pytest

from gitops.cli.options import emit, info, print_report, to_json
from gitops.config.models import ApprovalRule
from gitops.errors import Report
from gitops.redact import register_secret

SECRET = "options-s3cr3t-value"


class Colour(Enum):
    RED = "red"


def test_the_projects_values_become_one_json_document() -> None:
    data = {
        "at": datetime(2026, 12, 8, 18, 30, tzinfo=UTC), "day": date(2026, 12, 8), "path": Path("/tmp/x"),
        "colour": Colour.RED, "pair": ("a", "b"), "rule": ApprovalRule(count=2, **{"from": ("cab",)}),
        "text": "é",
    }  # fmt: skip
    parsed = json.loads(to_json(data))
    assert parsed.pop("rule")["count"] == 2  # a pydantic model: its JSON dump
    assert parsed == {
        "at": "2026-12-08T18:30:00+00:00", "day": "2026-12-08", "path": "/tmp/x", "colour": "red",
        "pair": ["a", "b"], "text": "é",
    }  # fmt: skip
    assert "é" in to_json(data)  # not escaped
    with pytest.raises(TypeError, match="cannot serialise object"):
        to_json({"x": object()})


def test_sets_are_written_sorted_so_the_same_facts_give_the_same_json() -> None:
    names = {"zeta", "alpha", "mu", "beta", "omega", "kappa"}
    assert json.loads(to_json({"envs": names, "frozen": frozenset({3, 1, 2})})) == {
        "envs": ["alpha", "beta", "kappa", "mu", "omega", "zeta"], "frozen": [1, 2, 3],
    }  # fmt: skip


def test_every_string_in_the_document_is_redacted_keys_and_nesting_included() -> None:
    register_secret(SECRET)
    document = to_json({"message": f"token {SECRET}", "nested": [{"url": f"https://u:{SECRET}@h/"}]})
    assert SECRET not in document
    assert json.loads(document)["message"].startswith("token ")


def test_json_goes_to_stdout_text_to_stdout_without_it_and_progress_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    register_secret(SECRET)
    report = Report(data={"state": "open", "why": SECRET}, text=f"state: open ({SECRET})")
    print_report(report, as_json=True)
    out = capsys.readouterr()
    assert json.loads(out.out)["state"] == "open" and out.err == ""
    assert SECRET not in out.out
    print_report(report, as_json=False)
    out = capsys.readouterr()
    assert out.out.startswith("state: open (") and SECRET not in out.out
    emit({"n": 1}, as_json=False, human="")
    assert capsys.readouterr().out == ""  # nothing to say: nothing printed
    emit({"n": 1}, as_json=True, human=lambda: "unused")
    assert json.loads(capsys.readouterr().out) == {"n": 1}
    info(f"cloning with {SECRET}")
    out = capsys.readouterr()
    assert out.out == "" and out.err.startswith("cloning with ") and SECRET not in out.err
