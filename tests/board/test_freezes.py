"""Freezes from the real window engine: full occurrences, local times across a DST change, the one in
force."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from gitops.board.freezes import freezes, next_freeze
from gitops.config.calendars.calendar import Calendar
from gitops.config.loader import load_config
from tests.fixtures.configrepo import copy_examples


def prod_calendars(tmp_path: Path) -> list[Calendar]:
    repo = load_config(copy_examples(tmp_path / "config"))
    return [repo.calendars[c] for c in repo.env("prod").config.calendars]


def test_freezes_keep_their_local_midnights_across_the_october_dst_change(tmp_path: Path) -> None:
    found = freezes(
        prod_calendars(tmp_path),
        datetime(2026, 10, 20, tzinfo=UTC),
        datetime(2026, 11, 10, tzinfo=UTC),
        timezone="Europe/Berlin",
    )
    spans = [(f.name, f.to_dict()["start_local"], f.to_dict()["end_local"]) for f in found]
    assert spans == [
        # the 25th is a Sunday: payroll moves to Friday 23rd, ±1 business day; summer time ends on the 25th
        ("payroll/payroll", "2026-10-22T00:00:00+02:00", "2026-10-27T00:00:00+01:00"),
        ("month-end/close", "2026-10-28T00:00:00+01:00", "2026-11-04T00:00:00+01:00"),
        ("payroll/payroll", "2026-10-29T00:00:00+01:00", "2026-11-03T00:00:00+01:00"),
    ]
    assert found[0].start == datetime(2026, 10, 21, 22, 0, tzinfo=UTC)
    assert found[0].end == datetime(2026, 10, 26, 23, 0, tzinfo=UTC)  # 25 hours in that Sunday


def test_next_freeze_is_the_one_in_force_else_the_next(tmp_path: Path) -> None:
    calendars = prod_calendars(tmp_path)
    during = datetime(2026, 10, 23, 12, 0, tzinfo=UTC)
    current = next_freeze(calendars, during, timezone="Europe/Berlin")
    assert current is not None and current.active(during) and current.name == "payroll/payroll"
    after = datetime(2026, 10, 27, 8, 0, tzinfo=UTC)
    upcoming = next_freeze(calendars, after, timezone="Europe/Berlin")
    assert upcoming is not None and not upcoming.active(after)
    assert (upcoming.name, upcoming.start) == ("month-end/close", datetime(2026, 10, 27, 23, 0, tzinfo=UTC))
    assert next_freeze([], after, timezone="Europe/Berlin") is None
