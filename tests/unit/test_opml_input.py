"""`feeds import` input: a file that is not OPML is refused with one line, never "imported 0"."""

from __future__ import annotations

import pytest

from monitor.errors import ParseError
from monitor.pipeline.opml import read_opml


@pytest.mark.parametrize(
    "body",
    [b"hello, not OPML\n", b"<html><body><p>a page</p></body></html>", b'{"feeds": []}'],
)
def test_a_file_that_is_not_opml_is_refused(body: bytes) -> None:
    with pytest.raises(ParseError, match=r"^list\.txt: not an OPML file \(no <opml> document"):
        read_opml(body, source="list.txt")


def test_an_empty_opml_document_lists_nothing() -> None:
    body = b'<?xml version="1.0"?><opml version="2.0"><head/><body/></opml>'
    assert read_opml(body, source="empty.opml") == ((), 0)
