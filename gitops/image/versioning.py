"""Version facts of the addons repository: commit, commit time, semver from git tags, image tags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import semver

from gitops.errors import ExternalError, UsageError
from gitops.proc import no_git_env, run

SHORT_LEN = 12
_USERINFO_RE = re.compile(r"^(\w+://)[^/@]+@")


@dataclass(frozen=True, kw_only=True)
class SourceVersion:
    revision: str
    committed_at: datetime
    version: str
    source: str
    dirty: bool

    @property
    def short(self) -> str:
        return self.revision[:SHORT_LEN]

    @property
    def epoch(self) -> int:
        return int(self.committed_at.timestamp())

    def tags(self) -> tuple[str, ...]:
        """Image tags: the semver (build metadata is not allowed in a tag) and the short commit."""
        return (str(semver.Version.parse(self.version).replace(build=None)), self.short)


def _git(cwd: Path, *args: str) -> str:
    return run(["git", *args], cwd=cwd, env=no_git_env(), timeout=60, what=f"git {args[0]}").out.strip()


def parse_tag(tag: str) -> semver.Version | None:
    try:
        return semver.Version.parse(tag[1:] if tag[:1] in "vV" else tag)
    except (ValueError, TypeError):
        return None


def next_version(tags: list[str], commits_since: dict[str, int], total_commits: int) -> str:
    """Semver of HEAD: a tag on HEAD as is; otherwise the next patch as pre-release `dev.N`."""
    parsed = sorted((v, t) for t in tags if (v := parse_tag(t)) is not None)
    if not parsed:
        return f"0.0.0-dev.{total_commits}"
    latest, tag = parsed[-1]
    distance = commits_since[tag]
    if distance == 0:
        return str(latest)
    base = latest.bump_patch() if not latest.prerelease else latest.replace(build=None)
    pre = f"{base.prerelease}.dev.{distance}" if base.prerelease else f"dev.{distance}"
    return str(base.replace(prerelease=pre))


def _source_url(cwd: Path) -> str:
    try:
        url = _git(cwd, "remote", "get-url", "origin")
    except ExternalError:
        return ""
    return _USERINFO_RE.sub(r"\1", url)


def source_version(addons_dir: Path) -> SourceVersion:
    """Read the facts from the git repository holding `addons_dir` (UsageError if it is none)."""
    try:
        revision = _git(addons_dir, "rev-parse", "HEAD")
    except ExternalError:
        raise UsageError(
            f"{addons_dir} is not inside a git repository with a commit",
            hint="builds are tied to a commit: run them from a clone of the addons repository",
        ) from None
    stamp = int(_git(addons_dir, "log", "-1", "--format=%ct", "HEAD"))
    tags = [t for t in _git(addons_dir, "tag", "--merged", "HEAD").splitlines() if parse_tag(t)]
    since = {t: int(_git(addons_dir, "rev-list", "--count", f"{t}..HEAD")) for t in tags}
    total = int(_git(addons_dir, "rev-list", "--count", "HEAD"))
    dirty = bool(_git(addons_dir, "status", "--porcelain", "--", "."))
    return SourceVersion(
        revision=revision,
        committed_at=datetime.fromtimestamp(stamp, tz=UTC),
        version=next_version(tags, since, total),
        source=_source_url(addons_dir),
        dirty=dirty,
    )
