"""The scan policy decision, from values alone."""

from __future__ import annotations

from datetime import date

from gitops.config.models import ScanException, ScanPolicy
from gitops.supply.policy import evaluate, policy_digest
from gitops.supply.report import Finding

TODAY = date(2026, 6, 1)
HIGH_FIXED = Finding(
    kind="vulnerability",
    id="CVE-1",
    severity="HIGH",
    target="img",
    package="openssl",
    installed="1",
    fixed="2",
)
CRITICAL_UNFIXED = Finding(
    kind="vulnerability", id="CVE-2", severity="CRITICAL", target="img", package="busybox", status="affected"
)
LOW = Finding(kind="vulnerability", id="CVE-3", severity="LOW", target="img", package="zlib", fixed="9")
SECRET = Finding(kind="secret", id="github-pat", severity="CRITICAL", target="/opt/x.py", title="GitHub PAT")
ALL = (HIGH_FIXED, CRITICAL_UNFIXED, LOW)


def exception(cve: str, *, expires: date, package: str | None = None) -> ScanException:
    return ScanException(id=cve, package=package, owner="sec@example.com", reason="reviewed", expires=expires)


def test_threshold_counts_at_or_above() -> None:
    verdict = evaluate(ALL, ScanPolicy(severity="HIGH"), today=TODAY)
    assert not verdict.passed
    assert {f.id for f in verdict.failing} == {"CVE-1", "CVE-2"}
    assert verdict.below_threshold == 1
    assert evaluate(ALL, ScanPolicy(severity="CRITICAL"), today=TODAY).failing == (CRITICAL_UNFIXED,)
    assert len(evaluate(ALL, ScanPolicy(severity="LOW"), today=TODAY).failing) == 3


def test_ignore_unfixed() -> None:
    verdict = evaluate(ALL, ScanPolicy(severity="HIGH", ignore_unfixed=True), today=TODAY)
    assert verdict.failing == (HIGH_FIXED,)
    assert verdict.ignored_unfixed == (CRITICAL_UNFIXED,)
    assert evaluate(ALL, ScanPolicy(severity="CRITICAL", ignore_unfixed=True), today=TODAY).passed


def test_live_exception_waives_and_package_must_match() -> None:
    live = exception("CVE-2", expires=date(2026, 6, 1), package="busybox")
    verdict = evaluate(ALL, ScanPolicy(severity="CRITICAL", exceptions=(live,)), today=TODAY)
    assert verdict.passed
    assert verdict.waived == ((CRITICAL_UNFIXED, live),)
    other_package = exception("CVE-2", expires=date(2027, 1, 1), package="openssl")
    assert not evaluate(ALL, ScanPolicy(severity="CRITICAL", exceptions=(other_package,)), today=TODAY).passed


def test_expired_exception_no_longer_applies_and_is_reported() -> None:
    expired = exception("CVE-2", expires=date(2026, 5, 31))
    verdict = evaluate(ALL, ScanPolicy(severity="CRITICAL", exceptions=(expired,)), today=TODAY)
    assert not verdict.passed
    assert verdict.expired_exceptions == (expired,)
    assert any("expired on 2026-05-31" in reason for reason in verdict.reasons())


def test_secrets_always_fail() -> None:
    waive_all = exception("github-pat", expires=date(2099, 1, 1))
    policy = ScanPolicy(severity="CRITICAL", ignore_unfixed=True, exceptions=(waive_all,))
    verdict = evaluate((SECRET,), policy, today=TODAY)
    assert not verdict.passed
    assert "secrets always fail" in verdict.reasons()[0]


def test_no_findings_pass_and_policy_digest_is_stable() -> None:
    assert evaluate((), ScanPolicy(), today=TODAY).passed
    assert policy_digest(ScanPolicy()) == policy_digest(ScanPolicy())
    assert policy_digest(ScanPolicy()) != policy_digest(ScanPolicy(severity="CRITICAL"))
