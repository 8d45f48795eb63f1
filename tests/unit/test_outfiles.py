"""Output files: a bad path is refused before any work; a failed write leaves the old file
as it was and no partial file beside it."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pytest

from monitor.errors import InvalidRequest, OutputError
from monitor.services.outfiles import write_whole


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path: Path) -> None:
    target = tmp_path / "e.warc.gz"
    target.write_bytes(b"old")

    def write(stream: BinaryIO) -> int:
        stream.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match=r"e\.warc\.gz: No space left on device"):
        write_whole(target, "WARC file", write)
    assert [p.name for p in tmp_path.iterdir()] == ["e.warc.gz"]
    assert target.read_bytes() == b"old"


def test_a_whole_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "e.warc.gz"
    target.write_bytes(b"old")
    assert write_whole(target, "WARC file", lambda s: s.write(b"new")) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["e.warc.gz"]
    assert target.read_bytes() == b"new"


@pytest.mark.parametrize(
    ("name", "problem"),
    [("missing/x.zip", "folder .* does not exist"), (".", "is a directory")],
)
def test_a_path_that_cannot_be_written_is_an_invalid_request(
    tmp_path: Path, name: str, problem: str
) -> None:
    with pytest.raises(InvalidRequest, match=f"bundle .*: {problem}"):
        write_whole(tmp_path / name, "bundle", lambda s: s.write(b"x"))
