"""The pure parts of a promotion: branch names, 'already runs', and the next release.yaml."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gitops.config.models import ReleaseRecord
from gitops.promote.service import Install, RunState, branch_name, new_release_data, runs_already
from gitops.promote.stage_seams import fail_closed_diff
from tests.fixtures.promote import release_data

AT = datetime(2026, 12, 8, 18, 0, tzinfo=UTC)


def install(version: str = "1.5.0", **kw: Any) -> Install:
    rel = ReleaseRecord.model_validate(release_data(version))
    base: dict[str, Any] = {
        "kind": "promotion", "source": "staging", "target": "prod", "image": rel.image,
        "version": rel.version, "source_commit": rel.source_commit, "modules": dict(rel.modules),
        "schema": fail_closed_diff(old_modules={}, new_modules=dict(rel.modules), declared_destructive=False,
                                   fingerprint="fp"),
        "wave": None, "tenants": (), "completes_env": True, "changes": (),
    }  # fmt: skip
    return Install(**{**base, **kw})


def test_branch_names_are_deterministic() -> None:
    image = "r/o@sha256:" + "ab" * 32
    assert (
        branch_name("promotion", "prod", "1.5.0", image, "canary") == "promote/prod/1.5.0-abababababab-canary"
    )
    assert branch_name("rollback", "prod", "1.3.1", image, None) == "rollback/prod/1.3.1-abababababab"


def test_previous_becomes_the_current_release_when_it_was_verified() -> None:
    current = ReleaseRecord.model_validate(release_data("1.4.0"))
    data = new_release_data(current, install(), RunState(promoted_at=AT))
    assert data["previous"]["version"] == "1.4.0"
    assert data["previous"]["verification"]["revision"] == current.verification.revision  # type: ignore[union-attr]
    assert "verification" not in {k for k, v in data.items() if v is not None}


def test_an_unverified_current_release_keeps_the_existing_previous() -> None:
    older = {k: v for k, v in release_data("1.3.0").items() if k != "change_class"}
    current = ReleaseRecord.model_validate({**release_data("1.4.0", verified_at=None), "previous": older})
    data = new_release_data(current, install(), RunState(promoted_at=AT))
    assert data["previous"]["version"] == "1.3.0"


def test_a_partial_wave_keeps_the_env_wide_release() -> None:
    current = ReleaseRecord.model_validate(release_data("1.4.0"))
    wave = install(wave="canary", tenants=("t1",), completes_env=False)
    data = new_release_data(current, wave, RunState(promoted_at=AT))
    assert data["version"] == "1.4.0"
    assert data["tenants"] == {
        "t1": {"image": wave.image, "version": "1.5.0", "change_class": "normal", "destructive": True,
               "promoted_at": AT, "backup": None}
    }  # fmt: skip
    assert not runs_already(current, wave)
    after = ReleaseRecord.model_validate(data)
    assert runs_already(after, wave)
    assert not runs_already(after, install(tenants=("t1",), completes_env=True))


def test_first_release_of_an_environment_has_no_previous() -> None:
    data = new_release_data(None, install(), RunState(promoted_at=AT))
    assert data["previous"] is None
    assert (data["version"], data["promoted_from"], data["change_class"]) == ("1.5.0", "staging", "normal")
    assert data["destructive"] is True  # new modules, no diff: fail closed


def test_without_the_addons_repo_only_recorded_schemas_make_a_change_code_only() -> None:
    older = {"acme_project_costing": "17.0.1.2.0", "acme_payroll_bridge": "17.0.1.0.3"}
    old = ReleaseRecord.model_validate(release_data("1.4.0", modules=older)).modules
    new = ReleaseRecord.model_validate(release_data("1.5.0")).modules
    same = fail_closed_diff(old_modules=old, new_modules=new, declared_destructive=False, fingerprint=None)
    assert (same.change_class, same.destructive) == ("normal", False)
    unknown = {n: m.model_copy(update={"schema_": None}) for n, m in new.items()}
    fail = fail_closed_diff(
        old_modules=old, new_modules=unknown, declared_destructive=False, fingerprint=None
    )
    assert (fail.change_class, fail.destructive) == ("normal", True)
    assert "treated as DESTRUCTIVE (fail closed)" in (fail.note or "")
    other = {n: m.model_copy(update={"schema_": "ss1:" + "0" * 64}) for n, m in new.items()}
    assert fail_closed_diff(
        old_modules=old, new_modules=other, declared_destructive=False, fingerprint=None
    ).destructive
    added = {**new, "acme_new": next(iter(new.values()))}
    assert fail_closed_diff(
        old_modules=new, new_modules=added, declared_destructive=False, fingerprint=None
    ).destructive
    assert not fail_closed_diff(
        old_modules=new, new_modules=new, declared_destructive=False, fingerprint=None
    ).destructive
    declared = fail_closed_diff(old_modules=old, new_modules=new, declared_destructive=True, fingerprint=None)
    assert declared.destructive
