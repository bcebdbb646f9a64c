from __future__ import annotations

from typing import Any

import pytest

from gitops.verify.reconcilers import flux_helmrelease, flux_kustomization
from gitops.verify.reconcilers.flux_helmrelease import helmrelease_verdict
from gitops.verify.reconcilers.flux_kustomization import kustomization_verdict
from gitops.verify.sources.git_repository import verdict as gitrepository_verdict
from gitops.verify.verdict import State
from tests.verify.kubeserver import KINDS, validate
from tests.verify.objects import gitrepository, helmrelease, kustomization, sha

SHA = sha("promoted")
NEWER = sha("newer")
OLD = sha("old")
TOKEN = "2026-05-04T10:00:00.123456789Z"


def accepts(candidate: str) -> bool:
    return candidate in (SHA, NEWER)


def ks_verdict(source: str | None = f"main@sha1:{SHA}", **kwargs: Any):
    obj = kustomization("odoo", handled=TOKEN, **kwargs)
    validate(KINDS["kustomizations"], obj)
    return kustomization_verdict(obj, accepts=accepts, requested_at=TOKEN, source_revision=source)


def test_kustomization_applied_at_the_promoted_commit_is_ok() -> None:
    assert ks_verdict(applied=SHA).state is State.OK


def test_pre_2_0_revision_form_is_accepted() -> None:
    assert ks_verdict(applied=SHA, legacy=True, source=f"main/{SHA}").state is State.OK


def test_kustomization_at_a_descendant_is_ok() -> None:
    assert ks_verdict(applied=NEWER, source=f"main@sha1:{NEWER}").state is State.OK


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"applied": OLD}, "last applied revision is main@sha1:" + OLD),
        ({"applied": SHA, "observed": 6}, "has not observed the latest generation"),
        ({"applied": SHA, "ready": "Unknown", "reason": "Progressing"}, "Ready=Unknown"),
        ({"applied": SHA, "source": f"main@sha1:{NEWER}"}, "source artifact is"),
    ],
)
def test_kustomization_pending_reasons(kwargs: dict[str, Any], expected: str) -> None:
    result = ks_verdict(**kwargs)
    assert result.state is State.PENDING
    assert any(expected in m for m in result.missing), result.missing


def test_an_unhandled_reconcile_request_keeps_it_pending() -> None:
    obj = kustomization("odoo", applied=SHA, handled="2026-05-04T09:00:00Z")
    result = kustomization_verdict(obj, accepts=accepts, requested_at=TOKEN)
    assert result.state is State.PENDING
    assert "not yet handled" in result.missing[0]


def test_stalled_fails() -> None:
    result = ks_verdict(
        applied=SHA, ready="False", reason="BuildFailed", stalled=True, message="kustomize build failed"
    )
    assert result.state is State.FAILED
    assert any("Stalled (BuildFailed)" in r for r in result.reasons)


def test_a_newer_revision_that_failed_fails_fast() -> None:
    result = ks_verdict(
        applied=OLD, attempted=NEWER, ready="False", reason="HealthCheckFailed", message="timeout"
    )
    assert result.state is State.FAILED
    assert "newer revision failed" in result.reasons[0]


def test_apply_failure_of_an_older_revision_is_only_pending() -> None:
    result = ks_verdict(applied=OLD, attempted=OLD, ready="False", reason="ReconciliationFailed")
    assert result.state is State.PENDING


def test_dependency_not_ready_waits() -> None:
    assert (
        ks_verdict(applied=OLD, attempted=SHA, ready="False", reason="DependencyNotReady").state
        is State.PENDING
    )


def test_gitrepository_verdict_checks_the_artifact_revision() -> None:
    assert gitrepository_verdict(gitrepository("config", revision=SHA), accepts=accepts).state is State.OK
    assert (
        gitrepository_verdict(gitrepository("config", revision=OLD), accepts=accepts).state is State.PENDING
    )
    assert gitrepository_verdict(gitrepository("config"), accepts=accepts).state is State.PENDING


def hr_verdict(obj: dict[str, Any], chart: str | None = None):
    validate(KINDS["helmreleases"], obj)
    return helmrelease_verdict(obj, requested_at=TOKEN, chart_version=chart)


def test_helmrelease_deployed_and_ready_is_ok() -> None:
    obj = helmrelease("odoo", history=[("1.4.0", "deployed"), ("1.3.2", "superseded")], handled=TOKEN)
    assert hr_verdict(obj, chart="1.4.0").state is State.OK


def test_helmrelease_chart_version_with_build_metadata_matches() -> None:
    obj = helmrelease("odoo", history=[("1.4.0+3f2a9c1e7b00", "deployed")], handled=TOKEN)
    assert hr_verdict(obj, chart="1.4.0").state is State.OK
    assert hr_verdict(obj, chart="1.4.1").state is State.PENDING


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"handled": None}, "not yet handled"),
        ({"attempted_config": "sha256:cfg2"}, "last attempted values are not the deployed ones"),
        ({"attempted": "1.5.0"}, "attempted chart 1.5.0, deployed 1.4.0"),
        ({"history": []}, "no Helm release in history yet"),
        ({"ready": "Unknown", "reason": "Progressing"}, "Ready=Unknown"),
    ],
)
def test_helmrelease_pending_reasons(kwargs: dict[str, Any], expected: str) -> None:
    base: dict[str, Any] = {"handled": TOKEN}
    result = hr_verdict(helmrelease("odoo", **{**base, **kwargs}))
    assert result.state is State.PENDING
    assert any(expected in m for m in result.missing), result.missing


def test_helmrelease_upgrade_failure_fails() -> None:
    obj = helmrelease(
        "odoo",
        history=[("1.5.0", "failed"), ("1.4.0", "deployed")],
        ready="False",
        reason="UpgradeFailed",
        handled=TOKEN,
    )
    result = hr_verdict(obj)
    assert result.state is State.FAILED
    assert any("UpgradeFailed" in r for r in result.reasons)
    assert any("newest Helm release v2 (1.5.0) failed" in r for r in result.reasons)


def test_helmrelease_stalled_fails() -> None:
    obj = helmrelease("odoo", ready="False", reason="InstallFailed", stalled=True, handled=TOKEN)
    assert hr_verdict(obj).state is State.FAILED


def test_source_name_reads_both_kinds() -> None:
    assert flux_kustomization.source_ref(kustomization("a", source="cfg"), None).name == "cfg"  # type: ignore[union-attr]
    assert flux_helmrelease.source_ref(helmrelease("a", source="charts"), None).name == "charts"  # type: ignore[union-attr]


def test_stalled_at_an_older_revision_is_only_pending() -> None:
    result = ks_verdict(applied=OLD, ready="False", reason="BuildFailed", stalled=True)
    assert result.state is State.PENDING


def test_helmrelease_failure_before_our_reconcile_was_handled_is_only_pending() -> None:
    obj = helmrelease(
        "odoo",
        history=[("1.3.2", "failed")],
        ready="False",
        reason="UpgradeFailed",
        handled="2026-05-04T09:00:00Z",
    )
    assert hr_verdict(obj).state is State.PENDING
