"""gitops/errors.py: every error type maps to its exit code in one table, and the one handler
(gitops/cli/main.py) prints a verdict's report exactly as the verb prints a success."""

from __future__ import annotations

import json
from collections.abc import Iterator

import click
import pytest

from gitops.cli.main import cli, main
from gitops.errors import (
    EXIT_CODES,
    EXIT_EXTERNAL,
    EXIT_POLICY,
    EXIT_USAGE,
    EXIT_VERIFY,
    ConfigError,
    ExternalError,
    GitopsError,
    PolicyError,
    Problem,
    Report,
    UsageError,
    VerificationError,
    exit_code_of,
    register_secret,
)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (GitopsError("x"), EXIT_EXTERNAL),
        (ExternalError("registry down"), EXIT_EXTERNAL),
        (UsageError("--at: bad date"), EXIT_USAGE),
        (ConfigError([Problem("envs/prod/env.yaml", 3, "bad")]), EXIT_USAGE),
        (PolicyError("window closed", reasons=["closed"]), EXIT_POLICY),
        (VerificationError("not reconciled"), EXIT_VERIFY),
        (RuntimeError("boom"), EXIT_EXTERNAL),  # not ours: reported as an outside failure
    ],
)
def test_each_error_type_maps_to_its_exit_code(error: BaseException, code: int) -> None:
    assert exit_code_of(error) == code
    if isinstance(error, GitopsError):
        assert error.exit_code == code


def test_the_table_holds_every_code_of_the_design_but_success() -> None:
    assert sorted(set(EXIT_CODES.values())) == [EXIT_EXTERNAL, EXIT_USAGE, EXIT_POLICY, EXIT_VERIFY]


def test_a_listed_subclass_overrides_its_base(monkeypatch: pytest.MonkeyPatch) -> None:
    class Special(PolicyError):
        pass

    assert exit_code_of(Special("no")) == EXIT_POLICY
    monkeypatch.setitem(EXIT_CODES, Special, EXIT_VERIFY)
    assert exit_code_of(Special("no")) == EXIT_VERIFY


def test_report_text_is_lazy_or_plain() -> None:
    calls: list[int] = []

    def render() -> str:
        calls.append(1)
        return "rendered"

    lazy = Report(data={}, text=render)
    assert calls == []
    assert lazy.human() == "rendered"
    assert Report(data={}, text="plain").human() == "plain"
    assert Report(data={}).human() == ""


@pytest.fixture
def verdict_verb() -> Iterator[None]:
    """A verb that prints its result when `--ok`, else raises the verdict with the same report."""

    @click.command("test-verdict")
    @click.option("--ok", is_flag=True)
    @click.option("--kind", default="policy")
    @click.option("--json", "as_json", is_flag=True)
    def command(ok: bool, kind: str, as_json: bool) -> None:
        from gitops.cli.options import print_report

        report = Report(data={"state": "open" if ok else "closed"}, text="state: x")
        if not ok:
            error = PolicyError if kind == "policy" else VerificationError
            raise error("said no", report=report)
        print_report(report, as_json=as_json)

    cli.add_command(command)
    yield
    cli.commands.pop("test-verdict")


@pytest.mark.usefixtures("verdict_verb")
@pytest.mark.parametrize(("kind", "code"), [("policy", EXIT_POLICY), ("verification", EXIT_VERIFY)])
def test_a_verdict_prints_its_report_like_a_success_and_exits_with_its_code(
    capsys: pytest.CaptureFixture[str], kind: str, code: int
) -> None:
    assert main(["test-verdict", "--ok", "--json"]) == 0
    success = capsys.readouterr()
    assert main(["test-verdict", "--kind", kind, "--json"]) == code
    refused = capsys.readouterr()
    assert json.loads(refused.out) == {**json.loads(success.out), "state": "closed"}
    assert refused.err == success.err == ""  # a verdict is a result, not an error line

    assert main(["test-verdict", "--kind", kind]) == code
    human = capsys.readouterr()
    assert (human.out, human.err) == ("state: x\n", "")


def test_an_error_without_report_is_an_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    @click.command("test-refuse")
    @click.option("--json", "as_json", is_flag=True)
    def command(as_json: bool) -> None:
        raise PolicyError("cannot promote", reasons=["window closed"])

    cli.add_command(command)
    try:
        assert main(["test-refuse", "--json"]) == EXIT_POLICY
    finally:
        cli.commands.pop("test-refuse")
    out = capsys.readouterr()
    assert json.loads(out.out) == {
        "error": "policy",
        "message": "cannot promote\n  - window closed",
        "reasons": ["window closed"],
    }
    assert out.err.startswith("error: cannot promote")


def test_a_verdicts_report_is_redacted_like_any_output(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "verdict-s3cr3t-token-value"
    register_secret(secret)

    @click.command("test-leak")
    @click.option("--json", "as_json", is_flag=True)
    def command(as_json: bool) -> None:
        report = Report(data={"detail": f"token {secret}"}, text=f"token {secret}")
        raise PolicyError(f"refused with {secret}", report=report)

    cli.add_command(command)
    try:
        assert main(["test-leak", "--json"]) == EXIT_POLICY
        assert main(["test-leak"]) == EXIT_POLICY
    finally:
        cli.commands.pop("test-leak")
    out = capsys.readouterr()
    assert secret not in out.out + out.err
    assert "token" in out.out
