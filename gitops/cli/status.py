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
from gitops.cli.options import config_repo_option, json_option, print_report
from gitops.errors import Report, VerificationError
from gitops.forge.protocol import ForgeSettings


def broken_chains(board: Board) -> list[str]:
    """The environments whose audit chain is broken: `status` then exits 4, as `audit verify` does."""
    return [env.name for env in board.envs if not env.audit.ok]


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
    envs: tuple[str, ...], config_repo: str, forge: ForgeSettings, as_json: bool,
) -> None:  # fmt: skip
    """What runs where: each environment × tenant with its version, digest, verification and state
    (verified / promoting / blocked / drifted), the open promotion PRs with their gate, the window now and
    the next freeze. Exit 4 when an audit chain is broken."""
    board = read_board(config_repo, forge, now=datetime.now(UTC), envs=envs)
    color, width = _terminal()
    report = Report(
        data=board.to_dict(), text=lambda: render_status(board, color=color, width=width), styled=color
    )
    broken = broken_chains(board)
    if broken:
        raise VerificationError(f"audit chain broken for {', '.join(broken)}", report=report)
    print_report(report, as_json=as_json)
