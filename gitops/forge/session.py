"""A session with the config repository's forge: find the remote, clone main, build the forge on it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gitops import proc
from gitops.config import store as config_store
from gitops.config.loader import ConfigRepo
from gitops.config.source import is_bare_repository, is_url
from gitops.errors import UsageError
from gitops.forge.actor import resolve_actor
from gitops.forge.protocol import Forge, ForgeSettings
from gitops.forge.registry import clone_url, forge_factory
from gitops.gitstore.checkout import ConfigCheckout


def resolve_remote(spec: str) -> str:
    """The URL/path to clone and push: a URL as is; a bare repository itself (never its own `origin`: the
    bare repository is what `plan` reads too); a working tree's `origin` (a workflow's checkout stands for
    the repository it was cloned from), or the directory itself when it has none."""
    if is_url(spec):
        return spec
    path = Path(spec).expanduser().resolve()
    if not path.is_dir():
        raise UsageError(f"--config-repo {spec!r}: no such directory")
    if is_bare_repository(path):
        return str(path)
    out = proc.run(
        ["git", "-C", str(path), "remote", "get-url", "origin"],
        env=proc.no_git_env(),
        check=False,
        timeout=30,
        what="git remote get-url",
    )
    return out.out.strip() if out.returncode == 0 and out.out.strip() else str(path)


def git_remote(config_repo: str, settings: ForgeSettings) -> str:
    """The remote to clone and push, with whatever credentials the chosen forge adds for git."""
    return clone_url(settings, resolve_remote(config_repo))


@dataclass(frozen=True, kw_only=True)
class Session:
    """A fresh clone of the config repo's main branch, its config, and the forge."""

    checkout: ConfigCheckout
    repo: ConfigRepo
    forge: Forge
    actor: str


@contextmanager
def open_session(config_repo: str, settings: ForgeSettings) -> Iterator[Session]:
    """Clone the remote of `config_repo` (policy is read from main, never from a PR head)."""
    remote = git_remote(config_repo, settings)
    factory = forge_factory(settings, remote)
    with tempfile.TemporaryDirectory(prefix="odoo-gitops-") as tmp:
        checkout = ConfigCheckout.clone(remote, Path(tmp) / "config", working_tree=False)
        repo = config_store.load_checkout(checkout)
        yield Session(
            checkout=checkout, repo=repo, forge=factory(checkout), actor=resolve_actor(settings.actor)
        )


@contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="odoo-gitops-") as tmp:
        yield Path(tmp)
