"""A refreshed copy of production made safe: coverage check, neutralisation, masking, proof. Fail closed:
whatever goes wrong after the copy exists (uncovered sensitive columns, a rule that cannot apply, a failed
or crashed proof), the target database is dropped before the error is raised.

The restore itself (`pg_restore` of the source's verified backup into the target) happens before this
runs; `gitops.database.backups.restore_backup` does it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gitops.database.catalogue import coverage
from gitops.database.masking import (
    MaskingReport,
    apply_masking,
    database_columns,
    masking_plan,
    purge_old_row_versions,
)
from gitops.database.masking_proof import MIN_SAMPLE, ProofRecord, prove_masking, take_baseline
from gitops.database.masking_rules import MaskingRules
from gitops.database.neutralisation import NeutralisationReport, neutralise
from gitops.database.postgres import Server, connect, drop_database, module_states
from gitops.errors import PolicyError, VerificationError


@dataclass(frozen=True)
class RefreshOutcome:
    neutralisation: NeutralisationReport
    masking: MaskingReport
    proof: ProofRecord

    def to_dict(self) -> dict[str, object]:
        return {
            "neutralisation": self.neutralisation.to_dict(),
            "masking": self.masking.to_dict(),
            "proof": self.proof.to_dict(),
        }


def write_record(path: Path, data: dict[str, object]) -> None:
    """Write a JSON record atomically (a crash leaves the old record or the new one, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(partial, path)


def installed_modules(server: Server) -> set[str]:
    with connect(server) as conn:
        return {name for name, state in module_states(conn).items() if state in {"installed", "to upgrade"}}


def mask_and_prove(
    server: Server,
    rules: MaskingRules,
    salt: str,
    *,
    banner: str,
    modules: Iterable[str] = (),
    sample_size: int = MIN_SAMPLE,
    purge: bool = True,
    record: Path | None = None,
) -> RefreshOutcome:
    """Neutralise and mask the database `server.dbname`, then prove it. `modules` (the release's) are
    checked for coverage together with the modules the database says are installed."""
    try:
        return _mask_and_prove(
            server,
            rules,
            salt,
            banner=banner,
            modules=set(modules),
            size=sample_size,
            purge=purge,
            record=record,
        )
    except BaseException:
        drop_database(server, server.dbname)
        raise


def _mask_and_prove(
    server: Server,
    rules: MaskingRules,
    salt: str,
    *,
    banner: str,
    modules: set[str],
    size: int,
    purge: bool,
    record: Path | None,
) -> RefreshOutcome:
    uncovered = coverage(rules, modules | installed_modules(server))
    if uncovered:
        raise PolicyError(
            f"masking rules leave {len(uncovered)} sensitive column(s) unmasked; the copy was dropped",
            reasons=[u.render() for u in uncovered],
            hint="add rules for them in masking/<name>.yaml",
        )
    with connect(server) as conn:
        plan, _ = masking_plan(rules, database_columns(conn))
        neutralised = neutralise(conn, banner=banner)  # before the baseline: it adds the banner's rows
        baseline = take_baseline(conn, [r for table_rules in plan.values() for r in table_rules], size=size)
        masked = apply_masking(conn, rules, salt)
        if purge:
            purge_old_row_versions(conn, sorted(plan))
    proof = prove_masking(server, baseline)
    if record is not None:
        write_record(record, {"kind": "masking-proof", **proof.to_dict(), "dropped": not proof.passed})
    if not proof.passed:
        raise VerificationError(
            "masking proof failed; the target database was dropped: " + "; ".join(proof.problems)
        )
    return RefreshOutcome(neutralised, masked, proof)
