"""Audit logs in real config repositories: append entries, commit them to main, tamper with them."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gitops.audit import append_entry
from gitops.audit.log import GENESIS, canonical_json, entry_hash
from tests.fixtures.configrepo import ConfigRepoFixture, git

Lines = list[str]


def log_file(repo: ConfigRepoFixture, env: str = "prod") -> Path:
    return repo.work / "audit" / f"{env}.jsonl"


def append(
    repo: ConfigRepoFixture, count: int, *, env: str = "prod", kind: str = "promotion", start: int = 0
) -> str:
    """Append `count` entries to audit/<env>.jsonl, one commit each, pushed to main; the last SHA."""
    sha = ""
    for i in range(start, start + count):
        append_entry(log_file(repo, env), env=env, kind=kind, actor="ci", data={"n": i}, key=f"{env}-{i}")
        sha = repo.commit_all(f"Audit: {kind} {i} in {env}")
    return sha


def rewrite(repo: ConfigRepoFixture, transform: Callable[[Lines], Lines], *, env: str = "prod") -> None:
    path = log_file(repo, env)
    lines = transform(path.read_text().splitlines())
    path.write_text("".join(line + "\n" for line in lines))


def rechain(lines: Sequence[str]) -> Lines:
    """Recompute seq, prev and hash of every entry: a forged log whose chain is valid again."""
    out, prev = [], GENESIS
    for seq, line in enumerate(lines, start=1):
        data: dict[str, Any] = json.loads(line)
        data.update(seq=seq, prev=prev)
        data["hash"] = prev = entry_hash(data)
        out.append(canonical_json(data))
    return out


def edit_entry(index: int) -> Callable[[Lines], Lines]:
    def transform(lines: Lines) -> Lines:
        data = json.loads(lines[index])
        data["data"] = {"n": "forged"}
        return rechain([*lines[:index], json.dumps(data), *lines[index + 1 :]])

    return transform


def remote_main(repo: ConfigRepoFixture) -> str:
    return git(repo.remote, "rev-parse", "main")
