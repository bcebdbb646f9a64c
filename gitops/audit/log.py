"""Hash-chained JSON-lines audit log.

Each line is one entry; `hash` is the SHA-256 of the canonical JSON of the entry without `hash`, and `prev`
is the previous entry's hash (64 zeros for the first), so editing, removing or reordering any entry breaks
the chain at that entry. An optional idempotency `key` makes re-running a command safe: appending an entry
whose key is already in the log returns the existing entry and writes nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gitops.errors import ConfigError, Problem, redact

GENESIS = "0" * 64
KINDS = frozenset(
    {"promotion", "approval", "override", "verification", "rollback", "gate", "merge", "note", "backup"}
)
# non-production environments: restore rehearsals, env create/extend/expire PRs, refresh PRs (issue 18)
KINDS |= {"rehearsal", "lifecycle", "refresh"}


def canonical_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json({k: v for k, v in body.items() if k != "hash"}).encode()).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    env: str
    kind: str
    actor: str
    data: dict[str, Any]
    key: str | None
    prev: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "env": self.env,
            "kind": self.kind,
            "actor": self.actor,
            "data": self.data,
            "key": self.key,
            "prev": self.prev,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class ChainReport:
    env: str
    ok: bool
    entries: int
    first_bad_line: int | None = None
    first_bad_seq: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "ok": self.ok,
            "entries": self.entries,
            "first_bad_line": self.first_bad_line,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
        }


def audit_path(repo_root: Path, env: str) -> Path:
    return repo_root / "audit" / f"{env}.jsonl"


def _scrub(value: Any) -> Any:
    """Secrets never reach the audit log: redact every string on the way in."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def _parse_line(path: str, number: int, line: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError([Problem(path, number, f"audit entry is not valid JSON: {exc.msg}")]) from None
    if not isinstance(data, dict):
        raise ConfigError([Problem(path, number, "audit entry is not a JSON object")])
    return data


def _raw_entries(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        yield from _raw_lines(str(path), handle)


def _raw_lines(where: str, lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, _parse_line(where, number, line)


def _to_entry(data: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        seq=int(data["seq"]),
        at=str(data["at"]),
        env=str(data["env"]),
        kind=str(data["kind"]),
        actor=str(data["actor"]),
        data=dict(data.get("data") or {}),
        key=data.get("key"),
        prev=str(data["prev"]),
        hash=str(data["hash"]),
    )


def read_entries(path: Path) -> list[AuditEntry]:
    """All entries, in file order (call verify_chain to know whether they can be trusted)."""
    return _entries(str(path), _raw_entries(path))


def _lines(text: str) -> list[str]:
    """A log's lines as a file reads them: split at line feeds only. `str.splitlines` also splits at
    U+2028, U+2029 and NEL, which JSON leaves unescaped inside strings (an emergency reason may hold one)."""
    return text.split("\n")


def parse_entries(text: str, where: str) -> list[AuditEntry]:
    """The entries of a log's text (as read from git); `where` names it in errors."""
    return _entries(where, _raw_lines(where, _lines(text)))


def _entries(where: str, raw: Iterable[tuple[int, dict[str, Any]]]) -> list[AuditEntry]:
    entries, line = [], 0
    try:
        for line, data in raw:  # noqa: B007 (`line` names the bad entry below)
            entries.append(_to_entry(data))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError([Problem(where, line, f"audit entry is missing a field: {exc}")]) from None
    return entries


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def append_entry(
    path: Path,
    *,
    env: str,
    kind: str,
    actor: str,
    data: Mapping[str, Any],
    key: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry (or return the existing one with the same idempotency `key`)."""
    with _locked(path):
        entries = read_entries(path)
        on_record, body = _next(entries, env=env, kind=kind, actor=actor, data=data, key=key, at=at)
        if on_record is not None:
            return on_record
        with path.open("a", encoding="utf-8") as handle:
            handle.write(canonical_json(body) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        return _to_entry(body)


def _next(
    entries: list[AuditEntry],
    *,
    env: str,
    kind: str,
    actor: str,
    data: Mapping[str, Any],
    key: str | None,
    at: datetime | None,
) -> tuple[AuditEntry | None, dict[str, Any]]:
    """The entry already on record under `key` (then nothing is appended), else the body to append."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit entry kind {kind!r}")
    if key is not None:
        for existing in entries:
            if existing.key == key:
                return existing, {}
    last = entries[-1] if entries else None
    body: dict[str, Any] = {
        "seq": last.seq + 1 if last else 1,
        "at": (at or datetime.now(UTC)).astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "env": env,
        "kind": kind,
        "actor": redact(actor),
        "data": _scrub(data),
        "key": key,
        "prev": last.hash if last else GENESIS,
    }
    body["hash"] = entry_hash(body)
    return None, body


def append_text(
    text: str,
    *,
    where: str,
    env: str,
    kind: str,
    actor: str,
    data: Mapping[str, Any],
    key: str | None = None,
    at: datetime | None = None,
) -> tuple[str, AuditEntry]:
    """`append_entry` for a log's text (as read from git): the text with the entry appended (or as it is,
    with the entry already on record under `key`), and that entry."""
    on_record, body = _next(
        parse_entries(text, where), env=env, kind=kind, actor=actor, data=data, key=key, at=at
    )
    if on_record is not None:
        return text, on_record
    lead = "\n" if text and not text.endswith("\n") else ""
    return f"{text}{lead}{canonical_json(body)}\n", _to_entry(body)


def verify_chain(path: Path, env: str) -> ChainReport:
    """Check every entry's hash, its link to the previous one and the sequence; name the first bad entry."""
    return _verify(lambda: list(_raw_entries(path)), env)


def verify_text(text: str, env: str, where: str) -> ChainReport:
    """verify_chain for a log's text (as read from git)."""
    return _verify(lambda: list(_raw_lines(where, _lines(text))), env)


def _verify(read: Callable[[], list[tuple[int, dict[str, Any]]]], env: str) -> ChainReport:
    prev, expected_seq, count = GENESIS, 1, 0
    try:
        raw = read()
    except ConfigError as exc:
        first = exc.problems[0]
        return ChainReport(env, False, 0, first.line, None, first.message)
    for number, data in raw:
        count += 1
        seq = data.get("seq") if isinstance(data.get("seq"), int) else None
        problem = _check_link(data, prev, expected_seq)
        if problem:
            return ChainReport(env, False, count - 1, number, seq, problem)
        prev, expected_seq = data["hash"], expected_seq + 1
    return ChainReport(env, True, count)


def _check_link(data: dict[str, Any], prev: str, expected_seq: int) -> str | None:
    missing = [k for k in ("seq", "at", "env", "kind", "actor", "prev", "hash") if k not in data]
    if missing:
        return f"entry lacks {', '.join(missing)}"
    if data["hash"] != entry_hash(data):
        return f"entry seq {data['seq']} was edited (its hash does not match its content)"
    if data["seq"] != expected_seq:
        return f"expected entry seq {expected_seq}, found seq {data['seq']} (entries removed or reordered)"
    if data["prev"] != prev:
        return f"entry seq {data['seq']} does not follow the previous entry (removed or reordered)"
    return None
