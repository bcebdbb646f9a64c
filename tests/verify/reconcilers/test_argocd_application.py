from __future__ import annotations

from typing import Any

import pytest

from gitops.verify.reconcilers.argocd_application import REFRESH_ANNOTATION, application_verdict
from gitops.verify.revision import only
from gitops.verify.verdict import State
from tests.verify.kubeserver import KINDS, validate
from tests.verify.objects import application, at, sha

SHA = sha("promoted")
NEWER = sha("newer")
OLD = sha("old")


def accepts(candidate: str) -> bool:
    """SHA and NEWER (a descendant) are accepted; OLD is an ancestor."""
    return candidate in (SHA, NEWER)


def verdict(app: dict[str, Any]):
    validate(KINDS["applications"], app)  # every object used here is a valid Application
    return application_verdict(app, accepts=accepts)


def test_synced_healthy_succeeded_at_the_promoted_revision_is_ok() -> None:
    assert verdict(application("web", revision=SHA)).state is State.OK


def test_a_descendant_revision_is_ok() -> None:
    assert verdict(application("web", revision=NEWER)).state is State.OK


def test_an_older_revision_is_pending_and_names_it() -> None:
    result = verdict(application("web", revision=OLD))
    assert result.state is State.PENDING
    assert any(OLD[:12] in line and "not the promoted revision" in line for line in result.missing)


def test_only_filter_rejects_descendants() -> None:
    result = application_verdict(application("web", revision=NEWER), accepts=only(SHA))
    assert result.state is State.PENDING


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"sync": "OutOfSync"}, "sync status is OutOfSync"),
        ({"health": "Progressing"}, "health is Progressing"),
        ({"phase": "Running"}, "last operation is Running"),
        ({"phase": None}, "no sync operation recorded"),
        ({"op_revision": OLD}, "last successful sync was of"),
        ({"reconciled": at(1, 0)}, "not reconciled since the last operation finished"),
    ],
)
def test_each_missing_condition_keeps_it_pending(kwargs: dict[str, Any], expected: str) -> None:
    result = verdict(application("web", revision=SHA, **kwargs))
    assert result.state is State.PENDING
    assert any(expected in line for line in result.missing), result.missing


def test_an_unconsumed_refresh_keeps_it_pending() -> None:
    app = application("web", revision=SHA)
    app["metadata"]["annotations"] = {REFRESH_ANNOTATION: "normal"}
    result = verdict(app)
    assert result.state is State.PENDING
    assert "refresh" in result.missing[0]


def test_an_operation_in_flight_keeps_it_pending() -> None:
    app = application("web", revision=SHA)
    app["operation"] = {"sync": {"revision": SHA}}
    assert any("in progress" in m for m in verdict(app).missing)


def test_multi_source_revisions_are_read() -> None:
    app = application("web", revision=None)
    app["status"]["sync"]["revisions"] = [sha("chart-repo"), SHA]
    app["status"]["operationState"]["syncResult"] = {"revision": "", "revisions": [sha("chart-repo"), SHA]}
    assert verdict(app).state is State.OK


def test_degraded_fails_fast_with_the_message() -> None:
    result = verdict(application("web", revision=SHA, health="Degraded", message="CrashLoopBackOff"))
    assert result.state is State.FAILED
    assert "Degraded: CrashLoopBackOff" in result.reasons[0]


def test_a_failed_sync_of_the_promoted_revision_fails() -> None:
    result = verdict(application("web", revision=OLD, op_revision=SHA, phase="Failed", sync="OutOfSync"))
    assert result.state is State.FAILED
    assert "Failed" in result.reasons[0]


def test_a_failed_sync_of_a_newer_revision_fails() -> None:
    result = verdict(application("web", revision=SHA, op_revision=NEWER, phase="Error"))
    assert result.state is State.FAILED


def test_a_failed_sync_of_an_older_revision_is_only_pending() -> None:
    result = verdict(application("web", revision=OLD, op_revision=OLD, phase="Failed", sync="OutOfSync"))
    assert result.state is State.PENDING


def test_sync_error_condition_fails() -> None:
    cond = {"type": "SyncError", "message": "the server could not find the requested resource"}
    result = verdict(application("web", revision=SHA, conditions=[cond]))
    assert result.state is State.FAILED
    assert result.reasons == ("SyncError: the server could not find the requested resource",)


def test_a_comparison_error_is_not_fatal() -> None:
    cond = {"type": "ComparisonError", "message": "rpc error: repository not accessible"}
    assert verdict(application("web", revision=SHA, conditions=[cond])).state is State.OK


def test_degraded_at_an_older_revision_is_only_pending() -> None:
    """A promotion may be the fix for an app that is Degraded at the previous revision."""
    result = verdict(application("web", revision=OLD, health="Degraded", message="CrashLoopBackOff"))
    assert result.state is State.PENDING
    assert "health is Degraded, not Healthy" in result.missing


def test_degraded_before_the_refresh_was_processed_is_only_pending() -> None:
    app = application("web", revision=SHA, health="Degraded", message="CrashLoopBackOff")
    app["metadata"]["annotations"] = {REFRESH_ANNOTATION: "normal"}
    assert verdict(app).state is State.PENDING
