"""Where the audit logs are read from: the same source `pr`, `gate` and `promote` read.

`--config-repo` names a URL, a bare repository or a clone: the remote's main is read (a fresh clone through
`open_session`, never the possibly stale local checkout), and the commit read is reported. Only a plain
directory that is not a git repository is read as it is, and then its history cannot be checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gitops import proc
from gitops.audit.history import AUDIT_DIR, LOG_FORMAT, LogHistory, log_env, parse_history
from gitops.config.source import is_remote
from gitops.errors import redact
from gitops.forge.protocol import ForgeSettings
from gitops.forge.session import Session, open_session
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout

_CREDENTIALS_RE = re.compile(r"^([a-z+]+://)[^@/]+@")


@dataclass(frozen=True)
class AuditSource:
    """The audit logs of one config repository, as of one commit of its main (or a plain directory)."""

    remote: str  # what was read, credentials removed
    envs: frozenset[str]  # environments the config defines
    checkout: ConfigCheckout | None = None
    commit: str | None = None
    directory: Path | None = None

    @property
    def ref(self) -> str | None:
        return f"origin/{self.checkout.branch}" if self.checkout else None

    def describe(self) -> str:
        if self.checkout is not None and self.commit is not None:
            return f"read {self.ref} @ {self.commit} ({self.remote})"
        return f"read the directory {self.remote} as it is (not a git repository: its history is not checked)"

    def to_dict(self) -> dict[str, str | None]:
        return {"source": self.remote, "ref": self.ref, "commit": self.commit}

    def log_envs(self) -> set[str]:
        """Environments with an audit log now."""
        if self.checkout is not None and self.commit is not None:
            listing = plumbing.git(self.checkout, "ls-tree", "--name-only", self.commit, f"{AUDIT_DIR}/").out
            return {env for env in map(log_env, listing.splitlines()) if env}
        assert self.directory is not None
        return {p.stem for p in (self.directory / AUDIT_DIR).glob("*.jsonl")}

    def read(self, envs: Iterable[str]) -> dict[str, str | None]:
        """The text of audit/<env>.jsonl of each of `envs` (None where there is none), in one read."""
        paths = {env: f"{AUDIT_DIR}/{env}.jsonl" for env in envs}
        if self.checkout is not None and self.commit is not None:
            blobs = plumbing.read_blobs(self.checkout, self.commit, paths.values())
            return {env: _decode(blobs[rel]) for env, rel in paths.items()}
        assert self.directory is not None
        return {env: _read_file(self.directory / rel) for env, rel in paths.items()}

    def history(self) -> dict[str, LogHistory] | None:
        """Every committed version of every log on main's first-parent line (None for a plain directory).

        A shallow clone is deepened first: a log's first version must be its real first version."""
        if self.checkout is None or self.commit is None:
            return None
        if plumbing.git(self.checkout, "rev-parse", "--is-shallow-repository").out.strip() == "true":
            self.checkout.fetch("--unshallow")
        output = plumbing.git(
            self.checkout,
            "log", "--first-parent", "--diff-merges=first-parent", "--reverse", "--no-renames", "-p",
            "-U0", "--text", "--no-color", "--no-ext-diff", "--no-textconv", f"--format={LOG_FORMAT}",
            self.commit, "--", f"{AUDIT_DIR}/",
        ).stdout  # fmt: skip
        return parse_history(output)


def _decode(blob: bytes | None) -> str | None:
    return None if blob is None else blob.decode("utf-8", "replace")


def _read_file(path: Path) -> str | None:
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None


def _plain(remote: str) -> str:
    return redact(_CREDENTIALS_RE.sub(r"\1", remote))


def is_plain_directory(spec: str) -> Path | None:
    """The directory `spec` names, when it is neither remote nor inside a git repository."""
    path = Path(spec).expanduser()
    if is_remote(spec) or not path.is_dir():
        return None
    probe = proc.run(
        ["git", "-C", str(path), "rev-parse", "--git-dir"],
        env=proc.no_git_env(),
        check=False,
        timeout=30,
        what="git rev-parse",
    )
    return path.resolve() if probe.returncode != 0 else None


@contextmanager
def open_audit_source(config_repo: str, *, actor: str | None = None) -> Iterator[AuditSource]:
    """The audit logs of `config_repo`: a fresh clone of its remote's main, as `pr` and `gate` read it."""
    directory = is_plain_directory(config_repo)
    if directory is not None:
        envs = frozenset(p.name for p in (directory / "envs").glob("*") if p.is_dir())
        yield AuditSource(str(directory), envs, directory=directory)
        return
    with open_session(config_repo, ForgeSettings(kind="local", actor=actor)) as session:
        yield session_source(session)


def session_source(session: Session) -> AuditSource:
    """The audit logs as of the commit of main that `session` cloned."""
    remote = plumbing.git(session.checkout, "remote", "get-url", "origin").out.strip()
    return AuditSource(
        _plain(remote),
        frozenset(session.repo.envs),
        checkout=session.checkout,
        commit=session.checkout.head(),
    )
