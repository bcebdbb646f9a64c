"""ScanReport.summary: one sentence a person reads, for zero findings as much as for many."""

from __future__ import annotations

import pytest

from gitops.supply.report import Finding, ScanReport


def vuln(severity: str, n: int) -> Finding:
    return Finding(kind="vulnerability", id=f"CVE-2099-{n}", severity=severity, target="alpine")


SECRET = Finding(kind="secret", id="aws-access-key-id", severity="CRITICAL", target="/etc/odoo/odoo.conf")


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ((), "no vulnerabilities and no secrets found (trivy 0.76.0, alpine 3.18.4)"),
        ((vuln("LOW", 1),), "1 vulnerability (LOW 1) and no secrets found (trivy 0.76.0, alpine 3.18.4)"),
        (
            (vuln("LOW", 1), vuln("CRITICAL", 2), vuln("HIGH", 3), vuln("CRITICAL", 4)),
            "4 vulnerabilities (CRITICAL 2, HIGH 1, LOW 1) and no secrets found (trivy 0.76.0, alpine 3.18.4)",  # noqa: E501
        ),
        ((SECRET,), "no vulnerabilities and 1 secret found (trivy 0.76.0, alpine 3.18.4)"),
        (
            (SECRET, SECRET, vuln("MEDIUM", 1)),
            "1 vulnerability (MEDIUM 1) and 2 secrets found (trivy 0.76.0, alpine 3.18.4)",
        ),
    ],
)
def test_summary_is_a_sentence(findings: tuple[Finding, ...], expected: str) -> None:
    report = ScanReport(
        image="r/x@sha256:" + "0" * 64,
        trivy_version="0.76.0",
        created_at="2026-01-01T00:00:00Z",
        os="alpine 3.18.4",
        findings=findings,
    )
    assert report.summary() == expected


def test_summary_without_scanner_details_has_no_empty_parentheses() -> None:
    report = ScanReport(image="r/x@sha256:" + "0" * 64, trivy_version="", created_at="")
    assert report.summary() == "no vulnerabilities and no secrets found"
