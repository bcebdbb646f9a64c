"""gitops/verify/database_proof.py: when the proof is required, and what it accepts (pure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.config.models import ReleaseRecord
from gitops.verify import database_proof as dp
from gitops.verify.verdict import State

RELEASE_DOC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "envs" / "prod" / "release.yaml").read_text()
)
RELEASE = ReleaseRecord.model_validate(RELEASE_DOC)


def configmap(
    modules: dict[str, Any], *, exit_code: int = 0, at: str = "2026-12-02T10:00:00.000000Z"
) -> dict[str, Any]:
    doc = {"release_version": "1.4.0", "update_exit_code": exit_code, "recorded_at": at, "modules": modules}
    return {"metadata": {"name": "odoo-database-proof"}, "data": {dp.DATA_KEY: json.dumps(doc)}}


def matching() -> dict[str, Any]:
    return {
        n: {"state": "installed", "version": m.version, "checksum": m.checksum, "path": f"/opt/addons/{n}"}
        for n, m in RELEASE.modules.items()
    }


def test_required_follows_the_last_values_file_that_sets_it(tmp_path: Path) -> None:
    env, tenant = tmp_path / "values.yaml", tmp_path / "tenant.yaml"
    env.write_text("migration:\n  recordProof: true\n")
    tenant.write_text("migration:\n  recordProof: false\n")
    assert dp.required([env])
    assert not dp.required([env, tenant])
    assert dp.required([env, tmp_path / "absent.yaml"])
    tenant.write_text("image: {tag: x}\n")
    assert dp.required([env, tenant])
    env.write_text("migration:\n  recordProof: 'yes'\n")  # only a YAML boolean true turns it on
    assert not dp.required([env])


def test_matching_proof_is_ok() -> None:
    assert dp.verdict(RELEASE, [configmap(matching())], subject="db").state is State.OK


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"state": "to upgrade"}, "still 'to upgrade'"),
        ({"state": "uninstalled"}, "state 'uninstalled', not installed"),
        ({"version": "17.0.0.0.1"}, "database at version 17.0.0.0.1"),
        ({"checksum": "f" * 40}, f"updated from code with checksum {'f' * 40} at /opt/addons/"),
        ({"checksum": None}, "no checksum of its code recorded"),
        ({"checksum": ""}, "no checksum of its code recorded"),
        ({"checksum": 7}, "no checksum of its code recorded"),
    ],
)
def test_each_mismatch_fails_and_names_the_module(change: dict[str, str], expected: str) -> None:
    modules = matching()
    name = sorted(modules)[0]
    modules[name] = {**modules[name], **change}
    verdict = dp.verdict(RELEASE, [configmap(modules)], subject="db")
    assert verdict.state is State.FAILED
    assert any(r.startswith(f"module {name}: ") and expected in r for r in verdict.reasons), verdict.reasons


def test_a_proof_without_checksums_fails_for_every_module() -> None:
    """A proof recorded before the hook hashed the code (or by a hook that found no addon) proves no code."""
    modules = {n: {k: v for k, v in row.items() if k != "checksum"} for n, row in matching().items()}
    verdict = dp.verdict(RELEASE, [configmap(modules)], subject="db")
    assert verdict.state is State.FAILED
    assert sorted(r.split(":")[0] for r in verdict.reasons) == [f"module {n}" for n in sorted(modules)]


def test_a_missing_module_a_failed_update_and_no_proof_fail() -> None:
    modules = matching()
    gone = sorted(modules)[-1]
    del modules[gone]
    verdict = dp.verdict(RELEASE, [configmap(modules, exit_code=1)], subject="db")
    assert f"module {gone}: not in the database" in verdict.reasons
    assert "the module update exited with 1" in verdict.reasons
    assert dp.verdict(RELEASE, [], subject="db").state is State.FAILED


def test_the_newest_proof_counts_and_a_forged_one_is_refused() -> None:
    old = configmap({}, at="2026-12-01T00:00:00.000000Z")
    new = configmap(matching(), at="2026-12-02T00:00:00.000000Z")
    assert dp.verdict(RELEASE, [old, new], subject="db").state is State.OK
    broken = {"metadata": {"name": "x"}, "data": {dp.DATA_KEY: "{not json"}}
    verdict = dp.verdict(RELEASE, [new, broken], subject="db")
    assert verdict.state is State.FAILED and "not JSON" in verdict.reasons[0]
    no_modules = {"metadata": {"name": "y"}, "data": {dp.DATA_KEY: json.dumps({"modules": []})}}
    assert dp.verdict(RELEASE, [no_modules], subject="db").state is State.FAILED


def test_selector_scopes_to_the_tenant() -> None:
    assert dp.selector(None) == "odoo-gitops.io/database-proof=true"
    assert dp.selector("acme") == "odoo-gitops.io/database-proof=true,odoo-gitops.io/tenant=acme"
