"""`odoo-gitops rollback ENV`: a PR back to the last verified release."""

from __future__ import annotations

import click

from gitops.cli.forge_options import forge_options
from gitops.cli.options import config_repo_option, emit, json_option
from gitops.cli.promote import emergency_options, render_result
from gitops.promote.evidence import RegistrySupplyChecks, engine_window_check
from gitops.promote.forges import ForgeSettings, default_actor, forge_factory, git_remote, workdir
from gitops.promote.service import PromoteOptions, Seams
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
    ticket: str | None,
    as_json: bool,
) -> None:
    """Open a PR that returns ENV to its previous verified release. In a freeze, use --emergency."""
    settings = ForgeSettings(forge, actor, github_url, github_repo)
    remote = git_remote(config_repo, settings)
    seams = Seams(forge_factory(settings, remote), RegistrySupplyChecks(), engine_window_check)
    with workdir() as tmp:
        options = PromoteOptions(
            remote=remote,
            workdir=tmp,
            actor=default_actor(actor),
            emergency_reason=emergency_reason,
            emergency_ticket=ticket,
            with_db_restore=with_db_restore,
        )
        result = rollback_env(env, options=options, seams=seams)
    emit(result.to_dict(), as_json=as_json, human=lambda: render_result(result))
