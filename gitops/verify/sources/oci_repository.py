"""Flux OCIRepository (source.toolkit.fluxcd.io/v1): an OCI artifact, e.g. the config repo pushed by CI
with `flux push artifact oci://… --source=<repo url> --revision=<branch>@sha1:<sha>`.

Its artifact revision is the manifest digest, `<tag>@sha256:<hex>` (a pinned digest: `sha256:<hex>`;
before Flux 2.0: `<tag>/<hex>`), which names no commit. The commit is the artifact's origin revision, the
`org.opencontainers.image.revision` annotation source-controller copies into `status.artifact.metadata`
(and kustomize-controller into a Kustomization's `lastAppliedOriginRevision`). An artifact without it
cannot prove a promotion, so verification waits and says how to push one that does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gitops.verify.flux_status import common_missing, request_reconcile
from gitops.verify.kube import Resource
from gitops.verify.revision import RevisionFilter, git_sha
from gitops.verify.sources.protocol import SourceReading
from gitops.verify.verdict import Verdict, condition, describe, dig

RESOURCE = Resource("source.toolkit.fluxcd.io", "v1", "ocirepositories", "OCIRepository")
ORIGIN_REVISION = "org.opencontainers.image.revision"
FAILURE_CONDITIONS = ("FetchFailed", "StorageOperationFailed")
_REVISION = re.compile(r"^(?:[^@/\s]+@)?(?P<digest>sha256:[0-9a-f]{64})$")
_LEGACY_REVISION = re.compile(r"^[^@/\s]+/(?P<hex>[0-9a-f]{64})$")


def refresh_annotations(token: str) -> dict[str, str]:
    return request_reconcile(token)


def oci_digest(revision: object) -> str | None:
    """`sha256:<hex>` out of an OCIRepository artifact revision, in any form Flux writes; else None."""
    if not isinstance(revision, str):
        return None
    text = revision.strip()
    match = _REVISION.match(text)
    if match:
        return match.group("digest")
    legacy = _LEGACY_REVISION.match(text)
    return f"sha256:{legacy.group('hex')}" if legacy else None


def origin_revision(repo: Mapping[str, Any]) -> str | None:
    value = (dig(repo, "status", "artifact", "metadata") or {}).get(ORIGIN_REVISION)
    return value if isinstance(value, str) and value else None


def _origin_missing(revision: str | None, origin: str | None, accepts: RevisionFilter) -> list[str]:
    sha = git_sha(origin)
    if origin is None:
        return [
            f"artifact {revision} carries no {ORIGIN_REVISION} annotation, so it proves no commit "
            "(push it with `flux push artifact … --revision=<branch>@sha1:<sha>`)"
        ]
    if sha is None:
        return [f"artifact {revision} was built from {origin!r}, which names no git commit"]
    if not accepts(sha):
        return [f"artifact {revision} was built from {origin}, not the promoted revision or a descendant"]
    return []


def verdict(repo: Mapping[str, Any], *, accepts: RevisionFilter) -> Verdict:
    """The source has pulled an artifact built from SHA (or a descendant) and published it."""
    subject = describe(repo, RESOURCE.kind)
    revision = dig(repo, "status", "artifact", "revision")
    missing = common_missing(repo, None)
    for kind in FAILURE_CONDITIONS:
        cond = condition(repo, kind)
        if cond and cond.get("status") == "True":
            missing.append(f"{kind} ({cond.get('reason', '?')}): {cond.get('message', '')}")
    verified = condition(repo, "SourceVerified")
    if verified and verified.get("status") == "False":
        missing.append(f"signature verification failed: {verified.get('message', '')}")
    if oci_digest(revision) is None:
        missing.append(f"artifact revision is {revision or '(none)'}, not an OCI digest")
    else:
        missing += _origin_missing(str(revision), origin_revision(repo), accepts)
    return Verdict.pending(subject, *missing) if missing else Verdict.ok(subject)


def read(repo: Mapping[str, Any], *, accepts: RevisionFilter) -> SourceReading:
    revision = dig(repo, "status", "artifact", "revision")
    text = revision if isinstance(revision, str) else None
    return SourceReading(
        verdict(repo, accepts=accepts),
        revision=text,
        commit=git_sha(origin_revision(repo)),
        digest=oci_digest(text),
    )
