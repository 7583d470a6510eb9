"""Running a check in a forked child process (for the stores' fork tests)."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from collections.abc import Callable


def exit_code_in_fork(child: Callable[[], bool]) -> int | None:
    """Fork; the child exits 0 when ``child()`` is true, 1 otherwise. The child's exit
    code, or None when it was still running after 10 seconds (it is then killed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # a fork with threads running
        pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = 0 if child() else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 10
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        threading.Event().wait(0.05)
    if done[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return None
    return os.waitstatus_to_exitcode(done[1])
