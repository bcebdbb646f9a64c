"""scripts/install-helm.sh: idempotent, quiet, and it leaves working helm and kubectl binaries."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.fixtures.components import REPO, TOOLS, find_binary

SCRIPT = REPO / "scripts" / "install-helm.sh"


def test_script_passes_shellcheck() -> None:
    shellcheck = find_binary("shellcheck", Path(sys.executable).parent)
    result = subprocess.run([shellcheck, str(SCRIPT)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout


def test_rerun_with_tools_present_is_a_quiet_no_op(tmp_path: Path) -> None:
    helm = find_binary("helm", TOOLS / "bin")
    kubectl = find_binary("kubectl", TOOLS / "bin")
    (tmp_path / "bin").mkdir()
    shutil.copy2(helm, tmp_path / "bin" / "helm")
    shutil.copy2(kubectl, tmp_path / "bin" / "kubectl")
    result = subprocess.run(
        ["bash", str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not (tmp_path / "npm").exists(), "nothing is downloaded when the binaries already run"


def test_installed_helm_is_v4_and_kubectl_runs() -> None:
    helm = find_binary("helm", TOOLS / "bin")
    kubectl = find_binary("kubectl", TOOLS / "bin")
    version = subprocess.run([helm, "version", "--short"], capture_output=True, text=True, timeout=60)
    assert version.stdout.startswith("v4."), version.stdout
    client = subprocess.run(
        [kubectl, "version", "--client", "-o", "json"], capture_output=True, text=True, timeout=60
    )
    assert '"clientVersion"' in client.stdout
