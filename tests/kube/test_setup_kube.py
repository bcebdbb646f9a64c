"""scripts/setup-kube.sh: shellcheck-clean, and `--print` names the cached kube-apiserver the fixture uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.components import REPO, find_binary
from tests.fixtures.kube import KUBE_SRC_VERSION, kube_apiserver_binary

SCRIPT = REPO / "scripts" / "setup-kube.sh"


def test_script_passes_shellcheck() -> None:
    shellcheck = find_binary("shellcheck", Path(sys.executable).parent)
    result = subprocess.run([shellcheck, str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_print_names_the_cached_binary_of_the_pinned_version(tmp_path: Path) -> None:
    binary = kube_apiserver_binary()
    cache = Path(binary).parents[1]
    env = {**os.environ, "ODOO_GITOPS_KUBE_CACHE": str(cache)}
    result = subprocess.run(
        ["bash", str(SCRIPT), "--print"], capture_output=True, text=True, env=env, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == binary
    assert f"/{KUBE_SRC_VERSION}/" in binary
    # another version is not reused: the cache is keyed by the source package version
    env["ODOO_GITOPS_KUBE_SRC_VERSION"] = "0.0.0-not-built"
    other = subprocess.run(
        ["bash", str(SCRIPT), "--print"], capture_output=True, text=True, env=env, timeout=30
    )
    assert other.returncode == 1 and other.stdout == ""


def test_a_cached_build_is_reused_without_apt_or_go(tmp_path: Path) -> None:
    """With the packages present and the binary cached, the script only says so (seconds, no build)."""
    binary = kube_apiserver_binary()
    env = {**os.environ, "ODOO_GITOPS_KUBE_CACHE": str(Path(binary).parents[1])}
    result = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"kube-apiserver {KUBE_SRC_VERSION}: cached at {binary}" in result.stderr
    assert "==>" not in result.stderr, result.stderr  # no step ran
