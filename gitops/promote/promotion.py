"""The values a promotion is made of: its options, the outside world it talks to, the release it installs
and what it did. Pure data; the steps live in installer.py, publishing.py and the preconditions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from gitops.config.models import BackupRecord, ModuleRecord
from gitops.forge.protocol import Forge, PullRequest
from gitops.gates.evidence import SupplyResult
from gitops.gitstore.checkout import ConfigCheckout
from gitops.promote.plan import ModuleChange
from gitops.promote.stage_seams import SchemaDiff, SupplyChecks, WindowCheck

Action = Literal["created", "updated", "unchanged", "up-to-date"]
Kind = Literal["promotion", "rollback"]
BRANCH_PREFIXES = ("promote/", "rollback/")


@dataclass(frozen=True, kw_only=True)
class Seams:
    """The outside world a promotion talks to besides git."""

    forge: Callable[[ConfigCheckout], Forge]
    supply: SupplyChecks
    window_check: WindowCheck


@dataclass(frozen=True, kw_only=True)
class PromoteOptions:
    remote: str
    workdir: Path
    actor: str
    tenants: tuple[str, ...] | None = None
    wave: str | None = None
    addons_repo: Path | None = None
    emergency_reason: str | None = None
    emergency_ticket: str | None = None
    no_emergency: bool = False
    backup_id: str | None = None
    backup_location: str | None = None
    with_db_restore: bool = False
    now: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Install:
    """A release to install into `target` (or into some of its tenants)."""

    kind: Kind
    source: str
    target: str
    image: str
    version: str
    source_commit: str
    modules: dict[str, ModuleRecord]
    schema: SchemaDiff
    wave: str | None
    tenants: tuple[str, ...]
    completes_env: bool
    changes: tuple[ModuleChange, ...]
    signature: str = "not checked"
    scan: str = "not checked"
    restore: BackupRecord | None = None
    supply: tuple[tuple[str, SupplyResult], ...] = ()  # what the promote-time gates saw (audited)


@dataclass(frozen=True, kw_only=True)
class PromotionResult:
    action: Action
    kind: str
    source: str
    target: str
    wave: str | None
    tenants: tuple[str, ...]
    branch: str | None = None
    head_sha: str | None = None
    pushed: bool = False
    pull: PullRequest | None = None
    content_hash: str | None = None
    change_class: str | None
    destructive: bool
    superseded: tuple[int, ...] = ()
    audit_seq: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def up_to_date(cls, install: Install) -> PromotionResult:
        """The result before anything is pushed: `install` already runs, or nothing changed yet."""
        return cls(
            action="up-to-date",
            kind=install.kind,
            source=install.source,
            target=install.target,
            wave=install.wave,
            tenants=install.tenants,
            change_class=install.schema.change_class,
            destructive=install.schema.destructive,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.kind,
            "source": self.source,
            "target": self.target,
            "wave": self.wave,
            "tenants": list(self.tenants),
            "branch": self.branch,
            "head_sha": self.head_sha,
            "pushed": self.pushed,
            "pull_request": self.pull.to_dict() if self.pull else None,
            "content_hash": self.content_hash,
            "change_class": self.change_class,
            "destructive": self.destructive,
            "superseded": list(self.superseded),
            "audit_seq": self.audit_seq,
            "notes": list(self.notes),
        }


def short_digest(image: str) -> str:
    return image.partition("@")[2].removeprefix("sha256:")[:12]


def branch_name(kind: str, target: str, version: str, image: str, wave: str | None) -> str:
    prefix = "rollback" if kind == "rollback" else "promote"
    suffix = f"-{wave}" if wave else ""
    return f"{prefix}/{target}/{version}-{short_digest(image)}{suffix}"
