"""`odoo-gitops status`: the matrix on a real terminal (a pty) and as plain text, the 120-column fit for
4 envs × 10 tenants, the summary beyond, the open PR of a wave, exit codes and JSON."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path
from typing import Any

import pytest

from gitops.cli.main import main
from tests.fixtures.configrepo import copy_examples
from tests.fixtures.promote import Stage
from tests.gates.test_bypass import cli

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LONG_TENANT = "a-tenant-with-a-very-long-name-that-would-not-fit-in-a-column"


def widen(work: Path, *, tenants: int, extra_envs: tuple[str, ...] = ("qa",)) -> Path:
    """The examples with more stages (copies of staging between staging and prod) and `tenants` in prod."""
    pipeline = work / "pipelines" / "odoo.yaml"
    for env in extra_envs:
        shutil.copytree(work / "envs" / "staging", work / "envs" / env)
        env_yaml = work / "envs" / env / "env.yaml"
        env_yaml.write_text(
            env_yaml.read_text()
            .replace("name: staging", f"name: {env}")
            .replace("odoo-staging", f"odoo-{env}")
        )
        pipeline.write_text(
            pipeline.read_text().replace("  - env: prod\n", f"  - env: {env}\n    soak: 1h\n  - env: prod\n")
        )
    prod = work / "envs" / "prod"
    names = [LONG_TENANT, *(f"tenant-{i:02d}" for i in range(tenants - 5))]
    for name in names:
        text = (prod / "tenants" / "acme-build.yaml").read_text().replace("acme-build", name)
        (prod / "tenants" / f"{name}.yaml").write_text(text)
    env_yaml = prod / "env.yaml"
    env_yaml.write_text(env_yaml.read_text() + "".join(f"  {n}: {{enabled: true}}\n" for n in names))
    return work


def status_text(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["status", *args])
    return code, capsys.readouterr().out


def test_plain_text_shows_the_matrix_without_escape_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = copy_examples(tmp_path / "config")
    code, out = status_text(capsys, "--config-repo", str(work))
    assert code == 0
    assert "\x1b" not in out
    assert "─" not in out  # the rule is ASCII in plain text
    header = next(line for line in out.splitlines() if line.startswith("tenant"))
    assert header.split() == ["tenant", "dev", "staging", "prod"]
    for tenant in ("acme-build", "globex-consult", "initech-services", "northwind-civil"):
        assert re.search(rf"^{tenant}\s+verified$", out, re.M), out
    assert "1.3.2 817ba1f9 11-03" in out  # version, short digest, verified (local date)
    assert "6 verified  0 promoting  0 blocked  0 drifted" in out
    assert max(len(line) for line in out.splitlines()) <= 120


def test_four_envs_by_ten_tenants_fit_120_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = widen(copy_examples(tmp_path / "config"), tenants=10)
    code, out = status_text(capsys, "--config-repo", str(work))
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 120, max(lines, key=len)
    header = next(line for line in lines if line.startswith("tenant"))
    assert header.split() == ["tenant", "dev", "staging", "qa", "prod"]
    assert (
        sum(
            1
            for line in lines
            if re.match(r"^(tenant-\d\d|acme|globex|initech|northwind|a-tenant-with-a-)", line)
        )
        == 10
    )
    assert re.search(r"^a-tenant-with-a-\w*… ", out, re.M)  # the long name is cut, not the table
    assert "staging → qa" in out
    assert "13 verified  0 promoting  0 blocked  0 drifted" in out


def test_beyond_the_matrix_it_summarises(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = widen(copy_examples(tmp_path / "config"), tenants=11)
    release = work / "envs" / "prod" / "release.yaml"
    release.write_text(release.read_text().replace("digest: sha256:817ba1f9", "digest: sha256:917ba1f9"))
    code, out = status_text(capsys, "--config-repo", str(work))
    assert code == 0
    assert not any(line.startswith("tenant ") for line in out.splitlines())  # no matrix
    assert re.search(r"^env\s+verified\s+promoting\s+blocked\s+drifted$", out, re.M), out
    assert re.search(r"^prod\s+0\s+0\s+0\s+11$", out, re.M), out
    assert re.search(r"^staging\s+1\s+0\s+0\s+0$", out, re.M), out
    assert re.search(r"^prod\s+tenant-00\s+drifted\s+1\.3\.2\s+main's digest is not", out, re.M), out
    assert max(len(line) for line in out.splitlines()) <= 120


def test_json_is_the_board(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = copy_examples(tmp_path / "config")
    code = main(["status", "prod", "--config-repo", str(work), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [e["name"] for e in data["envs"]] == ["prod"]
    prod = data["envs"][0]
    assert {c["tenant"]: c["state"] for c in prod["cells"]} == dict.fromkeys(
        ("acme-build", "globex-consult", "initech-services", "northwind-civil"), "verified"
    )
    assert prod["promotion"]["waves"][0]["name"] == "canary"
    assert prod["window"]["timezone"] == "Europe/Berlin"


def test_unknown_env_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = copy_examples(tmp_path / "config")
    assert main(["status", "qa", "--config-repo", str(work)]) == 2
    assert "unknown environment 'qa' (known: dev, prod, staging)" in capsys.readouterr().err


def test_a_broken_audit_chain_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = copy_examples(tmp_path / "config")
    (work / "audit").mkdir()
    (work / "audit" / "prod.jsonl").write_text('{"seq": 1, "prev": "forged"}\n')
    code, out = status_text(capsys, "--config-repo", str(work))
    assert code == 4
    assert "audit BROKEN" in out


def test_an_open_pr_marks_its_wave_with_the_gate(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0
    number = result["pull_request"]["number"]
    code, out = status_text(capsys, "--config-repo", str(stage.repo.remote))
    assert code == 0
    assert re.search(rf"^acme-build\s+promoting #{number}$", out, re.M), out
    assert re.search(r"^globex-consult\s+verified$", out, re.M)
    assert f"PR #{number} canary 1.5.0 gate pending 0/2 approvals (normal): needs 2 more approvals" in out
    assert "staging → prod 1.5.0: allowed (canary next · rest waiting)" in out
    assert "audit ok (1 entries)" in out


def _run_on_a_terminal(args: list[str], columns: int = 120) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a real pseudo-terminal of `columns` × 50."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES", "TERM")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gitops", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode()


def test_on_a_terminal_it_is_coloured_and_fits(tmp_path: Path) -> None:
    work = widen(copy_examples(tmp_path / "config"), tenants=10)
    code, out = _run_on_a_terminal(["status", "--config-repo", str(work)])
    assert code == 0, out
    assert "\x1b[32m" in out or "\x1b[32;" in out  # verified in green
    plain = ANSI_RE.sub("", out).replace("\r\n", "\n")
    assert "─" in plain  # a real rule on a terminal
    assert max(len(line) for line in plain.splitlines()) <= 120
    assert re.search(r"^tenant-00\s+verified", plain, re.M), plain


def test_state_words_survive_without_colour(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """NO_COLOR or a pipe: the state is a word, never only a colour."""
    work = copy_examples(tmp_path / "config")
    code, out = status_text(capsys, "--config-repo", str(work))
    assert code == 0
    cells: dict[str, Any] = {}
    for line in out.splitlines():
        match = re.match(r"^(acme-build|northwind-civil)\s+(\w+)", line)
        if match:
            cells[match[1]] = match[2]
    assert cells == {"acme-build": "verified", "northwind-civil": "verified"}
