"""How the chart's pre-migration backup hook reports completion (shared by the chart and `verify`).

The chart runs the backup as a Helm `pre-upgrade` hook Job (Argo CD maps it to a `PreSync` hook) before the
Odoo migration of a release that changes the database schema. The Job:

- carries the label `app.kubernetes.io/component=odoo-backup` (how verify finds it: one LIST + WATCH of
  Jobs with that label selector in the workload namespace);
- is annotated with `odoo-gitops.io/backup-id` (the id to restore from, e.g. a dump file name or a
  CloudNativePG/Velero backup name) and `odoo-gitops.io/release-version` (the release version whose
  migration it precedes);
- is complete when `status.succeeded >= 1` and `status.completionTime` is set.

Placeholder written by issue 7 (verify) because issue 8 (chart) had not defined it yet; issue 8 owns it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

COMPONENT_LABEL = "app.kubernetes.io/component"
COMPONENT_VALUE = "odoo-backup"
LABEL_SELECTOR = f"{COMPONENT_LABEL}={COMPONENT_VALUE}"
BACKUP_ID_ANNOTATION = "odoo-gitops.io/backup-id"
RELEASE_VERSION_ANNOTATION = "odoo-gitops.io/release-version"


def job_completed(job: Mapping[str, Any]) -> bool:
    status = job.get("status") or {}
    return int(status.get("succeeded") or 0) >= 1 and bool(status.get("completionTime"))
