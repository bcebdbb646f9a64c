"""Promote-time supply-chain evidence for the stage's gates: the image signature and the scan attestation,
checked against the target's key and policy on main, each asked for only when a gate needs it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from gitops.config.loader import ConfigRepo, EnvBundle
from gitops.gates.evidence import Evidence, SupplyResult
from gitops.gates.registry import run_gates
from gitops.promote.plan_gates import missing_key_reasons
from gitops.promote.stage_seams import SupplyChecks

T = TypeVar("T")


def public_key(repo: ConfigRepo, target: EnvBundle) -> bytes | None:
    signing = target.config.signing
    return repo.files.read(signing.public_key) if signing else None


def _once(work: Callable[[], T]) -> Callable[[], T]:
    done: list[T] = []

    def get() -> T:
        if not done:
            done.append(work())
        return done[0]

    return get


def supply_evidence(
    checks: SupplyChecks, repo: ConfigRepo, target: EnvBundle, image: str, now: datetime
) -> Evidence:
    """Promote-time evidence for the stage's gates; the registry asks only for what its gates need."""
    key = public_key(repo, target)
    policy = target.config.scan_policy

    def signature() -> SupplyResult:
        if key is None:
            return SupplyResult(
                ok=False, text=f"{target.name!r} has no signing.public_key: cannot verify the signature"
            )
        sig = checks.signature(image, key)
        if not sig.ok:
            return SupplyResult(
                ok=False, text=f"image signature does not verify with {target.name}'s key: {sig.reason}"
            )
        return SupplyResult(ok=True, text=f"verified (key {sig.key_id})")

    def scan() -> SupplyResult:
        if not policy.required:
            return SupplyResult(ok=True, text="not required by the scan policy")
        if key is None:
            return SupplyResult(
                ok=False,
                text=f"{target.name!r} has no signing.public_key: cannot verify the scan attestation",
            )
        ev = checks.scan(image, key, policy)
        counts = ", ".join(f"{k} {v}" for k, v in sorted((ev.counts_by_severity or {}).items()))
        text = f"({counts or 'no findings'}; trivy {ev.trivy_version}, scanned {ev.scanned_at})"
        if not ev.ok:
            return SupplyResult(
                ok=False, text=f"no passing scan attestation under {target.name}'s policy: {ev.reason} {text}"
            )
        return SupplyResult(ok=True, text=f"passed {text}")

    return Evidence(
        phase="promote",
        policy=target.config.gate_policy,
        change_class="normal",
        destructive=False,
        signature=_once(signature),
        scan=_once(scan),
        now=now,
    )


def supply_reasons(
    checks: SupplyChecks,
    repo: ConfigRepo,
    target: EnvBundle,
    image: str,
    gates: tuple[str, ...],
    *,
    now: datetime,
) -> tuple[list[str], tuple[tuple[str, SupplyResult], ...]]:
    """Run the stage's promote-time gates; (reasons they refuse, the evidence they saw)."""
    missing = missing_key_reasons(target, gates)
    if missing:  # one sentence for both gates, as plan says it
        return missing, ()
    evidence = supply_evidence(checks, repo, target, image, now)
    results = run_gates(gates, evidence)
    reasons = [reason for r in results if r.state != "success" for reason in r.reasons]
    seen = []
    for name, get in (("signature", evidence.signature), ("scan", evidence.scan)):
        if name in gates:
            found = get()
            if found is not None:
                seen.append((name, found))
    return reasons, tuple(seen)
