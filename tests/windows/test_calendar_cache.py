"""The compiled-calendar cache: a hit gives the calendars the full load gives; anything that could change
the load's result (a file's bytes, a listing, the date, a damaged record) is a miss, and a failed load is
never recorded, so validation errors stay the full load's."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitops.config.calendars import anchors, businessdays
from gitops.errors import ConfigError, UsageError
from gitops.windows import calendar_cache
from gitops.windows.load import load_env_calendars
from gitops.windows.verdict import check, clear_caches, evaluate

ENVS = ("prod", "staging", "dev")


@pytest.fixture
def repo(window_repo: Callable[..., Path]) -> Path:
    return window_repo()  # the example config repository: prod, staging, dev


def _cache_files() -> list[Path]:
    folder = calendar_cache.cache_dir()
    assert folder is not None
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _hit(repo: Path, env: str) -> bool:
    return calendar_cache.cached_env_calendars(repo.resolve(), env) is not None


def test_a_hit_gives_the_calendars_and_verdicts_of_the_full_load(repo: Path) -> None:
    full = {env: load_env_calendars(repo, env) for env in ENVS}
    assert not _cache_files()  # only the light verbs (cached=True) record
    load_env_calendars(repo, "prod", cached=True)
    assert len(_cache_files()) == 1
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for env in ENVS:
        businessdays.PRELOADED.clear()
        anchors.PRELOADED.clear()
        hit = calendar_cache.cached_env_calendars(repo.resolve(), env)
        assert hit is not None
        assert [calendar_cache.calendar_data(c) for c in hit] == [
            calendar_cache.calendar_data(c) for c in full[env]
        ]
        assert businessdays.PRELOADED  # the holiday tables and rrule dates came from the record
        assert anchors.PRELOADED or not any(a.rrule for c in hit for a in c.anchors.values())
        clear_caches()
        cached_listing = evaluate(hit, start, start + timedelta(days=400))
        cached_checks = [check(hit, start + timedelta(hours=h), env=env) for h in range(0, 24 * 60, 7)]
        businessdays.PRELOADED.clear()
        anchors.PRELOADED.clear()
        clear_caches()
        assert evaluate(full[env], start, start + timedelta(days=400)) == cached_listing
        assert [check(full[env], start + timedelta(hours=h), env=env) for h in range(0, 24 * 60, 7)] == (
            cached_checks
        )


def test_the_record_lists_only_what_the_load_read_and_is_private(repo: Path) -> None:
    load_env_calendars(repo, "prod", cached=True)
    (path,) = _cache_files()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    record = json.loads(path.read_text())
    assert (
        record["files"]["read:calendars/payroll.yaml"]
        == calendar_cache.hashlib.sha256((repo / "calendars" / "payroll.yaml").read_bytes()).hexdigest()
    )
    assert "names:envs" in record["files"]
    assert set(record["envs"]) == set(ENVS)


@pytest.mark.parametrize(
    "change",
    [
        "edit a calendar",
        "edit an env.yaml of another environment",
        "add a tenant file",
        "remove the values file of another environment",
        "add a pipeline",
        "replace the public key by a symbolic link",
    ],
)
def test_any_change_the_loader_would_see_is_a_miss(repo: Path, change: str) -> None:
    load_env_calendars(repo, "prod", cached=True)
    assert _hit(repo, "prod")
    if change == "edit a calendar":
        path = repo / "calendars" / "payroll.yaml"
        path.write_text(path.read_text().replace("BYMONTHDAY=25", "BYMONTHDAY=24"))
    elif change == "edit an env.yaml of another environment":
        path = repo / "envs" / "dev" / "env.yaml"
        path.write_text(path.read_text() + "\n# a comment changes the bytes\n")
    elif change == "add a tenant file":
        (repo / "envs" / "prod" / "tenants" / "zz-new.yaml").write_text("{}\n")
    elif change == "remove the values file of another environment":
        (repo / "envs" / "staging" / "values.yaml").unlink()
    elif change == "add a pipeline":
        (repo / "pipelines" / "zz.yaml").write_text("name: zz\n")
    else:
        key = repo / "keys" / "cosign.pub"
        key.rename(repo / "keys" / "real.pub")
        key.symlink_to(repo / "keys" / "real.pub")
    assert not _hit(repo, "prod")


def test_an_invalid_change_after_a_hit_reports_the_full_loads_errors(repo: Path) -> None:
    load_env_calendars(repo, "prod", cached=True)
    path = repo / "calendars" / "payroll.yaml"
    path.write_text(path.read_text().replace("BYMONTHDAY=25", "BYMONTHDAY=32"))
    with pytest.raises(ConfigError) as uncached:
        load_env_calendars(repo, "prod")
    with pytest.raises(ConfigError) as cached:
        load_env_calendars(repo, "prod", cached=True)
    assert cached.value.render() == uncached.value.render()
    assert "calendars/payroll.yaml:" in cached.value.render()
    path.write_text(path.read_text().replace("BYMONTHDAY=32", "BYMONTHDAY=25"))
    assert _hit(repo, "prod")  # the failed load recorded nothing; the recorded bytes are back


def test_an_unknown_environment_gets_the_full_loads_error(repo: Path) -> None:
    load_env_calendars(repo, "prod", cached=True)
    with pytest.raises(UsageError) as uncached:
        load_env_calendars(repo, "nope")
    with pytest.raises(UsageError) as cached:
        load_env_calendars(repo, "nope", cached=True)
    assert cached.value.render() == uncached.value.render()


def test_another_day_is_a_miss(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Anchors must occur within ten years from *today*: a record holds for the day it was made."""
    load_env_calendars(repo, "prod", cached=True)
    assert _hit(repo, "prod")
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    monkeypatch.setattr(calendar_cache, "_today", lambda: tomorrow)
    assert not _hit(repo, "prod")
    assert calendar_cache.fingerprint(tomorrow) != calendar_cache.fingerprint(tomorrow - timedelta(days=1))


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"fingerprint": 1}', b"[]"])
def test_a_damaged_record_is_a_miss_and_is_rewritten(repo: Path, damage: bytes) -> None:
    expected = [c.name for c in load_env_calendars(repo, "prod")]
    load_env_calendars(repo, "prod", cached=True)
    (path,) = _cache_files()
    path.write_bytes(damage)
    assert not _hit(repo, "prod")
    assert [c.name for c in load_env_calendars(repo, "prod", cached=True)] == expected
    assert _hit(repo, "prod")


def test_a_record_damaged_late_leaves_no_preloaded_tables(repo: Path) -> None:
    """The holiday and rrule tables are taken only from a record read whole: a miss changes nothing."""
    load_env_calendars(repo, "prod", cached=True)
    (path,) = _cache_files()
    record = json.loads(path.read_text())
    record["rrules"].append(["FREQ=DAILY", "2000-01-01", 2026, ["not a date"]])
    path.write_text(json.dumps(record))
    businessdays.PRELOADED.clear()
    anchors.PRELOADED.clear()
    assert not _hit(repo, "prod")
    assert not businessdays.PRELOADED and not anchors.PRELOADED


def test_a_forged_record_for_other_files_is_not_used(repo: Path) -> None:
    """A record is bound to the bytes it recorded: one claiming another calendar's content misses."""
    load_env_calendars(repo, "prod", cached=True)
    (path,) = _cache_files()
    record = json.loads(path.read_text())
    record["files"]["read:calendars/payroll.yaml"] = "0" * 64
    path.write_text(json.dumps(record))
    assert not _hit(repo, "prod")


def test_switched_off_or_unwritable_the_cache_changes_nothing(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ODOO_GITOPS_NO_CACHE", "1")
    load_env_calendars(repo, "prod", cached=True)
    assert calendar_cache.cache_dir() is None
    monkeypatch.delenv("ODOO_GITOPS_NO_CACHE")
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert [c.name for c in load_env_calendars(repo, "prod", cached=True)] == [
        "payroll",
        "month-end",
        "prod-windows",
    ]


def test_no_home_and_a_relative_xdg_cache_home_write_nothing_here(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setattr(os.path, "expanduser", lambda path: path)  # as when there is no home directory
    assert calendar_cache.cache_dir() is None
    load_env_calendars(repo, "prod", cached=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config"]  # the repository only


def test_old_records_are_pruned(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(calendar_cache, "KEEP", 2)
    folder = calendar_cache.cache_dir()
    assert folder is not None
    folder.mkdir(parents=True)
    for n in range(3):
        (folder / f"old{n}.json").write_text("{}")
        os.utime(folder / f"old{n}.json", (n, n))
    load_env_calendars(repo, "prod", cached=True)
    own = calendar_cache._cache_file(repo.resolve())
    assert own is not None
    assert [p.name for p in _cache_files()] == sorted(["old2.json", own.name])
