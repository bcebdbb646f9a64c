"""Seams to the other stages a promotion consults: supply-chain evidence, the schema diff, change windows.

Each seam is a small protocol with a default that imports the real stage lazily (a CLI run that does not
need the registry client or the addons parser does not load them), so promote and gate checks can also be
driven with values. The protocols name exactly what a promotion reads from each answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gitops.config.loader import ConfigRepo
from gitops.config.models import ModuleRecord, ScanPolicy
from gitops.gates.evidence import WindowState

if TYPE_CHECKING:
    from gitops.addons.diff import AddonsDiff
    from gitops.config.calendars.calendar import Calendar


class SignatureFacts(Protocol):
    """What a promotion reads from a signature check (gitops.supply.signing.SignatureEvidence)."""

    @property
    def ok(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def key_id(self) -> str: ...


class ScanFacts(Protocol):
    """What a promotion reads from a scan attestation check (gitops.supply.evidence.ScanEvidence)."""

    @property
    def ok(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def counts_by_severity(self) -> Mapping[str, int]: ...
    @property
    def scanned_at(self) -> datetime | str | None: ...
    @property
    def trivy_version(self) -> str: ...


class SupplyChecks(Protocol):
    def signature(self, image: str, public_key_pem: bytes) -> SignatureFacts: ...

    def scan(self, image: str, public_key_pem: bytes, policy: ScanPolicy) -> ScanFacts: ...


class RegistrySupplyChecks:
    """The real checks (gitops.supply.evidence): cosign signature and scan attestation in the registry."""

    def signature(self, image: str, public_key_pem: bytes) -> SignatureFacts:
        from gitops.supply import evidence

        return evidence.check_signature(image, public_key_pem)

    def scan(self, image: str, public_key_pem: bytes, policy: ScanPolicy) -> ScanFacts:
        from gitops.supply import evidence

        return evidence.check_scan_attestation(image, public_key_pem, policy)


class BlockingWindow(Protocol):
    """Why a window is closed (gitops.windows.blocks.Reason): the calendar and its window."""

    @property
    def calendar(self) -> str: ...
    @property
    def window(self) -> str: ...


class WindowFacts(Protocol):
    """What a promotion reads from a window verdict (gitops.windows.verdict.WindowVerdict)."""

    @property
    def open(self) -> bool: ...
    @property
    def blocked_by(self) -> Sequence[BlockingWindow]: ...
    @property
    def next_open(self) -> datetime | None: ...
    @property
    def open_until(self) -> datetime | None: ...

    def to_dict(self) -> Mapping[str, object]: ...


class WindowCheck(Protocol):
    def __call__(self, calendars: Sequence[Calendar], at: datetime) -> WindowFacts: ...


def engine_window_check(calendars: Sequence[Calendar], at: datetime) -> WindowFacts:
    """The real window engine (gitops.windows.verdict.check)."""
    from gitops.windows import verdict as engine

    return engine.check(calendars, at)


def override_record(
    window: WindowState, *, env: str, reason: str | None, ticket: str | None, who: str, when: datetime
) -> dict[str, object]:
    """The break-glass record of a window the emergency path overrode (gitops.windows.breakglass), naming
    the environment and who broke glass."""
    from gitops.windows.breakglass import break_glass
    from gitops.windows.verdict import WindowVerdict

    plain: dict[str, object] = {
        "reason": reason,
        "ticket": ticket,
        "windows_violated": list(window.blocked_by),
        "who": who,
    }
    if not isinstance(window.verdict, WindowVerdict) or not (reason and ticket):
        return {**plain, "env": env}
    record = break_glass(
        window.verdict,
        env=env,
        emergency=True,
        reason=reason,
        ticket=ticket,
        who=who,
        when=when,
        allowed=True,
    )
    return {**(record.to_dict() if record else plain), "env": env}


def window_state(repo: ConfigRepo, env: str, at: datetime, check: WindowCheck) -> WindowState:
    """The window verdict for `env` at `at`, reduced to what the gate needs."""
    names = repo.env(env).config.calendars
    verdict = check([repo.calendars[name] for name in names], at)
    return WindowState(
        open=bool(verdict.open),
        blocked_by=tuple(f"{b.calendar}/{b.window}" for b in verdict.blocked_by),
        next_open=verdict.next_open,
        open_until=verdict.open_until,
        detail=verdict.to_dict(),
        verdict=verdict,
    )


# ---------------------------------------------------------------- schema diff


@dataclass(frozen=True, kw_only=True)
class SchemaDiff:
    """The part of the addons diff a promotion uses; `computed` is False when no diff could be made."""

    computed: bool
    change_class: str
    destructive: bool
    fingerprint: str | None
    changes: tuple[Mapping[str, object], ...] = ()
    errors: tuple[str, ...] = ()
    note: str | None = None


def compute_schema_diff(addons_repo: Path, old_commit: str | None, new_commit: str) -> AddonsDiff:
    """Diff both commits of the addons repo, read from git objects (gitops.addons.commit_diff): nothing is
    extracted to disk."""
    from gitops.addons.commit_diff import diff_commits

    return diff_commits(addons_repo, old_commit, new_commit)


def _severity_rank(change: Mapping[str, object]) -> int:
    return 0 if change.get("severity") == "destructive" else 1


def schema_diff_from(result: AddonsDiff) -> SchemaDiff:
    """The part of the addons diff a promotion uses: class, destructive flag, fingerprint, changes
    (destructive first) and the consistency errors that refuse it."""
    changes = [c.to_dict() for c in result.changes]
    return SchemaDiff(
        computed=True,
        change_class=str(result.change_class),
        destructive=bool(result.destructive),
        fingerprint=result.schema_fingerprint,
        changes=tuple(sorted(changes, key=_severity_rank)),
        errors=tuple(e.render() for e in result.errors),
    )


def fail_closed_diff(
    *,
    old_modules: Mapping[str, ModuleRecord],
    new_modules: Mapping[str, ModuleRecord],
    declared_destructive: bool,
    fingerprint: str | None,
) -> SchemaDiff:
    """Without the addons repo, classify from the two release records alone; missing evidence never lowers
    the gate.

    No module changed: standard. Every changed module records the same schema fingerprint on both sides
    (gitops.addons.schema_state, recorded by build) and none was added: a code-only change (normal; a
    removed module's tables stay until it is uninstalled). Anything else may change the schema in any way:
    destructive, so the strictest approvals and a backup apply until `--addons-repo` gives the real diff."""
    changed = sorted(n for n in new_modules if n in old_modules and new_modules[n] != old_modules[n])
    added = sorted(set(new_modules) - set(old_modules))
    removed = sorted(set(old_modules) - set(new_modules))
    if not (changed or added or removed) and not declared_destructive:
        return SchemaDiff(
            computed=False,
            change_class="standard",
            destructive=False,
            fingerprint=fingerprint,
            note="no module changes, so no schema change",
        )
    unknown = [n for n in changed if not _same_schema(old_modules[n], new_modules[n])] + added
    destructive = declared_destructive or bool(unknown)
    if destructive:
        why = (
            f"the schema of {', '.join(unknown)} may have changed (no recorded schema fingerprint, or a "
            "different one)"
            if unknown
            else "the source release is recorded as destructive"
        )
        note = (
            f"schema diff not computed (no --addons-repo): {why}; treated as DESTRUCTIVE (fail closed). "
            "Re-run promote with --addons-repo PATH to classify the change, or record a backup (--backup-id)."
        )
    else:
        note = (
            "schema diff not computed (no --addons-repo): every changed module records the same schema "
            "fingerprint as the target's, so the change is code only"
        )
    return SchemaDiff(
        computed=False, change_class="normal", destructive=destructive, fingerprint=fingerprint, note=note
    )


def _same_schema(old: ModuleRecord, new: ModuleRecord) -> bool:
    return bool(old.schema_ and new.schema_ and old.schema_ == new.schema_)
