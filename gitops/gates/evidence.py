"""What a gate looks at (`Evidence`, typed, gathered lazily) and what it answers (`GateResult`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from gitops.config.models import GatePolicy, Recovery

GateState = Literal["success", "pending", "failure"]
Phase = Literal["promote", "merge"]
_RANK: dict[str, int] = {"success": 0, "pending": 1, "failure": 2}


@dataclass(frozen=True)
class Review:
    """One PR review as the forge reports it (latest per user decides)."""

    id: int
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    commit_id: str
    submitted_at: datetime | None = None
    # the forge says the reviewer has no write access to the repository (GitHub: an author_association other
    # than OWNER, MEMBER or COLLABORATOR; a deleted account): neither counts nor blocks under an empty `from`
    outsider: bool = False


@dataclass(frozen=True)
class WindowState:
    """What the gate needs from a window verdict."""

    open: bool
    blocked_by: tuple[str, ...] = ()
    next_open: datetime | None = None
    open_until: datetime | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    verdict: Any = field(default=None, compare=False)  # the window engine's own verdict, for break-glass


@dataclass(frozen=True)
class Emergency:
    """An emergency declared by the promotion (release.yaml `emergency:`), with reason and ticket, and when
    the audited promote run that declared it ran (None: unknown, and then it overrides nothing)."""

    reason: str | None = None
    ticket: str | None = None
    declared_at: datetime | None = None


@dataclass(frozen=True)
class SupplyResult:
    """A signature or scan check: passed or not, and a sentence for people."""

    ok: bool
    text: str


@dataclass(frozen=True)
class Rehearsal:
    """One restore rehearsal of a backup, as recorded in the environment's audit log."""

    backup: str
    passed: bool
    at: datetime
    restore_seconds: float | None = None  # measured RTO
    backup_age_seconds: float | None = None  # measured RPO: the backup's age when it was taken from
    reason: str = ""


@dataclass(frozen=True)
class RehearsalFacts:
    """The backups a change relies on, the rehearsals on record, and the environment's objectives."""

    backups: tuple[str, ...]
    rehearsals: tuple[Rehearsal, ...]
    recovery: Recovery | None
    trusted: bool = True  # False: the audit log they come from failed its chain check
    problem: str = ""


@dataclass(frozen=True, kw_only=True)
class LifecycleChange:
    """What a lifecycle PR (env create/extend/expire, refresh) asks of the environment whose data it touches,
    decided from that environment's config on main (gitops.promote.lifecyclefacts.lifecycle_change)."""

    change: str  # create | extend | expire | refresh
    env: str  # the environment whose data the change overwrites or deletes
    approvers: frozenset[str] = frozenset()  # also eligible under the rule (expire: the env's owner)
    backup_required: bool = False
    backup_why: str = ""  # the policy that asks for the backup, for people


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """Everything a gate may look at. Callables are evaluated only by the gates that need them (a stage that
    does not list `scan` never asks the registry for a scan attestation)."""

    phase: Phase
    policy: GatePolicy
    change_class: str
    destructive: bool
    content_hash: str = ""
    bindings: Mapping[str, str] = field(default_factory=dict)  # commit sha -> content hash at that commit
    reviews: Sequence[Review] = ()
    excluded: Mapping[str, str] = field(
        default_factory=dict
    )  # identity (lower-case) -> why it may not approve
    window: Callable[[], WindowState | None] = lambda: None
    emergency: Emergency | None = None
    backup_recorded: bool = False
    signature: Callable[[], SupplyResult | None] = lambda: None
    scan: Callable[[], SupplyResult | None] = lambda: None
    rehearsal: Callable[[], RehearsalFacts | None] = lambda: None
    lifecycle: LifecycleChange | None = None  # None: a promotion or rollback
    now: datetime


@dataclass(frozen=True, kw_only=True)
class GateResult:
    name: str
    state: GateState
    reasons: tuple[str, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class Gate:
    """A gate: its name (as listed in a stage's `gates:`), the phases it applies in, and its decision."""

    name: str
    phases: frozenset[Phase]
    evaluate: Callable[[Evidence], GateResult]


def worst(states: Sequence[GateState]) -> GateState:
    return max(states, key=_RANK.__getitem__, default="success")
