"""The typed scan report: what trivy found, in a form that round-trips through the signed attestation."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

SEVERITIES = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")


@dataclass(frozen=True, kw_only=True)
class Finding:
    """A vulnerability (kind "vulnerability") or a secret (kind "secret") in the image."""

    kind: str
    id: str
    severity: str
    target: str
    title: str = ""
    package: str = ""
    installed: str = ""
    fixed: str = ""
    status: str = ""

    @property
    def fix_available(self) -> bool:
        return bool(self.fixed) or self.status == "fixed"


@dataclass(frozen=True, kw_only=True)
class ScanReport:
    image: str
    trivy_version: str
    created_at: str
    os: str = ""
    findings: tuple[Finding, ...] = field(default=())

    def counts_by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.findings if f.kind == "vulnerability")
        return {s: counts.get(s, 0) for s in SEVERITIES}

    @property
    def secrets(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.kind == "secret")

    def summary(self) -> str:
        """One sentence: `no vulnerabilities and no secrets found (trivy 0.58.1, alpine 3.18.4)`, or the
        counts by severity, worst first: `3 vulnerabilities (CRITICAL 1, HIGH 2) and 1 secret found (…)`."""
        counts = self.counts_by_severity()
        total = sum(counts.values())
        secrets = len(self.secrets)
        scanned = ", ".join(
            p for p in (f"trivy {self.trivy_version}" if self.trivy_version else "", self.os) if p
        )
        where = f" ({scanned})" if scanned else ""
        if not total and not secrets:
            return f"no vulnerabilities and no secrets found{where}"
        by_severity = ", ".join(f"{s} {counts[s]}" for s in reversed(SEVERITIES) if counts[s])
        vulns = (
            f"{_plural(total, 'vulnerability', 'vulnerabilities')} ({by_severity})"
            if total
            else "no vulnerabilities"
        )
        return (
            f"{vulns} and {_plural(secrets, 'secret', 'secrets') if secrets else 'no secrets'} found{where}"
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [asdict(f) for f in self.findings]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScanReport:
        findings = tuple(Finding(**f) for f in data.get("findings", []))
        return cls(
            image=str(data["image"]),
            trivy_version=str(data.get("trivy_version", "")),
            created_at=str(data.get("created_at", "")),
            os=str(data.get("os", "")),
            findings=findings,
        )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _severity(value: object) -> str:
    text = str(value or "UNKNOWN").upper()
    return text if text in SEVERITIES else "UNKNOWN"


def _vulnerability(target: str, item: dict[str, Any]) -> Finding:
    return Finding(
        kind="vulnerability",
        id=str(item.get("VulnerabilityID", "")),
        severity=_severity(item.get("Severity")),
        target=target,
        title=str(item.get("Title", "")),
        package=str(item.get("PkgName", "")),
        installed=str(item.get("InstalledVersion", "")),
        fixed=str(item.get("FixedVersion", "")),
        status=str(item.get("Status", "")),
    )


def _secret(target: str, item: dict[str, Any]) -> Finding:
    return Finding(
        kind="secret",
        id=str(item.get("RuleID", "secret")),
        severity=_severity(item.get("Severity")),
        target=target,
        title=f"{item.get('Title', 'secret')} (line {item.get('StartLine', '?')})",
    )


def parse_trivy_json(data: dict[str, Any], *, image: str) -> ScanReport:
    """Trivy's JSON report (SchemaVersion 2) → ScanReport. Secrets' matched text is never kept."""
    findings: list[Finding] = []
    for result in data.get("Results") or []:
        target = str(result.get("Target", ""))
        findings += [_vulnerability(target, v) for v in result.get("Vulnerabilities") or []]
        findings += [_secret(target, s) for s in result.get("Secrets") or []]
    os_info = (data.get("Metadata") or {}).get("OS") or {}
    return ScanReport(
        image=image,
        trivy_version=str((data.get("Trivy") or {}).get("Version", "")),
        created_at=str(data.get("CreatedAt", "")),
        os=f"{os_info.get('Family', '')} {os_info.get('Name', '')}".strip(),
        findings=tuple(sorted(findings, key=lambda f: (f.kind, f.id, f.package, f.target))),
    )
