"""The scan policy decision: a pure function of the report, the environment's ScanPolicy and the date."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from gitops.config.models import ScanException, ScanPolicy
from gitops.supply.report import SEVERITIES, Finding

_RANK = {severity: index for index, severity in enumerate(SEVERITIES)}


@dataclass(frozen=True, kw_only=True)
class PolicyVerdict:
    passed: bool
    failing: tuple[Finding, ...]
    waived: tuple[tuple[Finding, ScanException], ...]
    ignored_unfixed: tuple[Finding, ...]
    below_threshold: int
    expired_exceptions: tuple[ScanException, ...]
    policy_digest: str

    def reasons(self) -> list[str]:
        lines = [_describe(f) for f in self.failing]
        lines += [_expired(e) for e in self.expired_exceptions]
        return lines

    def to_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "failing": [_finding_dict(f) for f in self.failing],
            "waived": [
                {**_finding_dict(f), "exception_owner": e.owner, "expires": e.expires} for f, e in self.waived
            ],
            "ignored_unfixed": len(self.ignored_unfixed),
            "below_threshold": self.below_threshold,
            "expired_exceptions": [e.model_dump(mode="json") for e in self.expired_exceptions],
            "policy_digest": self.policy_digest,
        }


def _finding_dict(f: Finding) -> dict[str, str]:
    return {"kind": f.kind, "id": f.id, "severity": f.severity, "package": f.package, "target": f.target}


def _expired(e: ScanException) -> str:
    package = f" ({e.package})" if e.package else ""
    return f"exception {e.id}{package} expired on {e.expires} (owner {e.owner}); it no longer applies"


def _describe(f: Finding) -> str:
    if f.kind == "secret":
        return f"secret {f.id} in {f.target}: {f.title} (secrets always fail)"
    fix = f"fixed in {f.fixed}" if f.fixed else "no fix available"
    return f"{f.severity} {f.id} in {f.package} {f.installed} ({fix})"


def policy_digest(policy: ScanPolicy) -> str:
    canonical = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _matching(finding: Finding, exceptions: tuple[ScanException, ...]) -> ScanException | None:
    for exception in exceptions:
        if exception.id == finding.id and exception.package in (None, finding.package):
            return exception
    return None


def evaluate(findings: tuple[Finding, ...], policy: ScanPolicy, *, today: date) -> PolicyVerdict:
    """Findings at or above the threshold fail unless waived by a live exception (or unfixed and ignored);
    secrets always fail; expired exceptions do not apply and are reported."""
    live = tuple(e for e in policy.exceptions if e.expires >= today)
    expired = tuple(e for e in policy.exceptions if e.expires < today)
    threshold = _RANK[policy.severity]
    failing: list[Finding] = []
    waived: list[tuple[Finding, ScanException]] = []
    unfixed: list[Finding] = []
    below = 0
    for finding in findings:
        if finding.kind == "secret":
            failing.append(finding)
        elif _RANK.get(finding.severity, 0) < threshold:
            below += 1
        elif policy.ignore_unfixed and not finding.fix_available:
            unfixed.append(finding)
        elif (exception := _matching(finding, live)) is not None:
            waived.append((finding, exception))
        else:
            failing.append(finding)
    return PolicyVerdict(
        passed=not failing,
        failing=tuple(failing),
        waived=tuple(waived),
        ignored_unfixed=tuple(unfixed),
        below_threshold=below,
        expired_exceptions=expired,
        policy_digest=policy_digest(policy),
    )
