"""gitops/promote/run_state.py: what a re-run keeps from an earlier run of the same promotion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gitops.errors import UsageError
from gitops.promote.promotion import Install, PromoteOptions
from gitops.promote.run_state import prior_run, run_state
from gitops.promote.stage_seams import SchemaDiff

AT = datetime(2026, 12, 8, 18, 0, tzinfo=UTC)
IMAGE = "r/o@sha256:" + "ab" * 32
OTHER = "r/o@sha256:" + "cd" * 32


def install(*, tenants: tuple[str, ...] = (), completes_env: bool = True) -> Install:
    schema = SchemaDiff(computed=False, change_class="normal", destructive=False, fingerprint=None)
    return Install(
        kind="promotion",
        source="staging",
        target="prod",
        image=IMAGE,
        version="1.5.0",
        source_commit="c" * 40,
        modules={},
        schema=schema,
        wave=None,
        tenants=tenants,
        completes_env=completes_env,
        changes=(),
    )


def options(**kw: Any) -> PromoteOptions:
    return PromoteOptions(remote="r", workdir=Path("/nonexistent"), actor="ci-bot", **kw)


BACKUP = {"id": "bk-1", "completed_at": AT - timedelta(hours=1)}


def test_a_first_run_keeps_nothing() -> None:
    assert prior_run(None, install()) == {}
    assert prior_run({"image": OTHER, "promoted_at": AT}, install()) == {}  # another release's run


def test_a_rerun_keeps_the_first_promotion_time_backup_and_emergency() -> None:
    earlier = {
        "image": IMAGE,
        "promoted_at": AT,
        "backup": BACKUP,
        "emergency": {"reason": "r", "ticket": "T-1"},
    }
    assert prior_run(earlier, install()) == {
        "promoted_at": AT,
        "backup": BACKUP,
        "emergency": earlier["emergency"],
    }


def test_a_wave_rerun_reads_its_own_tenants() -> None:
    earlier = {
        "image": OTHER,
        "tenants": {
            "acme": {"image": IMAGE, "promoted_at": AT, "backup": BACKUP},
            "globex": {"image": IMAGE, "promoted_at": AT + timedelta(minutes=5)},
            "initech": {"image": OTHER, "promoted_at": AT + timedelta(days=1)},
        },
    }
    kept = prior_run(earlier, install(tenants=("acme", "globex"), completes_env=False))
    assert kept == {"promoted_at": AT + timedelta(minutes=5), "backup": BACKUP, "emergency": None}


def test_options_win_over_what_an_earlier_run_recorded() -> None:
    notes: list[str] = []
    prior = {"promoted_at": AT, "backup": BACKUP, "emergency": {"reason": "old", "ticket": "T-1"}}
    later = AT + timedelta(hours=3)
    run = run_state(
        options(emergency_reason=" new ", emergency_ticket="T-2", backup_id="bk-2"), prior, later, notes
    )
    assert run.promoted_at == AT  # kept: a re-run changes nothing
    assert run.emergency is not None
    assert (run.emergency.reason, run.emergency.ticket) == ("new", "T-2")
    assert run.backup is not None
    assert (run.backup.id, run.backup.completed_at) == ("bk-2", later)
    assert notes == []


def test_the_same_backup_again_and_a_kept_emergency_are_said() -> None:
    notes: list[str] = []
    prior = {"backup": BACKUP, "emergency": {"reason": "old", "ticket": "T-1"}}
    run = run_state(options(backup_id="bk-1"), prior, AT, notes)
    assert run.backup is not None
    assert run.backup.completed_at == BACKUP["completed_at"]
    assert run.emergency is not None
    assert run.promoted_at == AT
    assert notes == ["kept the emergency declared by an earlier run (ticket T-1); --no-emergency drops it"]
    assert run_state(options(no_emergency=True), prior, AT, []).emergency is None


def test_a_blank_emergency_reason_is_refused() -> None:
    with pytest.raises(UsageError, match="non-blank REASON"):
        run_state(options(emergency_reason="  ", emergency_ticket="T"), {}, AT, [])
