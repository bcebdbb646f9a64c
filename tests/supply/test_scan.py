"""scan with the real trivy (offline, test vulnerability DB) against images in the real registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitops.cli.main import main
from gitops.config.loader import load_config
from gitops.config.models import ScanPolicy
from gitops.image.build import BuildRequest, BuildResult, build
from gitops.supply.evidence import check_scan_attestation
from gitops.supply.policy import policy_digest
from tests.fixtures.addonsrepo import make_addons_repo
from tests.fixtures.configrepo import ConfigRepoFixture
from tests.fixtures.registry import BaseImage, Registry
from tests.fixtures.supply import KeyFiles
from tests.fixtures.trivydb import Trivy

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.trivy]
FAKE_TOKEN = "ghp_" + "Zq7xK2mN9pR4tV6wY8bC1dF3gH5jL0sA2eU4"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(captured.out)


def write_policy(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_default_policy_fails_with_real_findings_and_writes_sarif(
    capsys: pytest.CaptureFixture[str], trivy: Trivy, pushed_image: BuildResult, tmp_path: Path
) -> None:
    sarif = tmp_path / "scan.sarif"
    code, result = cli(capsys, "scan", pushed_image.image, "--sarif", str(sarif))
    assert code == 3
    assert result["passed"] is False
    assert result["counts_by_severity"] == {"UNKNOWN": 0, "LOW": 1, "MEDIUM": 0, "HIGH": 1, "CRITICAL": 1}
    assert result["trivy_version"] == "0.76.0"
    reasons = "\n".join(result["reasons"])  # type: ignore[arg-type]
    assert "HIGH CVE-2099-1001 in openssl 3.1.0-r0 (fixed in 3.1.4-r0)" in reasons
    assert "CRITICAL CVE-2099-1002 in busybox 1.36.1-r0 (no fix available)" in reasons
    document = json.loads(sarif.read_text())
    assert document["version"] == "2.1.0"
    results = document["runs"][0]["results"]
    assert {r["ruleId"]: r["level"] for r in results} == {
        "CVE-2099-1001": "error",
        "CVE-2099-1002": "error",
        "CVE-2099-1003": "note",
    }
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)


def test_policy_file_threshold_unfixed_and_expired_exception(
    capsys: pytest.CaptureFixture[str], trivy: Trivy, pushed_image: BuildResult, tmp_path: Path
) -> None:
    lenient = write_policy(tmp_path / "lenient.yaml", "severity: CRITICAL\nignore_unfixed: true\n")
    code, result = cli(capsys, "scan", pushed_image.image, "--policy", str(lenient))
    assert code == 0, result
    assert result["policy"]["ignored_unfixed"] == 1  # type: ignore[index]
    expired = write_policy(
        tmp_path / "expired.yaml",
        "scan_policy:\n  severity: CRITICAL\n  exceptions:\n    - id: CVE-2099-1002\n      package: busybox\n"
        "      owner: sec@example.com\n      reason: reviewed\n      expires: 2020-01-31\n",
    )
    code, result = cli(capsys, "scan", pushed_image.image, "--policy", str(expired))
    assert code == 3
    assert result["policy"]["expired_exceptions"][0]["id"] == "CVE-2099-1002"  # type: ignore[index]
    assert any("expired on 2020-01-31" in r for r in result["reasons"])  # type: ignore[union-attr]
    live = write_policy(tmp_path / "live.yaml", expired.read_text().replace("2020-01-31", "2999-01-31"))
    code, result = cli(capsys, "scan", pushed_image.image, "--policy", str(live))
    assert code == 0
    assert result["policy"]["waived"][0]["id"] == "CVE-2099-1002"  # type: ignore[index]


def test_bad_policy_file_names_file_and_line(
    capsys: pytest.CaptureFixture[str], trivy: Trivy, pushed_image: BuildResult, tmp_path: Path
) -> None:
    bad = write_policy(tmp_path / "bad.yaml", "severity: HIGH\nignore_unfixed: true\nseverty: LOW\n")
    code, result = cli(capsys, "scan", pushed_image.image, "--policy", str(bad))
    assert code == 2
    assert {"file": str(bad), "line": 3, "message": "severty: unknown key"} in result["problems"]  # type: ignore[operator]


def test_env_policy_attestation_is_reevaluated_under_the_target_policy(
    capsys: pytest.CaptureFixture[str],
    trivy: Trivy,
    pushed_image: BuildResult,
    signing_keys: KeyFiles,
    other_keys: KeyFiles,
    config_repo: ConfigRepoFixture,
) -> None:
    code, result = cli(
        capsys, "scan", pushed_image.image, "--env", "dev", "--config-repo", str(config_repo.work),
        "--attest", "--key", str(signing_keys.private),
    )  # fmt: skip
    assert code == 0, result
    assert result["attested"] is True
    envs = load_config(config_repo.work).envs
    public = signing_keys.public.read_bytes()
    dev = check_scan_attestation(pushed_image.image, public, envs["dev"].config.scan_policy)
    assert dev.ok, dev.reason
    assert dev.trivy_version == "0.76.0"
    assert dev.counts_by_severity["CRITICAL"] == 1
    assert dev.scanned_at is not None and dev.scanned_at <= datetime.now(UTC)
    assert dev.policy_digest == policy_digest(envs["dev"].config.scan_policy)
    staging = check_scan_attestation(pushed_image.image, public, envs["staging"].config.scan_policy)
    assert not staging.ok and staging.findings_failing == 1
    prod = check_scan_attestation(pushed_image.image, public, envs["prod"].config.scan_policy)
    assert not prod.ok and prod.findings_failing == 2
    wrong = check_scan_attestation(pushed_image.image, other_keys.public.read_bytes(), ScanPolicy())
    assert not wrong.ok and "did not verify" in wrong.reason


def test_failing_scan_is_not_attested(
    capsys: pytest.CaptureFixture[str], trivy: Trivy, pushed_image: BuildResult, signing_keys: KeyFiles
) -> None:
    code, result = cli(capsys, "scan", pushed_image.image, "--attest", "--key", str(signing_keys.private))
    assert code == 3
    assert result["attested"] is False
    evidence = check_scan_attestation(pushed_image.image, signing_keys.public.read_bytes(), ScanPolicy())
    assert not evidence.ok and "no signed scan attestation" in evidence.reason


def test_secret_in_addons_always_fails(
    capsys: pytest.CaptureFixture[str],
    trivy: Trivy,
    registry: Registry,
    base_image: BaseImage,
    tmp_path: Path,
) -> None:
    addons = make_addons_repo(tmp_path / "leaky")
    (addons.path / "odoo_gitops_sale" / "models" / "settings.py").write_text(
        f'GITHUB_TOKEN = "{FAKE_TOKEN}"\n'
    )
    addons.commit("oops")
    built = build(
        BuildRequest(
            addons_dir=addons.path,
            base=base_image.pinned,
            repository=f"{registry.host}/test/leaky",
            push=True,
        )
    )
    lenient = write_policy(tmp_path / "lenient.yaml", "severity: CRITICAL\nignore_unfixed: true\n")
    code, result = cli(capsys, "scan", built.image, "--policy", str(lenient))
    assert code == 3
    assert result["secrets"] == 1
    assert any("secrets always fail" in r for r in result["reasons"])  # type: ignore[union-attr]
    assert FAKE_TOKEN not in json.dumps(result)


def test_unknown_image_is_exit_1(
    capsys: pytest.CaptureFixture[str], trivy: Trivy, registry: Registry
) -> None:
    code, result = cli(capsys, "scan", f"{registry.host}/test/none@sha256:{'b' * 64}")
    assert code == 1
    assert "not found" in str(result["message"])


def test_trivy_stays_offline_when_the_db_is_cached(trivy: Trivy, tmp_path: Path) -> None:
    from gitops.image.reference import pinned_ref
    from gitops.supply.trivy import TrivyOptions, trivy_command

    ref = pinned_ref(f"127.0.0.1:5000/x@sha256:{'e' * 64}")
    cached = trivy_command(ref, TrivyOptions())
    assert "--skip-db-update" in cached and "--offline-scan" in cached
    assert cached[cached.index("--cache-dir") + 1] == str(trivy.cache)
    empty = trivy_command(ref, TrivyOptions(cache_dir=tmp_path / "empty-cache"))
    assert "--skip-db-update" not in empty
