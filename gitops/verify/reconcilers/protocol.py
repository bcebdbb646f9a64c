"""What one reconciler kind provides: its API resource, how to ask it to refresh, which source it reads,
how to read its status (revision reconciled, health, observed generation) and whether it can go back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gitops.verify.kube import Resource
from gitops.verify.readiness import Check
from gitops.verify.revision import RevisionFilter
from gitops.verify.sources.protocol import SourceReading, SourceRef
from gitops.verify.verdict import Verdict


@dataclass(frozen=True)
class Reading:
    """A reconciler object's verdict, the config-repo commit it reconciled, and the namespace its
    workloads run in (None: the environment's namespace)."""

    verdict: Verdict
    revision: str | None = None
    namespace: str | None = None


class Reconciler(Protocol):
    """One reconciler kind: a module of this package (as pre-commit's languages are modules).

    `SOURCE_KINDS` names the source kinds (gitops/verify/sources/registry.py) whose artifact proves the
    commit; empty when the object reports the commit itself."""

    RESOURCE: Resource
    SOURCE_KINDS: frozenset[str]

    def refresh_annotations(self, token: str) -> dict[str, str]:
        """The annotations that ask the controller to reconcile now (`token` identifies the request)."""
        ...

    def source_ref(self, obj: Mapping[str, Any], name: str | None) -> SourceRef | None:
        """The source `obj` reads from (`name`: env.yaml's `reconcile.source` override)."""
        ...

    def read(
        self,
        obj: Mapping[str, Any],
        *,
        accepts: RevisionFilter,
        requested_at: str | None,
        source: SourceReading | None,
        chart_version: str | None,
    ) -> Reading:
        """ok / pending / failed for `obj` once `requested_at` was asked, given what its source proves."""
        ...

    def can_go_back(self, obj: Mapping[str, Any], previous_revision: str | None) -> Check:
        """The `reconciler` rollback-readiness check: would a rollback be applied?"""
        ...
