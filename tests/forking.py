"""Child processes forked from the test's, for the tests whose point is another process: one
killed part way through writing (tests/orders/test_faults.py, tests/ledger/test_faults.py),
another machine's search index (tests/providers/test_search_processes.py).

They used to start `python -m tests.<folder>.<child>`: a fresh interpreter that imported the
whole app again, 3 s of CPU a child. A fork of the test's process has the app imported
already, and its warnings filters (pytest's: every warning an error); the child still builds
its own app, engine and connections (each child's `main` does), and is a process of its own,
which the fault tests kill with SIGKILL.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from marketplace.extensions import db


@dataclass
class Child:
    """A forked child: its process id, and its standard output and error as pipes."""

    pid: int
    out: TextIO
    err: TextIO


def fork(main: Callable[..., object], arguments: list[str]) -> Child:
    """Run `main(*arguments)` in a child forked from this process; it exits 0 if `main`
    returns, 1 (its traceback on its standard error) if it raises.

    Must run in the test's app context. Its session's transaction is ended first (a test has
    committed what the child must see): on SQLite a lock this process held as it forked would
    be taken by the child for its own (SQLite keeps one record of a file's locks a process).
    The child never returns into pytest: it ends by `os._exit` whatever happens, and the
    collector leaves what it inherited alone, so nothing of the test's is finalised there.
    """
    db.session.rollback()
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            gc.freeze()
            os.close(out_read)
            os.close(err_read)
            os.dup2(out_write, 1)
            os.dup2(err_write, 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (ended by os._exit)
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            main(*arguments)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(out_write)
    os.close(err_write)
    return Child(pid, os.fdopen(out_read), os.fdopen(err_read))


def finish(child: Child, timeout: float = 120) -> tuple[int, str, str]:
    """Wait for the child to end (killing it after `timeout` seconds): its exit code (minus
    the signal's number if a signal ended it), standard output and standard error."""
    deadline = time.monotonic() + timeout
    read: dict[TextIO, bytearray] = {child.out: bytearray(), child.err: bytearray()}
    open_pipes = [child.out, child.err]
    while open_pipes and time.monotonic() < deadline:
        ready, _, _ = select.select(open_pipes, [], [], deadline - time.monotonic())
        for pipe in ready:
            chunk = os.read(pipe.fileno(), 65536)
            if chunk:
                read[pipe] += chunk
            else:
                open_pipes.remove(pipe)
    if open_pipes:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGKILL)
    _, status = os.waitpid(child.pid, 0)
    child.out.close()
    child.err.close()
    return os.waitstatus_to_exitcode(status), read[child.out].decode(), read[child.err].decode()


def kill_when_paused(main: Callable[..., None], arguments: list[str], expect: str) -> None:
    """Run `main(*arguments)` in a forked child (see `fork`), wait for the line it prints where
    it pauses, check that it is `expect`, and kill the child there with SIGKILL."""
    child = fork(main, arguments)
    status: int | None = None
    try:
        ready, _, _ = select.select([child.out], [], [], 60)
        line = child.out.readline() if ready else ""
        ended, status = os.waitpid(child.pid, os.WNOHANG)
        if not ended:
            status = None
        assert line.strip() == expect, child.err.read() if status is not None else ""
        assert status is None, "the child ended by itself"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            _, status = os.waitpid(child.pid, 0)
        child.out.close()
        child.err.close()
    assert os.WIFSIGNALED(status), status
    assert os.WTERMSIG(status) == signal.SIGKILL
