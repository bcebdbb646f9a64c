"""gitops/cli/main.py: the one handler between a verb and the user: every way a verb can end becomes an exit
code and (with --json) one JSON document, redacted, never a traceback unless ODOO_GITOPS_DEBUG asks for one.
The verdict and GitopsError paths are in tests/test_errors.py, the lazy verb table in test_lazy_verbs.py."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import click
import pytest

from gitops import __version__
from gitops.cli.main import cli, main
from gitops.errors import EXIT_EXTERNAL, EXIT_USAGE
from gitops.redact import register_secret

SECRET = "main-handler-s3cr3t-value"


@pytest.fixture
def verb() -> Iterator[Callable[[Callable[[], object]], None]]:
    """Install a throwaway verb `t-verb [--json] [--count N]` whose body is the given function."""
    added: list[str] = []

    def install(body: Callable[[], object]) -> None:
        @click.command("t-verb")
        @click.option("--json", "as_json", is_flag=True)
        @click.option("--count", type=int, default=1)
        def command(as_json: bool, count: int) -> object:
            return body()

        cli.add_command(command)
        added.append("t-verb")

    yield install
    for name in added:
        cli.commands.pop(name, None)


def test_an_unexpected_exception_is_exit_1_with_a_redacted_line_and_no_traceback(
    verb: Callable[[Callable[[], object]], None], capsys: pytest.CaptureFixture[str]
) -> None:
    register_secret(SECRET)

    def body() -> None:
        raise RuntimeError(f"connection string had {SECRET}")

    verb(body)
    assert main(["t-verb", "--json"]) == EXIT_EXTERNAL
    out = capsys.readouterr()
    document = json.loads(out.out)
    assert document["error"] == "internal"
    assert document["message"].startswith("internal error: RuntimeError: connection string had ")
    assert SECRET not in out.out + out.err
    assert "Traceback" not in out.err
    assert out.err.rstrip().endswith("(set ODOO_GITOPS_DEBUG=1 for a traceback)")


def test_debug_shows_the_traceback_redacted(
    verb: Callable[[Callable[[], object]], None],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register_secret(SECRET)

    def body() -> None:
        raise KeyError(SECRET)

    verb(body)
    monkeypatch.setenv("ODOO_GITOPS_DEBUG", "1")
    assert main(["t-verb"]) == EXIT_EXTERNAL
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last)")
    assert "KeyError" in err
    assert SECRET not in err


def test_a_bad_option_is_a_usage_error_as_one_json_document(
    verb: Callable[[Callable[[], object]], None], capsys: pytest.CaptureFixture[str]
) -> None:
    verb(lambda: None)
    assert main(["t-verb", "--json", "--count", "many"]) == EXIT_USAGE
    out = capsys.readouterr()
    document = json.loads(out.out)  # exactly one JSON document
    assert document["error"] == "usage"
    assert "'many' is not a valid integer" in document["message"]
    assert out.err.startswith("error: ")
    assert main(["t-verb", "--count", "many"]) == EXIT_USAGE
    human = capsys.readouterr()
    assert human.out == ""  # without --json, nothing on stdout


def test_an_interrupt_in_a_verb_is_130_and_said(
    verb: Callable[[Callable[[], object]], None], capsys: pytest.CaptureFixture[str]
) -> None:
    def body() -> None:
        raise KeyboardInterrupt

    verb(body)
    assert main(["t-verb"]) == 130  # click turns it into an abort
    assert capsys.readouterr().err.strip() == "aborted"


def test_a_verbs_own_exit_code_and_a_success_pass_through(
    verb: Callable[[Callable[[], object]], None], capsys: pytest.CaptureFixture[str]
) -> None:
    def exits() -> None:
        click.get_current_context().exit(4)

    verb(exits)
    assert main(["t-verb"]) == 4
    cli.commands.pop("t-verb")
    verb(lambda: "done")
    assert main(["t-verb"]) == 0


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"odoo-gitops, version {__version__}\n"
    assert main(["-h"]) == 0
    assert "Commands:" in capsys.readouterr().out


def test_library_warnings_are_redacted_before_any_handler_writes_them(
    verb: Callable[[Callable[[], object]], None], caplog: pytest.LogCaptureFixture
) -> None:
    register_secret(SECRET)

    def body() -> None:
        logging.getLogger("urllib3.connectionpool").warning("retrying https://x:%s@host/", SECRET)

    verb(body)
    assert main(["t-verb"]) == 0
    (record,) = [r for r in caplog.records if r.name == "urllib3.connectionpool"]
    assert record.getMessage().startswith("retrying https://")
    assert SECRET not in record.getMessage()
