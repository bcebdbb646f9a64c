"""`odoo-gitops env create|extend|expire`: non-production environments are created, extended and retired
by PR, gated by the environment's policy and audited."""

from __future__ import annotations

from datetime import date

import click

from gitops.cli.forge_options import forge_options
from gitops.cli.options import config_repo_option, emit, json_option
from gitops.config.models import Purpose
from gitops.errors import UsageError
from gitops.forge.protocol import ForgeSettings
from gitops.lifecycle.envs import NewEnv
from gitops.lifecycle.requests import describe
from gitops.lifecycle.service import create_env, expire_envs, extend_env

PURPOSES = ["staging", "uat", "training", "project", "development", "demo", "qa"]


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r}: expected a date like 2027-03-31") from None


@click.group("env")
def env() -> None:
    """Create, extend and retire non-production environments (each change is a PR)."""


@env.command("create")
@click.argument("name")
@click.option(
    "--from", "template", required=True, help="The environment to copy (values, calendars, policy)."
)
@click.option("--owner", required=True, help="Who answers for the environment (a forge login).")
@click.option("--expires", required=True, help="The day it expires (YYYY-MM-DD).")
@click.option("--purpose", type=click.Choice(PURPOSES), default="project", show_default=True)
@config_repo_option
@forge_options
@json_option
def create(
    *,
    name: str,
    template: str,
    owner: str,
    expires: str,
    purpose: str,
    config_repo: str,
    forge: ForgeSettings,
    as_json: bool,
) -> None:
    """Open a PR adding environment NAME, copied from --from."""
    purpose_value: Purpose = purpose  # type: ignore[assignment]
    new = NewEnv(
        name=name, template=template, owner=owner, expires=_day(expires, "--expires"), purpose=purpose_value
    )
    result = create_env(config_repo, forge, new)
    emit(result.to_dict(), as_json=as_json, human=describe([result]))


@env.command("extend")
@click.argument("name")
@click.option("--until", "until", required=True, help="The new expiry day (YYYY-MM-DD).")
@config_repo_option
@forge_options
@json_option
def extend(
    *,
    name: str,
    until: str,
    config_repo: str,
    forge: ForgeSettings,
    as_json: bool,
) -> None:
    """Open a PR moving the expiry of NAME to --until."""
    result = extend_env(config_repo, forge, name, _day(until, "--until"))
    emit(result.to_dict(), as_json=as_json, human=describe([result]))


@env.command("expire")
@config_repo_option
@forge_options
@json_option
def expire(
    *,
    config_repo: str,
    forge: ForgeSettings,
    as_json: bool,
) -> None:
    """Open one PR per expired environment that retires it (re-runs update the same PRs)."""
    results = expire_envs(config_repo, forge)
    emit(
        {"expired": [r.to_dict() for r in results]},
        as_json=as_json,
        human=describe(results) or "no environment has expired",
    )
