"""The `signature` and `scan` gates: the image is signed with the target's key and has a passing scan
attestation under the target's policy. Checked against the registry at promote time; at merge time the
evidence is what that promotion run recorded in the audit log."""

from __future__ import annotations

from collections.abc import Callable

from gitops.gates.evidence import Evidence, Gate, GateResult, SupplyResult


def _supply_gate(name: str, what: str, pick: Callable[[Evidence], SupplyResult | None]) -> Gate:
    def evaluate(evidence: Evidence) -> GateResult:
        result = pick(evidence)
        if result is None:
            return GateResult(
                name=name,
                state="failure",
                reasons=(f"no {what} evidence for this promotion (re-run promote)",),
            )
        if not result.ok:
            return GateResult(name=name, state="failure", reasons=(result.text,))
        return GateResult(name=name, state="success", detail={"text": result.text})

    return Gate(name, frozenset({"promote", "merge"}), evaluate)


SIGNATURE = _supply_gate("signature", "image signature", lambda e: e.signature())
SCAN = _supply_gate("scan", "scan attestation", lambda e: e.scan())
