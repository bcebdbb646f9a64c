"""`odoo-gitops promote SOURCE_ENV TARGET_ENV`: open or update the promotion PR."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from gitops.cli.forge_options import forge_options
from gitops.cli.options import config_repo_option, emit, json_option
from gitops.forge.actor import resolve_actor
from gitops.forge.protocol import ForgeSettings
from gitops.forge.registry import forge_factory
from gitops.forge.session import git_remote, workdir
from gitops.promote.service import PromoteOptions, PromotionResult, Seams
from gitops.promote.service import promote as promote_release
from gitops.promote.stage_seams import RegistrySupplyChecks, engine_window_check


def run_install(
    action: Callable[[PromoteOptions, Seams], PromotionResult],
    settings: ForgeSettings,
    *,
    config_repo: str,
    as_json: bool,
    **fields: Any,
) -> None:
    """Shared by promote and rollback: forge, supply checks and window seams, a work dir, then print."""
    remote = git_remote(config_repo, settings)
    seams = Seams(
        forge=forge_factory(settings, remote), supply=RegistrySupplyChecks(), window_check=engine_window_check
    )
    with workdir() as tmp:
        options = PromoteOptions(remote=remote, workdir=tmp, actor=resolve_actor(settings.actor), **fields)
        result = action(options, seams)
    emit(result.to_dict(), as_json=as_json, human=lambda: render_result(result))


def render_result(result: PromotionResult) -> str:
    if result.action == "up-to-date":
        return "\n".join(result.notes) or f"{result.target} already runs this release"
    pull = result.pull
    lines = [
        f"{result.action} PR #{pull.number if pull else '?'}: {pull.title if pull else ''}",
        f"  url:     {pull.url if pull else '-'}",
        f"  branch:  {result.branch} @ {(result.head_sha or '')[:12]}{' (pushed)' if result.pushed else ''}",
        f"  class:   {result.change_class}{' (destructive)' if result.destructive else ''}",
    ]
    if result.tenants:
        lines.append(
            f"  tenants: {', '.join(result.tenants)}{f' (wave {result.wave})' if result.wave else ''}"
        )
    if result.superseded:
        lines.append(f"  superseded: {', '.join(f'#{n}' for n in result.superseded)}")
    return "\n".join(lines)


F = TypeVar("F", bound=Callable[..., Any])


def emergency_options(func: F) -> F:
    func = click.option("--ticket", default=None, help="Change ticket of an emergency.")(func)
    func = click.option(
        "--no-emergency",
        is_flag=True,
        help="Drop the emergency an earlier run of this promotion declared (re-runs keep it otherwise).",
    )(func)
    return click.option(
        "--emergency", "emergency_reason", default=None, metavar="REASON",
        help="Emergency change: labels the PR 'emergency' and records REASON (needs --ticket).",
    )(func)  # fmt: skip


@click.command("promote")
@click.argument("source_env")
@click.argument("target_env")
@config_repo_option
@forge_options
@click.option("--tenants", default=None, help="Comma-separated tenants (instead of the next wave).")
@click.option("--wave", default=None, help="Promote this wave of the pipeline (default: the next one).")
@click.option("--addons-repo", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Git checkout of the addons repo, to diff the schema between both releases.")  # fmt: skip
@emergency_options
@click.option("--backup-id", default=None, help="Record a completed database backup with this id.")
@click.option("--backup-location", default=None, help="Where that backup is stored.")
@json_option
def promote(
    *,
    source_env: str,
    target_env: str,
    config_repo: str,
    forge: ForgeSettings,
    tenants: str | None,
    wave: str | None,
    addons_repo: Path | None,
    emergency_reason: str | None,
    no_emergency: bool,
    ticket: str | None,
    backup_id: str | None,
    backup_location: str | None,
    as_json: bool,
) -> None:
    """Open or update the PR promoting SOURCE_ENV's release to TARGET_ENV (exit 3: precondition unmet)."""
    run_install(
        lambda options, seams: promote_release(source_env, target_env, options=options, seams=seams),
        forge,
        config_repo=config_repo,
        as_json=as_json,
        tenants=tuple(t.strip() for t in tenants.split(",") if t.strip()) if tenants else None,
        wave=wave,
        addons_repo=addons_repo,
        emergency_reason=emergency_reason,
        emergency_ticket=ticket,
        no_emergency=no_emergency,
        backup_id=backup_id,
        backup_location=backup_location,
    )
