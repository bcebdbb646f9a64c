"""The CAB view of one promotion PR: the gate verdict first, then what changes (schema changes destructive
first, with their explanation, and the migration scripts that will run), the evidence, the window in the
environment's time zone, the rollback target and the reviews. A value built from trusted facts only.

Trusted: main's config (the target's current release, its calendars), the PR head's files as the gate reads
them (`PullFacts`), the promotion run in the audit log on main, the gate verdict, and — when given — the
addons repository the diff is computed from. The PR body is never read here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from gitops.board.model import WindowNow
from gitops.board.rehearsals import RehearsalView, rehearsal_view
from gitops.config.loader import ConfigRepo
from gitops.config.models import ReleaseRecord
from gitops.gates.evidence import Review, SupplyResult
from gitops.gates.policy import GateVerdict
from gitops.promote.plan import ModuleChange, module_changes
from gitops.promote.pullfacts import PullFacts
from gitops.promote.stage_seams import compute_schema_diff, fail_closed_diff

SchemaSource = Literal["addons repository", "release records"]
_SEVERITY_ORDER = {"destructive": 0, "schema": 1, "info": 2}


@dataclass(frozen=True, kw_only=True)
class SchemaView:
    """The schema change as far as it is known, and from where."""

    source: SchemaSource
    change_class: str  # what the gate applies (the promotion run's class)
    destructive: bool
    changes: tuple[Mapping[str, Any], ...] = ()  # kind, module, model, field, severity, message; worst first
    migration_scripts: tuple[Mapping[str, Any], ...] = ()
    note: str | None = None
    errors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "change_class": self.change_class,
            "destructive": self.destructive,
            "changes": [dict(c) for c in self.changes],
            "migration_scripts": [dict(s) for s in self.migration_scripts],
            "note": self.note,
            "errors": list(self.errors),
        }


@dataclass(frozen=True, kw_only=True)
class Rollback:
    """Where `rollback` would return the PR's cells to, and whether that is ready now."""

    version: str | None
    image: str | None
    ready: bool
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "image": self.image, "ready": self.ready, "why": self.why}


@dataclass(frozen=True, kw_only=True)
class ReviewMark:
    user: str
    state: str
    commit_id: str
    counted: bool
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class CabView:
    number: int
    title: str
    target: str
    wave: str | None
    tenants: tuple[str, ...]
    kind: str
    version_from: str | None
    version_to: str | None
    verdict: GateVerdict
    modules: tuple[ModuleChange, ...]
    schema: SchemaView
    signature: SupplyResult | None
    scan: SupplyResult | None
    attestations: Mapping[str, bool] | None  # predicate name -> present and verified; None: not checked
    attestations_error: str | None
    window: WindowNow | None
    rollback: Rollback
    reviews: tuple[ReviewMark, ...]
    rehearsal: RehearsalView | None = None  # the target's latest restore rehearsal (gitops.board.rehearsals)

    @property
    def missing(self) -> str:
        """What stands between the PR and a merge, in one line ('' when nothing does)."""
        return "; ".join(self.verdict.reasons) if self.verdict.state != "success" else ""

    def to_dict(self) -> dict[str, Any]:
        def supply(result: SupplyResult | None) -> dict[str, Any] | None:
            return None if result is None else {"ok": result.ok, "text": result.text}

        return {
            "missing": self.missing,
            "version": {"from": self.version_from, "to": self.version_to},
            "schema": self.schema.to_dict(),
            "evidence": {
                "signature": supply(self.signature),
                "scan": supply(self.scan),
                "attestations": dict(self.attestations) if self.attestations is not None else None,
                "attestations_error": self.attestations_error,
            },
            "window": self.window.to_dict() if self.window else None,
            "rollback": self.rollback.to_dict(),
            "rehearsal": self.rehearsal.to_dict() if self.rehearsal else None,
        }


def new_release(repo: ConfigRepo, facts: PullFacts) -> ReleaseRecord | None:
    """The release the PR installs, with its modules: the head's own record when it is the env's, else the
    source environment's release on main when it runs the same image (a tenant wave records only images)."""
    if facts.release is not None and facts.release.image == facts.image:
        return facts.release
    source = str(facts.run.data.get("source") or "") if facts.run else ""
    found = repo.envs.get(source)
    if found is not None and found.release is not None and found.release.image == facts.image:
        return found.release
    return None


def worst_first(changes: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any], ...]:
    return tuple(sorted(changes, key=lambda c: _SEVERITY_ORDER.get(str(c.get("severity")), 3)))


def current_release(repo: ConfigRepo, facts: PullFacts) -> ReleaseRecord | None:
    """What the target runs on main (None: no release yet, or an env a lifecycle `create` PR adds)."""
    found = repo.envs.get(facts.target)
    return found.release if found is not None else None


def schema_view(
    repo: ConfigRepo, facts: PullFacts, new: ReleaseRecord | None, addons_repo: Path | None
) -> SchemaView:
    """With the addons repository: the diff between what the target runs and what the PR installs, computed
    here. Without: the classification the records allow (fail closed), and what the promotion run recorded."""
    current = current_release(repo, facts)
    base = SchemaView(
        source="release records", change_class=facts.change_class, destructive=facts.destructive
    )
    if facts.lifecycle:
        return _with(base, note=f"a lifecycle change ({facts.kind}): it installs no release")
    if new is None:
        return _with(base, note="the release the PR installs is not known from the records (its modules and "
                                "source commit): treated as destructive (fail closed)")  # fmt: skip
    if addons_repo is not None:
        diff = compute_schema_diff(addons_repo, current.source_commit if current else None, new.source_commit)
        return SchemaView(
            source="addons repository",
            change_class=facts.change_class,
            destructive=facts.destructive,
            changes=worst_first([c.to_dict() for c in diff.changes if c.touches_schema]),
            migration_scripts=tuple(s.to_dict() for s in diff.migration_scripts),
            errors=tuple(e.render() for e in diff.errors),
            note=_fingerprint_note(new, diff.schema_fingerprint),
        )
    records = fail_closed_diff(
        old_modules=current.modules if current else {}, new_modules=new.modules,
        declared_destructive=new.destructive, fingerprint=new.schema_fingerprint,
    )  # fmt: skip
    computed = bool(facts.run and facts.run.data.get("schema_diff_computed"))
    note = (
        "the promotion computed the schema diff from the addons repository; pass --addons-repo PATH to list "
        "its changes and migration scripts here"
        if computed
        else records.note
    )
    return _with(base, note=note)


def _with(view: SchemaView, *, note: str | None) -> SchemaView:
    return SchemaView(
        source=view.source, change_class=view.change_class, destructive=view.destructive, note=note
    )


def _fingerprint_note(new: ReleaseRecord, fingerprint: str) -> str | None:
    recorded = new.schema_fingerprint
    if recorded is None or recorded.removeprefix("sha256:") == fingerprint:
        return None
    return (
        "this diff's schema fingerprint differs from the one the release records "
        f"({recorded[:19]}…): the addons repository may be at other commits than the release was built from"
    )


def rollback_target(repo: ConfigRepo, facts: PullFacts, tenants: Sequence[str | None]) -> Rollback:
    """The release the PR's cells run on main now: `rollback` returns there. Ready when it was verified, and
    for a destructive change when a database backup is recorded for the PR."""
    if facts.kind == "rollback":
        return Rollback(version=None, image=None, ready=True, why="this PR is itself a rollback")
    if facts.lifecycle:
        why = "a lifecycle change installs no release: `rollback` does not undo it (a new change does)"
        return Rollback(version=None, image=None, ready=False, why=why)
    current = repo.env(facts.target).release
    if current is None:
        return Rollback(version=None, image=None, ready=False, why="the first release of the environment")
    own = [current.tenants[t] for t in tenants if t and t in current.tenants]
    image, version = (own[0].image, own[0].version) if own else (current.image, current.version)
    verification = own[0].verification if own else current.verification
    if verification is None:
        return Rollback(version=version, image=image, ready=False, why=f"{version} was never verified there")
    if facts.destructive and not facts.backup_recorded:
        return Rollback(
            version=version, image=image, ready=False,
            why="the change is destructive and no database backup is recorded yet (promote --backup-id)",
        )  # fmt: skip
    backup = " (database backup recorded)" if facts.destructive else ""
    return Rollback(version=version, image=image, ready=True, why=f"{version} is verified there{backup}")


def review_marks(reviews: Sequence[Review], verdict: GateVerdict) -> tuple[ReviewMark, ...]:
    """Per review: does it count for the gate, and if not, why (author, promoter, team, stale, expired…)."""
    counted = {a.review_id for a in verdict.counted}
    ignored = {a.review_id: a.reason for a in verdict.ignored}
    marks = []
    for review in reviews:
        reason = ignored.get(review.id)
        if review.state != "APPROVED":
            reason = None
        elif review.id not in counted and reason is None:
            reason = "superseded by the reviewer's later review"
        marks.append(
            ReviewMark(
                user=review.user,
                state=review.state,
                commit_id=review.commit_id,
                counted=review.id in counted,
                reason=reason,
            )
        )
    return tuple(marks)


def cab_view(
    repo: ConfigRepo,
    *,
    number: int,
    title: str,
    facts: PullFacts,
    verdict: GateVerdict,
    reviews: Sequence[Review],
    window: WindowNow | None,
    covers: Sequence[str | None],
    addons_repo: Path | None = None,
    attestations: Mapping[str, bool] | None = None,
    attestations_error: str | None = None,
    now: datetime | None = None,
) -> CabView:
    current = current_release(repo, facts)
    new = new_release(repo, facts)
    modules = module_changes(current.modules if current else {}, new.modules) if new else ()
    return CabView(
        number=number, title=title, target=facts.target, wave=facts.wave, tenants=facts.tenants,
        kind=facts.kind, version_from=current.version if current else None, version_to=facts.version,
        verdict=verdict, modules=modules,
        schema=schema_view(repo, facts, new, addons_repo), signature=facts.supply("signature"),
        scan=facts.supply("scan"), attestations=attestations, attestations_error=attestations_error,
        window=window,
        rollback=rollback_target(repo, facts, covers), reviews=review_marks(reviews, verdict),
        rehearsal=rehearsal_view(repo, facts.target, now or datetime.now(UTC))
        if facts.target in repo.envs
        else None,
    )  # fmt: skip
