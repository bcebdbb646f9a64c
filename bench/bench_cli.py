"""Benchmark: CLI start-up. Wall time of a fresh interpreter running

  baseline   python -c "import click"
  help       odoo-gitops --help
  check      odoo-gitops window check prod --config-repo <the example config, this repository>
  list       odoo-gitops window list prod --from <today> --to <a month later> --config-repo <the same>
  check, cold  the same check with ODOO_GITOPS_NO_CACHE=1: every file validated (pydantic, holidays)

measured in interleaved rounds (one of each per round, so machine load hits all alike); the medians and the
ratios to the baseline are printed. The window verbs answer from the compiled-calendar cache once the config
directory has been validated (gitops/windows/calendar_cache.py; the warm-up run records it, in a temporary
XDG_CACHE_HOME): that is every call but the first after a change. Target: help, check and list within 3x of
the baseline; the cold check (the first call after a change) is reported beside them.

Run: .venv/bin/python bench/bench_cli.py [ROUNDS]   (default 15)
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "import sys; from gitops.cli.main import main; sys.exit(main(sys.argv[1:]))"
TODAY = datetime.now(UTC).date()
CHECK = [sys.executable, "-c", ENTRY, "window", "check", "prod", "--config-repo", str(ROOT)]
CASES: dict[str, list[str]] = {
    "baseline: import click": [sys.executable, "-c", "import click"],
    "odoo-gitops --help": [sys.executable, "-c", ENTRY, "--help"],
    "odoo-gitops window check prod": CHECK,
    "odoo-gitops window list prod": [
        sys.executable, "-c", ENTRY, "window", "list", "prod", "--from", TODAY.isoformat(),
        "--to", (TODAY + timedelta(days=31)).isoformat(), "--config-repo", str(ROOT),
    ],
    "window check prod, cold": CHECK,
}  # fmt: skip
COLD = {"window check prod, cold"}  # run without the cache: not part of the target
OK = {"odoo-gitops window check prod": (0, 3), "window check prod, cold": (0, 3)}  # open or closed, by time


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env(name: str) -> dict[str, str]:
    return {**os.environ, "ODOO_GITOPS_NO_CACHE": "1"} if name in COLD else dict(os.environ)


def once(argv: list[str], name: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one run: on a loaded machine the CPU time is the steadier of the two."""
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, check=False, env=_env(name))
    elapsed = time.perf_counter() - start
    if done.returncode not in OK.get(name, (0,)):
        raise SystemExit(f"{name} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed, _cpu() - cpu


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="bench-cli-cache-")  # not the user's cache
    times: dict[str, list[float]] = {name: [] for name in CASES}
    cpus: dict[str, list[float]] = {name: [] for name in CASES}
    for name, argv in CASES.items():  # warm the file cache and .pyc files once; record the calendars
        subprocess.run(argv, cwd=ROOT, capture_output=True, check=False, env=_env(name))
    for _ in range(rounds):
        for name, argv in CASES.items():
            wall, cpu = once(argv, name)
            times[name].append(wall)
            cpus[name].append(cpu)
    base = statistics.median(times["baseline: import click"])
    base_cpu = statistics.median(cpus["baseline: import click"])
    print(f"CLI start-up, median of {rounds} interleaved rounds ({sys.executable})")
    print(f"  {'':32s} {'wall':>8s} {'ratio':>6s}   {'CPU':>8s} {'ratio':>6s}")
    for name in CASES:
        wall, cpu = statistics.median(times[name]), statistics.median(cpus[name])
        walls = f"{wall * 1000:6.0f}ms {wall / base:5.1f}x"
        print(f"  {name:32s} {walls}   {cpu * 1000:6.0f}ms {cpu / base_cpu:5.1f}x")
    worst = max(statistics.median(s) for name, s in times.items() if name not in COLD) / base
    worst_cpu = max(statistics.median(s) for name, s in cpus.items() if name not in COLD) / base_cpu
    verdict = {True: "met", False: "NOT met"}
    print(
        f"target: help, check and list within 3.0x of the baseline -> wall {worst:.1f}x "
        f"{verdict[worst <= 3.0]}, CPU {worst_cpu:.1f}x {verdict[worst_cpu <= 3.0]}"
        " (the cold check, the first call after a change, is not in the target)"
    )


if __name__ == "__main__":
    main()
