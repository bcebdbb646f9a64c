"""`odoo-gitops rollback ENV`: a PR back to the last verified release."""

from __future__ import annotations

import click

from gitops.cli.forge_options import forge_options
from gitops.cli.options import config_repo_option, json_option
from gitops.cli.promote import emergency_options, run_install
from gitops.promote.forges import ForgeSettings
from gitops.promote.service import rollback as rollback_env


@click.command("rollback")
@click.argument("env")
@config_repo_option
@forge_options
@click.option(
    "--with-db-restore", is_flag=True, help="Allow rolling back a schema change (restore release.backup)."
)
@emergency_options
@json_option
def rollback(
    *,
    env: str,
    config_repo: str,
    forge: str,
    github_url: str | None,
    github_repo: str | None,
    actor: str | None,
    with_db_restore: bool,
    emergency_reason: str | None,
    no_emergency: bool,
    ticket: str | None,
    as_json: bool,
) -> None:
    """Open a PR that returns ENV to its previous verified release. In a freeze, use --emergency."""
    run_install(
        lambda options, seams: rollback_env(env, options=options, seams=seams),
        ForgeSettings(forge, actor, github_url, github_repo),
        config_repo=config_repo,
        as_json=as_json,
        emergency_reason=emergency_reason,
        emergency_ticket=ticket,
        no_emergency=no_emergency,
        with_db_restore=with_db_restore,
    )
