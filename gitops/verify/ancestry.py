"""The revision rule backed by git: a reconciled commit proves the promotion when it is the promoted SHA
or a descendant of it, and is on the config repo's branch."""

from __future__ import annotations

from gitops.errors import ExternalError, UsageError
from gitops.gitstore.checkout import ConfigCheckout


class GitAncestry:
    """accepts(candidate) for one promoted SHA, answered from a checkout of the config repo (cached)."""

    def __init__(self, checkout: ConfigCheckout, sha: str, *, branch_ref: str) -> None:
        self.checkout = checkout
        self.sha = sha
        self.branch_ref = branch_ref
        self._cache: dict[str, bool] = {}
        self._fetched = False

    def check_known(self) -> None:
        """Refuse early when the promoted SHA is not on the branch at all."""
        if not self._ancestor(self.sha, self.branch_ref):
            raise UsageError(
                f"revision {self.sha} is not on {self.branch_ref} of the config repository",
                hint="pass the merge commit of the promotion (git log on the config repo's branch)",
            )

    def _refresh(self) -> None:
        if not self._fetched and self.branch_ref.startswith("origin/"):
            self._fetched = True
            self.checkout.fetch(self.branch_ref.removeprefix("origin/"))

    def _ancestor(self, ancestor: str, descendant: str) -> bool:
        for attempt in range(2):
            try:
                return self.checkout.is_ancestor(ancestor, descendant)
            except ExternalError:
                if attempt or self._fetched:
                    return False
                self._refresh()
        return False

    def __call__(self, candidate: str) -> bool:
        if candidate not in self._cache:
            self._cache[candidate] = candidate == self.sha or (
                self._ancestor(self.sha, candidate) and self._ancestor(candidate, self.branch_ref)
            )
            if not self._cache[candidate] and not self._fetched:
                # a newer commit than our copy knows: fetch once, then ask again
                self._refresh()
                self._cache[candidate] = self._ancestor(self.sha, candidate) and self._ancestor(
                    candidate, self.branch_ref
                )
        return self._cache[candidate]
