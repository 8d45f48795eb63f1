"""HTML fragments from feeds (titles, summaries, content) turned into plain text (pure).

Block elements become line breaks, script/style vanish, entities are decoded (titles once
more, since double-escaped `&amp;amp;` is common in real feeds), runs of spaces collapse.
`storable` replaces what no database can hold as text — NUL (PostgreSQL refuses it) and lone
surrogates (not encodable as UTF-8, e.g. a JSON Feed's "\\udc80") — with U+FFFD, so one odd
item never stops the rest of its feed from being stored.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from monitor.models import storable

_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    ]
)
_PARAGRAPHS = frozenset(
    [
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "table",
        "ul",
        "ol",
        "dl",
        "figure",
        "hr",
    ]
)
_SKIP = frozenset({"script", "style", "noscript", "template", "iframe", "object"})
_TAG_OR_ENTITY = re.compile(r"<[A-Za-z/!]|&(?:#\d+|#x[0-9a-fA-F]+|\w+);")
_SPACES = re.compile(r"[ \t\f\v\r\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


class _TextCollector(HTMLParser):
    """Collects text; a block boundary becomes a pending break written before the next text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._pending = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCKS:
            self._break(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self._break(tag)

    def handle_data(self, data: str) -> None:
        if self._skipping or not data.strip():
            if not self._skipping and data:
                self.parts.append(" ")
            return
        if self._pending and self.parts:
            self.parts.append("\n" * self._pending)
        self._pending = 0
        self.parts.append(data)

    def _break(self, tag: str) -> None:
        self._pending = max(self._pending, 2 if tag in _PARAGRAPHS else 1)


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (plain text passes through, tidied), storable."""
    if not _TAG_OR_ENTITY.search(fragment):
        return storable(_tidy(fragment))
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    return storable(_tidy("".join(collector.parts)))


def plain_title(title: str) -> str:
    """A one-line title: tags stripped, entities decoded (twice if double-escaped), storable."""
    text = html_to_text(title) if "<" in title else title
    return storable(" ".join(html.unescape(text).split()))
