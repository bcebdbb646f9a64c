"""The config repository as a git checkout: clone, branch, commit with trailers, push, ancestry.

The one module that talks to git for config-repo edits (GitPython). Git errors become ExternalError, with
credentials in URLs redacted. Network-touching reads are retried with back-off; pushes are retried only when
the failure is transient, never blindly after a rejection. A rejected push is classified:

- NonFastForward (exit 1 if it persists): the branch moved; callers rebuild on top and push again;
- ProtectedBranch (exit 3): the server refused the update itself (branch protection, a pre-receive or
  update hook: GitHub's "GH006: Protected branch update failed", "hook declined");
- AccessDenied (exit 1): the credentials were refused (401/403, "Authentication failed", "Permission
  denied"), naming the remote without its credentials.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import git

from gitops.errors import ExternalError, PolicyError
from gitops.proc import no_git_env
from gitops.redact import redact, register_clone, register_url, strip_userinfo

T = TypeVar("T")
DEFAULT_TIMEOUT = 120.0
# `git push --porcelain` status lines: "!<TAB>src:dst<TAB>[rejected] (fetch first)", "[remote rejected] (…)"
_MOVED_MARKERS = ("non-fast-forward", "fetch first", "stale info")
# a ref transaction lost a race on the server: the branch moved under us
_RACE_MARKERS = ("cannot lock ref", "failed to update ref", "incorrect old value", "failed to lock")
_REMOTE_SAID = re.compile(r"(?m)remote:[ \t]*(\S.*?)[ \t]*$")
_AUTH_MARKERS = (
    "Authentication failed",
    "Permission denied",
    "Permission to ",
    "could not read Username",
    "could not read Password",
    "returned error: 401",
    "returned error: 403",
    "HTTP 401",
    "HTTP 403",
    "access denied",
    "Access denied",
    "invalid credentials",
)
_TRANSIENT_MARKERS = (
    "Could not resolve host",
    "Connection timed out",
    "Connection reset",
    "early EOF",
    "The remote end hung up",
    "HTTP 5",
    "returned error: 5",
    "Operation timed out",
)


class NonFastForward(ExternalError):
    """The remote branch moved: fetch, rebuild the change on top and push again."""


class ProtectedBranch(PolicyError):
    """The server refused to update the branch (branch protection, a pre-receive or update hook)."""


class AccessDenied(ExternalError):
    """The remote refused our credentials (or has none for us)."""


def _stderr(exc: git.GitCommandError) -> str:
    return redact(str(exc.stderr or exc.stdout or exc).strip())


def _is_transient(exc: git.GitCommandError) -> bool:
    return any(marker in str(exc.stderr) for marker in _TRANSIENT_MARKERS)


def _is_auth(output: str) -> bool:
    return any(marker in output for marker in _AUTH_MARKERS)


def _remote_lines(output: str) -> str:
    """What the server said (`remote: …` lines, and the rejection reason), for the user."""
    said = [m.strip(" '\"") for m in _REMOTE_SAID.findall(output)]
    reasons = [line.split("\t")[-1].strip() for line in _porcelain_refusals(output)]
    return redact("; ".join(dict.fromkeys(line for line in said + reasons if line)))


def _porcelain_refusals(output: str) -> list[str]:
    """`!<TAB>src:dst<TAB>reason` lines (GitPython may quote and indent the captured output)."""
    return [line.strip(" '\"") for line in output.splitlines() if line.strip(" '\"").startswith("!\t")]


def access_denied(what: str, url: str, exc: git.GitCommandError) -> AccessDenied:
    return AccessDenied(
        f"git {what} {strip_userinfo(url)}: access denied ({(_stderr(exc).splitlines() or ['-'])[-1]})",
        hint="check the credentials for this remote (GITHUB_TOKEN or the URL's user and token) and their "
        "permission on the repository",
    )


def retry(
    action: Callable[[], T], *, what: str, attempts: int = 3, backoff: float = 0.5, url: str = "origin"
) -> T:
    """Run a git action, retrying transient failures with exponential back-off."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except git.GitCommandError as exc:
            if _is_auth(f"{exc.stdout}\n{exc.stderr}"):
                raise access_denied(what, url, exc) from None
            if attempt == attempts or not _is_transient(exc):
                raise ExternalError(f"git {what} failed: {_stderr(exc)}") from None
            time.sleep(backoff * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def classify_rejection(
    output: str, branch: str, *, change: str | None = None
) -> ExternalError | PolicyError | None:
    """The error for a push whose `output` (stdout and stderr of `git push --porcelain`) says it was
    refused, or None when it was not a refusal (a transient or unknown failure). `change` (the subject of
    the commit pushed) is named when the server refused it, so the user knows what was not recorded."""
    lines = _porcelain_refusals(output)
    moved = any(m in output for m in (*_MOVED_MARKERS, *_RACE_MARKERS)) or "Updates were rejected" in output
    if moved or any("[rejected]" in line for line in lines):  # git, or the server, says the branch moved
        return NonFastForward(f"push to {branch} rejected: the remote branch moved")
    # a ref the server refused to update: we were authenticated, the server (protection, a hook) said no
    refused = any("[remote rejected]" in line for line in lines)
    if refused or "GH006" in output or "protected branch" in output.lower():
        said = _remote_lines(output)
        pushed = f" of {change!r}" if change else ""
        return ProtectedBranch(
            f"{branch} is protected: the server refused the push{pushed}" + (f" ({said})" if said else ""),
            hint=f"changes to {branch} must be allowed for this identity (branch protection, pre-receive or "
            "update hook); nothing was written to it",
        )
    return None  # an auth failure (the caller names the remote), a transient or an unknown one


def format_trailers(trailers: Mapping[str, str]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in trailers.items())


@dataclass
class ConfigCheckout:
    """A working clone of the config repository."""

    root: Path
    repo: git.Repo
    branch: str = "main"
    timeout: float = DEFAULT_TIMEOUT
    idents: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)  # git var, by role

    @classmethod
    def clone(
        cls,
        url: str,
        dest: Path,
        *,
        branch: str | None = "main",
        depth: int | None = 50,
        timeout: float = DEFAULT_TIMEOUT,
        working_tree: bool = True,
    ) -> ConfigCheckout:
        """Clone `url` (shallow by default) into `dest`, checking out `branch` (None: the remote's HEAD);
        without `working_tree` no file is written (read them with plumbing)."""
        source = url
        args = ["git", "clone", "--quiet", "--no-tags", *(["--branch", branch] if branch else [])]
        if not working_tree:
            args.append("--no-checkout")
        if depth:
            args += ["--depth", str(depth)]
            url = _file_url(url)
        args += [url, str(dest)]

        def clone() -> git.Repo:
            git.Git().execute(args, env=no_git_env(), kill_after_timeout=timeout)
            return git.Repo(dest)

        register_url(url)
        repo = retry(clone, what="clone", url=url)
        checkout = cls(dest, repo, branch or repo.active_branch.name, timeout)
        register_clone(dest, f"{strip_userinfo(source)} ({checkout.branch} at {checkout.head()[:12]})")
        return checkout

    @classmethod
    def open(cls, path: Path, *, branch: str = "main", timeout: float = DEFAULT_TIMEOUT) -> ConfigCheckout:
        try:
            repo = git.Repo(path)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise ExternalError(f"{path} is not a git repository") from None
        return cls(Path(repo.working_tree_dir or path), repo, branch, timeout)

    def _git(self, *args: str) -> str:
        try:
            return str(
                self.repo.git.execute(["git", *args], env=no_git_env(), kill_after_timeout=self.timeout)
            )
        except git.GitCommandError as exc:
            raise ExternalError(f"git {args[0]} failed: {_stderr(exc)}") from None

    def head(self) -> str:
        return self.repo.head.commit.hexsha

    def fetch(self, *refspecs: str, depth: int | None = None) -> None:
        args = ["fetch", "--quiet", "--no-tags", "origin", *refspecs]
        if depth:
            args.insert(2, f"--depth={depth}")
        retry(
            lambda: self.repo.git.execute(["git", *args], env=no_git_env(), kill_after_timeout=self.timeout),
            what="fetch",
            url=self.remote_url(),
        )

    def remote_heads(self, *patterns: str) -> dict[str, str]:
        """Branches on the remote right now whose names match any of the glob `patterns` (`*` also
        matches `/`): name -> SHA, in one `ls-remote`."""
        out = retry(
            lambda: self.repo.git.execute(
                ["git", "ls-remote", "--heads", "origin", *(f"refs/heads/{p}" for p in patterns)],
                env=no_git_env(),
                kill_after_timeout=self.timeout,
            ),
            what="ls-remote",
            url=self.remote_url(),
        )
        heads = {}
        for line in str(out).splitlines():
            sha, _, ref = line.strip().partition("\t")
            name = ref.removeprefix("refs/heads/")
            if any(fnmatch.fnmatchcase(name, p) for p in patterns):  # ls-remote also matches ref tails
                heads[name] = sha
        return heads

    def remote_sha(self, branch: str) -> str | None:
        """SHA of `branch` on the remote right now, or None if it does not exist there."""
        return self.remote_heads(branch).get(branch)

    def start_branch(self, name: str, *, base: str | None = None) -> None:
        """Create or reset local branch `name` at `base` (default origin/<main branch>) and check it out."""
        self._git("checkout", "--quiet", "-B", name, base or f"origin/{self.branch}")

    def commit(self, message: str, *, trailers: Mapping[str, str] | None = None) -> str | None:
        """Commit everything in the working tree; returns the new SHA, or None when nothing changed."""
        self._git("add", "--all", "--", ".")
        if not self.repo.is_dirty(index=True, working_tree=False, untracked_files=False):
            return None
        full = message.rstrip() + ("\n\n" + format_trailers(trailers) if trailers else "") + "\n"
        self._git("commit", "--quiet", "--no-verify", "-m", full)
        return self.head()

    def remote_url(self) -> str:
        """The remote's URL without credentials (for messages)."""
        try:
            return strip_userinfo(str(self.repo.remotes.origin.url))
        except (AttributeError, IndexError, ValueError):
            return "origin"

    def push(self, local_ref: str, remote_branch: str, *, force_with_lease: str | None = None) -> None:
        """Push `local_ref` to `remote_branch`. A refusal is classified (module doc): NonFastForward when the
        remote moved, ProtectedBranch when the server refused the update, AccessDenied for credentials."""
        args = ["push", "--quiet", "--porcelain", "origin", f"{local_ref}:refs/heads/{remote_branch}"]
        if force_with_lease is not None:
            args.insert(2, f"--force-with-lease=refs/heads/{remote_branch}:{force_with_lease}")

        for attempt in range(1, 4):
            try:
                self.repo.git.execute(["git", *args], env=no_git_env(), kill_after_timeout=self.timeout)
                return
            except git.GitCommandError as exc:
                output = f"{exc.stdout}\n{exc.stderr}"
                rejection = classify_rejection(output, remote_branch, change=self._subject(local_ref))
                if rejection is not None:
                    raise rejection from None
                if _is_auth(output):
                    raise access_denied(f"push to {remote_branch} of", self.remote_url(), exc) from None
                if attempt == 3 or not _is_transient(exc):
                    raise ExternalError(f"git push failed: {_stderr(exc)}") from None
                time.sleep(0.5 * 2 ** (attempt - 1))

    def _subject(self, ref: str) -> str | None:
        try:
            return str(self.repo.git.log("-1", "--format=%s", ref)).strip() or None
        except git.GitCommandError:
            return None

    def update_branch(
        self,
        edit: Callable[[Path], None],
        message: str,
        *,
        trailers: Mapping[str, str] | None = None,
        attempts: int = 5,
    ) -> str | None:
        """Apply `edit` to the working tree at the latest remote main, commit and push; rebuilt and retried
        on a race (gitops.gitstore.commit_loop). Returns the pushed SHA, or None when nothing changed."""
        from gitops.gitstore.commit_loop import commit_worktree  # the loop is built on this module

        return commit_worktree(self, edit, message, trailers=trailers, attempts=attempts)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when `ancestor` is `descendant` or one of its ancestors; deepens a shallow clone if needed."""
        for _ in range(2):
            try:
                self.repo.git.execute(
                    ["git", "merge-base", "--is-ancestor", ancestor, descendant],
                    env=no_git_env(),
                    kill_after_timeout=self.timeout,
                )
                return True
            except git.GitCommandError as exc:
                if exc.status == 1:
                    if not self._is_shallow():
                        return False
                elif not self._is_shallow():
                    raise ExternalError(f"git merge-base failed: {_stderr(exc)}") from None
                self.fetch("--unshallow")
        return False

    def _is_shallow(self) -> bool:
        return (Path(self.repo.git_dir) / "shallow").exists()


def _file_url(url: str) -> str:
    """Shallow clones of local paths need a file:// URL (git ignores --depth for plain paths)."""
    if "://" in url or url.startswith("git@"):
        return url
    return Path(url).resolve().as_uri()
