"""Options shared by the verbs that talk to a forge (promote, rollback, pr, gate)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def forge_options(func: F) -> F:
    options = [
        click.option(
            "--forge",
            type=click.Choice(["local", "github"]),
            default="local",
            show_default=True,
            help="Where PRs live: 'local' keeps them in the config repo (branch odoo-gitops/forge).",
        ),
        click.option("--github-url", default=None, help="GitHub Enterprise URL (default: api.github.com)."),
        click.option(
            "--github-repo", default=None, metavar="OWNER/NAME", help="Default: from the remote URL."
        ),
        click.option(
            "--actor", default=None, help="Who runs this (default: $GITHUB_ACTOR or the login name)."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func
