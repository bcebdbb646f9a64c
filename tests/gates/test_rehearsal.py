"""The `rehearsal` gate: a destructive change needs backups proven by a restore rehearsal within the
environment's recovery objectives; failed, old, slow, forged or untrusted rehearsals do not count."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitops.audit import append_entry
from gitops.config.loader import load_config
from gitops.config.models import ApprovalRule, GatePolicy, Recovery
from gitops.gates.evidence import Evidence, Rehearsal, RehearsalFacts
from gitops.gates.policy import evaluate_gate
from gitops.gates.registry import run_gates
from gitops.gates.rehearsal import rehearsal_from, rehearsals_from
from gitops.gates.rehearsal_facts import rehearsal_facts
from tests.fixtures.configrepo import copy_examples

NOW = datetime(2026, 11, 24, 19, 30, tzinfo=UTC)
RECOVERY = Recovery(rpo=timedelta(hours=1), rto=timedelta(minutes=30), rehearsal_max_age=timedelta(days=7))
POLICY = GatePolicy(approvals={"destructive": ApprovalRule(count=0)})
GOOD = Rehearsal("bk-1", True, NOW - timedelta(days=1), restore_seconds=600, backup_age_seconds=1200)


def evidence(rehearsals: tuple[Rehearsal, ...], *, destructive: bool = True, **facts: object) -> Evidence:
    base = RehearsalFacts(("bk-1",), rehearsals, RECOVERY)
    found = replace(base, **facts)  # type: ignore[arg-type]
    return Evidence(
        phase="merge",
        policy=POLICY,
        change_class="normal",
        destructive=destructive,
        rehearsal=lambda: found,
        backup_recorded=True,
        now=NOW,
    )


def result(ev: Evidence) -> tuple[str, tuple[str, ...]]:
    (found,) = run_gates(["rehearsal"], ev)
    return found.state, found.reasons


def test_a_good_rehearsal_lets_a_destructive_promotion_pass() -> None:
    assert result(evidence((GOOD,)))[0] == "success"
    verdict = evaluate_gate(("approvals", "rehearsal"), evidence((GOOD,)))
    assert verdict.state == "success"


def test_a_change_that_is_not_destructive_needs_no_rehearsal() -> None:
    assert result(evidence((), destructive=False))[0] == "success"


@pytest.mark.parametrize(
    ("rehearsals", "facts", "state", "needle"),
    [
        ((), {}, "pending", "never rehearsed"),
        ((replace(GOOD, passed=False, reason="tables missing"),), {}, "failure", "failed: tables missing"),
        ((replace(GOOD, at=NOW - timedelta(days=8)),), {}, "pending", "older than 7d"),
        ((replace(GOOD, restore_seconds=3600),), {}, "failure", "restore time (RTO) 1h exceeds"),
        ((replace(GOOD, backup_age_seconds=7200),), {}, "failure", "backup age (RPO) 2h exceeds"),
        ((replace(GOOD, restore_seconds=None),), {}, "failure", "recorded no restore time"),
        # a pass followed by a failure: the latest decides
        ((GOOD, replace(GOOD, passed=False, at=NOW - timedelta(hours=1))), {}, "failure", "failed"),
        # forged: dated in the future so that it stays "latest" and "fresh"
        ((replace(GOOD, at=NOW + timedelta(days=1)),), {}, "failure", "in the future"),
        # a rehearsal of another backup proves nothing about this one
        ((replace(GOOD, backup="bk-other"),), {}, "pending", "never rehearsed"),
        ((GOOD,), {"recovery": None}, "failure", "no recovery objectives"),
        ((GOOD,), {"trusted": False, "problem": "chain broken"}, "failure", "chain broken"),
        ((GOOD,), {"backups": ()}, "pending", "no backup is recorded"),
    ],
)
def test_a_missing_failed_old_or_forged_rehearsal_blocks_a_destructive_promotion(
    rehearsals: tuple[Rehearsal, ...], facts: dict[str, object], state: str, needle: str
) -> None:
    found_state, reasons = result(evidence(rehearsals, **facts))
    assert found_state == state
    assert any(needle in reason for reason in reasons), reasons
    assert evaluate_gate(("rehearsal",), evidence(rehearsals, **facts)).state == state


def test_no_facts_fail_closed() -> None:
    ev = replace(evidence((GOOD,)), rehearsal=lambda: None)
    assert result(ev)[0] == "failure"


@pytest.mark.parametrize(
    "data",
    [
        {"passed": True},
        {"backup": "bk-1", "passed": "yes"},
        {"backup": "", "passed": True},
        {"backup": "bk-1", "passed": True, "rehearsed_at": "yesterday"},
    ],
)
def test_malformed_rehearsal_entries_are_skipped(data: dict[str, object]) -> None:
    assert rehearsal_from("2026-11-24T10:00:00+00:00", data) is None


def test_negative_or_boolean_measurements_are_no_measurement() -> None:
    data = {"backup": "b", "passed": True, "restore_seconds": -5, "backup_age_seconds": True}
    found = rehearsal_from("2026-11-24T10:00:00+00:00", data)
    assert found is not None and found.restore_seconds is None and found.backup_age_seconds is None


def _log(root: Path, env: str, entries: list[dict[str, object]], at: datetime) -> None:
    for i, data in enumerate(entries):
        append_entry(
            root / "audit" / f"{env}.jsonl",
            env=env,
            kind="rehearsal",
            actor="ci",
            data=data,
            key=f"r{i}",
            at=at,
        )


def test_rehearsals_are_read_from_the_audit_log_on_main(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "cfg")
    good = {"backup": "bk-1", "passed": True, "restore_seconds": 60, "backup_age_seconds": 600}
    _log(
        root,
        "prod",
        [good, {"backup": "bk-2", "passed": False, "reason": "corrupt"}],
        NOW - timedelta(hours=2),
    )
    facts = rehearsal_facts(load_config(root), "prod", ("bk-1", "bk-2"))
    assert facts.trusted and facts.recovery is not None
    assert [(r.backup, r.passed) for r in facts.rehearsals] == [("bk-1", True), ("bk-2", False)]
    assert rehearsals_from([("promotion", "x", {"backup": "bk-1", "passed": True})]) == ()
    ev = replace(evidence(()), rehearsal=lambda: facts)
    state, reasons = result(ev)
    assert state == "failure" and reasons == ("the latest rehearsal of bk-2 failed: corrupt",)
    ev = replace(ev, rehearsal=lambda: replace(facts, backups=("bk-1",)))
    assert result(ev)[0] == "success"


def test_a_tampered_audit_log_makes_no_rehearsal_count(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "cfg")
    _log(root, "prod", [{"backup": "bk-1", "passed": False, "restore_seconds": 60}], NOW)
    log = root / "audit" / "prod.jsonl"
    log.write_text(log.read_text().replace('"passed":false', '"passed":true'))
    facts = rehearsal_facts(load_config(root), "prod", ("bk-1",))
    assert not facts.trusted and facts.rehearsals == ()
    assert result(replace(evidence(()), rehearsal=lambda: facts))[0] == "failure"


def test_an_env_without_an_audit_log_has_no_rehearsals(tmp_path: Path) -> None:
    facts = rehearsal_facts(load_config(copy_examples(tmp_path / "cfg")), "staging", ("bk-1",))
    assert facts.trusted and facts.rehearsals == ()


def test_rollback_readiness_needs_a_rehearsed_backup_when_recovery_is_set() -> None:
    from gitops.config.models import ReleaseRecord
    from gitops.verify.backup_contract import BackupEvidence
    from gitops.verify.readiness import rehearsal_check

    sha = "a" * 40
    release = ReleaseRecord.model_validate(
        {
            "image": "r/o@sha256:" + "b" * 64,
            "version": "1.1.0",
            "source_commit": sha,
            "schema_fingerprint": "sha256:" + "c" * 64,
            "previous": {"image": "r/o@sha256:" + "d" * 64, "version": "1.0.0", "source_commit": sha},
        }
    )
    backup = BackupEvidence("backup-1", "bk-1", "1.1.0", None, None, NOW)
    facts = RehearsalFacts((), (GOOD,), RECOVERY)
    assert rehearsal_check(release, {None: [backup]}, facts, NOW).ok
    failed = replace(facts, rehearsals=(replace(GOOD, passed=False),))
    check = rehearsal_check(release, {None: [backup]}, failed, NOW)
    assert not check.ok and "failed" in check.detail
