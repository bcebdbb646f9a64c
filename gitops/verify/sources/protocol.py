"""What a source kind provides (`Source`, implemented by each module of this package), which source a
reconciler object names (`SourceRef`) and what a source object proves (`SourceReading`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gitops.verify.kube import Resource
from gitops.verify.revision import RevisionFilter, git_sha
from gitops.verify.verdict import Verdict, dig


@dataclass(frozen=True)
class SourceRef:
    """The source a reconciler object reads from (its `sourceRef` / `chartRef`)."""

    kind: str
    namespace: str
    name: str

    @property
    def subject(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @classmethod
    def named_by(cls, obj: Mapping[str, Any], ref: object, name: str | None = None) -> SourceRef | None:
        """The source `ref` (a Flux cross-namespace object reference in `obj`'s spec) points at; `name`
        (env.yaml `reconcile.source`) replaces its name. None when `ref` names no kind."""
        if not isinstance(ref, Mapping) or not isinstance(ref.get("kind"), str):
            return None
        namespace = ref.get("namespace") or dig(obj, "metadata", "namespace")
        name = name or ref.get("name")
        if not isinstance(namespace, str) or not isinstance(name, str) or not namespace or not name:
            return None
        return cls(ref["kind"], namespace, name)


@dataclass(frozen=True)
class SourceReading:
    """What one source object proves: its own verdict, the artifact revision it publishes, the
    config-repo commit that artifact was made from and, for OCI artifacts, the manifest digest."""

    verdict: Verdict
    revision: str | None = None
    commit: str | None = None
    digest: str | None = None

    def commit_of(self, revision: object) -> str | None:
        """The commit a reconciler's revision names: the SHA inside a git revision, or, when it is this
        source's current artifact revision (an OCI digest names no commit itself), the artifact's commit."""
        sha = git_sha(revision)
        if sha is not None:
            return sha
        return self.commit if revision is not None and revision == self.revision else None


class Source(Protocol):
    """One source kind: a module of this package (as pre-commit's languages are modules)."""

    RESOURCE: Resource

    def refresh_annotations(self, token: str) -> dict[str, str]:
        """The annotations that ask its controller to fetch now (`token` identifies the request)."""
        ...

    def read(self, obj: Mapping[str, Any], *, accepts: RevisionFilter) -> SourceReading:
        """What `obj` proves; its verdict is ok once its artifact was made from an accepted commit."""
        ...
