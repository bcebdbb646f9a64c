from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gitops.config.models import ReleaseRecord
from gitops.verify.readiness import (
    Check,
    backup_check,
    backup_evidence,
    combine_checks,
    rollback_readiness,
    schema_changed,
)
from gitops.verify.reconcilers import flux_helmrelease, flux_kustomization
from gitops.verify.reconcilers.argocd_application import can_go_back as argocd_can_go_back
from tests.verify.objects import REPO, application, at, backup_job, digest, helmrelease, kustomization, sha

PREV_REV = sha("previous-verified")


def release(**overrides: Any) -> ReleaseRecord:
    data: dict[str, Any] = {
        "image": f"{REPO}@{digest('current')}",
        "version": "1.4.0",
        "source_commit": sha("src"),
        "schema_fingerprint": "sha256:" + "b" * 64,
        "promoted_at": datetime(2026, 5, 4, 10, 0, tzinfo=UTC),
        "previous": {
            "image": f"{REPO}@{digest('previous')}",
            "version": "1.3.2",
            "source_commit": sha("src-old"),
            "schema_fingerprint": "sha256:" + "a" * 64,
            "verification": {"revision": PREV_REV, "verified_at": "2026-05-01T10:00:00Z"},
        },
    }
    data.update(overrides)
    return ReleaseRecord.model_validate(data)


def ready(rel: ReleaseRecord | None, **kwargs: Any):
    defaults: dict[str, Any] = {
        "image_exists": (True, ""),
        "signature": (True, "signature verifies"),
        "reconciler": argocd_can_go_back(application("a", revision=sha("x")), PREV_REV),
        "backups": backup_evidence(
            [backup_job("b1", version="1.4.0", backup_id="dump-1", completed=at(1))], "1.4.0"
        ),
    }
    return rollback_readiness(rel, **{**defaults, **kwargs})


def failing(result: Any) -> set[str]:
    return {c.name for c in result.checks if not c.ok}


def test_all_facts_present_is_ready() -> None:
    result = ready(release())
    assert result.ready, result.reasons
    assert failing(result) == set()


def test_no_previous_release_is_not_ready() -> None:
    assert "previous-release" in failing(ready(release(previous=None)))


def test_unverified_previous_release_is_not_ready() -> None:
    rel = release()
    prev = rel.previous.model_copy(update={"verification": None})  # type: ignore[union-attr]
    assert "previous-release" in failing(ready(rel.model_copy(update={"previous": prev})))


def test_previous_image_gone_from_registry_is_not_ready() -> None:
    result = ready(release(), image_exists=(False, ""))
    assert failing(result) == {"previous-image"}
    assert "no longer exists" in result.reasons[0]


def test_bad_or_unchecked_signature_is_not_ready() -> None:
    assert failing(ready(release(), signature=(False, "no signature matches the key"))) == {
        "previous-signature"
    }
    assert failing(ready(release(), signature=(None, "no signing key"))) == {"previous-signature"}


def test_argocd_without_auto_sync_needs_a_history_entry() -> None:
    manual = application("a", revision=sha("x"), automated=False, history=[sha("older")])
    check = argocd_can_go_back(manual, PREV_REV)
    assert not check.ok and "no entry" in check.detail
    manual_with = application("a", revision=sha("x"), automated=False, history=[PREV_REV, sha("x")])
    assert argocd_can_go_back(manual_with, PREV_REV).ok
    assert argocd_can_go_back(application("a", revision=sha("x")), PREV_REV).ok  # auto-sync: git revert


def test_flux_can_go_back_unless_suspended() -> None:
    assert flux_kustomization.can_go_back(kustomization("k"), None).ok
    suspended = kustomization("k")
    suspended["spec"]["suspend"] = True
    assert not flux_kustomization.can_go_back(suspended, None).ok
    hr = flux_helmrelease.can_go_back(
        helmrelease("h", history=[("1.4.0", "deployed"), ("1.3.2", "superseded")]), None
    )
    assert hr.ok and "Helm can also roll back to v1" in hr.detail
    assert not flux_helmrelease.can_go_back(helmrelease("h", suspend=True), None).ok


def test_schema_change_needs_a_backup_completed_after_the_migration_started() -> None:
    rel = release()
    assert schema_changed(rel)
    stale = backup_evidence(
        [backup_job("b0", version="1.4.0", backup_id="dump-0", completed="2026-05-04T09:00:00Z")], "1.4.0"
    )
    check = backup_check(rel, stale)
    assert not check.ok and "no completed pre-migration backup" in check.detail
    assert "backup" in failing(ready(rel, backups=stale))


def test_backup_for_another_version_or_unfinished_does_not_count() -> None:
    jobs = [
        backup_job("b1", version="1.3.2", backup_id="dump-old", completed=at(5)),
        backup_job("b2", version="1.4.0", backup_id="dump-running", completed=None),
    ]
    assert backup_evidence(jobs, "1.4.0") == {}


def test_completed_backup_is_named() -> None:
    evidence = backup_evidence(
        [backup_job("b1", version="1.4.0", backup_id="dump-1", completed=at(3))], "1.4.0"
    )
    check = backup_check(release(), evidence)
    assert check.ok and "dump-1" in check.detail


def test_every_tenant_needs_its_own_backup() -> None:
    jobs = [backup_job("b-acme", version="1.4.0", backup_id="acme-1", completed=at(3), tenant="acme")]
    evidence = backup_evidence(jobs, "1.4.0")
    check = backup_check(release(), evidence, tenants=["acme", "globex"])
    assert not check.ok and check.detail.endswith(
        "was found for: globex (Jobs labelled "
        "app.kubernetes.io/name=odoo,app.kubernetes.io/component=backup,"
        "odoo-gitops.io/backup=true)"
    )
    assert backup_check(release(), evidence, tenants=["acme"]).ok


def test_no_schema_change_needs_no_backup() -> None:
    rel = release(schema_fingerprint="sha256:" + "a" * 64)
    assert not schema_changed(rel)
    assert ready(rel, backups={}).ready


def test_reconciler_checks_of_several_targets_name_the_failing_ones() -> None:
    good, bad = Check("reconciler", True, "auto-sync"), Check("reconciler", False, "suspended")
    combined = combine_checks("reconciler", [good, bad, good], ["acme", "globex", "initech"])
    assert not combined.ok and combined.detail == "globex: suspended"
    assert combine_checks("reconciler", [good, good], ["a", "b"]) == Check("reconciler", True, "auto-sync")


def test_unreachable_registry_is_not_ready_with_the_reason() -> None:
    result = ready(release(), image_exists=(None, "registry lookup failed: connection refused"))
    assert failing(result) == {"previous-image"}
    assert "connection refused" in result.reasons[0]
