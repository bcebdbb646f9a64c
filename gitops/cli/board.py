"""`odoo-gitops board --out DIR`: the release board as a static site (HTML + CSS, no script, no request)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from gitops.board.site_collect import read_site
from gitops.board.site_input import SiteInput
from gitops.board.site_render import render_site
from gitops.board.site_write import check_target, write_site
from gitops.cli.forge_options import forge_options
from gitops.cli.options import config_repo_option, info, json_option, print_report
from gitops.errors import Report, VerificationError
from gitops.forge.protocol import ForgeSettings


def _summary(site: SiteInput, out: Path, pages: int) -> dict[str, object]:
    return {
        "out": str(out),
        "index": str(out / "index.html"),
        "pages": pages,
        "envs": [env.name for env in site.envs],
        "cells": len(site.cells),
        "promotions": [p.id for p in site.promotions],
        "audit_ok": {audit.env: audit.chain_ok for audit in site.audits},
    }


@click.command("board")
@click.option(
    "--out", "out", required=True, type=click.Path(path_type=Path), help="Directory to (re)write the site in."
)
@click.option(
    "--weeks", default=8, show_default=True, type=click.IntRange(1, 104), help="Weeks of release calendar."
)
@config_repo_option
@forge_options
@json_option
def board_command(*, out: Path, weeks: int, config_repo: str, forge: ForgeSettings, as_json: bool) -> None:
    """Write the release board as a static site into DIR: environments × tenants, the release calendar per
    environment in its time zone, one page per open promotion (CAB view and timeline) and the audit trail
    with its chain's verification. Works from file:// and GitHub Pages. DIR is replaced as a whole (it must
    be new, empty or a board written before). Exit 4 (after writing) when an audit chain is broken."""
    check_target(out)  # before reading anything: a wrong --out fails fast
    site = read_site(config_repo, forge, now=datetime.now(UTC))
    pages = render_site(site, weeks=weeks)
    written = write_site(out, pages)
    info(f"board written: {written / 'index.html'}")
    broken = [audit.env for audit in site.audits if not audit.chain_ok]
    if broken:
        info(f"audit chain verification FAILED for {', '.join(broken)} (shown on the site)")
    report = Report(data=_summary(site, written, len(pages)), text=lambda: str(written / "index.html"))
    if broken:
        raise VerificationError(f"audit chain broken for {', '.join(broken)}", report=report)
    print_report(report, as_json=as_json)
