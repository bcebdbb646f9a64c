"""Benchmark: the addons evidence of `promote --addons-repo` at 320 addons with 10 changed.

Builds a git repository of the bench_addons.py tree (commit A), changes 10 modules (commit B), then measures
in the same run, best of interleaved rounds:
  1. the promote path: gitops.promote.stage_seams.compute_schema_diff(repo, A, B), which `git archive`s both
     commits, extracts both trees and runs diff_addons on them;
  2. diff_addons on the two trees already on disk (the floor the promote path is compared with).
It prints both and their ratio (issue 16's target for evidence read from git objects: <= 2x), and checks
that both give the same schema fingerprint and module sets.

Run: .venv/bin/python bench/bench_addons_evidence.py [--addons N] [--changed N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_addons import change_modules, generate, measure  # noqa: E402

from gitops.addons.diff import AddonsDiff, diff_addons  # noqa: E402
from gitops.promote.stage_seams import compute_schema_diff  # noqa: E402


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}  # fmt: skip
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def summary(diff: AddonsDiff) -> tuple[object, ...]:
    return (diff.schema_fingerprint, diff.modules_added, diff.modules_removed, diff.modules_changed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--addons", type=int, default=320)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        repo, old = Path(tmp) / "repo", Path(tmp) / "old"
        names, files = generate(repo, args.addons)
        git(repo, "init", "-q", "-b", "main")
        first = commit_all(repo, "addons")
        shutil.copytree(repo, old, ignore=shutil.ignore_patterns(".git"))
        change_modules(repo, names, args.changed)
        second = commit_all(repo, f"change {args.changed} modules")
        print(
            f"tree: {args.addons} addons, {files} files; {args.changed} modules changed between two commits"
        )
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
              f"(best of {args.repeat} interleaved rounds)")  # fmt: skip
        best = measure(
            args.repeat,
            {
                "promote": lambda: compute_schema_diff(repo, first, second),
                "dirs": lambda: diff_addons([old], [repo]),
            },
        )
        promote, dirs = best["promote"], best["dirs"]
        assert isinstance(promote[1], AddonsDiff) and isinstance(dirs[1], AddonsDiff)
        if summary(promote[1]) != summary(dirs[1]):
            raise SystemExit("FAIL: the promote path and diff_addons on directories disagree")
        ratio = promote[0] / dirs[0]
        print(f"promote evidence (git archive + extract + diff_addons): {promote[0]:.2f} s")
        print(f"diff_addons on extracted directories:                   {dirs[0]:.2f} s")
        print(f"ratio {ratio:.1f}x (target <= 2x: {'met' if ratio <= 2 else 'NOT met'})")


if __name__ == "__main__":
    main()
