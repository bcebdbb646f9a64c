"""Verdict on an Argo CD Application (argoproj.io/v1alpha1): did it reconcile the promoted commit?

Argo CD's own `argocd app wait` never compares revisions, so this does: the revision in `status.sync`
(or `revisions[]` for multi-source apps) and in the last operation's `syncResult` must be the promoted
SHA or a descendant of it; the app must be Synced and Healthy, the last operation Succeeded, and
`reconciledAt` not older than that operation's `finishedAt`. A requested refresh must have been consumed
(the controller removes the annotation) so the status is fresh. The object reports the commit itself:
it reads no Flux source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.verify.kube import Resource
from gitops.verify.readiness import Check
from gitops.verify.reconcilers.protocol import Reading
from gitops.verify.revision import RevisionFilter, git_sha, short
from gitops.verify.sources.protocol import SourceReading, SourceRef
from gitops.verify.verdict import Verdict, describe, dig, parse_time

RESOURCE = Resource("argoproj.io", "v1alpha1", "applications", "Application")
SOURCE_KINDS: frozenset[str] = frozenset()
REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"
FATAL_CONDITIONS = frozenset({"SyncError", "InvalidSpecError"})
FAILED_PHASES = frozenset({"Failed", "Error"})


def _revisions(section: Mapping[str, Any] | None) -> list[str]:
    """Git SHAs named by a sync or syncResult section (single- or multi-source)."""
    if not isinstance(section, Mapping):
        return []
    raw = [section.get("revision"), *(section.get("revisions") or [])]
    return [sha for sha in (git_sha(r) for r in raw) if sha]


def _accepted(section: Mapping[str, Any] | None, accepts: RevisionFilter) -> bool:
    return any(accepts(sha) for sha in _revisions(section))


def _named(section: Mapping[str, Any] | None) -> str:
    return ", ".join(short(s) for s in _revisions(section)) or "(none)"


def _failure(app: Mapping[str, Any], accepts: RevisionFilter) -> list[str]:
    """Why the promotion failed. Degraded health and sync/spec errors count only once the app is at the
    promoted revision (or newer) and our refresh was processed: an app still Degraded at an older revision
    may be fixed by this very promotion."""
    health = dig(app, "status", "health") or {}
    current = _accepted(dig(app, "status", "sync"), accepts) and not _refresh_pending(app)
    reasons = []
    if current and health.get("status") == "Degraded":
        reasons.append(f"health Degraded: {health.get('message') or 'no message'}")
    for cond in dig(app, "status", "conditions") or ():
        if current and cond.get("type") in FATAL_CONDITIONS:
            reasons.append(f"{cond['type']}: {cond.get('message', '')}".rstrip(": "))
    op = dig(app, "status", "operationState") or {}
    op_revisions = dig(op, "syncResult") or dig(op, "operation", "sync")
    if op.get("phase") in FAILED_PHASES and _accepted(op_revisions, accepts):
        reasons.append(f"sync of {_named(op_revisions)} {op['phase']}: {op.get('message') or 'no message'}")
    return reasons


def _refresh_pending(app: Mapping[str, Any]) -> bool:
    return bool((dig(app, "metadata", "annotations") or {}).get(REFRESH_ANNOTATION))


def _operation_missing(app: Mapping[str, Any], accepts: RevisionFilter) -> list[str]:
    op = dig(app, "status", "operationState")
    if app.get("operation"):
        return ["an operation is in progress"]
    if not isinstance(op, Mapping):
        return ["no sync operation recorded yet"]
    if op.get("phase") != "Succeeded":
        return [f"last operation is {op.get('phase') or 'unknown'}, not Succeeded"]
    if not _accepted(op.get("syncResult"), accepts):
        return [f"last successful sync was of {_named(op.get('syncResult'))}, not the promoted revision"]
    finished = parse_time(op.get("finishedAt"))
    reconciled = parse_time(dig(app, "status", "reconciledAt"))
    if finished is None:
        return ["last operation has not finished"]
    if reconciled is None or reconciled < finished:
        return ["not reconciled since the last operation finished"]
    return []


def application_verdict(app: Mapping[str, Any], *, accepts: RevisionFilter) -> Verdict:
    """ok / pending / failed for one Application object (a dict as the API returns it)."""
    subject = describe(app, RESOURCE.kind)
    if dig(app, "metadata", "deletionTimestamp"):
        return Verdict.failed(subject, "the Application is being deleted")
    reasons = _failure(app, accepts)
    if reasons:
        return Verdict.failed(subject, *reasons)
    missing = []
    if _refresh_pending(app):
        missing.append("requested refresh not yet processed by the controller")
    sync = dig(app, "status", "sync") or {}
    if not _accepted(sync, accepts):
        missing.append(f"sync revision is {_named(sync)}, not the promoted revision or a descendant")
    if sync.get("status") != "Synced":
        missing.append(f"sync status is {sync.get('status') or 'unknown'}, not Synced")
    health = dig(app, "status", "health", "status")
    if health != "Healthy":
        missing.append(f"health is {health or 'unknown'}, not Healthy")
    missing += _operation_missing(app, accepts)
    return Verdict.pending(subject, *missing) if missing else Verdict.ok(subject)


def destination_namespace(app: Mapping[str, Any]) -> str | None:
    value = dig(app, "spec", "destination", "namespace")
    return value if isinstance(value, str) and value else None


def refresh_annotations(token: str) -> dict[str, str]:
    """A normal refresh; the controller removes the annotation once consumed (`token` is not needed)."""
    return {REFRESH_ANNOTATION: "normal"}


def source_ref(obj: Mapping[str, Any], name: str | None) -> SourceRef | None:
    return None


def read(
    obj: Mapping[str, Any],
    *,
    accepts: RevisionFilter,
    requested_at: str | None,
    source: SourceReading | None,
    chart_version: str | None,
) -> Reading:
    return Reading(
        application_verdict(obj, accepts=accepts),
        git_sha(dig(obj, "status", "sync", "revision")),
        destination_namespace(obj),
    )


def can_go_back(app: Mapping[str, Any], previous_revision: str | None) -> Check:
    """A rollback PR (git revert) is applied by auto-sync; without auto-sync only `argocd app rollback`
    to a history entry holding the previous revision brings it back."""
    automated = dig(app, "spec", "syncPolicy", "automated") is not None
    history = dig(app, "status", "history") or ()
    revisions = {git_sha(entry.get("revision")) for entry in history} | {
        git_sha(r) for entry in history for r in entry.get("revisions") or ()
    }
    in_history = previous_revision is not None and previous_revision in revisions
    if automated:
        return Check("reconciler", True, "auto-sync is on: a rollback PR (git revert) is applied by Argo CD")
    if in_history:
        return Check(
            "reconciler",
            True,
            f"auto-sync is off; history holds {short(previous_revision)} for `argocd app rollback`",
        )
    return Check(
        "reconciler",
        False,
        f"auto-sync is off and history has no entry for {short(previous_revision)}: nothing would apply a "
        "rollback PR and `argocd app rollback` has nothing to go back to",
    )
