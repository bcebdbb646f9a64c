"""Start-up of the light `window` verbs: once a config directory has been validated, `window check`, `next`
and `list` answer from the compiled-calendar cache without importing pydantic, PyYAML, dateutil or
`holidays` (issue 16: within 3x of `import click`; bench/bench_cli.py measures it). Each run is a fresh
interpreter whose loaded modules are written out at exit; output and exit code are those of the first
(full) run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# What the full load imports and a cache hit must not (the modules removed from the path).
HEAVY = ("pydantic", "pydantic_core", "holidays", "yaml", "dateutil")
WRAPPER = """\
import atexit, json, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
from gitops.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., tuple[int, str, set[str]]]:
    counter = iter(range(1000))

    def invoke(*args: str) -> tuple[int, str, set[str]]:
        modules = tmp_path / f"modules-{next(counter)}.json"
        done = subprocess.run(
            [sys.executable, "-c", WRAPPER, str(modules), *args], capture_output=True, text=True, check=False
        )
        return done.returncode, done.stdout, {m.split(".")[0] for m in json.loads(modules.read_text())}

    return invoke


@pytest.mark.parametrize(
    "args",
    [
        ("window", "check", "prod", "--at", "2026-01-13T20:30:00+01:00"),
        ("window", "check", "prod", "--at", "2026-12-30T19:00:00Z", "--json"),
        ("window", "next", "staging", "--at", "2026-12-24T10:00:00Z"),
        ("window", "list", "dev", "--from", "2026-03-01", "--to", "2026-03-31", "--json"),
    ],
)
def test_a_validated_config_answers_without_the_heavy_modules(
    run: Callable[..., tuple[int, str, set[str]]], window_repo: Callable[..., Path], args: tuple[str, ...]
) -> None:
    repo = str(window_repo())
    cold_code, cold_out, cold_modules = run(*args, "--config-repo", repo)
    assert set(HEAVY) <= cold_modules  # the first run validates with pydantic: the probe sees imports
    warm_code, warm_out, warm_modules = run(*args, "--config-repo", repo)
    assert (warm_code, warm_out) == (cold_code, cold_out)
    assert cold_code in (0, 3) and cold_out
    assert not set(HEAVY) & warm_modules


def test_an_edit_after_the_hit_is_validated_again(
    run: Callable[..., tuple[int, str, set[str]]], window_repo: Callable[..., Path]
) -> None:
    repo = window_repo()
    args = ("window", "check", "prod", "--at", "2026-01-13T20:30:00+01:00", "--config-repo", str(repo))
    assert run(*args)[0] == 0
    calendar = repo / "calendars" / "prod-windows.yaml"
    calendar.write_text(calendar.read_text() + "\nbogus: 1\n")
    code, out, modules = run(*args)
    assert code == 2 and not out
    assert "pydantic" in modules
