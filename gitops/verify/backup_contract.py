"""The contract between the chart's backup hook Job (charts/odoo) and rollback readiness (verify).

The chart renders, when a release changes the schema (values `release.schemaChange`) or the gate policy
requires a backup (`release.backupRequired`), one Job that runs before the migration and the new pods:

- name: ``<base>-backup[-<tenant>]-<version slug>``, e.g. ``odoo-backup-1-4-0`` or
  ``odoo-backup-acme-build-1-4-0`` (truncated to 63 characters); see `backup_job_name`;
- labels: ``app.kubernetes.io/name=odoo``, ``app.kubernetes.io/component=backup``,
  ``odoo-gitops.io/backup=true`` and, in multi-tenant environments, ``odoo-gitops.io/tenant=<tenant>``;
- annotations: `BACKUP_ID_ANNOTATION`, `RELEASE_VERSION_ANNOTATION`, `IMAGE_DIGEST_ANNOTATION`,
  `BACKUP_LOCATION_ANNOTATION`;
- completion: the Job has ``status.succeeded >= 1`` and ``status.completionTime`` set. The Job is
  kept after success (its hook delete policy is before-hook-creation only), so its status is the record.

Both sides import this module; docs/chart.md describes the same contract for people.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

BACKUP_ID_ANNOTATION = "odoo-gitops.io/backup-id"
RELEASE_VERSION_ANNOTATION = "odoo-gitops.io/release-version"
IMAGE_DIGEST_ANNOTATION = "odoo-gitops.io/image-digest"
BACKUP_LOCATION_ANNOTATION = "odoo-gitops.io/backup-location"
TENANT_LABEL = "odoo-gitops.io/tenant"
BACKUP_LABEL = "odoo-gitops.io/backup"
BACKUP_LABEL_SELECTOR = (
    "app.kubernetes.io/name=odoo,app.kubernetes.io/component=backup,odoo-gitops.io/backup=true"
)
JOB_NAME_PATTERN = "{base}-backup{tenant_part}-{version_slug}"
DEFAULT_BASE_NAME = "odoo"
MAX_NAME_LENGTH = 63

_SLUG_CHARS = re.compile(r"[.+_]")


def version_slug(version: str) -> str:
    """A release version as a name part, as the chart's `odoo.versionSlug`: 1.4.0+b.7 -> 1-4-0-b-7."""
    return _SLUG_CHARS.sub("-", version.lower())


def backup_job_name(*, version: str, tenant: str | None = None, base: str = DEFAULT_BASE_NAME) -> str:
    """The backup Job's name for a release version (and tenant), exactly as the chart renders it."""
    tenant_part = f"-{tenant}" if tenant else ""
    name = JOB_NAME_PATTERN.format(base=base, tenant_part=tenant_part, version_slug=version_slug(version))
    return name[:MAX_NAME_LENGTH].rstrip("-")


def backup_label_selector(tenant: str | None = None) -> str:
    """The label selector listing the backup Jobs of one environment (or one tenant)."""
    return f"{BACKUP_LABEL_SELECTOR},{TENANT_LABEL}={tenant}" if tenant else BACKUP_LABEL_SELECTOR


@dataclass(frozen=True)
class BackupEvidence:
    """A completed backup, as read from its Job."""

    job: str
    backup_id: str
    release_version: str
    image_digest: str | None
    location: str | None
    completed_at: datetime


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def backup_evidence(job: Mapping[str, Any]) -> BackupEvidence | None:
    """The evidence a Job (its JSON form: camelCase keys, as the API serves it) gives, or None.

    None when the Job is not a backup Job of this contract or has not completed successfully.
    """
    metadata = job.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    labels = metadata.get("labels") or {}
    status = job.get("status") or {}
    backup_id = annotations.get(BACKUP_ID_ANNOTATION)
    version = annotations.get(RELEASE_VERSION_ANNOTATION)
    completed_at = _parse_time(status.get("completionTime"))
    if labels.get(BACKUP_LABEL) != "true" or not backup_id or not version:
        return None
    if int(status.get("succeeded") or 0) < 1 or completed_at is None:
        return None
    return BackupEvidence(
        job=str(metadata.get("name", "")),
        backup_id=str(backup_id),
        release_version=str(version),
        image_digest=annotations.get(IMAGE_DIGEST_ANNOTATION),
        location=annotations.get(BACKUP_LOCATION_ANNOTATION),
        completed_at=completed_at,
    )


def backup_id(*, database: str, version: str, digest: str) -> str:
    """The backup id the chart writes: <database>-<version slug>-<first 12 hex digits of the image digest>."""
    return f"{database}-{version_slug(version)}-{digest.removeprefix('sha256:')[:12]}"
