"""The one wrapper every subprocess goes through: time-outs, redaction, errors as ExternalError."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitops.errors import ExternalError, redact

DEFAULT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Completed:
    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def no_git_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment without GIT_* variables a calling hook may have set (they would redirect git)."""
    env = dict(os.environ if base is None else base)
    for key in list(env):
        if key.startswith("GIT_") and key not in {
            "GIT_SSH",
            "GIT_SSH_COMMAND",
            "GIT_ASKPASS",
            "GIT_CONFIG_GLOBAL",
            "GIT_CONFIG_NOSYSTEM",
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
            "GIT_TERMINAL_PROMPT",
        }:
            del env[key]
    return env


def run(
    args: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input_bytes: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    check: bool = True,
    what: str | None = None,
    stdout_fd: int | None = None,
) -> Completed:
    """Run a command. Non-zero exit (with check), a missing binary or a time-out raise ExternalError.
    `stdout_fd`: the command writes its output into that file (`Completed.stdout` is then empty) instead of
    a pipe, which would wake this process for every few kilobytes of a large output."""
    argv = tuple(str(a) for a in args)
    label = what or Path(argv[0]).name
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=input_bytes,
            stdout=subprocess.PIPE if stdout_fd is None else stdout_fd,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ExternalError(
            f"{label}: executable {argv[0]!r} not found", hint="install it or put it on PATH"
        ) from None
    except subprocess.TimeoutExpired:
        raise ExternalError(f"{label}: timed out after {timeout:g}s") from None
    result = Completed(argv, proc.returncode, proc.stdout or b"", proc.stderr)
    if check and proc.returncode != 0:
        out = result.out if stdout_fd is None else _tail(stdout_fd)
        detail = (result.err.strip() or out.strip())[-2000:]
        raise ExternalError(f"{label} failed (exit {proc.returncode}): {redact(detail)}")
    return result


def _tail(fd: int) -> str:
    """The end of what a command wrote into the file `fd`."""
    size = os.fstat(fd).st_size
    return os.pread(fd, 4096, max(0, size - 4096)).decode("utf-8", "replace")
