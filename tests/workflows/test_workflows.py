"""The GitHub Actions workflows: schema-valid, least privilege, and calling only CLI commands that exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from gitops.cli.main import cli
from tests.fixtures.components import REPO, find_binary

WORKFLOWS = REPO / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
REUSABLE = ("release.yml", "promote.yml", "gate.yml", "verify.yml")
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
COMMAND_START = re.compile(r"(?:^|;|&&|\|\||\||\$\(|\bthen\b|\bdo\b)[ \t]*odoo-gitops[ \t]+", re.MULTILINE)
COMMAND_END = re.compile(r"\s(?:>|\||;|&&|\|\|)|\n")
WRITE_SCOPES_ALLOWED = {
    "release.yml": {"packages", "security-events"},
    "promote.yml": {"contents", "pull-requests", "statuses"},  # + the pending gate status
    "gate.yml": {"statuses", "contents", "pull-requests"},  # audit push, post-review comment
    "verify.yml": {"contents"},
    "ci.yml": set(),
    "release-tool.yml": {"packages"},
    "board.yml": {"pages", "id-token"},  # the deploy job only: publish to GitHub Pages
}
# Tag-triggered workflows of this repository (not reusable) name the secrets they may read.
TRIGGERED_SECRETS = {"release-tool.yml": {"GITHUB_TOKEN", "TOOL_SIGNING_KEY", "TOOL_SIGNING_KEY_PASSWORD"}}


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def strings_in(node: Any) -> Iterator[str]:
    """Every string value in a loaded workflow (comments, e.g. usage examples, are not part of it)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings_in(value)


def run_steps(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_name, job in load(path)["jobs"].items():
        for index, step in enumerate(job.get("steps", [])):
            if "run" in step:
                yield f"{job_name}/{step.get('name', index)}", step


@dataclass(frozen=True)
class Invocation:
    """One `odoo-gitops …` command line found in a workflow's `run:` script."""

    workflow: str
    step: str
    words: tuple[str, ...]  # leading bare words: verb (and sub-verb)
    options: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.workflow}:{' '.join(self.words[:2])}"


def invocations_in(script: str, workflow: str, step: str) -> Iterator[Invocation]:
    """`odoo-gitops` in command position (line start, after ; && || | $( then do), not inside echo text."""
    text = EXPRESSION.sub("EXPR", script.replace("\\\n", " "))
    for match in COMMAND_START.finditer(text):
        rest = text[match.end() :]
        end = COMMAND_END.search(rest)
        command = rest[: end.start()] if end else rest
        words = []
        for word in command.split():
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            words.append(word)
        yield Invocation(workflow, step, tuple(words), tuple(OPTION.findall(command)))


def all_invocations() -> list[Invocation]:
    found = []
    for path in WORKFLOW_FILES:
        for step_id, step in run_steps(path):
            found.extend(invocations_in(step["run"], path.name, step_id))
    return found


INVOCATIONS = all_invocations()


def resolve(words: tuple[str, ...]) -> tuple[click.Command | None, list[str]]:
    """The click command the words name (verb, or group + sub-verb), and the words it consumed."""
    command: click.Command = cli
    used: list[str] = []
    ctx = click.Context(cli)
    for word in words:
        if not isinstance(command, click.Group):
            break
        sub = command.get_command(ctx, word)
        if sub is None:
            return None, [*used, word]
        command, used = sub, [*used, word]
    if not words:  # `odoo-gitops --version`: an option of the group itself
        return cli, used
    return (command if used else None), used


def options_of(command: click.Command) -> set[str]:
    names: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(o for o in [*param.opts, *param.secondary_opts] if o.startswith("--"))
    return names


def test_every_workflow_file_is_here() -> None:
    assert {p.name for p in WORKFLOW_FILES} >= {"ci.yml", *REUSABLE}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_workflow_validates_against_the_github_workflow_schema(path: Path) -> None:
    checker = find_binary("check-jsonschema", Path(sys.executable).parent)
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  build:\n    steps: [{run: make}]\n")  # no runs-on
    checker = find_binary("check-jsonschema", Path(sys.executable).parent)
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0


@pytest.mark.parametrize("name", REUSABLE)
def test_reusable_workflows_are_called_with_inputs_secrets_and_outputs(name: str) -> None:
    trigger = load(WORKFLOWS / name)["on"]
    assert set(trigger) == {"workflow_call"}, "reusable workflows are only called, never triggered directly"
    call = trigger["workflow_call"]
    assert call.get("inputs"), name
    assert call.get("outputs"), name
    for output in call["outputs"].values():
        assert output["value"].startswith("${{ jobs."), output


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_permissions_are_least_privilege(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {"contents": "read"}, "top level: read-only by default"
    granted: set[str] = set()
    for job in workflow["jobs"].values():
        permissions = job.get("permissions", {})
        assert isinstance(permissions, dict), "never write-all / read-all"
        granted |= {scope for scope, level in permissions.items() if level == "write"}
    assert granted == WRITE_SCOPES_ALLOWED[path.name]


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_secrets_only_through_declared_secrets_and_never_inline_in_scripts(path: Path) -> None:
    workflow = load(path)
    declared = set((workflow["on"].get("workflow_call") or {}).get("secrets") or {})
    declared |= TRIGGERED_SECRETS.get(path.name, set())
    used = {name for text in strings_in(workflow) for name in re.findall(r"secrets\.([A-Za-z0-9_-]+)", text)}
    assert used <= declared, f"secrets used but not declared under workflow_call.secrets: {used - declared}"
    for step_id, step in run_steps(path):
        # Expressions in a script are template injection; values reach scripts through env: only.
        assert not EXPRESSION.search(step["run"]), f"{path.name} {step_id}: ${{{{ }}}} inside run:"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_workflow_writes_a_job_summary(path: Path) -> None:
    assert "$GITHUB_STEP_SUMMARY" in path.read_text()


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_run_scripts_pass_shellcheck(path: Path) -> None:
    shellcheck = find_binary("shellcheck", Path(sys.executable).parent)
    for step_id, step in run_steps(path):
        script = "set -eo pipefail\n" + EXPRESSION.sub("EXPR", step["run"])
        result = subprocess.run(
            [shellcheck, "--shell=bash", "-"], input=script, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, f"{path.name} {step_id}:\n{result.stdout}"


def test_workflows_call_the_commands_the_issues_name() -> None:
    called = {" ".join(i.words[:2]) if i.words[0] == "gate" else i.words[0] for i in INVOCATIONS if i.words}
    assert {"build", "sign", "scan", "plan", "promote", "gate check", "verify"} <= called


def test_the_invocation_parser_reads_continuations_and_conditional_options() -> None:
    script = 'odoo-gitops promote "$A" "$B" --forge github \\\n  ${T:+--tenants "$T"} --json > out.json\n'
    (found,) = invocations_in(script, "x.yml", "s")
    assert found.words == ("promote",)
    assert found.options == ("--forge", "--tenants", "--json")


def test_the_cli_check_catches_an_unknown_option() -> None:
    command, _ = resolve(("plan",))
    assert command is not None
    assert "--config-repo" in options_of(command)
    assert "--no-such-option" not in options_of(command)


def _missing_verbs() -> list[str]:
    missing = set()
    for invocation in INVOCATIONS:
        command, used = resolve(invocation.words)
        if command is None:
            missing.add(" ".join(used))
    return sorted(missing)


@pytest.mark.parametrize("invocation", INVOCATIONS, ids=lambda i: i.id)
def test_workflow_commands_exist_in_the_cli_with_those_options(invocation: Invocation) -> None:
    command, used = resolve(invocation.words)
    if command is None:
        pytest.fail(
            f"{invocation.workflow} ({invocation.step}) calls `odoo-gitops {' '.join(used)}`, which is not "
            "in gitops.cli.main.cli. Verbs the workflows need and the CLI lacks: "
            + ", ".join(_missing_verbs()),
            pytrace=False,
        )
    unknown = sorted(set(invocation.options) - options_of(command))
    assert not unknown, (
        f"{invocation.workflow} ({invocation.step}): `odoo-gitops {' '.join(used)}` has no option(s) "
        f"{', '.join(unknown)}; it has {', '.join(sorted(options_of(command)))}"
    )


USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+?)(?:\s+#\s*(?P<comment>.*))?$", re.MULTILINE)


def uses_lines(path: Path) -> list[re.Match[str]]:
    return [m for m in USES.finditer(path.read_text()) if not m.group(0).lstrip().startswith("#")]


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_tag_in_a_comment(path: Path) -> None:
    found = uses_lines(path)
    assert found, f"{path.name} uses no action?"
    for match in found:
        action, _, ref = match.group("ref").partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{path.name}: {action}@{ref} is not a commit SHA"
        assert re.fullmatch(r"v\d+\.\d+\.\d+", match.group("comment") or ""), (
            f"{path.name}: {action}@{ref} needs its release tag in a comment (# vX.Y.Z)"
        )


def test_the_pin_check_reads_a_tag_pin_as_unpinned() -> None:
    text = "steps:\n  - uses: actions/checkout@v7\n  # - uses: not/this@v1\n"
    [match] = [m for m in USES.finditer(text) if not m.group(0).lstrip().startswith("#")]
    assert match.group("ref") == "actions/checkout@v7"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_checkouts_keep_no_credentials(path: Path) -> None:
    for job in load(path)["jobs"].values():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, step


def _linter(name: str) -> str:
    return find_binary(name, Path(sys.executable).parent)


def _lint(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_zizmor_reports_no_finding_above_informational() -> None:
    result = _lint([_linter("zizmor"), "--offline", "--min-severity", "low", ".github/workflows"], REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_nothing() -> None:
    result = _lint([_linter("actionlint")], REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_both_linters_catch_a_risky_workflow(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: pull_request_target\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    zizmor = _lint([_linter("zizmor"), "--offline", "--min-severity", "low", ".github/workflows"], tmp_path)
    assert zizmor.returncode != 0
    assert "unpinned-uses" in zizmor.stdout and "template-injection" in zizmor.stdout
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # actionlint looks for the repo root
    actionlint = _lint([_linter("actionlint"), "-no-color"], tmp_path)
    assert actionlint.returncode != 0 and "github.event.pull_request.title" in actionlint.stdout
    assert 'runtime "node20" is deprecated' in actionlint.stdout  # actions/checkout@v4
