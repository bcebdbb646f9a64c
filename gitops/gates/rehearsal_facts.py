"""Restore rehearsals on record, read from the config repository's main branch (as loaded with the config):
`envs/<env>/rehearsal.json` (the latest rehearsal `backup verify` recorded) and `rehearsal` entries of the
environment's audit log, which is trusted only when its hash chain verifies."""

from __future__ import annotations

import json
from collections.abc import Sequence

from gitops.audit.log import parse_entries, verify_text
from gitops.config.loader import ConfigRepo
from gitops.errors import ConfigError
from gitops.gates.evidence import Rehearsal, RehearsalFacts
from gitops.gates.rehearsal import RECORD_FILE, REHEARSAL_KIND, rehearsal_from, rehearsals_from


def _recorded(repo: ConfigRepo, env: str) -> tuple[Rehearsal, ...]:
    rel = f"envs/{env}/{RECORD_FILE}"
    if repo.files.kind(rel) != "file":
        return ()
    try:
        data = json.loads(repo.files.read(rel))
    except (ValueError, UnicodeDecodeError):
        return ()
    found = rehearsal_from("", data) if isinstance(data, dict) and data.get("env") in (None, env) else None
    return (found,) if found is not None else ()


def rehearsal_facts(repo: ConfigRepo, env: str, backups: Sequence[str]) -> RehearsalFacts:
    """The rehearsals of `env` for a change relying on `backups`."""
    recovery = repo.env(env).config.recovery
    recorded = _recorded(repo, env)
    rel = f"audit/{env}.jsonl"
    if repo.files.kind(rel) != "file":
        return RehearsalFacts(tuple(backups), recorded, recovery)
    text = repo.files.read(rel).decode("utf-8", "replace")
    chain = verify_text(text, env, rel)
    if not chain.ok:
        problem = f"{rel} fails its chain check ({chain.reason}); no rehearsal in it counts"
        return RehearsalFacts(tuple(backups), (), recovery, trusted=False, problem=problem)
    try:
        entries = parse_entries(text, rel)
    except ConfigError as exc:
        return RehearsalFacts(tuple(backups), (), recovery, trusted=False, problem=exc.render())
    found = rehearsals_from((e.kind, e.at, e.data) for e in entries if e.kind == REHEARSAL_KIND)
    return RehearsalFacts(tuple(backups), recorded + found, recovery)
