"""Entry point: the command group and the single error handler that maps errors to exit codes."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NamedTuple

import click

from gitops import __version__
from gitops.cli.options import for_terminal, print_report, to_json
from gitops.errors import EXIT_EXTERNAL, EXIT_USAGE, GitopsError, exit_code_of
from gitops.redact import clone_sources, redact, register_process


class Verb(NamedTuple):
    """One verb: its name, the module and attribute holding its click command (or group), and its short help
    (the first sentence of the command's docstring; tests/cli/test_lazy_verbs.py checks they agree)."""

    name: str
    module: str
    attr: str
    short_help: str


# One module per verb, imported only when that verb runs: `--help` lists them from this table alone.
VERBS: tuple[Verb, ...] = (
    Verb("plan", "gitops.cli.plan", "plan",
         "Show what `promote SOURCE_ENV TARGET_ENV` would do now: the wave it opens (or why it refuses), the "
         "change, the window and the gates."),
    Verb("audit", "gitops.cli.audit", "audit",
         "The hash-chained audit log of promotions, approvals, overrides and verifications."),
    Verb("window", "gitops.cli.window", "window",
         "Change windows: is ENV open now, when does it open, what the calendar says."),
    Verb("addons", "gitops.cli.addons", "addons",
         "Module facts (versions, checksums) and the static schema diff of a release."),
    Verb("build", "gitops.cli.build", "build_command",
         "Build the Odoo image holding the addons in ADDONS_DIR on top of a pinned base image."),
    Verb("keygen", "gitops.cli.keygen", "keygen_command",
         "Write cosign.key (encrypted with $COSIGN_PASSWORD) and cosign.pub into the output directory."),
    Verb("sign", "gitops.cli.sign", "sign_command",
         "Sign IMAGE (pinned by digest) with a cosign private key (password from COSIGN_PASSWORD)."),
    Verb("verify-signature", "gitops.cli.verify_signature", "verify_signature_command",
         "Check the cosign signatures of IMAGE against the public key."),
    Verb("scan", "gitops.cli.scan", "scan_command",
         "Scan IMAGE (pinned by digest) with trivy and judge the findings; exit 3 when the policy fails."),
    Verb("verify", "gitops.cli.verify", "verify_command",
         "Wait until ENV reconciled --revision and runs the release digest."),
    Verb("promote", "gitops.cli.promote", "promote",
         "Open or update the PR promoting SOURCE_ENV's release to TARGET_ENV (exit 3: precondition unmet)."),
    Verb("rollback", "gitops.cli.rollback", "rollback",
         "Open a PR that returns ENV to its previous verified release."),
    Verb("pr", "gitops.cli.pr", "pr", "Promotion pull requests."),
    Verb("gate", "gitops.cli.gate", "gate", "Approval and window gates of promotion PRs."),
    Verb("status", "gitops.cli.status", "status",
         "What runs where: each environment × tenant with its version, digest, verification and state "
         "(verified / promoting / blocked / drifted), the open promotion PRs with their gate, the window now "
         "and the next freeze."),
    Verb("board", "gitops.cli.board", "board_command",
         "Write the release board as a static site into DIR: environments × tenants, the release calendar "
         "per environment in its time zone, one page per open promotion (CAB view and timeline) and the "
         "audit trail with its chain's verification."),
    Verb("env", "gitops.cli.env", "env",
         "Create, extend and retire non-production environments (each change is a PR)."),
    Verb("refresh", "gitops.cli.refresh", "refresh",
         "Open a PR that refreshes TARGET's database from SOURCE."),
    Verb("backup", "gitops.cli.backup", "backup",
         "Backups with a manifest, and restore rehearsals that prove them."),
)  # fmt: skip
_BY_NAME = {verb.name: verb for verb in VERBS}


def load_verb(verb: Verb) -> click.Command:
    """Import the verb's module and return its command."""
    command = getattr(importlib.import_module(verb.module), verb.attr)
    if not isinstance(command, click.Command) or command.name != verb.name:
        raise TypeError(f"{verb.module}.{verb.attr} is not the click command {verb.name!r}")
    return command


class LazyGroup(click.Group):
    """A group whose verbs are imported when they run: the listing comes from VERBS."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_BY_NAME, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _BY_NAME:
            self.add_command(load_verb(_BY_NAME[cmd_name]))
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's listing, with the short help of a verb not yet imported taken from VERBS."""
        names = self.list_commands(ctx)
        shown = [
            (name, self.commands.get(name) or click.Command(name, help=_BY_NAME[name].short_help))
            for name in names
        ]
        shown = [(name, cmd) for name, cmd in shown if not cmd.hidden]
        if shown:
            limit = formatter.width - 6 - max(len(name) for name, _ in shown)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in shown])


@click.group(
    cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110}
)
@click.version_option(__version__, prog_name="odoo-gitops")
def cli() -> None:
    """odoo-gitops: build, sign, scan, promote and verify Odoo releases through GitOps."""


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
    click.echo(f"error: {for_terminal(text)}", err=True)
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
