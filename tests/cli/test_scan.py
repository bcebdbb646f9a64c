"""`odoo-gitops scan` as a person reads it: real trivy (offline test DB), an image in the real registry."""

from __future__ import annotations

import pytest

from gitops.cli.main import main
from gitops.image.build import BuildResult
from tests.fixtures.trivydb import Trivy, write_trivy_cache

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.trivy]


def test_findings_are_counted_worst_first(
    capsys: pytest.CaptureFixture[str], trivy: Trivy, pushed_image: BuildResult
) -> None:
    assert main(["scan", pushed_image.image]) == 3
    err = capsys.readouterr().out.splitlines()
    assert err[0].startswith(f"FAILED: {pushed_image.image} (policy ")
    assert (
        err[1]
        == "3 vulnerabilities (CRITICAL 1, HIGH 1, LOW 1) and no secrets found (trivy 0.76.0, alpine 3.18.4)"
    )


def test_zero_findings_is_a_sentence(
    capsys: pytest.CaptureFixture[str],
    trivy: Trivy,
    pushed_image: BuildResult,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "TRIVY_CACHE_DIR", str(write_trivy_cache(tmp_path_factory.mktemp("empty-db"), empty=True))
    )
    assert main(["scan", pushed_image.image]) == 0
    err = capsys.readouterr().out.splitlines()
    assert err[:2] == [
        f"PASSED: {pushed_image.image} (policy default)",
        "no vulnerabilities and no secrets found (trivy 0.76.0, alpine 3.18.4)",
    ]
