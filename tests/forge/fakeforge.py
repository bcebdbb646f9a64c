"""A forge written only to prove the extension point: one module like this plus one line in
gitops/forge/registry.py's FORGES, and every verb that talks to a forge offers and uses it. Its one PR
lives in memory and only the reads `pr list` needs are implemented (a test double, never in gitops/)."""

from __future__ import annotations

from gitops.forge.protocol import CommitStatus, ForgeFactory, ForgeOption, ForgeSettings, PullRequest
from gitops.gates.evidence import Review

OPTIONS = (ForgeOption(flag="--fake-greeting", metavar="TEXT", help="Title of the fake forge's one PR."),)


def clone_url(remote: str) -> str:
    return remote


def factory(settings: ForgeSettings, *, remote: str, actor: str) -> ForgeFactory:
    greeting = settings.option("fake_greeting") or "hello"
    return lambda checkout: FakeForge(f"{greeting} from {actor}", branch=checkout.branch, url=remote)


class FakeForge:
    name = "fake"

    def __init__(self, title: str, *, branch: str, url: str) -> None:
        self.pull = PullRequest(
            number=7, url=f"{url}#fake-7", title=title, body="", head="promote/prod/x", base=branch,
            head_sha="", author="fake-bot", labels=("env:prod",), state="open",
        )  # fmt: skip

    def whoami(self) -> str:
        return "fake-bot"

    def open_pulls(self, *, base: str) -> list[PullRequest]:
        return [self.pull] if base == self.pull.base else []

    def get_pull(self, number: int) -> PullRequest:
        return self.pull

    def reviews(self, number: int) -> list[Review]:
        return []

    def statuses(self, sha: str) -> list[CommitStatus]:
        return []
