"""Hostile calendars and instants against `odoo-gitops window check` (the real CLI, the real window engine):
a time zone that does not exist (`Etc/GMT+14`: POSIX signs, the real one is `Etc/GMT-14`), a path, a
trailing space, a window that ends exactly now, a DST gap. Each is exit 2 naming file and line, or a
verdict that is right to the second; never a traceback, never an open window by accident."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops.cli.main import main
from tests.fixtures.configrepo import ConfigRepoFixture, make_config_repo

CALENDAR = "calendars/prod-windows.yaml"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConfigRepoFixture]:
    yield make_config_repo(tmp_path_factory.mktemp("calendar-attacks"))


def window_check(
    repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], at: str, zone: str | None = None
) -> tuple[int, dict[str, Any], str]:
    path = repo.work / CALENDAR
    original = path.read_text()
    try:
        if zone is not None:
            path.write_text(original.replace("timezone: Europe/Berlin", f"timezone: {json.dumps(zone)}", 1))
        code = main(["window", "check", "prod", "--at", at, "--config-repo", str(repo.work), "--json"])
    finally:
        path.write_text(original)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


@pytest.mark.parametrize(
    "zone", ["Etc/GMT+14", "localtime", "posixrules", "right/UTC", "../../../etc/localtime",
             "/usr/share/zoneinfo/UTC", "Europe/Berlin ", "Europe/Berlin\u200b", "europe/berlin"],
)  # fmt: skip
def test_a_zone_that_is_not_an_iana_name_is_refused_with_file_and_line(
    repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], zone: str
) -> None:
    code, out, err = window_check(repo, capsys, "2026-12-08T19:00:00Z", zone)
    assert code == 2, out
    assert f"{CALENDAR}:2: timezone: unknown time zone" in out["message"]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("zone", "at", "open_"),
    [
        # prod-evenings: Tue-Thu 19:00-23:00 local; the start counts, the end does not
        ("Europe/Berlin", "2026-12-08T18:00:00Z", True),
        ("Europe/Berlin", "2026-12-08T21:59:59.999999Z", True),
        ("Europe/Berlin", "2026-12-08T22:00:00Z", False),  # ends exactly now: closed
        ("Europe/Berlin", "2026-12-08T23:00:00+01:00", False),  # the same instant in local time
        ("Etc/GMT-14", "2026-12-09T05:00:00Z", True),  # UTC+14: Wednesday 19:00 local
        ("Etc/GMT-14", "2026-12-08T19:00:00Z", False),  # Wednesday 09:00 local
        ("Etc/GMT+12", "2026-12-09T07:00:00Z", True),  # UTC-12: Tuesday 19:00 local
    ],
)
def test_window_edges_are_exact_in_any_zone(
    repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], zone: str, at: str, open_: bool
) -> None:
    code, out, _ = window_check(repo, capsys, at, zone)
    assert (code, out["open"]) == ((0, True) if open_ else (3, False)), out


@pytest.mark.parametrize("at", ["2026-12-08T19:00:00", "2026-12-08", "2026-12-08T19:00:00+25:00", "now"])
def test_an_instant_without_a_utc_offset_is_refused(
    repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], at: str
) -> None:
    """The machine's TZ never decides: an --at without an offset is ambiguous, so it is an error."""
    code, out, _ = window_check(repo, capsys, at)
    assert code == 2, out
    assert "--at" in out["message"]


def test_the_suite_leaves_the_calendar_untouched(repo: ConfigRepoFixture) -> None:
    assert "timezone: Europe/Berlin" in Path(repo.work / CALENDAR).read_text()
