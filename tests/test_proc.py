"""gitops/proc.py: the one subprocess wrapper, with real processes: output and exit codes, failures, missing
binaries and time-outs as outside errors (redacted, the tail of the output), and the git environment fence."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from gitops.errors import ExternalError, register_secret
from gitops.proc import no_git_env, run

PY = sys.executable


def test_a_command_gives_its_exit_code_output_and_input() -> None:
    done = run([PY, "-c", "import sys; d=sys.stdin.read(); print(d.upper()); sys.stderr.write('é')"],
               input_bytes=b"odoo")  # fmt: skip
    assert (done.returncode, done.out, done.err) == (0, "ODOO\n", "é")
    assert done.args[0] == PY
    unchecked = run([PY, "-c", "raise SystemExit(3)"], check=False)
    assert unchecked.returncode == 3


def test_a_failure_names_the_command_its_code_and_the_end_of_its_output_redacted() -> None:
    secret = "proc-s3cr3t-token"
    register_secret(secret)
    script = f"import sys; sys.stderr.write('x' * 5000 + ' token {secret} refused'); sys.exit(2)"
    with pytest.raises(ExternalError) as caught:
        run([PY, "-c", script], what="helm")
    message = caught.value.message
    assert message.startswith("helm failed (exit 2): ")
    assert message.endswith(" refused")
    assert secret not in message
    assert len(message) < 2100  # the tail, not 5000 characters
    with pytest.raises(ExternalError, match=r"failed \(exit 1\): only stdout"):
        run([PY, "-c", "print('only stdout'); raise SystemExit(1)"], what="x")


def test_output_written_into_a_file_is_left_there_and_still_named_when_the_command_fails(
    tmp_path: Path,
) -> None:
    """`stdout_fd`: the command writes into that file, not a pipe; a failure that said something only on
    stdout is still reported with it."""
    with (tmp_path / "out").open("w+b") as file:
        done = run([PY, "-c", "print('x' * 100000)"], stdout_fd=file.fileno())
        assert (done.stdout, done.returncode) == (b"", 0)
        assert os.pread(file.fileno(), 200000, 0) == b"x" * 100000 + b"\n"
    with (tmp_path / "failed").open("w+b") as file, pytest.raises(ExternalError) as caught:
        run(
            [PY, "-c", "print('y' * 9000 + ' only stdout'); raise SystemExit(1)"],
            stdout_fd=file.fileno(),
            what="x",
        )
    assert caught.value.message.startswith("x failed (exit 1): yyy")
    assert caught.value.message.endswith("y only stdout") and len(caught.value.message) < 2100


def test_a_missing_binary_and_a_time_out_are_outside_errors() -> None:
    with pytest.raises(ExternalError) as caught:
        run(["/nonexistent/kubectl", "version"])
    assert caught.value.message == "kubectl: executable '/nonexistent/kubectl' not found"
    assert caught.value.hint == "install it or put it on PATH"
    started = time.monotonic()
    with pytest.raises(ExternalError, match=r"^sleeper: timed out after 0.5s$"):
        run([PY, "-c", "import time; time.sleep(30)"], timeout=0.5, what="sleeper")
    assert time.monotonic() - started < 20


def test_git_variables_that_redirect_git_are_dropped_and_identity_and_auth_kept() -> None:
    base = {
        "GIT_DIR": "/elsewhere/.git", "GIT_WORK_TREE": "/elsewhere", "GIT_INDEX_FILE": "/x",
        "GIT_OBJECT_DIRECTORY": "/y", "GIT_SSH_COMMAND": "ssh -i key", "GIT_ASKPASS": "/bin/askpass",
        "GIT_AUTHOR_NAME": "A", "GIT_COMMITTER_EMAIL": "c@example.com", "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_GLOBAL": "/h/.gitconfig", "PATH": "/usr/bin", "HOME": "/h",
    }  # fmt: skip
    assert no_git_env(base) == {
        "GIT_SSH_COMMAND": "ssh -i key", "GIT_ASKPASS": "/bin/askpass", "GIT_AUTHOR_NAME": "A",
        "GIT_COMMITTER_EMAIL": "c@example.com", "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_GLOBAL": "/h/.gitconfig", "PATH": "/usr/bin", "HOME": "/h",
    }  # fmt: skip
    assert "GIT_DIR" in base  # the caller's mapping is not changed
