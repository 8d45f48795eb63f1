"""Child processes that end with their parent (Linux `PR_SET_PDEATHSIG`).

The forkserver and pool workers of the extraction pool, and the workers of `monitor run
--workers N`, ask the kernel for a signal when their parent dies, so no SIGKILLed service
or supervisor leaves processes (and their ports and memory) behind. Elsewhere than Linux
this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Mapping

_PR_SET_PDEATHSIG = 1
SUPERVISOR_ENV = "MONITOR_SUPERVISOR_PID"  # set by `run --workers N` in each worker's env


def die_with_parent(signum: int = signal.SIGKILL, *, parent: int | None = None) -> None:
    """Have Linux send `signum` to this process when its parent dies. With `parent` (the
    pid the parent had), a parent already gone before the request is caught too."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signum)
    except (OSError, AttributeError):  # no prctl: the child outlives a killed parent
        return
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signum)


def follow_supervisor(environ: Mapping[str, str]) -> None:
    """In a worker of `run --workers N`: stop (SIGTERM, graceful) when the supervisor dies."""
    supervisor = environ.get(SUPERVISOR_ENV, "")
    if supervisor.isdigit():
        die_with_parent(signal.SIGTERM, parent=int(supervisor))
