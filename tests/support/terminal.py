"""Run a command on a pseudo-terminal, as a user at a terminal would, and keep every byte it wrote."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TerminalRun:
    code: int
    output: bytes  # stdout and stderr together, as the terminal received them

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", errors="replace").replace("\r\n", "\n")


def run_on_pty(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    stdin: bytes | None = None,
    columns: int = 250,
    timeout: float = 180,
) -> TerminalRun:
    """Run `args` with stdout and stderr on a new pseudo-terminal `columns` wide (stdin too,
    unless `stdin` bytes are given, which are piped); return its exit code and everything it
    printed."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    process = subprocess.Popen(
        list(args),
        stdin=subprocess.PIPE if stdin is not None else slave,
        stdout=slave,
        stderr=slave,
        env=dict(env),
        cwd=cwd,
        close_fds=True,
    )
    os.close(slave)
    if stdin is not None and process.stdin is not None:
        process.stdin.write(stdin)
        process.stdin.close()
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every copy of the terminal's other end is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        else:
            process.kill()
        code = process.wait(timeout=30)
    finally:
        os.close(master)
    return TerminalRun(code, b"".join(chunks))
