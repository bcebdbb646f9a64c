"""gitops/childwork.py: work in a forked child, its answer through a pipe; the caller's fallback whenever the
child cannot answer (it raised, died, hung, or answered something that does not pickle)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from gitops import childwork
from gitops.childwork import in_child

SEEN: list[str] = []


def reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # not our child any more: the collector reaped it
    return False


def test_the_answer_is_computed_in_another_process_and_the_child_is_reaped() -> None:
    work = in_child(lambda: (os.getpid(), [1, "two", {"three": 3}]), fallback=lambda: (0, []), timeout=60)
    pid, value = work.result()
    assert pid == work.pid and pid != os.getpid()
    assert value == [1, "two", {"three": 3}]
    assert work.finished(timeout=60) and reaped(pid)  # the collector reaps it (after the answer is in)


def _answer_then_exit_slowly() -> int:
    """In the child: its exit takes a second (as tearing down a big copy-on-write heap takes a while)."""
    real_exit = os._exit

    def slow_exit(code: int) -> None:
        time.sleep(1.0)
        real_exit(code)

    os._exit = slow_exit  # type: ignore[assignment]  # the child's own os module: the caller's is untouched
    return 42


def test_the_answer_is_handed_over_before_the_child_has_exited() -> None:
    """The child closes the pipe once its answer is written: the caller goes on without waiting for the
    child's exit, which the collector waits for and reaps."""
    work = in_child(_answer_then_exit_slowly, fallback=lambda: -1, timeout=60)
    assert work.result() == 42 and work.answered(0)
    assert not work.finished(0)  # still exiting: the answer did not wait for it
    assert work.finished(timeout=60) and work.pid is not None and reaped(work.pid)
    assert os._exit is not None and os._exit.__name__ == "_exit"


def test_what_the_work_changes_stays_in_the_child() -> None:
    SEEN.clear()
    work = in_child(lambda: SEEN.append("child") or len(SEEN), fallback=lambda: -1, timeout=60)
    assert work.result() == 1 and SEEN == []


def boom() -> int:
    raise ValueError("in the child")


@pytest.mark.parametrize(
    ("work", "why"),
    [
        (boom, "the work raised"),
        (lambda: os.kill(os.getpid(), signal.SIGKILL), "the child died"),
        (lambda: lambda: 1, "the answer does not pickle"),
    ],
)
def test_without_an_answer_the_fallback_is_computed_by_the_caller(work: object, why: str) -> None:
    caller = os.getpid()
    child = in_child(work, fallback=lambda: ("fallback", os.getpid()), timeout=60)  # type: ignore[arg-type]
    assert child.result() == ("fallback", caller), why
    assert child.finished(timeout=60) and child.pid is not None and reaped(child.pid)


def test_a_child_that_does_not_answer_in_time_is_killed_and_the_fallback_used(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"

    def hang() -> str:
        while True:
            marker.write_text(str(time.monotonic()))
            time.sleep(0.05)

    child = in_child(hang, fallback=lambda: "fallback", timeout=0.5)
    assert child.result() == "fallback"
    assert child.finished(timeout=60) and child.pid is not None and reaped(child.pid)
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)  # killed, not left running


def test_an_answer_nobody_asks_for_is_collected_and_its_child_reaped(tmp_path: Path) -> None:
    child = in_child(lambda: "unwanted", fallback=lambda: "fallback", timeout=60)
    assert child.finished(timeout=60)
    assert child.pid is not None and reaped(child.pid)


def test_without_fork_the_work_runs_on_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(childwork.sys, "platform", "darwin")
    child = in_child(lambda: os.getpid(), fallback=lambda: -1, timeout=60)
    assert child.result() == os.getpid() and child.pid is None
    failing = in_child(boom, fallback=lambda: -1, timeout=60)
    assert failing.result() == -1
    assert sys.platform == "darwin"  # (the patch is what made it a thread)
