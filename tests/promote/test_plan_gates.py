"""gitops/promote/plan_gates.py: each gate of the target stage, met / not met / pending as far as a plan
can know, from values (the example config and a window summary)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitops.config.loader import EnvBundle, load_config
from gitops.promote.plan_gates import (
    GateStatus,
    WindowSummary,
    gate_statuses,
    missing_key_reasons,
    required_approvals,
)
from tests.fixtures.configrepo import copy_examples

GATES = ("window", "approvals", "scan", "signature")
AT = datetime(2026, 12, 8, 17, 0, tzinfo=UTC)


@pytest.fixture
def prod(tmp_path: Path) -> EnvBundle:
    return load_config(copy_examples(tmp_path / "cfg")).env("prod")


def unsigned(tmp_path: Path) -> EnvBundle:
    repo = copy_examples(tmp_path / "unsigned")
    env_yaml = repo / "envs" / "prod" / "env.yaml"
    env_yaml.write_text(env_yaml.read_text().replace("signing:\n  public_key: keys/cosign.pub\n", ""))
    return load_config(repo).env("prod")


def summary(*, open_: bool) -> WindowSummary:
    return WindowSummary(
        open=open_,
        blocked_by=() if open_ else ("payroll/payroll",),
        next_open=None if open_ else AT,
        open_until=AT if open_ else None,
        timezone="Europe/Berlin",
    )


def test_each_gate_in_pipeline_order(prod: EnvBundle) -> None:
    approvals = required_approvals(prod, "normal", False)
    assert approvals == {"rule": "normal", "count": 2, "from": ["cab"], "require_backup": False}
    statuses = gate_statuses(prod, GATES, approvals, summary(open_=True))
    assert [s.name for s in statuses] == list(GATES)
    assert statuses[0] == GateStatus(
        "window", "met", "open now until 2026-12-08 18:00 Europe/Berlin (2026-12-08T17:00:00Z)"
    )
    assert statuses[1] == GateStatus("approvals", "pending", "needed on the PR: 2 from cab (rule normal)")
    assert statuses[2].status == statuses[3].status == "checked by promote"
    assert "fail at HIGH and above" in statuses[2].detail


def test_a_closed_or_unknown_window(prod: EnvBundle) -> None:
    closed = gate_statuses(prod, ("window",), {}, summary(open_=False))[0]
    assert closed.status == "not met"
    assert closed.detail.startswith(
        "closed now by payroll/payroll; next opening 2026-12-08 18:00 Europe/Berlin"
    )
    assert gate_statuses(prod, ("window",), {}, None)[0].status == "checked by promote"


def test_a_destructive_change_needs_a_backup_even_without_approvals(prod: EnvBundle) -> None:
    approvals = required_approvals(prod, "normal", True)
    assert approvals["rule"] == "destructive"
    assert approvals["require_backup"] is True
    no_count = {**approvals, "count": 0}
    status = gate_statuses(prod, ("approvals",), no_count, None)[0]
    assert status.status == "pending"
    assert status.detail.endswith("and a recorded database backup (promote --backup-id)")


def test_without_a_key_the_supply_gates_are_not_met(tmp_path: Path) -> None:
    prod = unsigned(tmp_path)
    assert missing_key_reasons(prod, GATES) == [
        "'prod' has no signing.public_key: cannot verify signature or attestation"
    ]
    assert missing_key_reasons(prod, ("window", "approvals")) == []
    statuses = gate_statuses(prod, ("scan", "signature"), {}, None)
    assert [s.status for s in statuses] == ["not met", "not met"]
