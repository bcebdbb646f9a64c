"""The audit log's head is anchored in the trusted git history of main.

The hash chain alone cannot tell that entries were cut from the END of a log, or that the whole file was
deleted: what remains is still a valid chain. Main's history can: every committed version of
`audit/<env>.jsonl` must be the previous version plus lines appended at its end. A commit (on main's
first-parent line, merges compared with their first parent) that removes or rewrites a line, inserts one
before existing ones, or deletes the file is tampering; it is named with the entries it lost.

One `git log -p -U0` over `audit/` reads every version of every log at once (no process per commit);
`parse_history` is the pure part and works on that output alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

AUDIT_DIR = "audit"
_LOG_PATH_RE = re.compile(r"^audit/([A-Za-z0-9][A-Za-z0-9._-]*)\.jsonl$")
_HUNK_RE = re.compile(rb"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")
COMMIT_MARK = b"\x00commit\x00"
LOG_FORMAT = "%x00commit%x00%H%x00%an <%ae>%x00%s"


@dataclass(frozen=True)
class LostEntry:
    """A line of the log that a commit removed or rewrote: its line number before, and its seq if readable."""

    line: int
    seq: int | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "seq": self.seq}

    def label(self) -> str:
        return f"seq {self.seq}" if self.seq is not None else f"line {self.line}"


@dataclass(frozen=True)
class Tampering:
    """One commit on main that broke the append-only rule of one log."""

    env: str
    commit: str
    author: str
    subject: str
    kind: str  # deleted | rewritten | inserted
    lost: tuple[LostEntry, ...] = ()

    def message(self) -> str:
        what = {
            "deleted": "deleted audit/{env}.jsonl",
            "rewritten": "removed or rewrote entries of audit/{env}.jsonl",
            "inserted": "inserted entries before existing ones in audit/{env}.jsonl",
        }[self.kind].format(env=self.env)
        lost = f"; entries lost: {', '.join(e.label() for e in self.lost)}" if self.lost else ""
        return f"commit {self.commit[:12]} ({self.subject!r} by {self.author}) {what}{lost}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "commit": self.commit,
            "author": self.author,
            "subject": self.subject,
            "kind": self.kind,
            "lost": [e.to_dict() for e in self.lost],
            "message": self.message(),
        }


@dataclass
class _Hunk:
    old_start: int
    eof_newline: bool = False  # git said "\ No newline at end of file" in this hunk
    minus: list[bytes] = field(default_factory=list)
    plus: list[bytes] = field(default_factory=list)


@dataclass
class _FileDiff:
    path: str | None = None
    deleted: bool = False
    hunks: list[_Hunk] = field(default_factory=list)


@dataclass
class LogHistory:
    """What main's history says about one log: how many versions were committed, and every violation."""

    env: str
    versions: int = 0
    lines: int = 0  # lines in the newest version
    exists: bool = False
    tampering: list[Tampering] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "versions": self.versions,
            "exists": self.exists,
            "tampering": [t.to_dict() for t in self.tampering],
        }


def log_env(path: str) -> str | None:
    """`prod` for `audit/prod.jsonl`; None for any other path."""
    match = _LOG_PATH_RE.match(path)
    return match.group(1) if match else None


def parse_history(output: bytes) -> dict[str, LogHistory]:
    """Check `git log --reverse -p -U0 --format=LOG_FORMAT -- audit/` output: env -> its history."""
    histories: dict[str, LogHistory] = {}
    for commit, author, subject, files in _commits(output):
        for diff in files:
            env = log_env(diff.path or "")
            if env is None:
                continue
            history = histories.setdefault(env, LogHistory(env))
            problem = _check_file(history, diff)
            if problem is not None:
                kind, lost = problem
                history.tampering.append(Tampering(env, commit, author, subject, kind, lost))
    return histories


def _commits(output: bytes) -> Iterator[tuple[str, str, str, list[_FileDiff]]]:
    # A commit starts a line; a line of a patch never does (it starts with +, -, space, @ or a header).
    for record in (b"\n" + output).split(b"\n" + COMMIT_MARK)[1:]:
        head, _, patch = record.partition(b"\n")
        sha, author, subject = [*head.split(b"\x00", 2), b"", b""][:3]
        yield sha.decode(), _text(author), _text(subject), _file_diffs(patch.splitlines())


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _file_diffs(lines: Iterable[bytes]) -> list[_FileDiff]:
    files: list[_FileDiff] = []
    for line in lines:
        if line.startswith(b"diff --git "):
            files.append(_FileDiff())
        elif not files:
            continue
        else:
            _file_line(files[-1], line)
    return files


def _file_line(diff: _FileDiff, line: bytes) -> None:
    hunk = _HUNK_RE.match(line)
    if hunk:
        diff.hunks.append(_Hunk(int(hunk.group(1))))
    elif diff.hunks and line[:1] in (b"+", b"-"):
        (diff.hunks[-1].plus if line[:1] == b"+" else diff.hunks[-1].minus).append(line[1:])
    elif diff.hunks and line.startswith(b"\\ "):
        diff.hunks[-1].eof_newline = True
    elif line.startswith(b"+++ b/") or (line.startswith(b"--- a/") and diff.path is None):
        diff.path = _text(line[6:])
    elif line.startswith(b"+++ /dev/null"):
        diff.deleted = True


def _check_file(history: LogHistory, diff: _FileDiff) -> tuple[str, tuple[LostEntry, ...]] | None:
    """Apply one commit's diff of a log to `history`; the violation it makes, if any."""
    before = history.lines
    history.versions += 1
    lost: list[LostEntry] = []
    inserted = False
    for hunk in diff.hunks:
        minus = hunk.minus
        if (
            hunk.eof_newline
            and minus == hunk.plus[: len(minus)]
            and hunk.old_start + len(minus) - 1 == before
        ):
            minus = []  # only the newline after the last line was added or dropped: no entry changed
        lost += [_lost(hunk.old_start + i, text) for i, text in enumerate(minus)]
        if not hunk.minus and hunk.plus and hunk.old_start != before:
            inserted = True
        history.lines += len(hunk.plus) - len(hunk.minus)
    history.exists = not diff.deleted
    if diff.deleted:
        history.lines = 0
        return "deleted", tuple(lost)
    if lost:
        return "rewritten", tuple(lost)
    return ("inserted", ()) if inserted else None


def _lost(line: int, raw: bytes) -> LostEntry:
    text = _text(raw)
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    seq = data.get("seq") if isinstance(data, dict) else None
    return LostEntry(line, seq if isinstance(seq, int) and not isinstance(seq, bool) else None, text)
