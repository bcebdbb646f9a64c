"""The `github` forge: PyGithub against github.com or GitHub Enterprise (`--github-url`).

The token comes from GITHUB_TOKEN, is registered as a secret (never printed) and is only handed to PyGithub
and, for an https config repository, to git as credentials. PyGithub's own retry handles 5xx and rate
limits (honouring Retry-After); every PyGithub error becomes an ExternalError. The client is lazy, so a
promotion costs a constant number of API requests.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from gitops.errors import ExternalError, UsageError, redact, register_secret
from gitops.forge.protocol import (
    CommitStatus,
    ForgeFactory,
    ForgeOption,
    ForgeSettings,
    PullRequest,
    StatusState,
)
from gitops.gates.evidence import Review

T = TypeVar("T")
DEFAULT_URL = "https://api.github.com"
# author_association values of accounts with access to the repository (others: CONTRIBUTOR, NONE, …)
INSIDERS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
_SLUG_RE = re.compile(r"github[^/:]*[/:]([^/]+/[^/]+?)(?:\.git)?/?$")

OPTIONS = (
    ForgeOption(flag="--github-url", help="GitHub Enterprise URL (default: api.github.com)."),
    ForgeOption(flag="--github-repo", metavar="OWNER/NAME", help="Default: from the remote URL."),
)


def factory(settings: ForgeSettings, *, remote: str, actor: str) -> ForgeFactory:
    """The token and the repository are checked before anything is cloned; PRs are authored by the
    token's user, so `actor` is only recorded (in the audit log), never sent."""
    token = github_token()
    slug = github_slug(remote, settings.option("github_repo"))
    url = settings.option("github_url")
    return lambda _checkout: GitHubForge(slug, token=token, base_url=url)


def clone_url(remote: str) -> str:
    """An https remote gets the GITHUB_TOKEN as credentials (as actions/checkout does), because a fresh
    clone does not inherit a workspace's credential settings; the token is a registered secret, so it is
    redacted from every message."""
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token or not remote.startswith("https://") or "@" in remote:
        return remote
    register_secret(token)
    return remote.replace("https://", f"https://x-access-token:{token}@", 1)


def github_slug(remote: str, explicit: str | None) -> str:
    """OWNER/NAME: `--github-repo`, else read from a GitHub remote URL (credentials ignored)."""
    if explicit:
        return explicit
    match = _SLUG_RE.search(re.sub(r"^(https?://)[^@/]+@", r"\1", remote))
    if not match:
        raise UsageError(
            f"cannot tell the GitHub repository from {remote!r}", hint="pass --github-repo OWNER/NAME"
        )
    return match.group(1)


def github_token(env: dict[str, str] | None = None) -> str:
    token = (env if env is not None else os.environ).get("GITHUB_TOKEN", "")
    if not token:
        raise UsageError("--forge github needs a token in GITHUB_TOKEN")
    register_secret(token)
    return token


def api_url(url: str | None) -> str:
    """`--github-url`: an API URL, or a GHE host URL to which `/api/v3` is added."""
    if not url:
        return DEFAULT_URL
    url = url.rstrip("/")
    if "api.github.com" in url or url.endswith("/api/v3"):
        return url
    return url + "/api/v3"


def error_message(data: object) -> str:
    """GitHub's error document as one line: its `message` and, for a 422, what each entry of `errors` says
    (field and code, or the entry's own message), e.g. "Validation Failed: body is too long (maximum is
    65536 characters)"."""
    if not isinstance(data, dict):
        return str(data)
    message = str(data.get("message") or "error")
    details: list[str] = []
    for entry in data.get("errors") or []:
        if isinstance(entry, dict):
            text = entry.get("message") or " ".join(
                str(entry[k]) for k in ("resource", "field", "code") if entry.get(k)
            )
            details.append(str(text))
        else:
            details.append(str(entry))
    return f"{message}: {'; '.join(details)}" if details else message


class GitHubForge:
    name = "github"

    def __init__(
        self,
        repo_slug: str,
        *,
        token: str,
        base_url: str | None = None,
        timeout: int = 30,
        retries: int = 5,
        backoff: float = 0.5,
    ) -> None:
        import github
        from github.GithubRetry import GithubRetry

        if repo_slug.count("/") != 1:
            raise UsageError(f"--github-repo {repo_slug!r}: expected OWNER/NAME")
        register_secret(token)
        retry = GithubRetry(total=retries, backoff_factor=backoff, secondary_rate_wait=backoff)
        self._gh = github.Github(
            auth=github.Auth.Token(token),
            base_url=api_url(base_url),
            timeout=timeout,
            retry=retry,
            lazy=True,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        self._slug = repo_slug
        self._repo: Any = None
        self._login: str | None = None
        self._opened: dict[int, Any] = {}  # PRs this client opened, as PyGithub objects (no GET to edit them)

    # ------------------------------------------------------------ plumbing

    def _call(self, what: str, action: Callable[[], T]) -> T:
        import github

        try:
            return action()
        except github.GithubException as exc:
            raise ExternalError(
                f"GitHub {what} failed ({exc.status}): {redact(error_message(exc.data))}"
            ) from None
        except (
            Exception
        ) as exc:  # requests / urllib3 errors: connection refused, time-outs, retries exhausted
            raise ExternalError(
                f"GitHub {what} failed: {redact(type(exc).__name__ + ': ' + str(exc))}"
            ) from None

    @property
    def repo(self) -> Any:
        if self._repo is None:
            self._repo = self._gh.get_repo(self._slug)
        return self._repo

    @staticmethod
    def _state(pr: Any) -> Any:
        return "merged" if pr.merged_at else pr.state

    def _pull(self, pr: Any) -> PullRequest:
        return PullRequest(
            number=pr.number,
            url=pr.html_url,
            title=pr.title,
            body=pr.body or "",
            head=pr.head.ref,
            base=pr.base.ref,
            head_sha=pr.head.sha,
            author=pr.user.login,
            labels=tuple(label.name for label in pr.labels),
            state=self._state(pr),
        )

    # ------------------------------------------------------------ Forge protocol

    def whoami(self) -> str:
        if self._login is None:
            self._login = self._call("GET /user", lambda: self._gh.get_user().login)
        return self._login

    def open_pulls(self, *, base: str) -> list[PullRequest]:
        return self._call(
            "list pulls",
            lambda: [self._pull(p) for p in self.repo.get_pulls(state="open", base=base)],
        )

    def get_pull(self, number: int) -> PullRequest:
        return self._call(f"get pull #{number}", lambda: self._pull(self.repo.get_pull(number)))

    def create_pull(
        self,
        *,
        head: str,
        base: str,
        title: str,
        body: str,
        labels: Sequence[str],
        reviewers: Sequence[str],
    ) -> PullRequest:
        opened = self.open_pull(head=head, base=base, title=title, body=body)
        return self.finish_pull(opened, labels=labels, reviewers=reviewers)

    def open_pull(self, *, head: str, base: str, title: str, body: str) -> PullRequest:
        """One POST; the PR as GitHub answered it (its author is the token's login)."""
        try:
            pr = self._call(
                "create pull",
                lambda: self.repo.create_pull(title=redact(title), body=redact(body), head=head, base=base),
            )
        except ExternalError as exc:  # a retried POST whose first attempt did land: use that PR
            found = [p for p in self.open_pulls(base=base) if p.head == head]
            if "already exists" not in exc.message or not found:
                raise
            return self.update_pull(found[0], title=title, body=body, labels=found[0].labels)
        self._opened[pr.number] = pr
        return self._pull(pr)

    def finish_pull(
        self, pull: PullRequest, *, labels: Sequence[str], reviewers: Sequence[str]
    ) -> PullRequest:
        """The labels and review requests of a PR `open_pull` opened (one request each)."""
        pr = self._opened.get(pull.number)
        if pr is None:
            pr = self._call(f"get pull #{pull.number}", lambda: self.repo.get_pull(pull.number))
        if labels:
            self._call("set labels", lambda: pr.set_labels(*labels))
        if reviewers:
            self._call("request reviewers", lambda: pr.create_review_request(reviewers=list(reviewers)))
        return PullRequest(**{**pull.__dict__, "labels": tuple(labels)})

    def update_pull(self, pull: PullRequest, *, title: str, body: str, labels: Sequence[str]) -> PullRequest:
        pr = self.repo.get_pull(pull.number)
        title, body = redact(title), redact(body)
        if (title, body) != (pull.title, pull.body):
            self._call(f"update pull #{pull.number}", lambda: pr.edit(title=title, body=body))
        if sorted(labels) != sorted(pull.labels):
            self._call("set labels", lambda: pr.set_labels(*labels))
        return PullRequest(**{**pull.__dict__, "title": title, "body": body, "labels": tuple(labels)})

    def comment(self, number: int, body: str) -> None:
        issue = self.repo.get_issue(number)
        self._call(f"comment on #{number}", lambda: issue.create_comment(redact(body)))

    def comments(self, number: int) -> list[str]:
        issue = self.repo.get_issue(number)
        return self._call("list comments", lambda: [c.body or "" for c in issue.get_comments()])

    def close_pull(self, number: int) -> None:
        pr = self.repo.get_pull(number)
        self._call(f"close pull #{number}", lambda: pr.edit(state="closed"))

    def reviews(self, number: int) -> list[Review]:
        """Every review; one by an account without write access (anyone can review a PR they can read)
        or by a deleted account is marked `outsider`: under a rule with an empty `from` it neither counts
        nor blocks."""
        pr = self.repo.get_pull(number)
        return self._call(
            "list reviews",
            lambda: [
                Review(
                    r.id,
                    r.user.login if r.user else "",
                    r.state,
                    r.commit_id,
                    r.submitted_at,
                    outsider=r.user is None or r.author_association not in INSIDERS,
                )
                for r in pr.get_reviews()
            ],
        )

    def commit_authors(self, number: int) -> list[str]:
        pr = self.repo.get_pull(number)

        def collect() -> list[str]:
            found: set[str] = set()
            for commit in pr.get_commits():
                if commit.author is not None:
                    found.add(commit.author.login)
                meta = commit.commit.author
                found.update(x for x in (meta.name, meta.email) if x)
            return sorted(found)

        return self._call("list pull commits", collect)

    def read_file(self, ref: str, path: str) -> str | None:
        import github

        try:
            content = self.repo.get_contents(path, ref=ref)
        except github.UnknownObjectException:
            return None
        except github.GithubException as exc:
            raise ExternalError(f"GitHub read {path}@{ref[:12]} failed ({exc.status})") from None
        if isinstance(content, list):
            return None
        return base64.b64decode(content.content).decode("utf-8")

    def set_status(self, sha: str, status: CommitStatus) -> None:
        commit = self.repo.get_commit(sha)
        self._call(
            "create status",
            lambda: commit.create_status(
                state=status.state, description=redact(status.description), context=status.context
            ),
        )

    def statuses(self, sha: str) -> list[CommitStatus]:
        commit = self.repo.get_commit(sha)

        def collect() -> list[CommitStatus]:
            out = []
            for s in commit.get_combined_status().statuses:
                state: StatusState = s.state
                out.append(CommitStatus(s.context, state, s.description or ""))
            return out

        return self._call("get statuses", collect)

    def approve(self, number: int, *, user: str | None, body: str) -> Review:
        if user:
            raise UsageError("--as only applies to the local forge; GitHub approves as the token's user")
        pr = self.repo.get_pull(number)
        r = self._call("create review", lambda: pr.create_review(body=redact(body), event="APPROVE"))
        return Review(r.id, r.user.login, r.state, r.commit_id, r.submitted_at)

    def merge_pull(self, pull: PullRequest, *, message: str) -> str:
        pr = self.repo.get_pull(pull.number)
        result = self._call(
            f"merge pull #{pull.number}",
            lambda: pr.merge(commit_title=message, sha=pull.head_sha, merge_method="merge"),
        )
        return str(result.sha)

    def merge_commit(self, number: int) -> str | None:
        pr = self._call(f"get pull #{number}", lambda: self.repo.get_pull(number))
        return str(pr.merge_commit_sha) if pr.merged and pr.merge_commit_sha else None
