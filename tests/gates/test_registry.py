"""The gate registry is the one list of gates: a stage's `gates:` is checked against it (config/ cannot import
it), so adding a gate is one module plus one registry line, and a typo is an error naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.config.loader import load_config
from gitops.errors import ConfigError
from gitops.gates import registry
from gitops.gates.evidence import Gate, GateResult
from tests.fixtures.configrepo import copy_examples


def _repo_with_prod_gates(tmp_path: Path, gates: str) -> Path:
    root = copy_examples(tmp_path / "config")
    pipeline = root / "pipelines" / "odoo.yaml"
    text = pipeline.read_text()
    prod = text.index("  - env: prod")
    head, tail = text[:prod], text[prod:]
    pipeline.write_text(head + tail.replace("gates: [window, approvals, scan, signature]", f"gates: {gates}"))
    return root


def test_a_stage_lists_only_registered_gates_in_its_order(tmp_path: Path) -> None:
    repo = load_config(_repo_with_prod_gates(tmp_path, "[signature, window]"))
    assert registry.stage_gates(repo, "prod") == ("signature", "window")
    assert registry.stage_gates(repo, "staging") == ("window", "approvals", "scan", "signature")


def test_an_unknown_gate_is_a_config_error_naming_the_pipeline_file_and_line(tmp_path: Path) -> None:
    root = _repo_with_prod_gates(tmp_path, "[window, aprovals]")
    repo = load_config(root)  # the loader cannot know the registry: the stage's reader checks it
    with pytest.raises(ConfigError) as caught:
        registry.stage_gates(repo, "prod")
    lines = (root / "pipelines" / "odoo.yaml").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "aprovals" in text)
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == ("pipelines/odoo.yaml", line)
    assert "'aprovals'" in problem.message and "approvals" in problem.message.split("known:")[1]
    assert caught.value.exit_code == 2


def test_a_gate_added_by_one_registry_line_is_accepted_and_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def evaluate(evidence: object) -> GateResult:
        return GateResult(name="four-eyes", state="failure", reasons=("needs a second pair of eyes",))

    fake = Gate(name="four-eyes", phases=frozenset({"promote", "merge"}), evaluate=evaluate)
    monkeypatch.setitem(registry.GATES, fake.name, fake)  # the one registry line
    repo = load_config(_repo_with_prod_gates(tmp_path, "[window, four-eyes]"))
    assert registry.stage_gates(repo, "prod") == ("window", "four-eyes")
    assert registry.applies(("four-eyes",), "merge") == ["four-eyes"]
