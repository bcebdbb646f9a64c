"""gitops/promote/stage_seams.py: the typed seams to the window engine and the addons diff; answers are
read through their protocols, never probed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gitops.addons.diff import diff_addons
from gitops.config.loader import load_config
from gitops.promote.stage_seams import engine_window_check, schema_diff_from, window_state
from tests.fixtures.addons import models_file, write_addon
from tests.fixtures.configrepo import copy_examples
from tests.fixtures.promote import CLOSED, REOPENS

AT = datetime(2026, 12, 8, 17, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Blocking:
    calendar: str
    window: str


@dataclass(frozen=True)
class Verdict:
    open: bool
    blocked_by: tuple[Blocking, ...] = ()
    next_open: datetime | None = None
    open_until: datetime | None = None
    asked: list[Any] = field(default_factory=list, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"open": self.open}


def test_a_window_verdict_is_reduced_to_what_the_gate_needs(tmp_path: Path) -> None:
    repo = load_config(copy_examples(tmp_path / "cfg"))
    verdict = Verdict(open=False, blocked_by=(Blocking("payroll", "run"),), next_open=AT + timedelta(days=1))

    def check(calendars: Sequence[Any], at: datetime) -> Verdict:
        verdict.asked.append(([c.name for c in calendars], at))
        return verdict

    state = window_state(repo, "prod", AT, check)
    assert (state.open, state.blocked_by, state.next_open, state.detail) == (
        False,
        ("payroll/run",),
        AT + timedelta(days=1),
        {"open": False},
    )
    assert verdict.asked == [(["payroll", "month-end", "prod-windows"], AT)]


def test_the_real_engine_fits_the_seam(tmp_path: Path) -> None:
    repo = load_config(copy_examples(tmp_path / "cfg"))
    state = window_state(repo, "prod", CLOSED, engine_window_check)
    assert not state.open
    assert state.blocked_by == ("payroll/payroll",)
    assert state.next_open == REOPENS


def test_a_real_addons_diff_fits_the_seam(tmp_path: Path) -> None:
    model = 'class V(models.Model):\n    _name = "x.v"\n    a = fields.Char()\n'
    write_addon(tmp_path / "old", "acme_x", files=models_file(model))
    write_addon(
        tmp_path / "new", "acme_x", version="17.0.1.1.0", files=models_file(model.replace("a = ", "b = "))
    )
    result = diff_addons([tmp_path / "old"], [tmp_path / "new"])
    schema = schema_diff_from(result)
    assert (schema.computed, schema.change_class, schema.destructive) == (True, "normal", True)
    assert schema.fingerprint == result.schema_fingerprint
    assert schema.changes[0]["severity"] == "destructive"  # destructive first
    assert schema.errors == tuple(e.render() for e in result.errors)
    assert schema.errors  # a dropped column without a migration script breaks a rule
