"""OPML 2.0 subscription lists: read one (listparser) into feed outlines, write one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import listparser

from monitor.errors import ParseError


@dataclass(frozen=True, slots=True)
class Outline:
    """One feed of a subscription list; categories become tags."""

    url: str
    title: str = ""
    tags: tuple[str, ...] = ()


def read_opml(body: bytes, *, source: str = "OPML") -> tuple[tuple[Outline, ...], int]:
    """The http(s) feeds of an OPML document and how many feeds it lists in all; ParseError
    when it is not readable OPML."""
    parsed = listparser.parse(body)
    if parsed.bozo and not parsed.feeds:
        raise ParseError(f"{source}: not a readable OPML file ({parsed.bozo_exception})")
    if not parsed.get("version") and not parsed.feeds:
        raise ParseError(f"{source}: not an OPML file (no <opml> document)")
    outlines = tuple(
        Outline(
            str(item.url),
            str(item.title or ""),
            tuple(sorted({str(t) for cat in item.categories for t in cat if t})),
        )
        for item in parsed.feeds
        if str(item.url).startswith(("http://", "https://"))
    )
    return outlines, len(parsed.feeds)


def write_opml(outlines: Sequence[Outline], *, title: str = "feed-monitor feeds") -> str:
    """An OPML 2.0 document of the outlines."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{title}</title></head>",
        "  <body>",
    ]
    for outline in outlines:
        attrs = f'type="rss" text={quoteattr(outline.title or outline.url)} xmlUrl={quoteattr(outline.url)}'
        if outline.tags:
            attrs += f" category={quoteattr(','.join(outline.tags))}"
        lines.append(f"    <outline {attrs}/>")
    lines += ["  </body>", "</opml>"]
    return "\n".join(lines)
