"""gitops/gates/supply.py: the `signature` and `scan` gates pass only on recorded, passing evidence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gitops.config.models import GatePolicy
from gitops.gates.evidence import Evidence, Gate, SupplyResult
from gitops.gates.supply import SCAN, SIGNATURE

NOW = datetime(2026, 12, 8, 18, 30, tzinfo=UTC)


def evidence(*, signature: SupplyResult | None = None, scan: SupplyResult | None = None) -> Evidence:
    return Evidence(
        phase="merge", policy=GatePolicy(), change_class="normal", destructive=False,
        signature=lambda: signature, scan=lambda: scan, now=NOW,
    )  # fmt: skip


@pytest.mark.parametrize(("gate", "field", "what"), [(SIGNATURE, "signature", "image signature"),
                                                     (SCAN, "scan", "scan attestation")])  # fmt: skip
def test_each_gate_reads_its_own_evidence_and_fails_closed_without_it(
    gate: Gate, field: str, what: str
) -> None:
    assert gate.phases == frozenset({"promote", "merge"})
    missing = gate.evaluate(evidence())
    assert (missing.name, missing.state) == (gate.name, "failure")
    assert missing.reasons == (f"no {what} evidence for this promotion (re-run promote)",)
    passed = gate.evaluate(evidence(**{field: SupplyResult(ok=True, text="verified (key k)")}))
    assert (passed.state, passed.reasons, passed.detail) == ("success", (), {"text": "verified (key k)"})
    failed = gate.evaluate(evidence(**{field: SupplyResult(ok=False, text="no signature matches the key")}))
    assert (failed.state, failed.reasons) == ("failure", ("no signature matches the key",))


def test_a_passing_scan_does_not_stand_in_for_a_missing_signature() -> None:
    ok = SupplyResult(ok=True, text="ok")
    assert SIGNATURE.evaluate(evidence(scan=ok)).state == "failure"
    assert SCAN.evaluate(evidence(signature=ok)).state == "failure"
