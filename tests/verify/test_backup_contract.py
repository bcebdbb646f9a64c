"""The backup contract: names, selectors and the evidence a backup Job gives (shared with the chart)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gitops.verify.backup_contract import (
    BACKUP_ID_ANNOTATION,
    BACKUP_LABEL,
    BACKUP_LOCATION_ANNOTATION,
    IMAGE_DIGEST_ANNOTATION,
    MAX_NAME_LENGTH,
    RELEASE_VERSION_ANNOTATION,
    backup_evidence,
    backup_id,
    backup_job_name,
    backup_label_selector,
    version_slug,
)
from tests.fixtures.charts import Helm, env_cases

DIGEST = "sha256:" + "0123456789abcdef" * 4


def job(**status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "odoo-backup-1-4-0",
            "labels": {BACKUP_LABEL: "true"},
            "annotations": {
                BACKUP_ID_ANNOTATION: "odoo-1-4-0-0123456789ab",
                RELEASE_VERSION_ANNOTATION: "1.4.0",
                IMAGE_DIGEST_ANNOTATION: DIGEST,
                BACKUP_LOCATION_ANNOTATION: "s3://b/odoo-1-4-0-0123456789ab.dump",
            },
        },
        "status": status,
    }


@pytest.mark.parametrize(
    ("version", "slug"),
    [("1.4.0", "1-4-0"), ("2.0.0-rc.1", "2-0-0-rc-1"), ("1.4.0+Build_7", "1-4-0-build-7")],
)
def test_version_slug(version: str, slug: str) -> None:
    assert version_slug(version) == slug


def test_job_names_with_and_without_tenant() -> None:
    assert backup_job_name(version="1.4.0") == "odoo-backup-1-4-0"
    assert backup_job_name(version="1.4.0", tenant="acme-build") == "odoo-backup-acme-build-1-4-0"
    long = backup_job_name(version="1.4.0-" + "x" * 80, tenant="initech-services")
    assert len(long) == MAX_NAME_LENGTH
    assert not long.endswith("-")


def test_selector_narrows_to_a_tenant() -> None:
    assert "odoo-gitops.io/tenant" not in backup_label_selector()
    assert backup_label_selector("acme-build").endswith(",odoo-gitops.io/tenant=acme-build")


def test_backup_id_names_database_version_and_digest() -> None:
    assert backup_id(database="acme-build", version="1.4.0", digest=DIGEST) == "acme-build-1-4-0-0123456789ab"


def test_a_completed_job_is_evidence() -> None:
    evidence = backup_evidence(job(succeeded=1, completionTime="2026-11-20T19:02:03Z"))
    assert evidence is not None
    assert evidence.backup_id == "odoo-1-4-0-0123456789ab"
    assert evidence.release_version == "1.4.0"
    assert evidence.image_digest == DIGEST
    assert evidence.location == "s3://b/odoo-1-4-0-0123456789ab.dump"
    assert evidence.completed_at == datetime(2026, 11, 20, 19, 2, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    "status",
    [
        {},
        {"active": 1},
        {"failed": 2},
        {"succeeded": 1},  # no completionTime: not complete by the contract
        {"succeeded": 0, "completionTime": "2026-11-20T19:02:03Z"},
    ],
    ids=["new", "running", "failed", "no-completion-time", "zero-succeeded"],
)
def test_a_job_that_did_not_complete_is_no_evidence(status: dict[str, Any]) -> None:
    assert backup_evidence(job(**status)) is None


def test_a_job_outside_the_contract_is_no_evidence() -> None:
    unlabelled = job(succeeded=1, completionTime="2026-11-20T19:02:03Z")
    unlabelled["metadata"]["labels"] = {}
    assert backup_evidence(unlabelled) is None
    no_id = job(succeeded=1, completionTime="2026-11-20T19:02:03Z")
    del no_id["metadata"]["annotations"][BACKUP_ID_ANNOTATION]
    assert backup_evidence(no_id) is None


@pytest.mark.helm
@pytest.mark.parametrize("version", ["1.4.0", "2.0.0-rc.1", "1.4.0-RC.1+build.7"])
def test_the_chart_names_the_job_as_the_contract_does(helm: Helm, version: str) -> None:
    staging = next(c for c in env_cases() if c.env == "staging")
    objects = helm.template(values_files=staging.values_files, set_values=[f"release.version={version}"])
    (backup,) = [o for o in objects if o["kind"] == "Job" and o["metadata"]["labels"].get(BACKUP_LABEL)]
    assert backup["metadata"]["name"] == backup_job_name(version=version)
    database = staging.values()["database"]["name"]
    digest = staging.values()["image"]["digest"]
    expected_id = backup_id(database=database, version=version, digest=digest)
    assert backup["metadata"]["annotations"][BACKUP_ID_ANNOTATION] == expected_id
