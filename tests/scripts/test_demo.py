"""`make demo` (scripts/demo.py) end to end: it finishes, tells the truth about the engine, prints times in
the env's zone next to UTC, ends with what to try next, and leaves its registry running where it says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest
import requests

from tests.fixtures.components import REPO, find_binary

pytestmark = [pytest.mark.e2e, pytest.mark.registry]


def engine_answers() -> bool:
    try:
        client = docker.from_env(timeout=10)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def test_demo_runs_to_the_end_and_leaves_a_usable_registry(tmp_path: Path) -> None:
    find_binary("docker-registry")
    demo_dir = tmp_path / "demo"
    env = {
        **os.environ,
        "DEMO_DIR": str(demo_dir),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        [sys.executable, "scripts/demo.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    pid_file = demo_dir / "registry" / "registry.pid"
    pid = int(pid_file.read_text()) if pid_file.exists() else None
    try:
        assert result.returncode == 0, result.stderr[-3000:]
        err = result.stderr
        if engine_answers():
            assert re.search(r"^Docker Engine \S+ reachable at ", err, re.M), err[:2000]
        else:
            assert "no Docker Engine answered at " in err
        assert "no vulnerabilities and no secrets found (trivy " in result.stdout + err
        assert "findings: ," not in result.stdout + err
        assert re.search(r"now in prod's time zone Europe/Berlin: \S+ \d\d:\d\d CES?T \(\d\d:\d\d UTC\)", err)
        board = demo_dir / "board" / "index.html"
        assert result.stdout.rstrip().splitlines()[-1] == str(board)  # the demo ends with the board's path
        assert 'data-state="' in board.read_text()
        tail = err.rstrip().splitlines()[-14:]
        assert any(line.startswith("== Try next") for line in tail), tail
        assert any("odoo-gitops pr list --config-repo" in line for line in tail)
        assert pid is not None
        assert f"(pid {pid}," in tail[-3]
        assert tail[-2].startswith(f"Stop it: kill {pid}    Restart it later: docker-registry serve ")
        host = re.search(r"keeps running on (\S+) ", tail[-3])
        assert host
        assert requests.get(f"http://{host.group(1)}/v2/_catalog", timeout=10).json()["repositories"] == [
            "acme/odoo-custom",
            "demo/odoo-base",
        ]
        stopped = subprocess.run(
            [sys.executable, "scripts/demo_support.py", "stop-registry", str(demo_dir / "registry")],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert stopped.stdout.strip() == f"stopped pid {pid}"
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    finally:
        if pid is not None and Path(f"/proc/{pid}").exists():
            os.kill(pid, 15)
            time.sleep(0.5)
