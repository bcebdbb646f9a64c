"""Benchmark: CLI start-up. Wall time of a fresh interpreter running

  baseline   python -c "import click"
  help       odoo-gitops --help
  check      odoo-gitops window check prod --config-repo <the example config, this repository>

measured in interleaved rounds (one of each per round, so machine load hits all three alike); the medians and
the ratios to the baseline are printed. Target: help and check within 3x of the baseline.

Run: .venv/bin/python bench/bench_cli.py [ROUNDS]   (default 15)
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "import sys; from gitops.cli.main import main; sys.exit(main(sys.argv[1:]))"
CASES: dict[str, list[str]] = {
    "baseline: import click": [sys.executable, "-c", "import click"],
    "odoo-gitops --help": [sys.executable, "-c", ENTRY, "--help"],
    "odoo-gitops window check prod": [
        sys.executable, "-c", ENTRY, "window", "check", "prod", "--config-repo", str(ROOT)
    ],
}  # fmt: skip
OK = {"odoo-gitops window check prod": (0, 3)}  # open or closed, depending on when it runs


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def once(argv: list[str], name: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one run: on a loaded machine the CPU time is the steadier of the two."""
    start, cpu = time.perf_counter(), _cpu()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in OK.get(name, (0,)):
        raise SystemExit(f"{name} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed, _cpu() - cpu


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    times: dict[str, list[float]] = {name: [] for name in CASES}
    cpus: dict[str, list[float]] = {name: [] for name in CASES}
    for argv in CASES.values():  # warm the file cache and .pyc files once
        subprocess.run(argv, cwd=ROOT, capture_output=True, check=False)
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
    worst = max(statistics.median(s) for s in times.values()) / base
    print(
        f"target: every command within 3.0x of the baseline (wall) -> {'met' if worst <= 3.0 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
