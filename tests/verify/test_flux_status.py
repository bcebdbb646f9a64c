"""The kstatus rules every Flux object shares."""

from __future__ import annotations

from gitops.verify.flux_status import common_missing, ready_text, request_reconcile, stalled, target_namespace
from tests.verify.objects import kustomization

TOKEN = "2026-05-04T10:00:00.123456789Z"


def test_a_current_object_misses_nothing() -> None:
    assert common_missing(kustomization("k", handled=TOKEN), TOKEN) == []


def test_an_unhandled_request_an_unobserved_generation_and_a_reconciliation_are_missing() -> None:
    obj = kustomization("k", handled="2026-05-04T09:00:00Z", observed=6)
    obj["status"]["conditions"].append(
        {
            "type": "Reconciling",
            "status": "True",
            "reason": "Progressing",
            "message": "w",
            "lastTransitionTime": TOKEN,
        }
    )
    missing = common_missing(obj, TOKEN)
    assert len(missing) == 3 and "not yet handled" in missing[0]
    assert common_missing(obj, None)[0] == "controller has not observed the latest generation"


def test_stalled_ready_text_and_target_namespace() -> None:
    obj = kustomization("k", ready="False", reason="BuildFailed", message="boom", stalled=True)
    assert stalled(obj) == ["Stalled (BuildFailed): boom"]
    assert stalled(kustomization("k")) == []
    assert ready_text(obj) == "Ready=False (BuildFailed): boom"
    assert target_namespace(obj) == "odoo-prod"
    del obj["spec"]["targetNamespace"]
    assert target_namespace(obj) is None
    assert request_reconcile(TOKEN) == {"reconcile.fluxcd.io/requestedAt": TOKEN}
