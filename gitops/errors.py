"""One exception hierarchy for the toolkit and the single place that maps errors to exit codes.

Exit codes (shared/DESIGN.md): 0 ok, 1 an outside system failed, 2 usage or invalid config,
3 policy said no, 4 verification failed or timed out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_EXTERNAL = 1
EXIT_USAGE = 2
EXIT_POLICY = 3
EXIT_VERIFY = 4

_SECRET_PATTERNS = (
    re.compile(r"(gh[pousr]_[A-Za-z0-9]{8,})"),
    re.compile(r"(github_pat_[A-Za-z0-9_]{8,})"),
    re.compile(
        r"(?i)((?:authorization|token|password|passwd|secret)\s*[:=]\s*)(?:bearer\s+|token\s+|basic\s+)?(\S+)"
    ),
    re.compile(r"(https?://)[^/@\s:]+:[^/@\s]+@"),
)
_registered_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that `redact` removes it from every message we print."""
    if value and len(value) >= 4:
        _registered_secrets.add(value)


def redact(text: str) -> str:
    """Remove known secrets and secret-looking tokens from a message."""
    for secret in sorted(_registered_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _SECRET_PATTERNS[0].sub("***", text)
    text = _SECRET_PATTERNS[1].sub("***", text)
    text = _SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)}***", text)
    return _SECRET_PATTERNS[3].sub(r"\1***@", text)


class GitopsError(Exception):
    """Base of every error the toolkit raises on purpose. `exit_code` decides the process exit status."""

    exit_code = EXIT_EXTERNAL
    kind = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(redact(message))
        self.message = redact(message)
        self.hint = redact(hint) if hint else None

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"error": self.kind, "message": self.message}
        if self.hint:
            data["hint"] = self.hint
        return data

    def render(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ExternalError(GitopsError):
    """An outside system (engine, registry, git, forge, Kubernetes API) failed or timed out."""

    exit_code = EXIT_EXTERNAL
    kind = "external"


class UsageError(GitopsError):
    """The command line was wrong."""

    exit_code = EXIT_USAGE
    kind = "usage"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a config file, located by file and line (1-based; 0 when unknown)."""

    file: str
    line: int
    message: str
    column: int = field(default=0, compare=False)

    def render(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class ConfigError(GitopsError):
    """The config repository is invalid. Carries every problem found, not just the first."""

    exit_code = EXIT_USAGE
    kind = "config"

    def __init__(self, problems: Iterable[Problem], *, hint: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(set(problems)))
        count = len(self.problems)
        head = f"invalid configuration ({count} problem{'s' if count != 1 else ''}):"
        body = "\n".join(f"  {p.render()}" for p in self.problems)
        super().__init__(f"{head}\n{body}", hint=hint)

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        data["problems"] = [{"file": p.file, "line": p.line, "message": p.message} for p in self.problems]
        return data


class PolicyError(GitopsError):
    """A policy said no: window closed, gate unmet, scan failed, bad signature, precondition unmet."""

    exit_code = EXIT_POLICY
    kind = "policy"

    def __init__(self, message: str, *, reasons: Sequence[str] = (), hint: str | None = None) -> None:
        self.reasons = tuple(redact(r) for r in reasons)
        full = message if not reasons else message + "\n" + "\n".join(f"  - {r}" for r in self.reasons)
        super().__init__(full, hint=hint)

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        data["reasons"] = list(self.reasons)
        return data


class VerificationError(GitopsError):
    """Verification failed or timed out."""

    exit_code = EXIT_VERIFY
    kind = "verification"
