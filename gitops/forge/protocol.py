"""What a forge is: the protocol of the forges that host promotion PRs, the values they return, and what a
forge module offers the registry (gitops/forge/registry.py): its own options and a builder from one
`ForgeSettings`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from gitops.gates.evidence import Review
from gitops.redact import redact, strip_userinfo

if TYPE_CHECKING:
    from gitops.gitstore.checkout import ConfigCheckout

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


@runtime_checkable
class OpensInSteps(Protocol):
    """A forge whose requests leave the clone alone (an HTTP API) and that opens a PR in steps: the PR
    exists, with its number, URL and author, once `open_pull` returns; `finish_pull` then sets its labels
    and requests its reviewers (`create_pull` is both). A promotion records the PR in the audit log while
    the requests that follow its creation are made."""

    def open_pull(self, *, head: str, base: str, title: str, body: str) -> PullRequest: ...

    def finish_pull(
        self, pull: PullRequest, *, labels: Sequence[str], reviewers: Sequence[str]
    ) -> PullRequest: ...


@runtime_checkable
class ListsAllPulls(Protocol):
    """A forge that can also list closed and merged PRs (`pr list --all`)."""

    def all_pulls(self) -> list[PullRequest]: ...


@dataclass(frozen=True, kw_only=True)
class ForgeOption:
    """A command-line option a forge declares for itself: `--FLAG VALUE`, a string, None when not given.
    The CLI turns each into a click option (gitops/cli/forge_options.py)."""

    flag: str
    help: str
    metavar: str | None = None

    @property
    def name(self) -> str:
        """The parameter name click gives the option, and its key in `ForgeSettings.options`."""
        return self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True, kw_only=True)
class ForgeSettings:
    """What the command line says about the forge: which one (`--forge`), who acts (`--actor`, None: see
    gitops/forge/actor.py) and the values of every forge's own options, by `ForgeOption.name`."""

    kind: str = "local"
    actor: str | None = None
    options: Mapping[str, str | None] = field(default_factory=dict)

    def option(self, name: str) -> str | None:
        return self.options.get(name)


ForgeFactory = Callable[["ConfigCheckout"], Forge]


class ForgeKind(Protocol):
    """What a forge module offers the registry (its name is its registry key)."""

    @property
    def OPTIONS(self) -> Sequence[ForgeOption]:
        """The forge's own command-line options."""
        ...

    def clone_url(self, remote: str) -> str:
        """The URL git clones and pushes the config repository with (a forge may add credentials)."""
        ...

    def factory(self, settings: ForgeSettings, *, remote: str, actor: str) -> ForgeFactory:
        """Check the settings now (before anything is cloned or pushed) and return what builds the forge
        on the fresh clone of the config repository."""
        ...
