"""Entry point: the command group and the single error handler that maps errors to exit codes."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence

import click

from gitops import __version__
from gitops.cli.options import print_report, to_json
from gitops.errors import EXIT_EXTERNAL, EXIT_USAGE, GitopsError, exit_code_of
from gitops.redact import clone_sources, redact, register_process

# verb module -> attribute holding its click command (or group). One module per verb.
VERBS: tuple[tuple[str, str], ...] = (
    ("gitops.cli.plan", "plan"),
    ("gitops.cli.audit", "audit"),
    ("gitops.cli.window", "window"),
    ("gitops.cli.addons", "addons"),
    ("gitops.cli.build", "build_command"),
    ("gitops.cli.keygen", "keygen_command"),
    ("gitops.cli.sign", "sign_command"),
    ("gitops.cli.verify_signature", "verify_signature_command"),
    ("gitops.cli.scan", "scan_command"),
    ("gitops.cli.verify", "verify_command"),
    ("gitops.cli.promote", "promote"),
    ("gitops.cli.rollback", "rollback"),
    ("gitops.cli.pr", "pr"),
    ("gitops.cli.gate", "gate"),
    ("gitops.cli.status", "status"),
    ("gitops.cli.board", "board_command"),
    ("gitops.cli.backup", "backup"),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="odoo-gitops")
def cli() -> None:
    """odoo-gitops: build, sign, scan, promote and verify Odoo releases through GitOps."""


def _register() -> None:
    for module_name, attr in VERBS:
        module = importlib.import_module(module_name)
        cli.add_command(getattr(module, attr))


_register()


class _RedactLogs(logging.Filter):
    """Library warnings (urllib3, PyGithub) reach stderr through logging's last-resort handler: redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


def _redact_logs() -> None:
    for handler in [logging.lastResort, *logging.getLogger().handlers]:
        if handler is not None and not any(isinstance(f, _RedactLogs) for f in handler.filters):
            handler.addFilter(_RedactLogs())


def _wants_json(argv: list[str]) -> bool:
    return "--json" in argv


def _fail(
    payload: dict[str, object], text: str, code: int, as_json: bool, *, sources: Sequence[str] = ()
) -> int:
    """Report an error, redacted (gitops/redact.py): paths in a temporary clone of the config repository
    are shown relative to it, followed by the remote and ref that was read (`sources`)."""
    sources = [*sources, *(s for s in clone_sources(text) if s not in sources)]
    if sources:
        payload = {**payload, "read_from": sources}
        text += "".join(f"\n  (paths are relative to the config repository {s})" for s in sources)
    if as_json:
        sys.stdout.write(to_json(payload) + "\n")
    click.echo(f"error: {redact(text)}", err=True)
    return code


def _debug_traceback() -> int:
    """ODOO_GITOPS_DEBUG=1: the traceback, redacted like every other output."""
    sys.stderr.write(redact(traceback.format_exc()))
    return EXIT_EXTERNAL


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code; never lets a traceback reach the user."""
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = _wants_json(args)
    register_process(args, os.environ)
    _redact_logs()
    try:
        result = cli.main(args=args, prog_name="odoo-gitops", standalone_mode=False)
    except GitopsError as exc:
        if exc.report is not None:  # a verdict: the verb's result, as a success prints it
            print_report(exc.report, as_json=as_json)
            return exit_code_of(exc)
        return _fail(exc.to_dict(), exc.render(), exit_code_of(exc), as_json, sources=exc.read_from)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        raw = exc.format_message()
        message = redact(raw)
        return _fail(
            {"error": "usage", "message": message}, message, EXIT_USAGE, as_json, sources=clone_sources(raw)
        )
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except Exception as exc:  # the last line of defence: report, never dump a traceback
        if os.environ.get("ODOO_GITOPS_DEBUG"):
            return _debug_traceback()
        raw = f"internal error: {type(exc).__name__}: {exc}"
        message = redact(raw)
        return _fail(
            {"error": "internal", "message": message},
            message + " (set ODOO_GITOPS_DEBUG=1 for a traceback)",
            EXIT_EXTERNAL,
            as_json,
            sources=clone_sources(raw),
        )
    # click returns the code of a `click.exceptions.Exit` itself when standalone_mode is off
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())
