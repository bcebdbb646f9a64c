"""What every Flux object (toolkit.fluxcd.io) reports the same way: the reconcile request annotation, the
kstatus rules (observedGeneration, `Reconciling`, `Stalled`, `Ready`) and `spec.targetNamespace`.

Shared by the Flux reconcilers (gitops/verify/reconcilers/flux_*.py) and the Flux sources
(gitops/verify/sources/); nothing here knows a kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitops.verify.verdict import condition, condition_is, dig, generation_current

REQUESTED_AT_ANNOTATION = "reconcile.fluxcd.io/requestedAt"


def request_reconcile(token: str) -> dict[str, str]:
    """The annotations that ask a Flux controller to reconcile now (`flux reconcile` sets the same)."""
    return {REQUESTED_AT_ANNOTATION: token}


def common_missing(obj: Mapping[str, Any], requested_at: str | None) -> list[str]:
    """What keeps a Flux object from being current: our request unhandled, a generation not yet
    observed, a reconciliation in progress."""
    missing = []
    handled = dig(obj, "status", "lastHandledReconcileAt")
    if requested_at and handled != requested_at:
        missing.append(f"requested reconcile {requested_at} not yet handled (last handled: {handled})")
    if not generation_current(obj):
        missing.append("controller has not observed the latest generation")
    if condition_is(obj, "Reconciling", "True"):
        missing.append("reconciliation in progress")
    return missing


def stalled(obj: Mapping[str, Any]) -> list[str]:
    cond = condition(obj, "Stalled")
    if cond and cond.get("status") == "True":
        return [f"Stalled ({cond.get('reason', '?')}): {cond.get('message', '')}".rstrip(": ")]
    return []


def ready_text(obj: Mapping[str, Any]) -> str:
    cond = condition(obj, "Ready") or {}
    return f"Ready={cond.get('status', 'missing')} ({cond.get('reason', '?')}): {cond.get('message', '')}"


def target_namespace(obj: Mapping[str, Any]) -> str | None:
    value = dig(obj, "spec", "targetNamespace")
    return value if isinstance(value, str) and value else None
