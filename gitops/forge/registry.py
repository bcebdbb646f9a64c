"""The forges `--forge` can name. Nothing else in odoo-gitops branches on the kind of forge.

Adding a forge (GitLab, Gitea…): write one module in gitops/forge/ with `OPTIONS`, `clone_url(remote)` and
`factory(settings, remote=, actor=)` (the `ForgeKind` protocol in protocol.py) whose factory builds a class
implementing `Forge`, and add one line to `FORGES` below. Its options appear on every verb that talks to a
forge and its name among `--forge`'s choices (gitops/cli/forge_options.py reads this registry).
"""

from __future__ import annotations

from collections.abc import Mapping

from gitops.errors import UsageError
from gitops.forge import github, local
from gitops.forge.actor import resolve_actor
from gitops.forge.protocol import ForgeFactory, ForgeKind, ForgeOption, ForgeSettings

FORGES: dict[str, ForgeKind] = {
    "local": local,
    "github": github,
}
DEFAULT_FORGE = "local"


def forge_kind(name: str, forges: Mapping[str, ForgeKind] | None = None) -> ForgeKind:
    known = FORGES if forges is None else forges
    try:
        return known[name]
    except KeyError:
        raise UsageError(f"--forge {name!r}: expected {' or '.join(sorted(known))}") from None


def forge_option_list(forges: Mapping[str, ForgeKind] | None = None) -> list[ForgeOption]:
    """Every forge's own options, in registry order. A forge's flags start with `--<its name>-`, so they
    never collide with another forge's or a verb's own options."""
    found: list[ForgeOption] = []
    for name, kind in (FORGES if forges is None else forges).items():
        for option in kind.OPTIONS:
            if not option.flag.startswith(f"--{name}-"):
                raise ValueError(f"forge {name!r}: option {option.flag} must start with --{name}-")
            found.append(option)
    return found


def forge_factory(
    settings: ForgeSettings, remote: str, forges: Mapping[str, ForgeKind] | None = None
) -> ForgeFactory:
    """Check the settings of the chosen forge and return what builds it on a clone of `remote`."""
    kind = forge_kind(settings.kind, forges)
    return kind.factory(settings, remote=remote, actor=resolve_actor(settings.actor))


def clone_url(settings: ForgeSettings, remote: str, forges: Mapping[str, ForgeKind] | None = None) -> str:
    return forge_kind(settings.kind, forges).clone_url(remote)
