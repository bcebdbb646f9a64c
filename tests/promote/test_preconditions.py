"""gitops/promote/preconditions.py: what must hold before a promotion or rollback opens its PR, decided
from values alone (release records and options; no git, no forge)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gitops.config.models import BackupRecord, ReleaseRecord
from gitops.errors import EXIT_POLICY, EXIT_USAGE, PolicyError, UsageError, exit_code_of
from gitops.gates.evidence import SupplyResult
from gitops.promote.plan import module_changes
from gitops.promote.preconditions import (
    RollbackScope,
    check_promotion,
    check_rollback,
    restore_reasons,
    rollback_schema,
    rollback_scope,
    rollback_where,
    schema_reasons,
    shown,
    tenant_backup,
)
from gitops.promote.stage_seams import SchemaDiff
from tests.fixtures.promote import NOW, release_data

NEWER = {"acme_project_costing": "17.0.1.5.0", "acme_payroll_bridge": "17.0.1.0.3"}
TENANTS = ("acme", "globex", "initech")


def record(version: str = "1.4.0", **extra: Any) -> ReleaseRecord:
    """prod runs `version`; the previous release (1.3.0, verified) is recorded."""
    previous = release_data("1.3.0")
    previous.pop("change_class")
    data = {**release_data(version, modules=NEWER), "previous": previous, **extra}
    return ReleaseRecord.model_validate(data)


def canary(version: str = "1.5.0", *, tenants: tuple[str, ...] = ("acme",), **state: Any) -> dict[str, Any]:
    ahead = release_data(version)
    return {t: {"image": ahead["image"], "version": version, **state} for t in tenants}


def backup(completed_hours_ago: float) -> dict[str, Any]:
    return {"id": "bk-1", "completed_at": NOW - timedelta(hours=completed_hours_ago)}


# ---------------------------------------------------------------- promote


def test_a_promotion_without_reasons_passes_and_every_reason_is_said() -> None:
    check_promotion("staging", "prod", [])
    with pytest.raises(PolicyError) as caught:
        check_promotion("staging", "prod", ["window closed", "addons diff: a field vanished"])
    assert caught.value.message.startswith("cannot promote staging → prod")
    assert caught.value.reasons == ("window closed", "addons diff: a field vanished")
    assert exit_code_of(caught.value) == EXIT_POLICY


def test_schema_errors_become_reasons() -> None:
    clean = SchemaDiff(computed=True, change_class="normal", destructive=False, fingerprint="fp")
    broken = SchemaDiff(
        computed=True, change_class="normal", destructive=False, fingerprint="fp", errors=("x: no manifest",)
    )
    assert schema_reasons(clean) == []
    assert schema_reasons(broken) == ["addons diff: x: no manifest"]


@pytest.mark.parametrize(
    ("result", "text"),
    [
        (None, "not required by the pipeline"),
        (SupplyResult(ok=True, text="verified (key k)"), "verified (key k)"),
        (SupplyResult(ok=False, text="no signature"), "FAILED: no signature"),
    ],
)
def test_a_supply_check_is_shown_failed_or_as_said(result: SupplyResult | None, text: str) -> None:
    assert shown(result, "not required by the pipeline") == text


# ---------------------------------------------------------------- rollback: what goes back where


def test_the_whole_environment_goes_back_to_the_previous_release() -> None:
    current = record()
    back = rollback_scope(current, env="prod", enabled=TENANTS, wave=None, chosen=())
    assert current.previous is not None
    assert (back.to, back.version_from, back.completes_env, back.tenants) == (
        current.previous,
        "1.4.0",
        True,
        TENANTS,
    )
    assert back.schema is False  # every changed module records the same schema fingerprint
    assert rollback_where(back) == ""


def test_choosing_every_tenant_is_the_whole_environment() -> None:
    back = rollback_scope(record(), env="prod", enabled=TENANTS, wave="all", chosen=TENANTS)
    assert (back.completes_env, back.wave) == (True, None)


def test_without_a_previous_release_nothing_goes_back() -> None:
    current = ReleaseRecord.model_validate(release_data("1.4.0"))
    with pytest.raises(PolicyError) as caught:
        rollback_scope(current, env="prod", enabled=TENANTS, wave=None, chosen=())
    assert caught.value.reasons == ("envs/prod/release.yaml records no previous release",)


def test_tenants_ahead_and_level_are_rolled_back_apart() -> None:
    current = record(tenants=canary())
    with pytest.raises(UsageError) as caught:
        rollback_scope(current, env="prod", enabled=TENANTS, wave="x", chosen=("acme", "globex"))
    assert "acme runs a release ahead of prod's 1.4.0 and globex runs 1.4.0" in caught.value.message
    assert exit_code_of(caught.value) == EXIT_USAGE


def test_tenants_on_different_canaries_are_rolled_back_apart() -> None:
    tenants = {**canary("1.5.0", tenants=("acme",)), **canary("1.6.0", tenants=("globex",))}
    with pytest.raises(UsageError, match="run different releases"):
        rollback_scope(
            record(tenants=tenants), env="prod", enabled=TENANTS, wave="x", chosen=("acme", "globex")
        )


def test_a_canary_goes_back_to_the_environments_release_with_unknown_schema() -> None:
    current = record(tenants=canary(), promoted_at=NOW - timedelta(days=1), backup=backup(2))
    back = rollback_scope(current, env="prod", enabled=TENANTS, wave="canary", chosen=("acme",))
    assert (back.to, back.version_from, back.schema, back.completes_env) == (current, "1.5.0", None, False)
    assert back.backup is not None  # completed after prod's own release went out
    assert back.modules_from is None
    assert rollback_where(back) == " of acme"


def test_a_canary_makes_the_whole_environments_schema_unknown() -> None:
    back = rollback_scope(record(tenants=canary()), env="prod", enabled=TENANTS, wave=None, chosen=())
    assert back.schema is None
    assert back.unknown_why == "acme runs a later release whose schema release.yaml does not record"


@pytest.mark.parametrize(("hours_ago", "usable"), [(2, True), (30, False)])
def test_a_tenant_backup_must_follow_the_environments_release(hours_ago: float, usable: bool) -> None:
    current = record(promoted_at=NOW - timedelta(days=1), backup=backup(hours_ago))
    assert (tenant_backup(current) is not None) is usable
    assert tenant_backup(record()) is None  # no backup recorded


# ---------------------------------------------------------------- rollback: may it go back


def scope(**kw: Any) -> RollbackScope:
    current = record()
    assert current.previous is not None
    base: dict[str, Any] = {
        "to": current.previous,
        "version_from": "1.4.0",
        "schema": False,
        "unknown_why": "no fingerprint",
        "backup": None,
        "wave": None,
        "tenants": TENANTS,
        "completes_env": True,
        "modules_from": current.modules,
    }
    return RollbackScope(**{**base, **kw})


def test_a_schema_neutral_verified_rollback_passes_without_restore() -> None:
    assert check_rollback("prod", scope(), with_db_restore=False) is None


def test_a_never_verified_release_is_not_a_rollback_target() -> None:
    unverified = scope().to.model_copy(update={"verification": None})
    with pytest.raises(PolicyError) as caught:
        check_rollback("prod", scope(to=unverified), with_db_restore=False)
    assert caught.value.reasons == ("the previous release 1.3.0 was never verified in prod",)


@pytest.mark.parametrize(
    ("schema", "said"),
    [
        (None, "it is unknown whether 1.4.0 changed the database schema (no fingerprint); treated as"),
        (True, "release 1.4.0 changed the database schema; rolling back the image alone"),
    ],
)
def test_a_schema_change_known_or_not_needs_a_restore(schema: bool | None, said: str) -> None:
    reasons, restore = restore_reasons(scope(schema=schema), False, "")
    assert restore is None
    assert len(reasons) == 1
    assert reasons[0].startswith(said)
    assert reasons[0].endswith("--with-db-restore to restore a database backup")


def test_a_restore_needs_a_recorded_backup() -> None:
    reasons, restore = restore_reasons(scope(schema=None), True, " of acme")
    assert (reasons, restore) == (
        ["--with-db-restore: no backup recorded for 1.4.0 of acme (release.backup)"],
        None,
    )
    recorded = BackupRecord.model_validate(backup(1))
    assert check_rollback("prod", scope(schema=True, backup=recorded), with_db_restore=True) == recorded


def test_a_rollback_is_destructive_exactly_when_it_restores() -> None:
    current = record()
    back = scope()
    changes = module_changes(dict(current.modules), back.to.modules)
    assert changes
    plain = rollback_schema(current, back, changes, None)
    assert (plain.change_class, plain.destructive, plain.computed) == ("normal", False, True)
    restored = rollback_schema(current, scope(schema=None), (), BackupRecord.model_validate(backup(1)))
    assert (restored.change_class, restored.destructive, restored.computed) == ("normal", True, False)
    assert restored.note == "schema fingerprints unknown: treated as a schema change"
    same = rollback_schema(current, back, (), None)
    assert same.change_class == "standard"
