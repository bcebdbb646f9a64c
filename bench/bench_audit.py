"""Benchmark: `audit verify`'s history check (every committed version of every log only appended to).

A config repository whose main has ENTRIES audit commits (two logs, one entry appended per commit, as
`record_audit` writes them) is built with `git fast-import`. Measured side by side on the same clone:

- toolkit: `AuditSource.history()`: one `git log -p -U0 --first-parent -- audit/` parsed in Python;
- baseline: the obvious approach, one `git show <commit>:audit/<env>.jsonl` per commit and log, each version
  compared with the one before as bytes (a process per version);
- floor: the raw `git log -p -U0` alone (what the toolkit cannot go below).

Then `odoo-gitops audit verify` end to end (clone, deepen, history, chain check of every log).

Run: .venv/bin/python bench/bench_audit.py [ENTRIES]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gitops.audit.log import GENESIS, canonical_json, entry_hash  # noqa: E402
from gitops.audit_trail.source import open_audit_source  # noqa: E402
from gitops.proc import no_git_env  # noqa: E402

ENVS = ("prod", "staging")


def git(cwd: Path, *args: str, data: bytes | None = None) -> bytes:
    env = {**no_git_env(), "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com"}
    env |= {"GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.com"}
    return subprocess.run(
        ["git", *args], cwd=cwd, input=data, env=env, check=True, capture_output=True
    ).stdout


def entry(env: str, seq: int, prev: str) -> str:
    body = {"seq": seq, "at": f"2026-12-01T00:00:{seq % 60:02d}Z", "env": env, "kind": "gate", "actor": "ci"}
    body |= {
        "data": {"pr": seq, "state": "pending", "reasons": ["2 approvals missing"]},
        "key": f"gate:{seq}",
    }
    body["prev"] = prev
    body["hash"] = entry_hash(body)
    return canonical_json(body)


def build(base: Path, entries: int) -> Path:
    """A bare repo whose main has the examples and then `entries` audit commits, alternating logs."""
    work = base / "seed"
    git(base, "init", "-q", "-b", "main", str(work))
    for part in ("envs", "pipelines", "calendars", "keys"):
        shutil.copytree(ROOT / part, work / part)
    git(work, "add", "-A")
    git(work, "commit", "-qm", "examples")
    texts = dict.fromkeys(ENVS, "")
    prevs = dict.fromkeys(ENVS, GENESIS)
    stream = []
    for n in range(entries):
        env = ENVS[n % len(ENVS)]
        line = entry(env, n // len(ENVS) + 1, prevs[env])
        prevs[env] = line.rsplit('"hash":"', 1)[1][:64]
        texts[env] += line + "\n"
        data = texts[env].encode()
        message = f"Audit: gate in {env}\n\nAudit-Env: {env}\n".encode()
        stream.append(
            b"commit refs/heads/main\ncommitter bench <b@example.com> %d +0000\n" % (1_700_000_000 + n)
        )
        stream.append(b"data %d\n%s\n" % (len(message), message))
        if n == 0:
            stream.append(b"from refs/heads/main^0\n")
        stream.append(b"M 100644 inline audit/%s.jsonl\ndata %d\n%s\n" % (env.encode(), len(data), data))
    git(work, "fast-import", "--quiet", data=b"".join(stream))
    bare = base / "remote.git"
    git(base, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def baseline(clone: Path) -> int:
    """One `git show` per committed version of each log; each version must extend the previous one."""
    broken = 0
    commits = git(clone, "rev-list", "--first-parent", "--reverse", "HEAD", "--", "audit/").split()
    previous = dict.fromkeys(ENVS, b"")
    for commit in commits:
        for env in ENVS:
            shown = subprocess.run(
                ["git", "show", f"{commit.decode()}:audit/{env}.jsonl"], cwd=clone, capture_output=True
            )
            text = shown.stdout if shown.returncode == 0 else b""
            broken += not text.startswith(previous[env])
            previous[env] = text
    return broken


def timed(action):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        bare = build(Path(tmp), entries)
        print(f"{entries} audit commits, {len(ENVS)} logs")
        with open_audit_source(str(bare)) as source:
            assert source.checkout is not None
            source.history()  # deepens the clone once, outside the timings
            clone = source.checkout.root
            toolkit, found = timed(source.history)
            assert found is not None and all(not h.tampering for h in found.values())
            assert sum(h.versions for h in found.values()) == entries
            floor, _ = timed(lambda: git(clone, "log", "--first-parent", "-p", "-U0", "HEAD", "--", "audit/"))
            naive, broken = timed(lambda: baseline(clone))
            assert broken == 0
        cli, _ = timed(
            lambda: subprocess.run(
                [
                    str(Path(sys.executable).parent / "odoo-gitops"),
                    "audit",
                    "verify",
                    "--config-repo",
                    str(bare),
                ],
                check=True,
                capture_output=True,
            )
        )
    rows = [
        ("history check, toolkit (one git log -p)", toolkit, ""),
        ("raw git log -p alone (floor)", floor, f"toolkit/floor = {toolkit / floor:.2f}x"),
        ("baseline (git show per version)", naive, f"baseline/toolkit = {naive / toolkit:.1f}x"),
        ("odoo-gitops audit verify end to end (CLI)", cli, ""),
    ]
    for label, seconds, ratio in rows:
        print(f"{label:<44} {seconds:8.3f} s   {ratio}")


if __name__ == "__main__":
    main()
