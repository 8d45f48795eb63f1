"""Files a use case writes where the user asked: the path checked before any work, the file
written under a temporary name beside it and renamed into place, so a failure leaves no
partial file and an existing file is replaced only by a complete one."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from monitor.errors import InvalidRequest, OutputError

T = TypeVar("T")


def check_output(path: Path, option: str) -> None:
    """InvalidRequest, naming `option` and the path, unless a file can be written there."""
    folder = path.parent
    if path.is_dir():
        problem = "is a directory; give a file name"
    elif not folder.is_dir():
        problem = f"folder {folder} does not exist"
    elif not os.access(folder, os.W_OK | os.X_OK):
        problem = f"folder {folder} is not writable"
    else:
        return
    raise InvalidRequest(f"{option} {path}: {problem}")


def write_whole(path: Path, option: str, write: Callable[[BinaryIO], T]) -> T:
    """Call `write` on a new file beside `path`, then rename it to `path`. A path that
    cannot be written is an InvalidRequest; a write that fails (disk full) an OutputError;
    either way the temporary file is removed."""
    check_output(path, option)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        # O_EXCL: never follow a planted link; mode 0o666 so the umask applies as usual.
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(handle, "wb") as stream:
            result = write(stream)
        os.replace(temporary, path)
    except OSError as e:
        raise OutputError(f"{option} {path}: {e.strerror or e}") from e
    finally:
        temporary.unlink(missing_ok=True)
    return result
