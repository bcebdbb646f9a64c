"""Promotion preconditions against the real supply chain: a built image in a real registry, a cosign
signature and a trivy scan attestation, checked under the TARGET's key and policy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops.cli.main import main
from gitops.image.build import BuildResult
from gitops.supply.signer import sign
from tests.fixtures.configrepo import git
from tests.fixtures.promote import Stage, real_stage
from tests.fixtures.supply import KeyFiles
from tests.fixtures.trivydb import Trivy

pytestmark = [pytest.mark.registry, pytest.mark.docker, pytest.mark.trivy]


@pytest.fixture
def live(tmp_path: Path, pushed_image: BuildResult, signing_keys: KeyFiles) -> Iterator[Stage]:
    yield from real_stage(tmp_path, pushed_image.image, signing_keys.public.read_bytes())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = main([*args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_promotion_checks_the_real_signature_and_scan_attestation(
    live: Stage, pushed_image: BuildResult, signing_keys: KeyFiles, trivy: Trivy,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    remote = str(live.repo.remote)
    code, result = run(capsys, "promote", "staging", "prod", "--config-repo", remote)
    assert code == 3
    reasons = " ".join(result["reasons"])  # type: ignore[arg-type]
    assert "image signature does not verify" in reasons and "no signature found" in reasons
    assert "no passing scan attestation under prod's policy" in reasons
    sign(pushed_image.image, signing_keys.private)
    code, scanned = run(
        capsys, "scan", pushed_image.image, "--env", "dev", "--config-repo", str(live.repo.work),
        "--attest", "--key", str(signing_keys.private),
    )  # fmt: skip
    assert code == 0, scanned
    code, result = run(capsys, "promote", "staging", "prod", "--config-repo", remote)
    assert code == 3  # signed now, but the attested findings fail prod's stricter policy
    assert "image signature does not verify" not in " ".join(result["reasons"])  # type: ignore[arg-type]
    assert "no passing scan attestation under prod's policy" in result["reasons"][0]  # type: ignore[index]
    live.pull()
    env = live.repo.work / "envs/dev/env.yaml"
    prod = live.repo.work / "envs/prod/env.yaml"
    dev_policy = env.read_text().split("scan_policy:\n")[1].split("gate_policy:")[0]
    head, rest = prod.read_text().split("scan_policy:\n", 1)
    prod.write_text(head + "scan_policy:\n" + dev_policy + "gate_policy:" + rest.split("gate_policy:", 1)[1])
    live.repo.commit_all("prod accepts what dev accepts")
    code, result = run(capsys, "promote", "staging", "prod", "--config-repo", remote)
    assert code == 0, result
    body = git(live.repo.remote, "show", "-s", "--format=%B", result["branch"])  # type: ignore[arg-type]
    assert f"Image-Digest: {pushed_image.digest}" in body
    code, shown = run(capsys, "pr", "show", "1", "--config-repo", remote)
    assert "Signature: verified (key " in shown["body"]  # type: ignore[operator]
    assert "Scan (target policy: fail at CRITICAL and above): passed (" in shown["body"]  # type: ignore[operator]
