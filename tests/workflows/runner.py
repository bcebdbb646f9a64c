"""Run a reusable workflow's job the way a GitHub runner does, as far as `run:` steps go.

Every `run:` step is executed with bash (the shell the workflow names, else GitHub's default `bash -e`), with
real `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH` and `GITHUB_STEP_SUMMARY` files, the workflow's, job's and
step's `env:` evaluated, and `if:` conditions decided. `uses:` steps are not run (no Node actions here); the
test prepares what they would have left behind (a checkout, a Python) and the runner records whether they
would have run. The expression evaluator covers only what GitHub's expression language offers that the
workflows use: contexts (`inputs`, `secrets`, `github`, `steps`, `env`, `jobs`), literals, `== != ! && ||`,
parentheses, and `always() success() failure() cancelled() hashFiles()`. Anything else raises, so a workflow
that starts using more fails here rather than being evaluated wrongly.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[!<>(),])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_*][A-Za-z0-9_-]*)*))"
)
STATUS_FUNCTIONS = ("always", "success", "failure", "cancelled")


class ExpressionError(Exception):
    pass


def load_workflow(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the bare key `on` as True
        data["on"] = data.pop(True)
    return data


def to_string(value: Any) -> str:
    """How GitHub turns a value into text (env values, `${{ }}` inside a string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, "")


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        try:
            return float(int(text, 0)) if text.lower().startswith(("0x", "0o")) else float(text)
        except ValueError:
            return math.nan
    return math.nan


def loose_equal(left: Any, right: Any) -> bool:
    """GitHub's `==`: strings compare case-insensitively; mixed types are compared as numbers."""
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) and not isinstance(left, str | int | float | bool | type(None)):
        return left is right
    a, b = _number(left), _number(right)
    return not (math.isnan(a) or math.isnan(b)) and a == b


class Evaluator:
    """A recursive-descent evaluator over one expression's tokens."""

    def __init__(self, text: str, contexts: Mapping[str, Any], functions: Mapping[str, Any]) -> None:
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.contexts = contexts
        self.functions = functions
        self.text = text

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        while pos < len(text.rstrip()):
            match = TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise ExpressionError(f"cannot read expression {text!r} at {pos}")
            kind = match.lastgroup
            assert kind is not None
            tokens.append((kind, match.group(kind)))
            pos = match.end()
        return tokens

    def evaluate(self) -> Any:
        value = self._or()
        if self.pos != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.pos][1]!r} in {self.text!r}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise ExpressionError(f"expression ends early: {self.text!r}")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r}, found {token[1]!r} in {self.text!r}")
        self.pos += 1
        return token

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            value = right if truthy(value) else value
        return value

    def _compare(self) -> Any:
        value = self._unary()
        while self._peek() in ("==", "!="):
            op = self._take()[1]
            equal = loose_equal(value, self._unary())
            value = equal if op == "==" else not equal
        return value

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            value = self._or()
            self._take(")")
            return value
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "number":
            return float(text)
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r} in {self.text!r}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self._peek() == "(":
            return self._call(text)
        return self._lookup(text)

    def _call(self, name: str) -> Any:
        if name not in self.functions:
            raise ExpressionError(f"function {name}() is not supported by the test runner")
        self._take("(")
        args = []
        while self._peek() != ")":
            args.append(self._or())
            if self._peek() == ",":
                self._take()
        self._take(")")
        return self.functions[name](*args)

    def _lookup(self, path: str) -> Any:
        root, *rest = path.split(".")
        if root not in self.contexts:
            raise ExpressionError(f"unknown context {root!r} in {self.text!r}")
        value = self.contexts[root]
        for index, part in enumerate(rest):
            if isinstance(value, Strict):
                value = value.get(part, where=".".join([root, *rest[: index + 1]]))
            elif isinstance(value, Mapping):
                value = value.get(part)
            else:
                return None
        return value.data if isinstance(value, Strict) else value


@dataclass
class Strict:
    """A context whose keys are all declared (inputs, secrets, step ids): an unknown key is a typo."""

    data: dict[str, Any]
    what: str

    def get(self, key: str, *, where: str) -> Any:
        if key not in self.data:
            raise ExpressionError(f"{where}: no such {self.what} (known: {', '.join(sorted(self.data))})")
        return self.data[key]


def evaluate(text: str, contexts: Mapping[str, Any], functions: Mapping[str, Any]) -> Any:
    return Evaluator(text, contexts, functions).evaluate()


def substitute(value: Any, contexts: Mapping[str, Any], functions: Mapping[str, Any]) -> str:
    """A workflow string with every `${{ … }}` replaced by its value as text."""
    text = to_string(value)
    return EXPRESSION.sub(lambda m: to_string(evaluate(m.group(1), contexts, functions)), text)


def condition(text: Any, contexts: Mapping[str, Any], functions: Mapping[str, Any]) -> bool:
    """A step's `if:`; without a status function GitHub reads it as `success() && (…)`."""
    if text is None:
        return bool(functions["success"]())
    source = to_string(text).strip()
    match = re.fullmatch(r"\$\{\{(.*)\}\}", source, re.DOTALL)
    source = match.group(1) if match else source
    if not any(re.search(rf"\b{f}\s*\(", source) for f in STATUS_FUNCTIONS):
        source = f"success() && ({source})"
    return truthy(evaluate(source, contexts, functions))


def parse_file_commands(text: str) -> dict[str, str]:
    """`name=value` lines and `name<<DELIM … DELIM` blocks, as GITHUB_OUTPUT and GITHUB_ENV hold them."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            while lines[index] != delimiter:
                block.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(block)
        else:
            if "=" not in line:
                raise ValueError(f"malformed file command line: {line!r}")
            name, value = line.split("=", 1)
            values[name] = value
    return values


@dataclass
class StepResult:
    id: str | None
    name: str
    outcome: str  # success, failure, skipped, or "would run" for a `uses:` step
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""

    @property
    def errors(self) -> list[str]:
        """The `::error::` annotations the step printed."""
        return [line.split("::", 2)[2] for line in self.stdout.splitlines() if line.startswith("::error")]


@dataclass
class JobRun:
    steps: list[StepResult]
    outputs: dict[str, str]
    summary: str
    failed: bool
    workspace: Path
    documents: list[str] = field(default_factory=list)  # the --json files checked against the contract

    def step(self, name: str) -> StepResult:
        found = [s for s in self.steps if s.name == name or s.id == name]
        assert found, f"no step {name!r} (steps: {[s.name for s in self.steps]})"
        return found[0]

    @property
    def text(self) -> str:
        """Everything the job printed (to check that no secret reached the log)."""
        return "\n".join(s.stdout + s.stderr + s.summary for s in self.steps)


@dataclass
class Runner:
    """One job of one workflow, run in `workspace` (prepared as the job's `uses:` steps would leave it)."""

    workflow: Path
    workspace: Path
    runner_temp: Path
    path: list[str]  # PATH of the runner (the tool, git, jq, bash)
    github: dict[str, Any]
    base_env: dict[str, str] = field(default_factory=dict)
    timeout: float = 300.0

    def run(
        self,
        *,
        inputs: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        job: str | None = None,
    ) -> JobRun:
        workflow = load_workflow(self.workflow)
        call = workflow["on"]["workflow_call"]
        name, spec = self._job(workflow, job)
        contexts: dict[str, Any] = {
            "inputs": Strict(self._inputs(call.get("inputs") or {}, inputs or {}), "input"),
            "secrets": Strict(self._secrets(call.get("secrets") or {}, secrets or {}), "secret"),
            "github": self.github,
            "runner": {"temp": str(self.runner_temp), "os": "Linux"},
            "env": {},
        }
        step_ids = {s["id"]: {"outputs": {}, "outcome": None} for s in spec["steps"] if "id" in s}
        contexts["steps"] = Strict(step_ids, "step id")
        state = _JobState(self.workspace, self.path)
        functions = state.functions()
        env = {k: substitute(v, contexts, functions) for k, v in (workflow.get("env") or {}).items()}
        contexts["env"] = dict(env)
        env.update({k: substitute(v, contexts, functions) for k, v in (spec.get("env") or {}).items()})
        shell = ((spec.get("defaults") or workflow.get("defaults") or {}).get("run") or {}).get("shell")
        results = []
        for index, step in enumerate(spec["steps"]):
            results.append(self._step(index, step, env, shell, contexts, functions, state))
        outputs = {k: substitute(v, contexts, functions) for k, v in (spec.get("outputs") or {}).items()}
        contexts["jobs"] = {name: {"outputs": outputs, "result": "failure" if state.failed else "success"}}
        call_outputs = {
            k: substitute(v["value"], contexts, functions) for k, v in (call.get("outputs") or {}).items()
        }
        return JobRun(results, call_outputs, state.summary, state.failed, self.workspace)

    @staticmethod
    def _job(workflow: dict[str, Any], job: str | None) -> tuple[str, dict[str, Any]]:
        jobs = workflow["jobs"]
        if job is None:
            (job,) = jobs  # the reusable workflows have one job
        return job, jobs[job]

    @staticmethod
    def _inputs(declared: dict[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(given) - set(declared)
        assert not unknown, f"inputs not declared by the workflow: {unknown}"
        values = {}
        for key, spec in declared.items():
            if spec.get("required") and key not in given:
                raise AssertionError(f"required input {key!r} not given")
            values[key] = given.get(key, spec.get("default", "" if spec.get("type") == "string" else None))
        return values

    @staticmethod
    def _secrets(declared: dict[str, Any], given: Mapping[str, str]) -> dict[str, str]:
        unknown = set(given) - set(declared)
        assert not unknown, f"secrets not declared by the workflow: {unknown}"
        for key, spec in declared.items():
            if (spec or {}).get("required") and key not in given:
                raise AssertionError(f"required secret {key!r} not given")
        return {key: given.get(key, "") for key in declared}

    def _step(
        self,
        index: int,
        step: dict[str, Any],
        job_env: dict[str, str],
        shell: str | None,
        contexts: dict[str, Any],
        functions: Mapping[str, Any],
        state: _JobState,
    ) -> StepResult:
        step_env = dict(job_env)
        contexts["env"] = {**state.env, **job_env}
        step_env.update({k: substitute(v, contexts, functions) for k, v in (step.get("env") or {}).items()})
        contexts["env"] = {**state.env, **step_env}
        name = substitute(step.get("name") or step.get("uses") or f"step {index}", contexts, functions)
        result = StepResult(step.get("id"), name, "skipped")
        if condition(step.get("if"), contexts, functions):
            if "uses" in step:
                result.outcome = "would run"
            else:
                self._execute(step, step_env, step.get("shell") or shell, state, result, index)
        if result.id:
            contexts["steps"].data[result.id] = {
                "outputs": result.outputs,
                "outcome": result.outcome,
                "conclusion": result.outcome,
            }
        return result

    def _execute(
        self,
        step: dict[str, Any],
        step_env: dict[str, str],
        shell: str | None,
        state: _JobState,
        result: StepResult,
        index: int,
    ) -> None:
        files = self.runner_temp / "_runner_file_commands" / f"step-{index}"
        files.mkdir(parents=True, exist_ok=True)
        paths = {kind: files / kind.lower() for kind in ("OUTPUT", "ENV", "PATH", "STEP_SUMMARY")}
        for path in paths.values():
            path.write_text("")
        script = files / "script.sh"
        script.write_text(step["run"])
        env = {
            **self.base_env,
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": str(self.runner_temp),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTOR": str(self.github.get("actor", "")),
            "GITHUB_REPOSITORY": str(self.github.get("repository", "")),
            "GITHUB_SHA": str(self.github.get("sha", "")),
            "GITHUB_API_URL": str(self.github.get("api_url", "")),
            **{f"GITHUB_{kind}": str(path) for kind, path in paths.items()},
            **state.env,
            **step_env,
            "PATH": ":".join([*state.extra_path, *self.path]),
        }
        command = ["bash", "--noprofile", "--norc", "-eo", "pipefail"] if shell == "bash" else ["bash", "-e"]
        cwd = self.workspace / step.get("working-directory", ".")
        proc = subprocess.run(
            [*command, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=self.timeout
        )
        result.exit_code = proc.returncode
        result.stdout, result.stderr = proc.stdout, proc.stderr
        result.outputs = parse_file_commands(paths["OUTPUT"].read_text())
        state.env.update(parse_file_commands(paths["ENV"].read_text()))
        state.extra_path[:0] = [p for p in reversed(paths["PATH"].read_text().splitlines()) if p.strip()]
        result.summary = paths["STEP_SUMMARY"].read_text()
        state.summary += result.summary
        if proc.returncode == 0:
            result.outcome = "success"
        elif step.get("continue-on-error"):
            result.outcome = "failure"
        else:
            result.outcome = "failure"
            state.failed = True


@dataclass
class _JobState:
    workspace: Path
    path: list[str]
    env: dict[str, str] = field(default_factory=dict)
    extra_path: list[str] = field(default_factory=list)
    summary: str = ""
    failed: bool = False

    def functions(self) -> dict[str, Any]:
        return {
            "always": lambda: True,
            "success": lambda: not self.failed,
            "failure": lambda: self.failed,
            "cancelled": lambda: False,
            "hashFiles": self.hash_files,
        }

    def hash_files(self, *patterns: str) -> str:
        matched = sorted({p for pattern in patterns for p in self.workspace.glob(pattern) if p.is_file()})
        if not matched:
            return ""
        digest = hashlib.sha256()
        for path in matched:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()


def runner_env() -> dict[str, str]:
    """What a runner's environment shares with this test process: the fenced $HOME and git settings."""
    keep = ("HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "GIT_TERMINAL_PROMPT")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["LANG"] = "C.UTF-8"
    return env
