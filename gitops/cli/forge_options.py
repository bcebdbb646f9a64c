"""`--forge`, `--actor` and every forge's own options, generated from the forge registry, for the verbs
that talk to a forge (promote, rollback, pr, gate). A command receives them as one `forge: ForgeSettings`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, cast

import click

from gitops.forge.protocol import ForgeKind, ForgeSettings
from gitops.forge.registry import DEFAULT_FORGE, FORGES, forge_option_list

F = TypeVar("F", bound=Callable[..., Any])


class Decorator(Protocol):
    def __call__(self, func: F, /) -> F: ...


def forge_options_from(forges: Mapping[str, ForgeKind], *, default: str = DEFAULT_FORGE) -> Decorator:
    """The decorator for a given registry, read when it decorates (the CLI's `forge_options` reads
    `FORGES`)."""

    def decorate(func: F) -> F:
        own = forge_option_list(forges)

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            values = {option.name: kwargs.pop(option.name) for option in own}
            kind, actor = kwargs.pop("forge"), kwargs.pop("actor")
            kwargs["forge"] = ForgeSettings(kind=kind, actor=actor, options=values)
            return func(*args, **kwargs)

        decorators = [
            click.option(
                "--forge",
                type=click.Choice(list(forges)),
                default=default,
                show_default=True,
                help="Where PRs live: 'local' keeps them in the config repo (branch odoo-gitops/forge).",
            ),
            *(click.option(o.flag, default=None, metavar=o.metavar, help=o.help) for o in own),
            click.option(
                "--actor", default=None, help="Who runs this (default: $GITHUB_ACTOR or the login name)."
            ),
        ]
        wrapped: Any = command
        for decorator in reversed(decorators):
            wrapped = decorator(wrapped)
        return cast(F, wrapped)

    return decorate


forge_options = forge_options_from(FORGES)
