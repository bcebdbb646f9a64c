"""The `local` forge: pull requests kept in the config repository itself.

Design (docs/promote.md): every PR is one JSON file `prs/<number>.json` on the dedicated branch
`odoo-gitops/forge` of the config repo's remote. The branch shares no history with `main` and is written with
git plumbing (never checked out), one commit per change, pushed with a lease so concurrent writers retry
instead of overwriting each other. PR heads are ordinary branches (`promote/...`); merging is a `--no-ff`
merge into the base branch, pushed like any other commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from gitops.errors import ExternalError, UsageError
from gitops.forge.protocol import (
    CommitStatus,
    ForgeFactory,
    ForgeOption,
    ForgeSettings,
    PullRequest,
    StatusState,
)
from gitops.gates.evidence import Review
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout
from gitops.gitstore.commit_loop import Tip, commit, fetched_tip, push_with_lease, remote_tip
from gitops.redact import redact, strip_userinfo

FORGE_BRANCH = "odoo-gitops/forge"
_REMOTE_REF = f"refs/remotes/origin/{FORGE_BRANCH}"
Store = dict[int, dict[str, Any]]
OPTIONS: tuple[ForgeOption, ...] = ()


def factory(settings: ForgeSettings, *, remote: str, actor: str) -> ForgeFactory:
    """PRs live in the config repository itself, on the clone each command makes; `actor` authors them."""
    return lambda checkout: LocalForge(checkout, actor=actor, url=remote)


def clone_url(remote: str) -> str:
    return remote


def _pr_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class LocalForge:
    """PRs, reviews, comments and statuses stored as JSON on `odoo-gitops/forge` (see module doc)."""

    name = "local"

    def __init__(self, checkout: ConfigCheckout, *, actor: str, url: str) -> None:
        self.checkout = checkout
        self.actor = actor
        self.url = strip_userinfo(url).rstrip("/")  # PR URLs are shown and stored: no credentials

    # ------------------------------------------------------------ git plumbing

    def _git(self, *args: str) -> str:
        return plumbing.git(self.checkout, *args).out.strip()

    def _load(self) -> tuple[Store, str | None]:
        """The PR store at the forge branch's tip on the remote, and that tip (None: no PR yet)."""
        parent = remote_tip(self.checkout, FORGE_BRANCH, depth=1)
        store: Store = {}
        for data in Tip(self.checkout, FORGE_BRANCH, parent, parent).files_under("prs").values():
            pr = json.loads(data)
            store[int(pr["number"])] = pr
        return store, parent

    def _update(self, change: Callable[[Store], list[int]], message: str) -> Store:
        """Apply `change` to the latest store and push; retried when another writer got there first."""
        loaded: list[Store] = []

        def tip(_attempt: int) -> str | None:
            store, parent = self._load()
            loaded[:] = [store]
            return parent

        def edit(_tip: Tip) -> dict[str, bytes]:
            return {f"prs/{n}.json": _pr_json(loaded[0][n]) for n in change(loaded[0])}

        commit(
            self.checkout,
            FORGE_BRANCH,
            edit,
            message=message,
            tip=tip,
            gave_up=lambda: ExternalError(f"could not update {FORGE_BRANCH}: it keeps moving"),
        )
        return loaded[0]

    # ------------------------------------------------------------ helpers

    def _pr(self, data: dict[str, Any]) -> PullRequest:
        head_sha = data.get("merged_head") or self.checkout.remote_sha(data["head"]) or ""
        return PullRequest(
            number=int(data["number"]),
            url=f"{self.url}#pr-{data['number']}",
            title=data["title"],
            body=data["body"],
            head=data["head"],
            base=data["base"],
            head_sha=head_sha,
            author=data["author"],
            labels=tuple(data.get("labels", ())),
            state=data["state"],
        )

    def _require(self, store: Store, number: int) -> dict[str, Any]:
        if number not in store:
            raise UsageError(f"no pull request #{number} on the local forge ({FORGE_BRANCH})")
        return store[number]

    # ------------------------------------------------------------ Forge protocol

    def whoami(self) -> str:
        return self.actor

    def open_pulls(self, *, base: str) -> list[PullRequest]:
        store, _ = self._load()
        return [self._pr(d) for _, d in sorted(store.items()) if d["state"] == "open" and d["base"] == base]

    def all_pulls(self) -> list[PullRequest]:
        store, _ = self._load()
        return [self._pr(d) for _, d in sorted(store.items())]

    def get_pull(self, number: int) -> PullRequest:
        store, _ = self._load()
        return self._pr(self._require(store, number))

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
        created: list[int] = []

        def change(store: Store) -> list[int]:
            for number, data in store.items():
                if data["state"] == "open" and data["head"] == head:
                    created[:] = [number]
                    return []
            number = max(store, default=0) + 1
            store[number] = {
                "number": number,
                "title": redact(title),
                "body": redact(body),
                "head": head,
                "base": base,
                "author": self.actor,
                "labels": sorted(set(labels)),
                "reviewers": sorted(set(reviewers) - {self.actor}),
                "state": "open",
                "created_at": _now(),
                "reviews": [],
                "comments": [],
                "statuses": {},
            }
            created[:] = [number]
            return [number]

        store = self._update(change, f"Open PR for {head}")
        return self._pr(store[created[0]])

    def update_pull(self, pull: PullRequest, *, title: str, body: str, labels: Sequence[str]) -> PullRequest:
        def change(store: Store) -> list[int]:
            data = self._require(store, pull.number)
            new = {"title": redact(title), "body": redact(body), "labels": sorted(set(labels))}
            if all(data.get(k) == v for k, v in new.items()):
                return []
            data.update(new, updated_at=_now())
            return [pull.number]

        store = self._update(change, f"Update PR #{pull.number}")
        return self._pr(store[pull.number])

    def comment(self, number: int, body: str) -> None:
        def change(store: Store) -> list[int]:
            data = self._require(store, number)
            data["comments"].append({"user": self.actor, "body": redact(body), "created_at": _now()})
            return [number]

        self._update(change, f"Comment on PR #{number}")

    def comments(self, number: int) -> list[str]:
        store, _ = self._load()
        return [c["body"] for c in self._require(store, number)["comments"]]

    def close_pull(self, number: int) -> None:
        def change(store: Store) -> list[int]:
            data = self._require(store, number)
            if data["state"] != "open":
                return []
            data.update(state="closed", closed_at=_now())
            return [number]

        self._update(change, f"Close PR #{number}")

    def reviews(self, number: int) -> list[Review]:
        store, _ = self._load()
        return [
            Review(
                id=r["id"],
                user=r["user"],
                state=r["state"],
                commit_id=r["commit_id"],
                submitted_at=datetime.fromisoformat(r["submitted_at"].replace("Z", "+00:00")),
            )
            for r in self._require(store, number)["reviews"]
        ]

    def commit_authors(self, number: int) -> list[str]:
        pull = self.get_pull(number)
        self.checkout.fetch(f"+refs/heads/{pull.base}:refs/remotes/origin/{pull.base}")
        if pull.state != "merged":
            self.checkout.fetch(f"+refs/heads/{pull.head}:refs/remotes/origin/{pull.head}")
        out = self._git("log", "--format=%an%x00%ae", f"origin/{pull.base}..{pull.head_sha}")
        return sorted({part for line in out.splitlines() for part in line.split("\0") if part})

    def read_file(self, ref: str, path: str) -> str | None:
        for attempt in range(2):
            try:
                return self._git("show", f"{ref}:{path}") + "\n"
            except ExternalError:
                if attempt == 0:  # not in this clone yet: fetch that commit (gone after a force-push: None)
                    try:
                        self.checkout.fetch(ref)
                    except ExternalError:
                        return None
        return None

    def set_status(self, sha: str, status: CommitStatus) -> None:
        def change(store: Store) -> list[int]:
            changed = []
            for number, data in store.items():
                if self._pr(data).head_sha != sha:
                    continue
                current = data["statuses"].setdefault(sha, {})
                entry = {"state": status.state, "description": redact(status.description)}
                if current.get(status.context) != entry:
                    current[status.context] = entry
                    changed.append(number)
            return changed

        self._update(change, f"Status {status.context} on {sha[:12]}")

    def statuses(self, sha: str) -> list[CommitStatus]:
        store, _ = self._load()
        found: dict[str, CommitStatus] = {}
        for data in store.values():
            for context, entry in data["statuses"].get(sha, {}).items():
                state: StatusState = entry["state"]
                found[context] = CommitStatus(context, state, entry["description"])
        return list(found.values())

    def approve(self, number: int, *, user: str | None, body: str) -> Review:
        if not user:
            raise UsageError("the local forge needs the reviewer's name: pr approve N --as USER")
        pull = self.get_pull(number)
        if pull.state != "open":
            raise UsageError(f"pull request #{number} is {pull.state}; only open PRs can be approved")
        made: list[Review] = []

        def change(store: Store) -> list[int]:
            data = self._require(store, number)
            review_id = len(data["reviews"]) + 1
            data["reviews"].append(
                {
                    "id": review_id,
                    "user": user,
                    "state": "APPROVED",
                    "commit_id": pull.head_sha,
                    "submitted_at": _now(),
                    "body": redact(body),
                }
            )
            made[:] = [Review(review_id, user, "APPROVED", pull.head_sha, datetime.now(UTC))]
            return [number]

        self._update(change, f"Approve PR #{number} as {user}")
        return made[0]

    def merge_pull(self, pull: PullRequest, *, message: str) -> str:
        def merged(lease: str | None) -> str:
            self.checkout.fetch(f"+refs/heads/{pull.head}:refs/remotes/origin/{pull.head}")
            self.checkout.start_branch(pull.base, base=lease or f"origin/{pull.base}")
            self._git("merge", "--no-ff", "--no-edit", "-m", message, pull.head_sha)
            return self.checkout.head()

        done = push_with_lease(
            self.checkout,
            pull.base,
            merged,
            tip=lambda _attempt: fetched_tip(self.checkout, pull.base),
            gave_up=lambda: ExternalError(f"could not merge into {pull.base}: it keeps moving"),
        )
        sha = str(done.sha)

        def change(store: Store) -> list[int]:
            data = self._require(store, pull.number)
            data.update(state="merged", merged_at=_now(), merge_commit=sha, merged_head=pull.head_sha)
            return [pull.number]

        self._update(change, f"Merged PR #{pull.number}")
        return sha

    def merge_commit(self, number: int) -> str | None:
        store, _ = self._load()
        sha = self._require(store, number).get("merge_commit")
        return str(sha) if sha else None
