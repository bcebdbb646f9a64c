"""`odoo-gitops status [ENV…]`: the release board on the terminal (environments × tenants)."""

from __future__ import annotations

import shutil
import sys
from datetime import UTC, datetime

import click

from gitops.board.collect import read_board
from gitops.board.model import Board
from gitops.board.terminal import WIDTH, render_status
from gitops.cli.forge_options import forge_options
from gitops.cli.options import config_repo_option, emit, json_option
from gitops.errors import EXIT_VERIFY
from gitops.promote.forges import ForgeSettings
from gitops.redact import redact


def exit_code(board: Board) -> int:
    """0, or 4 when an environment's audit chain is broken (as `audit verify` exits)."""
    return EXIT_VERIFY if any(not env.audit.ok for env in board.envs) else 0


def _terminal() -> tuple[bool, int]:
    """(colour, width): rich tables with colour on a TTY (as wide as it is), plain text of WIDTH otherwise."""
    if sys.stdout.isatty():
        return True, shutil.get_terminal_size((WIDTH, 40)).columns
    return False, WIDTH


@click.command("status")
@click.argument("envs", nargs=-1, metavar="[ENV]...")
@config_repo_option
@forge_options
@json_option
def status(
    *,
    envs: tuple[str, ...], config_repo: str, forge: str, github_url: str | None, github_repo: str | None,
    actor: str | None, as_json: bool,
) -> None:  # fmt: skip
    """What runs where: each environment × tenant with its version, digest, verification and state
    (verified / promoting / blocked / drifted), the open promotion PRs with their gate, the window now and
    the next freeze. Exit 4 when an audit chain is broken."""
    board = read_board(
        config_repo, ForgeSettings(forge, actor, github_url, github_repo), now=datetime.now(UTC), envs=envs
    )
    if as_json:
        emit(board.to_dict(), as_json=True, human="", exit_code=exit_code(board))
        return
    color, width = _terminal()
    sys.stdout.write(redact(render_status(board, color=color, width=width)))
    sys.stdout.flush()
    code = exit_code(board)
    if code:
        raise click.exceptions.Exit(code)
