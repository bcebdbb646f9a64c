"""One protocol for the forges that host promotion PRs (`github`, `local`), and the values they return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from gitops.gates.evidence import Review
from gitops.redact import redact, strip_userinfo

PrState = Literal["open", "closed", "merged"]
StatusState = Literal["success", "pending", "failure", "error"]


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str
    title: str
    body: str
    head: str
    base: str
    head_sha: str
    author: str
    labels: tuple[str, ...]
    state: PrState

    def to_dict(self) -> dict[str, object]:
        return {
            "number": self.number,
            "url": redact(strip_userinfo(self.url)),
            "title": self.title,
            "head": self.head,
            "base": self.base,
            "head_sha": self.head_sha,
            "author": self.author,
            "labels": list(self.labels),
            "state": self.state,
        }


@dataclass(frozen=True)
class CommitStatus:
    context: str
    state: StatusState
    description: str


class Forge(Protocol):
    """What odoo-gitops needs from a forge. Implementations wrap every client error in ExternalError."""

    name: str

    def whoami(self) -> str:
        """The identity the forge acts as (the PR author for PRs it opens)."""
        ...

    def open_pulls(self, *, base: str) -> list[PullRequest]: ...

    def get_pull(self, number: int) -> PullRequest: ...

    def create_pull(
        self,
        *,
        head: str,
        base: str,
        title: str,
        body: str,
        labels: Sequence[str],
        reviewers: Sequence[str],
    ) -> PullRequest: ...

    def update_pull(
        self, pull: PullRequest, *, title: str, body: str, labels: Sequence[str]
    ) -> PullRequest: ...

    def comment(self, number: int, body: str) -> None: ...

    def comments(self, number: int) -> list[str]: ...

    def close_pull(self, number: int) -> None: ...

    def reviews(self, number: int) -> list[Review]: ...

    def commit_authors(self, number: int) -> list[str]:
        """Identities (login, name, e-mail) of everyone who authored a commit of the PR."""
        ...

    def read_file(self, ref: str, path: str) -> str | None:
        """Text of `path` at commit `ref`, or None when the file or the commit is not there."""
        ...

    def set_status(self, sha: str, status: CommitStatus) -> None: ...

    def statuses(self, sha: str) -> list[CommitStatus]: ...

    def approve(self, number: int, *, user: str | None, body: str) -> Review: ...

    def merge_pull(self, pull: PullRequest, *, message: str) -> str:
        """Merge and return the merge commit SHA."""
        ...

    def merge_commit(self, number: int) -> str | None:
        """The merge commit of a merged PR (None when not merged or unknown)."""
        ...
