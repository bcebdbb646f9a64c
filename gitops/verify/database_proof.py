"""Proof that the database runs the release, not only the pods.

The chart's migration hook (charts/odoo/files/migrate.py, `migration.recordProof: true`) reads, after
`odoo -u`, every installed module's row of `ir_module_module` (state and installed `latest_version`), adds
the checksum of the code Odoo loads each module from (click-odoo-update's addon hash of the addon directory
in the migration container, the way the build computed release.yaml's checksums) and writes them into a
ConfigMap labelled `odoo-gitops.io/database-proof=true` (and `app.kubernetes.io/instance`) in the
workload namespace. A module left `to upgrade` (the update failed half-way), at another version, not
installed, or updated from other code (a recorded checksum that is not release.yaml's, or none recorded)
fails the target: the image runs, the database does not match it.

Required only where the env's chart values turn the recording on (envs/<env>/values.yaml, and a tenant's
file for its tenant), so environments without the hook verify as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from gitops.config.loader import EnvBundle
from gitops.config.models import ReleaseRecord
from gitops.verify.kube import CONFIGMAPS, KubeApi
from gitops.verify.verdict import State, Verdict, combine

LABEL = "odoo-gitops.io/database-proof"
TENANT_LABEL = "odoo-gitops.io/tenant"
DATA_KEY = "proof.json"


def required(values_files: Iterable[Path]) -> bool:
    """Whether the chart values (later files win) turn on `migration.recordProof`."""
    on = False
    for path in values_files:
        if not path.is_file():
            continue
        try:
            values = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:
            continue  # the chart's own checks report broken values; this only decides what to require
        migration = values.get("migration") if isinstance(values, Mapping) else None
        if isinstance(migration, Mapping) and "recordProof" in migration:
            on = migration["recordProof"] is True
    return on


def selector(tenant: str | None) -> str:
    return f"{LABEL}=true" + (f",{TENANT_LABEL}={tenant}" if tenant else "")


def _records(configmaps: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, str | None]:
    """The newest proof among `configmaps` (by recorded_at), or why none can be read."""
    proofs = []
    for cm in configmaps:
        raw = (cm.get("data") or {}).get(DATA_KEY)
        name = (cm.get("metadata") or {}).get("name")
        try:
            doc = json.loads(raw) if isinstance(raw, str) else None
        except ValueError:
            return None, f"ConfigMap {name}: {DATA_KEY} is not JSON"
        if not isinstance(doc, dict) or not isinstance(doc.get("modules"), dict):
            return None, f"ConfigMap {name}: {DATA_KEY} has no modules map"
        proofs.append(doc)
    if not proofs:
        return None, None
    return max(proofs, key=lambda d: str(d.get("recorded_at") or "")), None


def verdict(release: ReleaseRecord, configmaps: list[dict[str, Any]], *, subject: str) -> Verdict:
    """ok when every module of release.yaml is installed at its version and checksum in the database."""
    proof, broken = _records(configmaps)
    if broken:
        return Verdict.failed(subject, broken)
    if proof is None:
        return Verdict.failed(
            subject, "no database proof recorded by the migration hook (migration.recordProof is on)"
        )
    recorded: Mapping[str, Any] = proof["modules"]
    reasons = []
    for name, expected in sorted(release.modules.items()):
        row = recorded.get(name)
        if not isinstance(row, Mapping):
            reasons.append(f"module {name}: not in the database")
            continue
        state, version, checksum = row.get("state"), row.get("version"), row.get("checksum")
        if state == "to upgrade":
            reasons.append(f"module {name}: still 'to upgrade' (its update did not complete)")
        elif state != "installed":
            reasons.append(f"module {name}: state {state!r}, not installed")
        if version != expected.version:
            reasons.append(
                f"module {name}: database at version {version}, release.yaml says {expected.version}"
            )
        if not isinstance(checksum, str) or not checksum:
            reasons.append(
                f"module {name}: no checksum of its code recorded (the migration hook found no such addon"
                " on its addons path, or predates checksum recording: re-run the migration)"
            )
        elif checksum != expected.checksum:
            where = f" at {row['path']}" if isinstance(row.get("path"), str) else ""
            reasons.append(
                f"module {name}: the database was updated from code with checksum {checksum}{where},"
                f" release.yaml says {expected.checksum}"
            )
    if proof.get("update_exit_code") not in (0, None):
        reasons.append(f"the module update exited with {proof.get('update_exit_code')}")
    return Verdict.failed(subject, *reasons) if reasons else Verdict.ok(subject)


def apply(
    outcome: Any,
    release: ReleaseRecord | None,
    list_proofs: Callable[[str, str], list[dict[str, Any]]],
    values_files: Callable[[str | None], list[Path]],
) -> None:
    """Combine each verified target's result (an Outcome's `results`) with its database proof, in place.

    `list_proofs(namespace, selector)` lists the ConfigMaps; `values_files(tenant)` names the chart values
    that decide whether the proof is required for that target.
    """
    if release is None or not release.modules:
        return
    for index, result in enumerate(outcome.results):
        if result.verdict.state is not State.OK or not required(values_files(result.target.tenant)):
            continue
        namespace = result.workload_namespace or result.target.default_namespace
        found = list_proofs(namespace, selector(result.target.tenant))
        proof = verdict(release, found, subject=f"database of {result.target.label}")
        outcome.results[index] = replace(
            result, verdict=combine(result.target.subject, [result.verdict, proof])
        )


def check(api: KubeApi, bundle: EnvBundle, outcome: Any) -> None:
    """The hook in `verify`: read the proofs through `api` and the values from the env's directory."""
    env_dir = bundle.release_path.parent

    def values_files(tenant: str | None) -> list[Path]:
        return [env_dir / "values.yaml", *([env_dir / "tenants" / f"{tenant}.yaml"] if tenant else [])]

    def list_proofs(namespace: str, label_selector: str) -> list[dict[str, Any]]:
        return api.list(CONFIGMAPS, namespace, label_selector=label_selector, retry=True).items

    apply(outcome, bundle.release, list_proofs, values_files)
