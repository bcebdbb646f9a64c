"""Evidence a promotion checks: a valid signature, and a signed scan result that passes the TARGET policy.

Both functions read the registry (ExternalError when it cannot be reached) and return values; every bad
signature or attestation is `ok=False` with a reason, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gitops.config.models import ScanPolicy
from gitops.image.reference import pinned_ref
from gitops.image.registry import RegistryClient
from gitops.supply import attest, keys
from gitops.supply.policy import evaluate, policy_digest
from gitops.supply.report import ScanReport
from gitops.supply.signing import SignatureEvidence, verify_image

__all__ = ["ScanEvidence", "SignatureEvidence", "check_scan_attestation", "check_signature"]


@dataclass(frozen=True)
class ScanEvidence:
    ok: bool
    reason: str
    counts_by_severity: dict[str, int] = field(default_factory=dict)
    scanned_at: datetime | None = None
    trivy_version: str = ""
    findings_failing: int = 0
    policy_digest: str = ""
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "counts_by_severity": self.counts_by_severity,
            "scanned_at": self.scanned_at.isoformat() if self.scanned_at else None,
            "trivy_version": self.trivy_version,
            "findings_failing": self.findings_failing,
            "policy_digest": self.policy_digest,
            "reasons": list(self.reasons),
        }


def check_signature(image: str, public_key_pem: bytes, *, timeout: float = 30.0) -> SignatureEvidence:
    ref = pinned_ref(image)
    client = RegistryClient.for_ref(ref, timeout=timeout)
    return verify_image(client, ref, public_key_pem)


def _finished(attestation: attest.Attestation) -> datetime:
    stamp = str((attestation.predicate.get("metadata") or {}).get("scanFinishedOn", ""))
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _report(attestation: attest.Attestation) -> ScanReport | None:
    result: Any = (attestation.predicate.get("scanner") or {}).get("result")
    try:
        return ScanReport.from_dict(result)
    except (KeyError, TypeError, AttributeError):
        return None


def evaluate_attestations(
    found: list[attest.Attestation], rejected: int, policy: ScanPolicy, *, now: datetime
) -> ScanEvidence:
    """Pure: the newest verified scan result, judged under `policy` on `now`'s date."""
    digest = policy_digest(policy)
    if not found:
        if rejected:
            reason = (
                f"{rejected} scan attestation(s) did not verify with the given key (wrong key or tampered)"
            )
        else:
            reason = "no signed scan attestation for this digest (run `odoo-gitops scan --attest`)"
        if not policy.required and not rejected:
            return ScanEvidence(
                True, "no scan attestation, and the policy does not require one", policy_digest=digest
            )
        return ScanEvidence(False, reason, policy_digest=digest)
    latest = max(found, key=_finished)
    report = _report(latest)
    if report is None:
        return ScanEvidence(
            False, "the newest scan attestation holds no readable scan result", policy_digest=digest
        )
    verdict = evaluate(report.findings, policy, today=now.date())
    failing = len(verdict.failing)
    reason = "scan passes the policy" if verdict.passed else f"{failing} finding(s) fail the policy"
    return ScanEvidence(
        ok=verdict.passed,
        reason=reason,
        counts_by_severity=report.counts_by_severity(),
        scanned_at=_finished(latest),
        trivy_version=report.trivy_version,
        findings_failing=failing,
        policy_digest=digest,
        reasons=tuple(verdict.reasons()),
    )


def check_scan_attestation(
    image: str,
    public_key_pem: bytes,
    policy: ScanPolicy,
    *,
    now: datetime | None = None,
    timeout: float = 30.0,
) -> ScanEvidence:
    ref = pinned_ref(image)
    key = keys.load_public_key(public_key_pem)
    client = RegistryClient.for_ref(ref, timeout=timeout)
    found, rejected = attest.read_attestations(client, ref, key, attest.VULN_PREDICATE)
    return evaluate_attestations(found, rejected, policy, now=now or datetime.now(UTC))
