"""Rollback readiness as a pure decision over facts the adapters gathered.

Ready when every check holds:

- `previous-release`: a previous release is recorded in release.yaml and was itself verified;
- `previous-image`: its digest still exists in the registry;
- `previous-signature`: its signature verifies with the environment's public key;
- `reconciler`: the reconciler can go back (each kind's `can_go_back`, gitops/verify/reconcilers/);
- `backup`: when the current release changed the database schema, a pre-migration backup Job for this
  release completed after the migration started (after the promotion's `promoted_at`). A release that did
  not change the schema needs none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from gitops.config.models import ReleaseRecord
from gitops.gates.evidence import RehearsalFacts
from gitops.gates.rehearsal import prove_backups
from gitops.verify import backup_contract as contract
from gitops.verify.backup_contract import BackupEvidence
from gitops.verify.verdict import dig


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(f"{c.name}: {c.detail}" for c in self.checks if not c.ok)

    def to_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "checks": [c.to_dict() for c in self.checks]}


def combine_checks(name: str, checks: Sequence[Check], labels: Sequence[str]) -> Check:
    """One check over several targets: ok when all are; the detail names the failing targets."""
    if not checks:
        return Check(name, False, "no target")
    failing = [f"{label}: {c.detail}" for label, c in zip(labels, checks, strict=True) if not c.ok]
    if failing:
        return Check(name, False, "; ".join(failing))
    details = sorted({c.detail for c in checks})
    return Check(name, True, details[0] if len(details) == 1 else "; ".join(details))


def previous_release_check(release: ReleaseRecord | None) -> Check:
    previous = release.previous if release else None
    if previous is None:
        return Check("previous-release", False, "no previous release recorded in release.yaml")
    if previous.verification is None:
        return Check("previous-release", False, f"previous release {previous.version} was never verified")
    return Check(
        "previous-release",
        True,
        f"{previous.version} verified at {previous.verification.verified_at.isoformat()}",
    )


def image_check(exists: tuple[bool | None, str], image: str) -> Check:
    found, reason = exists
    if found is None:
        return Check("previous-image", False, reason or "not checked")
    if not found:
        return Check("previous-image", False, f"{image} no longer exists in the registry")
    return Check("previous-image", True, f"{image} exists in the registry")


def signature_check(ok: bool | None, reason: str) -> Check:
    if ok is None:
        return Check("previous-signature", False, reason or "signature not checked")
    return Check("previous-signature", ok, reason or ("signature verifies" if ok else "bad signature"))


def schema_changed(release: ReleaseRecord) -> bool:
    """The current release changed the schema when its fingerprint differs from the previous one's
    (unknown on either side counts as changed only if the current one has a fingerprint)."""
    current = release.schema_fingerprint
    previous = release.previous.schema_fingerprint if release.previous else None
    return current is not None and current != previous


def backup_evidence(
    jobs: Iterable[Mapping[str, Any]], version: str
) -> dict[str | None, list[BackupEvidence]]:
    """Completed backup Jobs (per the chart's contract) for release `version`, by tenant, newest first."""
    found: dict[str | None, list[BackupEvidence]] = {}
    for job in jobs:
        evidence = contract.backup_evidence(job)
        if evidence is not None and evidence.release_version == version:
            tenant = (dig(job, "metadata", "labels") or {}).get(contract.TENANT_LABEL)
            found.setdefault(tenant, []).append(evidence)
    return {t: sorted(e, key=lambda b: b.completed_at, reverse=True) for t, e in found.items()}


def _fresh(release: ReleaseRecord, evidence: Iterable[BackupEvidence]) -> BackupEvidence | None:
    started = release.promoted_at
    return next((b for b in evidence if started is None or b.completed_at >= started), None)


def backup_check(
    release: ReleaseRecord,
    evidence: Mapping[str | None, list[BackupEvidence]],
    *,
    tenants: Sequence[str | None] = (None,),
) -> Check:
    """Every tenant (or the environment: `None`) needs a completed backup taken for this release after
    the migration started (the promotion's `promoted_at`)."""
    if not schema_changed(release):
        return Check("backup", True, "the release does not change the database schema; no backup needed")
    found = {
        t: _fresh(release, evidence.get(t, []) if t else [b for bs in evidence.values() for b in bs])
        for t in tenants
    }
    missing = [t or release.version for t, b in found.items() if b is None]
    if not missing:
        names = ", ".join(
            f"{b.backup_id} (Job {b.job}, {b.completed_at.isoformat()})" for b in found.values() if b
        )
        return Check("backup", True, f"pre-migration backup completed: {names}")
    since = f" after the migration started ({release.promoted_at.isoformat()})" if release.promoted_at else ""
    return Check(
        "backup",
        False,
        f"the release changes the schema but no completed pre-migration backup for {release.version}{since} "
        f"was found for: {', '.join(missing)} (Jobs labelled {contract.BACKUP_LABEL_SELECTOR})",
    )


def rehearsal_check(
    release: ReleaseRecord,
    evidence: Mapping[str | None, list[BackupEvidence]],
    facts: RehearsalFacts,
    now: datetime,
) -> Check:
    """The backups rollback would restore from count only when rehearsed within the recovery objectives."""
    if not schema_changed(release):
        return Check("rehearsal", True, "no database restore needed to roll back")
    backups = tuple(sorted({b.backup_id for found in evidence.values() for b in found[:1]}))
    proofs = prove_backups(replace(facts, backups=backups), now)
    failing = [p.reason for p in proofs if p.state != "success"]
    if failing:
        return Check("rehearsal", False, "; ".join(failing))
    return Check("rehearsal", True, "; ".join(p.reason for p in proofs))


def rollback_readiness(
    release: ReleaseRecord | None,
    *,
    image_exists: tuple[bool | None, str],
    signature: tuple[bool | None, str],
    reconciler: Check,
    backups: Mapping[str | None, list[BackupEvidence]] | None = None,
    tenants: Sequence[str | None] = (None,),
    rehearsal: RehearsalFacts | None = None,
    now: datetime | None = None,
) -> Readiness:
    """Combine the facts into the readiness report (`rehearsal`: when the env sets recovery objectives)."""
    previous = release.previous if release else None
    checks = [
        previous_release_check(release),
        image_check(image_exists, previous.image if previous else "(none)"),
        signature_check(*signature),
        reconciler,
    ]
    if release is not None:
        checks.append(backup_check(release, backups or {}, tenants=tenants))
        if rehearsal is not None and rehearsal.recovery is not None:
            checks.append(rehearsal_check(release, backups or {}, rehearsal, now or datetime.now(UTC)))
    return Readiness(tuple(checks))
