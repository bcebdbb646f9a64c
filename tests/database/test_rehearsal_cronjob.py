"""The chart's rehearsal CronJob, end to end without a cluster: its exact command line (as rendered by helm,
tests/charts/test_data_jobs.py) runs against a real PostgreSQL, a backup store folder and a real config
repository (a bare git remote); the record it commits to main is what the `rehearsal` gate then reads."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitops.cli.main import main
from gitops.config.loader import load_config
from gitops.database.backups import manifest_path
from gitops.gates.evidence import Evidence
from gitops.gates.policy import evaluate_gate
from gitops.gates.rehearsal_facts import rehearsal_facts
from gitops.supply.blob_signature import sign_file
from gitops.supply.keys import load_private_key
from tests.charts.test_data_jobs import rehearsal_args
from tests.database.test_rehearsal import copy_backup, prod_backup  # noqa: F401 - a real signed backup
from tests.fixtures.configrepo import ConfigRepoFixture, git, make_config_repo
from tests.fixtures.postgres import PgCluster
from tests.fixtures.supply import PASSWORD, make_keys


@pytest.fixture
def cluster_side(
    prod_backup: Path,  # noqa: F811 - the imported fixture
    postgres: PgCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[ConfigRepoFixture, Path]:
    """The config repository (prod's signing key is the one that signed the backups) and the backup store
    the CronJob mounts at /backup, holding one backup of prod."""
    repo = make_config_repo(tmp_path / "config")
    shutil.copyfile(prod_backup.parent / "keys" / "cosign.pub", repo.work / "keys" / "cosign.pub")
    repo.commit_all("prod's backups are signed with this key")
    store = tmp_path / "backup"
    store.mkdir()
    copy_backup(prod_backup, store / "prod.dump")
    monkeypatch.setenv("ODOO_GITOPS_DATABASE_URL", postgres.dsn("postgres"))
    monkeypatch.setenv("COSIGN_PASSWORD", PASSWORD)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return repo, store


def _run(
    repo: ConfigRepoFixture, store: Path, job: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict]:
    args = rehearsal_args("prod", "/backup/latest", str(repo.remote), job=job)
    argv = [a.replace("/backup/", f"{store}/", 1) if a.startswith("/backup/") else a for a in args]
    code = main(["backup", "verify", *argv])
    out = capsys.readouterr()
    return code, json.loads(out.out)


def _main(repo: ConfigRepoFixture) -> Path:
    git(repo.work, "pull", "-q", "--ff-only", "origin", "main")
    return repo.work


def _gate(root: Path, backup: str = "prod") -> tuple[str, tuple[str, ...]]:
    config = load_config(root)
    evidence = Evidence(
        phase="merge",
        policy=config.env("prod").config.gate_policy.model_copy(update={"approvals": {}}),
        change_class="normal",
        destructive=True,
        backup_recorded=True,
        rehearsal=lambda: rehearsal_facts(config, "prod", (backup,)),
        now=datetime.now(UTC),
    )
    verdict = evaluate_gate(("approvals", "rehearsal"), evidence)
    return verdict.state, verdict.reasons


def _rehearsal_entries(root: Path) -> list[dict]:
    lines = (root / "audit" / "prod.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == "rehearsal"]


def test_the_cronjobs_command_line_commits_a_record_the_gate_accepts(
    cluster_side: tuple[ConfigRepoFixture, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store = cluster_side
    before = repo.head()
    assert _gate(_main(repo))[0] == "pending"  # never rehearsed
    code, result = _run(repo, store, "odoo-rehearsal-29411280", capsys)
    assert code == 0, result
    assert result["passed"] is True and result["signature"] == "verified"
    assert result["committed"]["key"] == "rehearsal:prod:run:odoo-rehearsal-29411280"
    root = _main(repo)
    assert git(root, "rev-list", "--count", f"{before}..HEAD") == "1"  # record + audit entry: one commit
    assert git(root, "show", "--name-only", "--format=", "HEAD").split() == [
        "audit/prod.jsonl", "envs/prod/rehearsal.json"
    ]  # fmt: skip
    recorded = json.loads((root / "envs" / "prod" / "rehearsal.json").read_text())
    assert recorded["backup"] == "prod.dump" and recorded["run_id"] == "odoo-rehearsal-29411280"
    (entry,) = _rehearsal_entries(root)
    assert entry["actor"] == "odoo-gitops-rehearsal" and entry["data"]["passed"] is True
    assert main(["audit", "verify", "prod", "--config-repo", str(repo.remote)]) == 0
    capsys.readouterr()
    assert _gate(root) == ("success", ())


def test_a_retried_pod_of_the_same_job_adds_no_second_entry(
    cluster_side: tuple[ConfigRepoFixture, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store = cluster_side
    assert _run(repo, store, "odoo-rehearsal-29411280", capsys)[0] == 0
    head = _main(repo) and repo.head()
    code, result = _run(repo, store, "odoo-rehearsal-29411280", capsys)  # the same Job, a second pod
    assert code == 0 and result["committed"]["seq"] == 1
    assert repo.head() == head and _main(repo) and repo.head() == head  # nothing new on main
    assert len(_rehearsal_entries(repo.work)) == 1
    assert _run(repo, store, "odoo-rehearsal-29421360", capsys)[0] == 0  # next week's Job: a new entry
    assert len(_rehearsal_entries(_main(repo))) == 2


def test_a_corrupted_backup_fails_the_cronjob_and_then_the_gate(
    cluster_side: tuple[ConfigRepoFixture, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store = cluster_side
    assert _run(repo, store, "odoo-rehearsal-1", capsys)[0] == 0
    assert _gate(_main(repo))[0] == "success"
    dump = store / "prod.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    code, result = _run(repo, store, "odoo-rehearsal-2", capsys)
    assert code == 4 and result["passed"] is False and "committed" in result  # on record, then exit 4
    state, reasons = _gate(_main(repo))
    assert state == "failure"
    assert reasons == (
        "the latest rehearsal of prod failed: backup file its sha256 differs from the manifest "
        "(corrupted or replaced)",
    )


def test_an_edited_manifest_fails_the_cronjob_with_exit_3_and_then_the_gate(
    cluster_side: tuple[ConfigRepoFixture, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store = cluster_side
    manifest = store / "prod.dump.manifest.json"
    data = json.loads(manifest.read_text())
    data["tables"]["res_partner"] -= 1  # hide a deleted row
    manifest.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    code, result = _run(repo, store, "odoo-rehearsal-3", capsys)
    assert code == 3 and result["signature"] == "failed"
    state, reasons = _gate(_main(repo))
    assert state == "failure" and "the backup manifest's signature does not verify" in reasons[0]


def test_the_newest_backup_is_rehearsed_and_a_store_without_one_fails(
    cluster_side: tuple[ConfigRepoFixture, Path],
    prod_backup: Path,  # noqa: F811 - the imported fixture
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, store = cluster_side
    newer = copy_backup(store / "prod.dump", store / "prod-2.dump")
    manifest = manifest_path(newer)
    manifest.write_text(json.dumps(json.loads(manifest.read_text()) | {"file": newer.name}))
    sign_file(manifest, load_private_key(prod_backup.parent / "keys" / "cosign.key"))  # a second real backup
    os.utime(store / "prod.dump.manifest.json", (1_000_000, 1_000_000))
    code, result = _run(repo, store, "odoo-rehearsal-4", capsys)
    assert code == 0 and result["backup"] == "prod-2.dump"
    empty = store.parent / "empty"
    empty.mkdir()
    argv = rehearsal_args("prod", f"{empty}/latest", str(repo.remote), job="odoo-rehearsal-5")
    assert main(["backup", "verify", *argv]) == 4
    assert "no backup with a manifest" in capsys.readouterr().err


def test_an_old_backup_replayed_under_a_newer_name_is_refused(
    cluster_side: tuple[ConfigRepoFixture, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, store = cluster_side
    copy_backup(store / "prod.dump", store / "prod-2099.dump")  # signed, but for prod.dump
    os.utime(store / "prod.dump.manifest.json", (1_000_000, 1_000_000))
    code, result = _run(repo, store, "odoo-rehearsal-6", capsys)
    assert (
        code == 3 and "the signed manifest is for 'prod.dump', not 'prod-2099.dump'" in result["problems"][0]
    )
    state, reasons = _gate(_main(repo), "prod-2099")
    assert state == "failure" and "renamed or replayed" in reasons[0]


def test_a_rehearsal_on_record_is_checked_with_the_key_on_main_only(
    cluster_side: tuple[ConfigRepoFixture, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, store = cluster_side
    head = repo.head()
    argv = rehearsal_args("prod", f"{store}/latest", str(repo.remote), job="odoo-rehearsal-7")
    other = make_keys(tmp_path / "mine", monkeypatch)
    assert main(["backup", "verify", *argv, "--public-key", str(other.public)]) == 2
    assert "--public-key cannot be used with --commit" in capsys.readouterr().err
    assert git(repo.remote, "rev-parse", "main") == head  # nothing on record
