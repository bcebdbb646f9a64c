"""SARIF 2.1.0 for GitHub code scanning: one rule per finding id; policy failures are `error`s."""

from __future__ import annotations

from typing import Any

from gitops.supply.policy import PolicyVerdict
from gitops.supply.report import Finding, ScanReport

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note", "UNKNOWN": "note"}
_SCORE = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "2.0", "UNKNOWN": "0.0"}


def _rule(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "name": "Secret" if f.kind == "secret" else "OsPackageVulnerability",
        "shortDescription": {"text": f.title or f.id},
        "properties": {"security-severity": _SCORE[f.severity], "tags": ["security", f.severity]},
    }


def _message(f: Finding) -> str:
    if f.kind == "secret":
        return f"Secret {f.id} found in {f.target}: {f.title}"
    fixed = f.fixed or "no fix"
    return f"{f.package} {f.installed} is affected by {f.id} ({f.severity}); fixed version: {fixed}"


def _result(f: Finding, failing: bool) -> dict[str, Any]:
    return {
        "ruleId": f.id,
        "level": "error" if failing else _LEVEL[f.severity],
        "message": {"text": _message(f)},
        "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": f.target.split(" (", 1)[0] or "image"}}}
        ],
    }


def to_sarif(report: ScanReport, verdict: PolicyVerdict) -> dict[str, Any]:
    failing = set(verdict.failing)
    rules = {f.id: _rule(f) for f in report.findings}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Trivy",
                        "version": report.trivy_version,
                        "informationUri": "https://github.com/aquasecurity/trivy",
                        "rules": list(rules.values()),
                    }
                },
                "results": [_result(f, f in failing) for f in report.findings],
                "properties": {"image": report.image, "policyPassed": verdict.passed},
            }
        ],
    }
