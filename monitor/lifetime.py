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
# The pid a process of the extraction pool expects as its parent: the service sets its own
# before the forkserver starts, the forkserver sets its own before it forks pool workers.
POOL_PARENT_ENV = "MONITOR_POOL_PARENT"


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


def expect_pool_children() -> None:
    """In a process about to start pool children: they are to die with this one."""
    os.environ[POOL_PARENT_ENV] = str(os.getpid())


def join_pool() -> None:
    """In a forkserver or pool worker: die with the parent named by the environment, even
    when it died before this process got here (a kill in the first second of start-up)."""
    parent = os.environ.get(POOL_PARENT_ENV, "")
    die_with_parent(parent=int(parent) if parent.isdigit() else None)
