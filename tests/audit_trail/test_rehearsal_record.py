"""A rehearsal record committed to the config repository's main (what the rehearsal CronJob does), on a
real bare repository: one commit with the record file and its audit entry, idempotent by run, hostile run
ids and unknown environments refused, other writers' commits kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gitops.audit_trail.rehearsal_record import commit_rehearsal, rehearsal_key
from gitops.errors import UsageError
from gitops.forge.protocol import ForgeSettings
from tests.fixtures.configrepo import ConfigRepoFixture, git

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
RECORD = {
    "env": "prod", "backup": "prod-1.dump", "backup_sha256": "a" * 64, "passed": True,
    "rehearsed_at": "2026-12-02T03:00:00+00:00", "rto_seconds": 12.5, "rpo_seconds": 600.0, "problems": [],
}  # fmt: skip
FORGE = ForgeSettings(kind="local", actor="odoo-gitops-rehearsal")


def _entries(repo: ConfigRepoFixture) -> list[dict[str, object]]:
    git(repo.work, "pull", "-q", "--ff-only", "origin", "main")
    path = repo.work / "audit" / "prod.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [e for e in map(json.loads, lines) if e["kind"] == "rehearsal"]


def test_the_record_and_its_entry_land_in_one_commit_once_per_run(config_repo: ConfigRepoFixture) -> None:
    first = commit_rehearsal(str(config_repo.remote), "prod", RECORD, forge=FORGE, run_id="job-1", now=NOW)
    assert first.key == "rehearsal:prod:run:job-1" and first.record_file == "envs/prod/rehearsal.json"
    head = git(config_repo.remote, "rev-parse", "main")
    changed = git(config_repo.remote, "show", "--name-only", "--format=", "main").split()
    assert changed == ["audit/prod.jsonl", "envs/prod/rehearsal.json"]
    again = commit_rehearsal(
        str(config_repo.remote), "prod", {**RECORD, "rto_seconds": 99.0}, forge=FORGE, run_id="job-1", now=NOW
    )
    assert again.seq == first.seq and git(config_repo.remote, "rev-parse", "main") == head
    (entry,) = _entries(config_repo)
    assert entry["actor"] == "odoo-gitops-rehearsal" and entry["data"]["rto_seconds"] == 12.5  # type: ignore[index]
    recorded = json.loads((config_repo.work / "envs" / "prod" / "rehearsal.json").read_text())
    assert recorded == {**RECORD, "run_id": "job-1"}


def test_without_a_run_id_the_record_itself_is_the_key(config_repo: ConfigRepoFixture) -> None:
    for _ in range(2):
        commit_rehearsal(str(config_repo.remote), "prod", RECORD, forge=FORGE, run_id=None, now=NOW)
    later = {**RECORD, "rehearsed_at": "2026-12-09T03:00:00+00:00"}
    commit_rehearsal(str(config_repo.remote), "prod", later, forge=FORGE, run_id=None, now=NOW)
    assert len(_entries(config_repo)) == 2


def test_the_commit_goes_on_top_of_main_keeping_other_writers_work(config_repo: ConfigRepoFixture) -> None:
    (config_repo.work / "envs" / "prod" / "note.txt").write_text("pushed by someone else\n")
    before = config_repo.commit_all("another writer")
    commit_rehearsal(str(config_repo.remote), "prod", RECORD, forge=FORGE, run_id="job-2", now=NOW)
    assert len(_entries(config_repo)) == 1 and (config_repo.work / "envs" / "prod" / "note.txt").exists()
    assert git(config_repo.work, "rev-parse", "HEAD~1") == before


@pytest.mark.parametrize("run_id", ["", "../x", "job\nAudit-Env: prod", "-rf", "a" * 300])
def test_a_hostile_run_id_is_refused(run_id: str) -> None:
    with pytest.raises(UsageError, match="--run-id"):
        rehearsal_key("prod", RECORD, run_id)


def test_an_unknown_environment_is_refused_and_nothing_is_written(config_repo: ConfigRepoFixture) -> None:
    head = git(config_repo.remote, "rev-parse", "main")
    with pytest.raises(UsageError, match="unknown environment 'nowhere'"):
        commit_rehearsal(str(config_repo.remote), "nowhere", RECORD, forge=FORGE, run_id="j", now=NOW)
    assert git(config_repo.remote, "rev-parse", "main") == head
