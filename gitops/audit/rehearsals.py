"""Restore rehearsals on record: read from the environment's audit log on main (as loaded with the config),
trusted only when the log's hash chain verifies."""

from __future__ import annotations

from collections.abc import Sequence

from gitops.audit.log import parse_entries, verify_text
from gitops.config.loader import ConfigRepo
from gitops.errors import ConfigError
from gitops.gates.evidence import RehearsalFacts
from gitops.gates.rehearsal import REHEARSAL_KIND, rehearsals_from


def rehearsal_facts(repo: ConfigRepo, env: str, backups: Sequence[str]) -> RehearsalFacts:
    """The rehearsals of `env` (audit/<env>.jsonl in `repo`) for a change relying on `backups`."""
    recovery = repo.env(env).config.recovery
    rel = f"audit/{env}.jsonl"
    if repo.files.kind(rel) != "file":
        return RehearsalFacts(tuple(backups), (), recovery)
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
    return RehearsalFacts(tuple(backups), found, recovery)
