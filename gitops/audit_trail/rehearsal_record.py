"""A restore rehearsal put on record in the config repository, as the chart's rehearsal CronJob does it
(`backup verify ENV --commit`): `envs/<env>/rehearsal.json` and a `rehearsal` entry of `audit/<env>.jsonl`,
written on main in one commit through the audited commit path (gitops.promote.auditing.record_audit) —
exactly what the `rehearsal` gate, rollback readiness and the board read (gitops.gates.rehearsal_facts).

Idempotent: the entry's key names the run (the Job's name in a cluster, else the record's time and backup),
so a retried pod of the same Job, or a re-run after a crash between the rehearsal and the push, never adds
a second entry; the record file is written only with a new entry."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from gitops.config import store as config_store
from gitops.errors import UsageError
from gitops.forge.actor import resolve_actor
from gitops.forge.protocol import ForgeSettings
from gitops.forge.session import git_remote
from gitops.gates.rehearsal import RECORD_FILE, REHEARSAL_KIND
from gitops.gitstore.checkout import ConfigCheckout
from gitops.promote.auditing import record_audit
from gitops.redact import strip_userinfo

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")


@dataclass(frozen=True)
class CommittedRehearsal:
    seq: int | None  # the entry's sequence number in audit/<env>.jsonl
    key: str
    remote: str  # credentials removed
    record_file: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "key": self.key, "remote": self.remote, "record_file": self.record_file}


def rehearsal_key(env: str, record: Mapping[str, Any], run_id: str | None) -> str:
    """One key per rehearsal run: the run's id when there is one (a Job's name), else the record's own."""
    if run_id is not None:
        if not _RUN_ID.match(run_id):
            raise UsageError(f"--run-id {run_id!r}: letters, digits, '.', '_' and '-' only (a Job's name)")
        return f"rehearsal:{env}:run:{run_id}"
    return (
        f"rehearsal:{env}:{record.get('backup')}:{record.get('backup_sha256')}:{record.get('rehearsed_at')}"
    )


def record_bytes(record: Mapping[str, Any]) -> bytes:
    return (json.dumps(dict(record), indent=2, sort_keys=True) + "\n").encode()


def commit_rehearsal(
    config_repo: str,
    env: str,
    record: Mapping[str, Any],
    *,
    forge: ForgeSettings,
    run_id: str | None,
    now: datetime,
) -> CommittedRehearsal:
    """Write the rehearsal `record` of `env` on the config repository's main (a fresh clone of its remote,
    with the forge's git credentials) and push it, with its audit entry, in one commit."""
    remote = git_remote(config_repo, forge)
    key = rehearsal_key(env, record, run_id)
    rel = f"envs/{env}/{RECORD_FILE}"
    data = {**record, **({"run_id": run_id} if run_id else {})}
    with tempfile.TemporaryDirectory(prefix="odoo-gitops-") as tmp:
        checkout = ConfigCheckout.clone(remote, Path(tmp) / "config", working_tree=False)
        if env not in config_store.load_checkout(checkout).envs:
            raise UsageError(f"unknown environment {env!r}: no envs/{env}/ on main of the config repository")
        actor = resolve_actor(forge.actor)
        seq = record_audit(
            checkout, env, actor, [(REHEARSAL_KIND, data, key)], now, files={rel: record_bytes(data)}
        )
    return CommittedRehearsal(seq, key, strip_userinfo(remote), rel)
