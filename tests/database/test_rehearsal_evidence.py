"""A restore rehearsal as evidence, end to end on real PostgreSQL: `backup verify` records it, the
`rehearsal` gate reads it from the config repository and decides a destructive promotion of prod."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitops.config.loader import load_config
from gitops.gates.evidence import Evidence
from gitops.gates.policy import evaluate_gate
from gitops.gates.rehearsal_facts import rehearsal_facts
from tests.database.test_rehearsal import _verify, backed_up, prod_backup  # noqa: F401 - a real backup
from tests.fixtures.postgres import PgCluster

GATES = ("approvals", "rehearsal")


def _verdict(config: Path, backup: str, *, now: datetime | None = None) -> tuple[str, tuple[str, ...]]:
    repo = load_config(config)
    evidence = Evidence(
        phase="merge",
        policy=repo.env("prod").config.gate_policy.model_copy(update={"approvals": {}}),
        change_class="normal",
        destructive=True,
        backup_recorded=True,
        rehearsal=lambda: rehearsal_facts(repo, "prod", (backup,)),
        now=now or datetime.now(UTC),
    )
    verdict = evaluate_gate(GATES, evidence)
    return verdict.state, verdict.reasons


def test_a_good_rehearsal_lets_the_destructive_promotion_pass(
    postgres: PgCluster,
    backed_up: Path,  # noqa: F811 - the imported fixture
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _ = _verify(tmp_path, backed_up, capsys)
    assert code == 0
    config = tmp_path / "examples"
    assert _verdict(config, "prod")[0] == "success"  # the release names the backup id, the record its file
    assert _verdict(config, "other-backup")[0] == "pending"
    later = datetime.now(UTC) + timedelta(days=8)  # prod wants a rehearsal within 7 days
    state, reasons = _verdict(config, "prod", now=later)
    assert state == "pending" and "older than 7d" in reasons[0]


def test_a_corrupted_backup_fails_its_rehearsal_and_blocks_the_destructive_promotion(
    postgres: PgCluster,
    backed_up: Path,  # noqa: F811 - the imported fixture
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = bytearray(backed_up.read_bytes())
    data[len(data) // 2] ^= 0xFF
    backed_up.write_bytes(bytes(data))
    code, _ = _verify(tmp_path, backed_up, capsys)
    assert code == 4
    state, reasons = _verdict(tmp_path / "examples", "prod")
    assert state == "failure" and "the latest rehearsal of prod failed" in reasons[0]


def test_a_rehearsal_slower_than_the_rto_does_not_count(
    postgres: PgCluster,
    backed_up: Path,  # noqa: F811 - the imported fixture
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _verify(tmp_path, backed_up, capsys)[0] == 0
    record = tmp_path / "examples" / "envs" / "prod" / "rehearsal.json"
    data = json.loads(record.read_text())
    record.write_text(json.dumps({**data, "rto_seconds": 3600.0}))  # prod's RTO is 30m
    state, reasons = _verdict(tmp_path / "examples", "prod")
    assert state == "failure" and "restore time (RTO) 1h exceeds the objective 30m" in reasons[0]
