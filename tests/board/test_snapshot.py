"""The board model from values: the example config repository loaded from a directory, PR gates given as
values, the real window engine at fixed instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.board.model import AuditCheck, PullGate
from gitops.board.snapshot import (
    build_board,
    cell_state,
    covered_cells,
    has_drift,
    ordered_envs,
    soak_left,
)
from gitops.config.loader import ConfigRepo, load_config
from gitops.config.models import ReleaseRecord, Verification
from gitops.errors import UsageError
from gitops.promote.edit import render_release
from gitops.promote.plan import make_plan
from gitops.promote.stage_seams import engine_window_check
from tests.fixtures.configrepo import copy_examples
from tests.fixtures.promote import CLOSED, NOW, REOPENS, digest, release_data

OLD = "sha256:817ba1f956e4fdecb25bf4e3c49f81a21db3fb90d0621101169156d12ffd08cc"  # prod's 1.3.2


def examples(tmp_path: Path, **releases: dict[str, Any]) -> ConfigRepo:
    work = copy_examples(tmp_path / "config")
    for env, data in releases.items():
        (work / "envs" / env / "release.yaml").write_text(render_release(data))
    return load_config(work)


def gate(number: int, target: str, covers: tuple[str | None, ...], state: Any, **extra: Any) -> PullGate:
    values: dict[str, Any] = {
        "number": number, "url": f"u#{number}", "title": "t", "branch": f"promote/{target}/x",
        "target": target, "kind": "promotion", "wave": None, "version": "1.5.0", "image": None,
        "covers": covers, "state": state,
        "description": f"gate {state}", "reasons": (), "approvals_counted": 0, "approvals_needed": 2,
        "rule": "normal",
    }  # fmt: skip
    return PullGate(**{**values, **extra})


def board(repo: ConfigRepo, now: datetime = NOW, pulls: tuple[PullGate, ...] = (), **kw: Any) -> Any:
    return build_board(repo, now=now, pulls=pulls, audits={}, window_check=engine_window_check, **kw)


def verification(seed: str, at: datetime = NOW) -> Verification:
    return Verification(revision="a" * 40, verified_at=at, digest=digest(seed))


def record(seed: str, **extra: Any) -> ReleaseRecord:
    return ReleaseRecord.model_validate(release_data("1.5.0", seed=seed, **extra))


# ---------------------------------------------------------------- the rules, one by one


def test_drift_compares_mains_digest_with_the_verified_one() -> None:
    rel = record("a")
    assert has_drift(rel, rel.image, verification("a")) is False
    assert has_drift(rel, rel.image, verification("b")) is True  # merged, not verified yet
    assert has_drift(rel, rel.image, None) is True  # never verified
    no_digest = Verification(revision="a" * 40, verified_at=NOW)
    assert has_drift(rel, rel.image, no_digest) is True  # a verification without digest proves nothing
    multi = record("a", accepted_digests=[digest("platform")])
    assert has_drift(multi, multi.image, verification("platform")) is False  # a multi-arch platform digest
    canary = record("b")
    # a tenant on its own release: the env's platform digest (of the env's image) proves nothing for it
    assert has_drift(multi, canary.image, verification("platform")) is True


def test_soak_left_counts_from_the_verification() -> None:
    assert soak_left(NOW - timedelta(hours=1), timedelta(hours=4), NOW) == timedelta(hours=3)
    assert soak_left(NOW - timedelta(hours=5), timedelta(hours=4), NOW) is None
    assert soak_left(None, timedelta(hours=4), NOW) is None
    assert soak_left(NOW, timedelta(0), NOW) is None


@pytest.mark.parametrize(
    ("gate_state", "drift", "expected"),
    [
        ("failure", False, "blocked"),
        ("error", True, "blocked"),
        ("pending", True, "promoting"),
        ("success", False, "promoting"),
        (None, True, "drifted"),
        (None, False, "verified"),
    ],
)
def test_cell_state_precedence(gate_state: Any, drift: bool, expected: str) -> None:
    pull = gate(7, "prod", ("acme-build",), gate_state) if gate_state else None
    state, why = cell_state(pull, drift)
    assert state == expected
    assert ("PR #7" in why) == (gate_state is not None)


# ---------------------------------------------------------------- the board of the examples


def test_the_examples_at_noon_are_verified_with_the_next_freeze(tmp_path: Path) -> None:
    result = board(examples(tmp_path))
    assert [e.name for e in result.envs] == ["dev", "staging", "prod"]
    prod = result.env("prod")
    assert [(c.tenant, c.version, c.short_digest, c.state) for c in prod.cells] == [
        (t, "1.3.2", OLD[7:19], "verified")
        for t in ("acme-build", "globex-consult", "initech-services", "northwind-civil")
    ]
    assert [c.wave for c in prod.cells] == ["canary", "rest", "rest", "rest"]
    assert prod.window.open and prod.window.gated
    assert prod.window.open_until == datetime(2026, 12, 8, 22, 0, tzinfo=UTC)  # 23:00 in Berlin
    assert prod.next_freeze is not None
    assert (prod.next_freeze.name, prod.next_freeze.start) == (
        "payroll/payroll",
        datetime(2026, 12, 9, 23, 0, tzinfo=UTC),  # Thursday 10th 00:00 Berlin: the day before the 11th
    )
    assert prod.next_freeze.to_dict()["start_local"] == "2026-12-10T00:00:00+01:00"
    assert result.env("dev").window.gated is False
    assert result.env("dev").promotion is None  # first stage
    assert result.counts() == {"verified": 6, "promoting": 0, "blocked": 0, "drifted": 0}


def test_in_a_freeze_the_window_names_it_and_the_next_opening(tmp_path: Path) -> None:
    prod = board(examples(tmp_path), CLOSED).env("prod")
    assert not prod.window.open
    assert prod.window.next_open == REOPENS
    assert prod.window.to_dict()["next_open_local"] == "2027-01-12T19:00:00+01:00"
    assert prod.next_freeze is not None and prod.next_freeze.active(CLOSED)
    assert prod.next_freeze.name in prod.window.blocked_by


def test_waves_and_refusals_are_the_plans(tmp_path: Path) -> None:
    staging = release_data("1.5.0", verified_at=NOW - timedelta(days=2))
    repo = examples(tmp_path, staging=staging)
    promotion = board(repo).env("prod").promotion
    plan = make_plan(repo, "staging", "prod", now=NOW, window_check=engine_window_check)
    assert promotion is not None
    assert promotion.waves == plan.wave_states
    assert (promotion.allowed, promotion.refusals, promotion.next_wave) == (
        plan.allowed,
        plan.refusals,
        "canary",
    )
    unverified = examples(tmp_path / "b", staging=release_data("1.5.0", verified_at=None))
    blocked = board(unverified).env("prod").promotion
    assert blocked is not None and not blocked.allowed
    assert [w.state for w in blocked.waves] == ["blocked", "waiting"]
    assert any("has not been verified" in r for r in blocked.refusals)


def test_a_canary_merged_but_not_verified_is_drifted_and_soaks_after_verification(tmp_path: Path) -> None:
    prod = yaml.safe_load((copy_examples(tmp_path / "x") / "envs/prod/release.yaml").read_text())
    new = release_data("1.5.0", verified_at=None)
    tenant = {"image": new["image"], "version": "1.5.0"}
    drifted = examples(tmp_path / "a", prod={**prod, "tenants": {"acme-build": tenant}})
    cells = {c.tenant: c for c in board(drifted).env("prod").cells}
    assert (cells["acme-build"].state, cells["acme-build"].version) == ("drifted", "1.5.0")
    assert cells["globex-consult"].state == "verified"
    verified = {**tenant, "verification": {"revision": "b" * 40, "verified_at": NOW - timedelta(hours=1),
                                           "digest": new["image"].split("@")[1]}}  # fmt: skip
    soaking = examples(tmp_path / "b", prod={**prod, "tenants": {"acme-build": verified}})
    canary = board(soaking).env("prod").cells[0]
    assert (canary.state, canary.soak_left) == ("verified", timedelta(hours=3))  # canary soaks 4h
    assert canary.to_dict()["soak_left"] == "3h"


def test_a_pr_marks_the_cells_it_covers(tmp_path: Path) -> None:
    repo = examples(tmp_path)
    pulls = (gate(3, "prod", ("acme-build",), "pending"), gate(4, "staging", (None,), "failure"))
    result = board(repo, pulls=pulls)
    prod = {c.tenant: (c.state, c.pull) for c in result.env("prod").cells}
    assert prod == {
        "acme-build": ("promoting", 3),
        "globex-consult": ("verified", None),
        "initech-services": ("verified", None),
        "northwind-civil": ("verified", None),
    }
    assert [(c.state, c.pull) for c in result.env("staging").cells] == [("blocked", 4)]
    assert [p.number for p in result.env("prod").pulls] == [3]
    assert result.pull(4) is not None and result.pull(5) is None


def test_covered_cells_are_the_tenants_whose_image_the_head_changes(tmp_path: Path) -> None:
    repo = examples(tmp_path)
    main = repo.env("prod").release
    assert main is not None
    new = release_data("1.5.0")["image"]
    plain = main.model_dump(mode="json", by_alias=True)
    canary = ReleaseRecord.model_validate(
        {**plain, "tenants": {"acme-build": {"image": new, "version": "1.5.0"}}}
    )
    assert covered_cells(repo, "prod", canary, ("acme-build",), False) == ("acme-build",)
    everything = ReleaseRecord.model_validate({**plain, "image": new})
    assert covered_cells(repo, "prod", everything, (), True) == (
        "acme-build", "globex-consult", "initech-services", "northwind-civil",
    )  # fmt: skip
    assert covered_cells(repo, "prod", None, ("globex-consult",), False) == ("globex-consult",)
    assert covered_cells(repo, "staging", None, (), True) == (None,)


def test_envs_are_filtered_in_pipeline_order_and_unknown_names_refused(tmp_path: Path) -> None:
    repo = examples(tmp_path)
    assert ordered_envs(repo, ["prod", "dev"]) == ["dev", "prod"]
    with pytest.raises(UsageError, match="unknown environment 'qa'"):
        ordered_envs(repo, ["qa"])


def test_the_audit_result_is_carried_per_env(tmp_path: Path) -> None:
    broken = AuditCheck(ok=False, entries=3, problems=("BROKEN at line 2: hash mismatch",))
    result = build_board(
        examples(tmp_path), now=NOW, pulls=(), audits={"prod": broken}, window_check=engine_window_check
    )
    assert result.env("prod").audit == broken
    assert result.env("dev").audit.ok
    assert result.to_dict()["envs"][2]["audit"]["problems"] == ["BROKEN at line 2: hash mismatch"]
