"""Python work on the machine's other core: `in_child(work, fallback)` forks, runs `work()` in the child
process and hands its result back through a pipe (pickled) while the caller goes on with its own work. A
thread cannot do that for Python code: the GIL runs one thread's Python at a time.

`work` must only compute and read (git objects, files): what it changes happens in the child and is lost.
The child never returns into the caller's code: it ends with `os._exit` (no atexit handler, no flush of the
caller's buffered output). A daemon thread of the caller reads the pipe and reaps the child, so a result
nobody asks for costs the caller nothing, not even at its exit.

The result is the answer of `work`, or `fallback()` computed by the caller when the child could not give
one: it died, it did not answer within `timeout` seconds (it is then killed), its answer did not pickle, or
`work` raised (the caller's `fallback` then meets the error itself and raises it as the caller expects:
pickle cannot be trusted to rebuild an exception whose constructor takes other arguments than its
message). Without `os.fork` (not Linux) the work runs on a daemon thread.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_NO_ANSWER = object()


def _child(work: Callable[[], Any], out: int) -> None:  # pragma: no cover - runs in the forked child
    """Compute, write the pickled answer (nothing when `work` raised), exit without returning."""
    try:
        try:
            blob = pickle.dumps(work())
        except BaseException:
            blob = b""
        view = memoryview(blob)
        while view:
            view = view[os.write(out, view) :]
        os.close(out)  # the answer is complete now: before the exit tears the address space down (~5 ms)
    finally:
        os._exit(0)


def _read_all(fd: int, timeout: float) -> bytes | None:
    """Everything the child writes until it closes the pipe; None when it takes longer than `timeout`."""
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


class ChildWork(Generic[T]):
    """`work()` under way in a forked child (on a daemon thread where there is no fork)."""

    def __init__(self, work: Callable[[], T], fallback: Callable[[], T], *, timeout: float) -> None:
        self._fallback = fallback
        self._answer: Any = _NO_ANSWER
        self._answered = threading.Event()  # the answer (or the lack of one) is in
        self._done = threading.Event()  # ... and the child is reaped
        self.pid: int | None = None  # the child's, while it runs or until it is reaped
        if not hasattr(os, "fork") or sys.platform != "linux":
            self._start(lambda: self._run_here(work))
            return
        read, write = os.pipe()
        pid = -1
        gc.freeze()  # the child's collections leave the caller's objects alone: no page copied for them
        try:
            with warnings.catch_warnings():  # 3.12+ warns about fork with threads: the child only runs `work`
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                os.close(read)
                _child(work, write)
        finally:
            if pid != 0:
                gc.unfreeze()
        os.close(write)
        self.pid = pid
        self._start(lambda: self._collect(pid, read, timeout))

    def _start(self, target: Callable[[], None]) -> None:
        threading.Thread(target=target, name="odoo-gitops-child", daemon=True).start()

    def _run_here(self, work: Callable[[], T]) -> None:
        try:
            self._answer = work()
        except BaseException:  # `fallback` raises it again for the caller
            self._answer = _NO_ANSWER
        finally:
            self._answered.set()
            self._done.set()

    def _collect(self, pid: int, read: int, timeout: float) -> None:
        try:
            blob = _read_all(read, timeout)
            if blob is None:  # no answer in time: stop the child, the caller computes
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            elif blob:
                self._answer = pickle.loads(blob)  # noqa: S301 - written by our own child
        except Exception:  # an answer that cannot be read is no answer
            self._answer = _NO_ANSWER
        finally:
            os.close(read)
            self._answered.set()  # the caller goes on while the child exits
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self._done.set()

    def finished(self, timeout: float | None = None) -> bool:
        """Whether the answer (or the lack of one) is in and the child reaped, waiting up to `timeout`."""
        return self._done.wait(timeout)

    def answered(self, timeout: float | None = None) -> bool:
        """Whether the answer (or the lack of one) is in, waiting up to `timeout` (the child may still be
        exiting: the collector reaps it)."""
        return self._answered.wait(timeout)

    def result(self) -> T:
        """The child's answer, waiting for it (not for the child's exit); else `fallback()`, computed here."""
        self._answered.wait()
        if self._answer is _NO_ANSWER:
            return self._fallback()
        answer: T = self._answer
        return answer


def in_child(work: Callable[[], T], fallback: Callable[[], T], *, timeout: float) -> ChildWork[T]:
    """Start `work()` in a forked child (see the module's notes); `.result()` waits for its answer."""
    return ChildWork(work, fallback, timeout=timeout)
