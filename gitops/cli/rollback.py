"""`odoo-gitops rollback ENV [--tenants a,b | --wave NAME]`: a PR back to the last verified release."""

from __future__ import annotations

import click

from gitops.cli.forge_options import forge_options
from gitops.cli.options import config_repo_option, json_option
from gitops.cli.promote import emergency_options, run_install
from gitops.errors import UsageError
from gitops.forge.protocol import ForgeSettings
from gitops.promote.service import rollback as rollback_env


@click.command("rollback")
@click.argument("env")
@config_repo_option
@forge_options
@click.option("--tenants", default=None, help="Comma-separated tenants to roll back (default: all).")
@click.option("--wave", default=None, help="Roll back the tenants of this wave of the pipeline.")
@click.option(
    "--with-db-restore", is_flag=True, help="Allow rolling back a schema change (restore release.backup)."
)
@emergency_options
@json_option
def rollback(
    *,
    env: str,
    config_repo: str,
    forge: ForgeSettings,
    tenants: str | None,
    wave: str | None,
    with_db_restore: bool,
    emergency_reason: str | None,
    no_emergency: bool,
    ticket: str | None,
    as_json: bool,
) -> None:
    """Open a PR that returns ENV to its previous verified release. With --tenants or --wave, only those
    tenants: a tenant ahead of ENV (a canary) goes back to ENV's release, any other to the previous one.
    In a freeze, use --emergency."""
    if tenants is not None and wave is not None:
        raise UsageError("--tenants and --wave: give one of them")
    run_install(
        lambda options, seams: rollback_env(env, options=options, seams=seams),
        forge,
        config_repo=config_repo,
        as_json=as_json,
        emergency_reason=emergency_reason,
        emergency_ticket=ticket,
        no_emergency=no_emergency,
        with_db_restore=with_db_restore,
        tenants=tuple(t.strip() for t in tenants.split(",") if t.strip()) if tenants else None,
        wave=wave,
    )
