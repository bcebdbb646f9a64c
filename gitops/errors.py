"""One exception hierarchy for the toolkit and the single place that maps errors to exit codes.

Exit codes (shared/DESIGN.md): 0 ok, 1 an outside system failed, 2 usage or invalid config,
3 policy said no, 4 verification failed or timed out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from gitops.redact import clone_sources, redact, register_secret

__all__ = [
    "EXIT_CODES",
    "EXIT_EXTERNAL",
    "EXIT_OK",
    "EXIT_POLICY",
    "EXIT_USAGE",
    "EXIT_VERIFY",
    "ConfigError",
    "ExternalError",
    "GitopsError",
    "PolicyError",
    "Problem",
    "Report",
    "UsageError",
    "VerificationError",
    "exit_code_of",
    "redact",
    "register_secret",
]

EXIT_OK = 0
EXIT_EXTERNAL = 1
EXIT_USAGE = 2
EXIT_POLICY = 3
EXIT_VERIFY = 4


@dataclass(frozen=True, kw_only=True)
class Report:
    """A verb's result as the verb prints it: `data` is its one JSON document (--json), `text` the human
    rendering. A verdict that says no carries its report, so the handler prints the result exactly as the
    verb prints a success, and only the exit code differs."""

    data: object
    text: Callable[[], str] | str = ""
    # the text is a renderer's styled terminal output whose every value was cleaned of control characters
    # (gitops.board.terminal.text): its escape sequences are the renderer's own and are printed as they are
    styled: bool = False

    def human(self) -> str:
        return self.text() if callable(self.text) else self.text


class GitopsError(Exception):
    """Base of every error the toolkit raises on purpose; `exit_code_of` gives its exit status.

    `report`: the verb's result, printed instead of an error line (a verdict: window closed, gate pending,
    scan failed, audit log tampered with, verify failed or timed out)."""

    kind = "error"

    def __init__(self, message: str, *, hint: str | None = None, report: Report | None = None) -> None:
        super().__init__(redact(message))
        self.read_from = clone_sources(f"{message}\n{hint or ''}")  # temporary clones the message names
        self.message = redact(message)
        self.hint = redact(hint) if hint else None
        self.report = report

    @property
    def exit_code(self) -> int:
        return exit_code_of(self)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"error": self.kind, "message": self.message}
        if self.hint:
            data["hint"] = self.hint
        return data

    def render(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ExternalError(GitopsError):
    """An outside system (engine, registry, git, forge, Kubernetes API) failed or timed out."""

    kind = "external"


class UsageError(GitopsError):
    """The command line was wrong."""

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

    kind = "policy"

    def __init__(
        self,
        message: str,
        *,
        reasons: Sequence[str] = (),
        hint: str | None = None,
        report: Report | None = None,
    ) -> None:
        self.reasons = tuple(redact(r) for r in reasons)
        full = message if not reasons else message + "\n" + "\n".join(f"  - {r}" for r in self.reasons)
        super().__init__(full, hint=hint, report=report)

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        data["reasons"] = list(self.reasons)
        return data


class VerificationError(GitopsError):
    """Verification failed or timed out (verify's verdicts failed, partial and timed-out; the report
    they carry is what `--json` prints)."""

    kind = "verification"


# ---------------------------------------------------------------- the one map from error to exit code

# Each error type's exit code; a subclass not listed takes its nearest listed base's code.
EXIT_CODES: dict[type, int] = {
    GitopsError: EXIT_EXTERNAL,
    ExternalError: EXIT_EXTERNAL,
    UsageError: EXIT_USAGE,
    ConfigError: EXIT_USAGE,
    PolicyError: EXIT_POLICY,
    VerificationError: EXIT_VERIFY,
}


def exit_code_of(error: BaseException) -> int:
    """The process exit status for `error`: its type's code in EXIT_CODES (nearest listed base wins);
    EXIT_EXTERNAL for anything else (an unexpected error is reported, never a traceback)."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return EXIT_EXTERNAL
