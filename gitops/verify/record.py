"""Record a successful verification: in envs/<env>/release.yaml (per tenant under `tenants:` in
multi-tenant environments) and in the audit log, committed and pushed to the config repo's branch.

Re-running is harmless: an unchanged verification writes nothing, and the audit entries carry
idempotency keys (`verify:<env>[:<tenant>]:<revision>:<digest>`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from gitops.audit.log import append_entry, audit_path
from gitops.config.release_file import parse_release, render_release
from gitops.errors import ConfigError, Problem
from gitops.verify.convergence import TargetResult


@dataclass(frozen=True)
class VerifiedTarget:
    tenant: str | None
    subject: str
    digest: str
    reconciled_revision: str | None


def verified_targets(results: Sequence[TargetResult]) -> list[VerifiedTarget]:
    return [
        VerifiedTarget(r.target.tenant, r.target.subject, r.target.digest, r.reconciled_revision)
        for r in results
        if r.verdict.state.value == "ok"
    ]


def _verification(revision: str, at: datetime, digest: str, targets: list[str]) -> dict[str, Any]:
    return {
        "revision": revision,
        "verified_at": at.astimezone(UTC).replace(microsecond=0),
        "digest": digest,
        "targets": targets,
    }


def _same(existing: Any, revision: str, digest: str) -> bool:
    return (
        isinstance(existing, dict)
        and existing.get("revision") == revision
        and existing.get("digest") == digest
    )


def update_release_file(
    path: Path,
    *,
    revision: str,
    at: datetime,
    verified: Sequence[VerifiedTarget],
    all_verified: bool,
) -> bool:
    """Write the verification into release.yaml (the canonical layout, gitops/config/release_file.py);
    True when it changed."""
    try:
        data = parse_release(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([Problem(str(path), 0, f"cannot read: {exc.strerror}")]) from None
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError([Problem(str(path), 0, f"cannot read the release record: {exc}")]) from None
    changed = False
    tenants = [v for v in verified if v.tenant]
    for item in tenants:
        entry = data.setdefault("tenants", {}).setdefault(item.tenant, {})
        if not entry.get("image"):
            entry["image"] = data["image"]
            entry["version"] = data["version"]
        if not _same(entry.get("verification"), revision, item.digest):
            entry["verification"] = _verification(revision, at, item.digest, [item.subject])
            changed = True
    if all_verified and verified:
        digest = str(data["image"]).partition("@")[2]
        if not _same(data.get("verification"), revision, digest):
            data["verification"] = _verification(revision, at, digest, [v.subject for v in verified])
            changed = True
    if changed:
        path.write_text(render_release(data), encoding="utf-8")
    return changed


def append_audit(
    root: Path,
    env: str,
    *,
    revision: str,
    actor: str,
    verified: Sequence[VerifiedTarget],
    readiness: dict[str, Any] | None,
) -> list[int]:
    """One audit entry per verified target; returns their sequence numbers."""
    seqs = []
    for item in verified:
        scope = f"{env}:{item.tenant}" if item.tenant else env
        entry = append_entry(
            audit_path(root, env),
            env=env,
            kind="verification",
            actor=actor,
            data={
                "revision": revision,
                "digest": item.digest,
                "tenant": item.tenant,
                "target": item.subject,
                "reconciled_revision": item.reconciled_revision,
                "rollback_ready": None if readiness is None else readiness.get("ready"),
            },
            key=f"verify:{scope}:{revision}:{item.digest}",
        )
        seqs.append(entry.seq)
    return seqs
