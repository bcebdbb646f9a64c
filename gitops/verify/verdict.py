"""The one result type every verdict returns: ok, pending (with what is missing) or failed (with why)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class State(StrEnum):
    OK = "ok"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True)
class Verdict:
    """`missing` lists what a pending subject still lacks; `reasons` say why a failed one failed."""

    state: State
    subject: str
    missing: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    @classmethod
    def ok(cls, subject: str) -> Verdict:
        return cls(State.OK, subject)

    @classmethod
    def pending(cls, subject: str, *missing: str) -> Verdict:
        return cls(State.PENDING, subject, missing=tuple(missing))

    @classmethod
    def failed(cls, subject: str, *reasons: str) -> Verdict:
        return cls(State.FAILED, subject, reasons=tuple(reasons))

    @property
    def done(self) -> bool:
        return self.state is not State.PENDING

    def details(self) -> tuple[str, ...]:
        """The human lines of this verdict, each prefixed with its subject."""
        lines = self.reasons if self.state is State.FAILED else self.missing
        return tuple(f"{self.subject}: {line}" for line in lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "state": self.state.value,
            "missing": list(self.missing),
            "reasons": list(self.reasons),
        }


def combine(subject: str, verdicts: Iterable[Verdict]) -> Verdict:
    """Failed if any failed, pending if any is pending, ok only when all are ok (and there is one)."""
    parts = list(verdicts)
    failed = [line for v in parts if v.state is State.FAILED for line in v.details()]
    if failed:
        return Verdict.failed(subject, *failed)
    pending = [line for v in parts if v.state is State.PENDING for line in v.details()]
    if pending:
        return Verdict.pending(subject, *pending)
    if not parts:
        return Verdict.pending(subject, "nothing observed yet")
    return Verdict.ok(subject)


# ---------------------------------------------------------------- small readers over API objects


def dig(obj: Mapping[str, Any] | None, *path: str) -> Any:
    """obj[a][b][c], or None when any step is missing or not a mapping."""
    current: Any = obj
    for key in path:
        if type(current) is not dict and not isinstance(current, Mapping):  # dict first: it is the hot path
            return None
        current = current.get(key)
    return current


def condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    """The status condition of type `kind`, if any."""
    for cond in dig(obj, "status", "conditions") or ():
        if isinstance(cond, Mapping) and cond.get("type") == kind:
            return cond
    return None


def condition_is(obj: Mapping[str, Any], kind: str, status: str) -> bool:
    cond = condition(obj, kind)
    return cond is not None and cond.get("status") == status


def describe(obj: Mapping[str, Any], kind: str) -> str:
    """'Kind namespace/name' for messages."""
    meta = obj.get("metadata") or {}
    return f"{kind} {meta.get('namespace', '?')}/{meta.get('name', '?')}"


def generation_current(obj: Mapping[str, Any]) -> bool:
    generation = dig(obj, "metadata", "generation")
    observed = dig(obj, "status", "observedGeneration")
    return generation is None or (observed is not None and int(observed) >= int(generation))


def parse_time(value: Any) -> datetime | None:
    """RFC 3339 (with or without fractional seconds, nanoseconds tolerated) → aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        zone = rest.lstrip("0123456789")  # the fraction's digits, then the offset (its digits are not ours)
        digits = rest[: len(rest) - len(zone)]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
