"""Choose and build a forge, and find the config repository's remote, from command-line values."""

from __future__ import annotations

import getpass
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gitops import proc
from gitops.config import store as config_store
from gitops.config.loader import ConfigRepo
from gitops.config.source import is_bare_repository, is_url
from gitops.errors import UsageError, register_secret
from gitops.gitstore.checkout import ConfigCheckout
from gitops.promote.forge import Forge
from gitops.promote.localforge import LocalForge

_GITHUB_SLUG_RE = re.compile(r"github[^/:]*[/:]([^/]+/[^/]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class ForgeSettings:
    kind: str = "local"
    actor: str | None = None
    github_url: str | None = None
    github_repo: str | None = None


def default_actor(explicit: str | None = None) -> str:
    """Who runs this command: --actor, else GITHUB_ACTOR (in Actions), else the login name."""
    if explicit:
        return explicit
    if os.environ.get("GITHUB_ACTOR"):
        return os.environ["GITHUB_ACTOR"]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "odoo-gitops"


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
    """The remote to clone and push. With the github forge, an https remote gets the GITHUB_TOKEN as
    credentials (as actions/checkout does), because a fresh clone does not inherit a workspace's
    credential settings; the token is a registered secret, so it is redacted from every message."""
    remote = resolve_remote(config_repo)
    token = os.environ.get("GITHUB_TOKEN", "")
    if settings.kind != "github" or not token or not remote.startswith("https://") or "@" in remote:
        return remote
    register_secret(token)
    return remote.replace("https://", f"https://x-access-token:{token}@", 1)


def _plain(remote: str) -> str:
    return re.sub(r"^(https?://)[^@/]+@", r"\1", remote)


def github_slug(remote: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    match = _GITHUB_SLUG_RE.search(_plain(remote))
    if not match:
        raise UsageError(
            f"cannot tell the GitHub repository from {remote!r}", hint="pass --github-repo OWNER/NAME"
        )
    return match.group(1)


def forge_factory(settings: ForgeSettings, remote: str) -> Callable[[ConfigCheckout], Forge]:
    actor = default_actor(settings.actor)
    if settings.kind == "local":
        return lambda checkout: LocalForge(checkout, actor=actor, url=remote)
    if settings.kind == "github":
        from gitops.promote.githubforge import GitHubForge, github_token

        token = github_token()
        slug = github_slug(remote, settings.github_repo)
        return lambda _checkout: GitHubForge(slug, token=token, base_url=settings.github_url)
    raise UsageError(f"--forge {settings.kind!r}: expected github or local")


@dataclass(frozen=True)
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
        yield Session(checkout, repo, factory(checkout), default_actor(settings.actor))


@contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="odoo-gitops-") as tmp:
        yield Path(tmp)
