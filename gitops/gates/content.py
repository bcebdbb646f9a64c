"""The migration-relevant content of a promotion, and its hash.

An approval is bound to this hash, not to a commit SHA: a push that changes the image, the modules, the
schema fingerprint, the change class or the tenants a wave covers makes earlier approvals stale; a rebase that
leaves these unchanged keeps them valid.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

HASH_PREFIX = "mh1:"


def migration_content(release: Mapping[str, Any], *, tenants: Sequence[str] = ()) -> dict[str, Any]:
    """The part of a release.yaml mapping that a reviewer approves (plus the wave's tenants' images)."""
    modules = release.get("modules") or {}
    tenant_state = release.get("tenants") or {}
    return {
        "image": release.get("image"),
        "modules": {
            str(name): {"version": str(rec.get("version")), "checksum": str(rec.get("checksum"))}
            for name, rec in sorted(modules.items())
        },
        "schema_fingerprint": release.get("schema_fingerprint"),
        "change_class": release.get("change_class"),
        "destructive": bool(release.get("destructive", False)),
        "tenants": {
            t: (tenant_state.get(t) or {}).get("image") for t in sorted(tenants) if tenant_state is not None
        },
    }


def migration_hash(release: Mapping[str, Any], *, tenants: Sequence[str] = ()) -> str:
    """A stable hash of `migration_content` (canonical JSON, SHA-256)."""
    content = migration_content(release, tenants=tenants)
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return HASH_PREFIX + hashlib.sha256(text.encode()).hexdigest()
