"""`--config-repo PATH|URL`: a working tree as is; a git URL or a bare repository shallow-cloned (through the
one git adapter, ConfigCheckout: retries, time-outs, redaction) into a temporary directory. A bare repository
is read itself, never its own `origin` (the commands that write push to it too: forge/session.py)."""

from __future__ import annotations

from pathlib import Path

from gitops.errors import UsageError

_URL_PREFIXES = ("http://", "https://", "ssh://", "git://", "file://", "git@")


def is_url(spec: str) -> bool:
    return spec.startswith(_URL_PREFIXES)


def is_bare_repository(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def is_remote(spec: str) -> bool:
    """A git URL or a bare repository: commands read a temporary clone of it, and write back by pushing."""
    return is_url(spec) or is_bare_repository(Path(spec).expanduser())


def checkout_config_repo(spec: str, *, timeout: float = 120.0) -> Path:
    """Return a directory holding the config repo named by `spec`: a working tree as is; a git URL or a
    bare repository cloned (shallow) into a temporary directory."""
    if not is_remote(spec):
        path = Path(spec).expanduser()
        if not path.is_dir():
            raise UsageError(f"--config-repo {spec!r}: no such directory")
        return path.resolve()
    import atexit
    import shutil
    import tempfile

    from gitops.gitstore.checkout import ConfigCheckout  # GitPython only when there is something to clone

    workdir = Path(tempfile.mkdtemp(prefix="odoo-gitops-config-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    return ConfigCheckout.clone(spec, workdir / "repo", branch=None, depth=50, timeout=timeout).root
