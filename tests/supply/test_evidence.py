"""The evidence API the promotion stage calls (check_signature / check_scan_attestation)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gitops.config.models import ScanException, ScanPolicy
from gitops.errors import ExternalError
from gitops.image.build import BuildResult
from gitops.supply.attest import Attestation
from gitops.supply.evidence import check_scan_attestation, check_signature, evaluate_attestations
from gitops.supply.report import Finding, ScanReport
from gitops.supply.signer import sign
from tests.fixtures.registry import Registry
from tests.fixtures.supply import KeyFiles

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def attestation(findings: tuple[Finding, ...], finished: str) -> Attestation:
    report = ScanReport(
        image="r/x@sha256:" + "c" * 64, trivy_version="0.76.0", created_at=finished, findings=findings
    )
    predicate = {"scanner": {"result": report.to_dict()}, "metadata": {"scanFinishedOn": finished}}
    return Attestation(predicate_type="https://cosign.sigstore.dev/attestation/vuln/v1", predicate=predicate)


HIGH = Finding(kind="vulnerability", id="CVE-9", severity="HIGH", target="t", package="p", fixed="2")


def test_newest_attestation_wins_and_exceptions_expire_with_now() -> None:
    old = attestation((HIGH,), "2026-05-01T00:00:00Z")
    new = attestation((), "2026-05-20T00:00:00Z")
    assert evaluate_attestations([old, new], 0, ScanPolicy(), now=NOW).ok
    waiver = ScanException(id="CVE-9", owner="sec", reason="r", expires=date(2026, 6, 30))
    policy = ScanPolicy(exceptions=(waiver,))
    assert evaluate_attestations([old], 0, policy, now=NOW).ok
    later = evaluate_attestations([old], 0, policy, now=datetime(2026, 7, 1, tzinfo=UTC))
    assert not later.ok and later.findings_failing == 1
    assert any("expired on 2026-06-30" in r for r in later.reasons)


def test_missing_attestation_and_optional_scan() -> None:
    assert not evaluate_attestations([], 0, ScanPolicy(), now=NOW).ok
    assert evaluate_attestations([], 0, ScanPolicy(required=False), now=NOW).ok
    assert not evaluate_attestations([], 2, ScanPolicy(required=False), now=NOW).ok


@pytest.mark.registry
@pytest.mark.docker
def test_check_signature_values(
    pushed_image: BuildResult, signing_keys: KeyFiles, other_keys: KeyFiles, registry: Registry
) -> None:
    missing = check_signature(pushed_image.image, signing_keys.public.read_bytes())
    assert (missing.ok, missing.signatures, missing.digest) == (False, 0, pushed_image.digest)
    assert "no signature found" in missing.reason
    sign(pushed_image.image, signing_keys.private)
    good = check_signature(pushed_image.image, signing_keys.public.read_bytes())
    assert good.ok and good.signatures == 1
    wrong = check_signature(pushed_image.image, other_keys.public.read_bytes())
    assert not wrong.ok and "another key" in wrong.reason and wrong.key_id != good.key_id
    evidence = check_scan_attestation(pushed_image.image, signing_keys.public.read_bytes(), ScanPolicy())
    assert not evidence.ok


def test_registry_unreachable_raises(signing_keys: KeyFiles) -> None:
    from tests.fixtures.registry import free_port

    image = f"127.0.0.1:{free_port()}/x/y@sha256:{'d' * 64}"
    with pytest.raises(ExternalError):
        check_signature(image, signing_keys.public.read_bytes(), timeout=1)
    with pytest.raises(ExternalError):
        check_scan_attestation(image, signing_keys.public.read_bytes(), ScanPolicy(), timeout=1)
