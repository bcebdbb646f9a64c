"""`odoo-gitops refresh SOURCE TARGET [--masking NAME]`: a gated, audited PR asking the chart's refresh Job
to copy SOURCE's database into TARGET, neutralised and masked."""

from __future__ import annotations

import click

from gitops.cli.forge_options import forge_options
from gitops.cli.options import config_repo_option, emit, json_option
from gitops.forge.protocol import ForgeSettings
from gitops.lifecycle.refresh import LATEST
from gitops.lifecycle.requests import describe
from gitops.lifecycle.service import refresh_env


@click.command("refresh")
@click.argument("source")
@click.argument("target")
@click.option("--masking", default=None, metavar="NAME", help="Masking rules: masking/NAME.yaml.")
@click.option("--tenant", default=None, help="The source tenant (when it has one database per tenant).")
@click.option("--backup", default=LATEST, show_default=True, help="The backup of SOURCE to restore.")
@config_repo_option
@forge_options
@json_option
def refresh(
    *,
    source: str,
    target: str,
    masking: str | None,
    backup: str,
    tenant: str | None,
    config_repo: str,
    forge: ForgeSettings,
    as_json: bool,
) -> None:
    """Open a PR that refreshes TARGET's database from SOURCE. Exit 3 when TARGET is production, or when
    the masking rules leave a sensitive column of its modules unmasked (each one is named)."""
    settings = forge
    result = refresh_env(
        config_repo, settings, source=source, target=target, masking=masking, backup=backup, tenant=tenant
    )
    emit(result.to_dict(), as_json=as_json, human=describe([result]))
