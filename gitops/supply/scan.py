"""`scan`: trivy on the pinned image, the environment's policy, SARIF, and the passing result attested."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from gitops.config.models import ScanPolicy
from gitops.errors import ExternalError, UsageError
from gitops.image.reference import pinned_ref
from gitops.image.registry import RegistryClient
from gitops.supply import attest, keys
from gitops.supply.policy import PolicyVerdict, evaluate
from gitops.supply.report import ScanReport
from gitops.supply.sarif import to_sarif
from gitops.supply.signing import require_image
from gitops.supply.trivy import TrivyOptions, scan_image


@dataclass(frozen=True, kw_only=True)
class ScanRequest:
    image: str
    policy: ScanPolicy
    policy_source: str
    sarif: Path | None = None
    attest_key: Path | None = None
    today: date | None = None
    timeout: float = 900.0


@dataclass(frozen=True, kw_only=True)
class ScanOutcome:
    report: ScanReport
    verdict: PolicyVerdict
    policy_source: str
    attested: bool
    started: datetime
    finished: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.report.image,
            "passed": self.verdict.passed,
            "trivy_version": self.report.trivy_version,
            "os": self.report.os,
            "counts_by_severity": self.report.counts_by_severity(),
            "secrets": len(self.report.secrets),
            "policy": {"source": self.policy_source, **self.verdict.to_dict()},
            "reasons": self.verdict.reasons(),
            "attested": self.attested,
            "scanned_at": _stamp(self.finished),
        }


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scan_predicate(outcome: ScanOutcome) -> dict[str, Any]:
    """cosign's vuln attestation predicate; `scanner.result` holds the full typed report for re-evaluation."""
    return {
        "invocation": {"parameters": None, "uri": "", "event_id": "", "builder.id": "odoo-gitops"},
        "scanner": {
            "uri": f"pkg:github/aquasecurity/trivy@{outcome.report.trivy_version}",
            "version": outcome.report.trivy_version,
            "db": {"uri": "", "version": ""},
            "result": outcome.report.to_dict(),
        },
        "metadata": {"scanStartedOn": _stamp(outcome.started), "scanFinishedOn": _stamp(outcome.finished)},
        "policy": {"source": outcome.policy_source, "digest": outcome.verdict.policy_digest, "passed": True},
    }


def scan(request: ScanRequest) -> ScanOutcome:
    image = pinned_ref(request.image)
    key = keys.load_private_key(request.attest_key) if request.attest_key else None
    timeout = min(request.timeout, 60)
    started = datetime.now(UTC)
    try:
        report = scan_image(image, TrivyOptions(timeout=request.timeout))
    except ExternalError:
        require_image(
            RegistryClient.for_ref(image, timeout=timeout), image
        )  # a clearer message when the image is simply not there
        raise
    finished = datetime.now(UTC)
    verdict = evaluate(report.findings, request.policy, today=request.today or finished.date())
    outcome = ScanOutcome(
        report=report,
        verdict=verdict,
        policy_source=request.policy_source,
        attested=bool(key and verdict.passed),
        started=started,
        finished=finished,
    )
    if request.sarif:
        _write(request.sarif, json.dumps(to_sarif(report, verdict), indent=2))
    if key and verdict.passed:
        attest.attach(
            RegistryClient.for_ref(image, timeout=timeout),
            image,
            attest.VULN_PREDICATE,
            scan_predicate(outcome),
            key,
        )
    return outcome


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
