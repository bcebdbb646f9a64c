"""Benchmark: the addons evidence of `promote --addons-repo` at 320 addons with 10 changed.

Builds a git repository of the bench_addons.py tree (commit A), changes 10 modules (commit B), keeps a
checkout of each commit next to the repository (same file system), then measures in the same run, median
of interleaved rounds:
  1. the promote path: gitops.promote.stage_seams.compute_schema_diff(repo, A, B), which reads both
     commits from git objects (gitops.addons.commit_diff: `ls-tree -r -t` of B while `diff-tree` finds
     what A holds differently, one `cat-file --batch`; nothing extracted);
  2. diff_addons on the two checkouts already on disk (the floor the promote path is compared with).
It prints both and their ratio (issue 16's target: <= 2x), and checks that both give the same evidence,
field by field (`AddonsDiff.to_dict()`, the checkouts' paths written repository-relative). It also prints
what the promote path costs where the promotion runs it, in a forked child (gitops.childwork): the child's
user and system CPU time and minor page faults, its git processes included (`os.wait4`), medians.

Run: .venv/bin/python bench/bench_addons_evidence.py [--addons N] [--changed N] [--rounds R]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_addons import change_modules, generate, timed  # noqa: E402

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
    git(repo, "-c", "gc.auto=0", "commit", "-q", "-m", message)  # no background gc racing ours
    return git(repo, "rev-parse", "HEAD")


def relative(diff: AddonsDiff, *roots: Path) -> str:
    """The evidence as JSON, with the checkouts' directories cut from file paths."""
    text = json.dumps(diff.to_dict(), sort_keys=True)
    for root in roots:
        text = text.replace(json.dumps(str(root) + "/")[1:-1], "")
    return text


def forked(run: Callable[[], object]) -> tuple[float, float, int]:
    """User s, system s and minor page faults of `run()` in a forked child, its git processes included."""
    gc.freeze()  # as gitops.childwork does
    try:
        pid = os.fork()
        if pid == 0:  # the child: nothing of the parent's exit handlers
            code = 1
            try:
                run()
                code = 0
            finally:
                os._exit(code)
    finally:
        gc.unfreeze()
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        raise SystemExit("FAIL: the evidence failed in the forked child")
    return usage.ru_utime, usage.ru_stime, usage.ru_minflt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--addons", type=int, default=320)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as tmp:
        repo, old, new = Path(tmp) / "repo", Path(tmp) / "old", Path(tmp) / "new"
        names, files = generate(repo, args.addons)
        git(repo, "init", "-q", "-b", "main")
        first = commit_all(repo, "addons")
        shutil.copytree(repo, old, ignore=shutil.ignore_patterns(".git"))
        change_modules(repo, names, args.changed)
        second = commit_all(repo, f"change {args.changed} modules")
        shutil.copytree(repo, new, ignore=shutil.ignore_patterns(".git"))
        git(repo, "gc", "-q")  # a repository as a clone has it: packed objects
        print(
            f"tree: {args.addons} addons, {files} files; {args.changed} modules changed between two commits"
        )
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs (median of "
              f"{args.rounds} interleaved rounds; git objects and checkouts on one file system)")  # fmt: skip
        times: dict[str, list[float]] = {"git": [], "dirs": []}
        results: dict[str, object] = {}
        child: list[tuple[float, float, int]] = []
        for _ in range(args.rounds):
            child.append(forked(lambda: compute_schema_diff(repo, first, second)))
            for name, run in (
                ("git", lambda: compute_schema_diff(repo, first, second)),
                ("dirs", lambda: diff_addons([old], [new])),
            ):
                elapsed, results[name] = timed(run)
                times[name].append(elapsed)
        from_git, from_dirs = results["git"], results["dirs"]
        assert isinstance(from_git, AddonsDiff) and isinstance(from_dirs, AddonsDiff)
        if relative(from_git) != relative(from_dirs, old, new):
            raise SystemExit("FAIL: the evidence from git objects and diff_addons on checkouts disagree")
        git_s, dirs_s = statistics.median(times["git"]), statistics.median(times["dirs"])
        ratio = git_s / dirs_s
        print(f"evidence: {len(from_git.modules_changed)} changed modules, {len(from_git.changes)} changes, "
              f"fingerprint {from_git.schema_fingerprint[:12]} (equal on both)")  # fmt: skip
        print(f"promote evidence from git objects (ls-tree, diff-tree, cat-file): {git_s:.3f} s")
        print(f"diff_addons on checkouts of both commits:                        {dirs_s:.3f} s")
        print(f"ratio {ratio:.2f}x (target <= 2x: {'met' if ratio <= 2 else 'NOT met'})")
        user, system, faults = (statistics.median(column) for column in zip(*child, strict=True))
        cpu = f"user {user * 1e3:.0f} ms, system {system * 1e3:.0f} ms, total {(user + system) * 1e3:.0f} ms"
        print(f"in a forked child (as promote runs it), git included: {cpu} CPU, {faults:.0f} minor faults")


if __name__ == "__main__":
    main()
