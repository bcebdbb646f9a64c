"""The tool's own image (scripts/tool_image.py): built on the real engine from a Debian 12 base pinned by
digest, pushed to the test registry, signed with `odoo-gitops sign`, with a CycloneDX SBOM and SLSA provenance
attested, scanned; `verify-signature` accepts it, it runs, and the same inputs give the same digest."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitops.cli.main import main
from gitops.image.reference import parse_image_ref
from gitops.image.registry import RegistryClient
from gitops.supply import attest, keys
from tests.fixtures.components import REPO, missing
from tests.fixtures.registry import Registry, docker_cli
from tests.fixtures.supply import KeyFiles
from tests.fixtures.trivydb import Trivy

pytestmark = [pytest.mark.docker, pytest.mark.registry, pytest.mark.trivy, pytest.mark.e2e]
SCRIPT = REPO / "scripts" / "tool_image.py"
ROOTFS = Path(
    os.environ.get("ODOO_GITOPS_TOOL_BASE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "odoo-gitops"
    / "tool-base-bookworm-pg15.tar"
)


def tool_image(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


@pytest.fixture(scope="module")
def rootfs() -> Path:
    # resolved before the test fences $HOME off
    if not ROOTFS.is_file():
        missing(
            "the tool image's Debian 12 base rootfs", f"{ROOTFS}: run scripts/tool-base.sh (make test does)"
        )
    return ROOTFS


def sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def release(registry: Registry, base: str, key: KeyFiles, out: Path) -> dict[str, Any]:
    done = tool_image(
        "release", "--base", base, "--repository", f"{registry.host}/odoo-gitops/tool", "--key", key.private,
        "--version", "9.8.7", "--out", out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout))


@pytest.mark.timeout(2400)  # two engine builds with pip inside: ~3 min each, ~8 on a loaded machine
def test_tool_image_is_built_signed_attested_scanned_and_reproducible(
    registry: Registry, docker_engine: str, rootfs: Path, trivy: Trivy, signing_keys: KeyFiles, tmp_path: Path
) -> None:
    imported = tool_image("base", rootfs, "--repository", f"{registry.host}/odoo-gitops/base")
    assert imported.returncode == 0, imported.stderr
    base = imported.stdout.strip()
    assert base.startswith(f"{registry.host}/odoo-gitops/base@sha256:")

    first = release(registry, base, signing_keys, tmp_path / "first")
    assert first["version"] == "9.8.7"
    assert Path(first["wheel"]).name == "odoo_gitops-9.8.7-py3-none-any.whl"
    assert Path(first["sdist"]).name == "odoo_gitops-9.8.7.tar.gz"
    assert first["base"] == base
    assert first["scan"] == {"passed": True, "exit": 0, "reasons": []}
    image = first["image"]

    assert main(["verify-signature", image, "--key", str(signing_keys.public)]) == 0
    ref = parse_image_ref(image)
    client = RegistryClient.for_ref(ref)
    public = keys.load_public_key(keys.read_public_key(signing_keys.public))
    provenance, bad = attest.read_attestations(client, ref, public, attest.SLSA_PREDICATE)
    assert bad == 0
    assert [p.predicate["buildDefinition"]["externalParameters"]["base"] for p in provenance] == [base]
    sboms, bad = attest.read_attestations(client, ref, public, "https://cyclonedx.org/bom")
    assert bad == 0
    assert len(sboms) == 1
    components = {(c.get("name"), c.get("version")) for c in sboms[0].predicate["components"]}
    assert ("odoo-gitops", "9.8.7") in components
    assert any(name == "git" for name, _ in components)
    scans, _ = attest.read_attestations(client, ref, public, attest.VULN_PREDICATE)
    assert scans

    docker_cli("pull", "-q", image)
    try:
        assert docker_cli("run", "--rm", image, "--version") == "odoo-gitops, version 9.8.7"
        assert docker_cli("run", "--rm", "--entrypoint", "git", image, "--version").startswith(
            "git version 2."
        )
        assert docker_cli("run", "--rm", "--entrypoint", "trivy", image, "--version").startswith("Version: ")
        python = docker_cli("run", "--rm", "--entrypoint", "python3", image, "--version")
        assert python == "Python 3.11.2"
        for tool in ("pg_dump", "pg_restore"):  # the chart's backup, rehearsal and refresh Jobs run these
            version = docker_cli("run", "--rm", "--entrypoint", tool, image, "--version")
            assert version.startswith(f"{tool} (PostgreSQL) 15."), version
    finally:
        docker_cli("rmi", image)

    second = release(registry, base, signing_keys, tmp_path / "second")
    assert second["digest"] == first["digest"], "the same inputs give the same image"
    for kind in ("wheel", "sdist"):
        assert sha256(second[kind]) == sha256(first[kind]), f"the same inputs give the same {kind}"
