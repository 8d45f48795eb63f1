"""Feed parsing (pure): bytes of RSS 0.9x/1.0/2.0, RDF, Atom or JSON Feed in, a ParsedFeed out.

Steps: sniff what the body is (JSON, a feed's XML root, or an HTML page — the last is a
`ParseError` naming the feed the page links, if any); for XML pick the character
encoding (`charset.decode_xml`), hand UTF-8 to feedparser with HTML sanitizing and
relative-URI rewriting off (we keep plain text only, and resolving inside content costs
time for nothing); JSON Feed 1 and 1.1 with the stdlib `json`. Entries are then made
uniform: guid falls back id → link → hash of title and text, links are resolved against
the feed URL, titles and summaries become plain text, odd dates are parsed and future
ones clamped to `now`, duplicate guids dropped, and entries with neither guid nor link
kept only when they carry text. A bozo feed whose entries came out is fine: its
problem is kept in `ParsedFeed.warning`.

A JSON Feed nesting objects and arrays more than `MAX_JSON_DEPTH` deep is refused with one
line (checked without recursion); its fields are read as text only when they are strings
or numbers, so a nested value in a title's place never reaches `str()`.
"""

from __future__ import annotations

import calendar
import io
import json
import re
import xml.sax
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
import xxhash

from monitor.errors import ParseError, one_line
from monitor.models import Entry, ParsedFeed, storable
from monitor.pipeline.charset import decode_xml
from monitor.pipeline.dates import parse_date
from monitor.pipeline.discover import find_feed_links
from monitor.pipeline.plaintext import html_to_text, plain_title

JSON_FEED_VERSION = "https://jsonfeed.org/version/1"
MAX_JSON_DEPTH = 64
_HEAD = 2048
_MARKUP = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", re.DOTALL | re.IGNORECASE)
_ROOT = re.compile(rb"<([A-Za-z][\w:.-]*)")
_FEED_ROOTS = frozenset({b"rss", b"rdf:rdf", b"rdf", b"feed", b"channel"})
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def body_fingerprint(body: bytes) -> str:
    """A fast hash of the raw body, so an unchanged body can skip parsing."""
    return xxhash.xxh3_128_hexdigest(body)


def parse_feed(
    body: bytes,
    *,
    url: str,
    content_type: str = "",
    charset: str | None = None,
    now: datetime,
) -> ParsedFeed:
    """Parse a feed body fetched from `url`; ParseError when it is not a feed."""
    kind = sniff(body, content_type)
    if kind == "empty":
        raise ParseError("not a feed: empty body")
    if kind == "json":
        return _parse_json_feed(body, url, now)
    if kind == "html":
        raise _not_a_feed(body, url, content_type or "text/html")
    if kind == "unknown":
        raise ParseError(f"not a feed: {content_type or 'no XML, JSON or HTML in the body'}")
    return _parse_xml_feed(decode_xml(body, charset), url, now, content_type)


def sniff(body: bytes, content_type: str = "") -> str:
    """ "empty", "json", "html", "xml" or "unknown", from the first bytes and the Content-Type."""
    head = _ascii_head(body)
    if not head.strip():
        return "empty"
    if head.lstrip()[:1] in (b"{", b"[") and "xml" not in content_type:
        return "json"
    root = _ROOT.search(_MARKUP.sub(b"", head))
    if root is None:
        return "html" if "html" in content_type else "unknown"
    name = root.group(1).lower()
    if name in _FEED_ROOTS:
        return "xml"  # whatever the Content-Type says: servers label feeds text/html too
    if name in (b"html", b"head", b"body") or "html" in content_type:
        return "html"
    return "xml"


def _ascii_head(body: bytes) -> bytes:
    """The start of the body as ASCII-compatible bytes (UTF-16/32 decoded, BOM dropped)."""
    head = body[: _HEAD * 4]
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be")):
        if head.startswith(bom):
            return head.decode(codec, "ignore").encode("utf-8")[:_HEAD]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return head.decode("utf-16", "ignore").encode("utf-8")[:_HEAD]
    return head.removeprefix(b"\xef\xbb\xbf")[:_HEAD]


def _not_a_feed(body: bytes, url: str, content_type: str) -> ParseError:
    links = [link for link in find_feed_links(body, url) if link != url]
    hint = f" (the page links a feed at {links[0]})" if links else ""
    return ParseError(f"not a feed: {content_type}{hint}")


# --- XML feeds via feedparser ---------------------------------------------------------------


def _parse_xml_feed(text: str, url: str, now: datetime, content_type: str) -> ParsedFeed:
    try:
        result = feedparser.parse(
            io.BytesIO(storable(_CHAR_REF.sub(_valid_char_ref, text)).encode("utf-8")),
            # No Content-Location: feedparser would "resolve" guids such as "qv-5512" against it.
            response_headers={"content-type": "application/xml; charset=utf-8"},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except (ValueError, RecursionError) as e:  # UnicodeError is a ValueError
        raise ParseError(f"feed failed to parse: {type(e).__name__}: {_first_line(e)}") from e
    warning = _bozo_text(result.get("bozo_exception")) if result.get("bozo") else ""
    if not result.get("version") and not result.entries:
        if warning:
            raise ParseError(f"feed failed to parse: {warning}")
        raise ParseError(f"not a feed: {content_type or 'no RSS, Atom or RDF root'}")
    feed = result.feed
    link = _absolute(feed.get("link", ""), url)
    entries = finish_entries((_xml_entry(raw, url, now) for raw in result.entries), now)
    return ParsedFeed(storable(plain_title(feed.get("title", ""))), link, entries, warning)


def _valid_char_ref(found: re.Match[str]) -> str:
    """A numeric character reference, or U+FFFD's when it names no storable character (NUL, a
    surrogate, past U+10FFFF): feedparser's fallback parser raises on those."""
    value = int(found.group(1), 16) if found.group(1) else int(found.group(2))
    if value == 0 or 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
        return "&#xFFFD;"
    return found.group(0)


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [""])[0][:200]


def _bozo_text(error: object) -> str:
    if isinstance(error, xml.sax.SAXParseException):
        return f"XML error at line {error.getLineNumber()}: {error.getMessage()}"
    return one_line(error) if error else ""


def _xml_entry(raw: dict[str, Any], base: str, now: datetime) -> Entry | None:
    get = dict.get  # not FeedParserDict.get: its legacy key aliases warn and guess
    contents = get(raw, "content") or []
    content = max((str(c.get("value", "")) for c in contents), key=len, default="")
    guid = str(get(raw, "id") or "")
    link = str(get(raw, "link") or "")
    if link == guid and not get(raw, "links") and not guid.startswith(("http://", "https://")):
        link = ""  # feedparser took a bare guid ("bulletin-7") for a link relative to the feed
    return make_entry(
        guid=guid,
        link=link,
        base=base,
        title=str(get(raw, "title") or ""),
        author=str(get(raw, "author") or ""),
        summary_html=str(get(raw, "summary") or ""),
        content_html=content,
        published=_first_date(
            (get(raw, key) for key in ("published_parsed", "updated_parsed")),
            (get(raw, key) for key in ("published", "updated", "created")),
            now,
        ),
    )


def _first_date(parsed: Iterable[Any], raw: Iterable[Any], now: datetime) -> datetime | None:
    for struct in parsed:
        if struct:
            return min(datetime.fromtimestamp(calendar.timegm(struct), UTC), now)
    for value in raw:
        if value and (when := parse_date(str(value), now)) is not None:
            return when
    return None


# --- JSON Feed ------------------------------------------------------------------------------


def _parse_json_feed(body: bytes, url: str, now: datetime) -> ParsedFeed:
    too_deep = ParseError(
        f"feed failed to parse: JSON nested too deeply (at most {MAX_JSON_DEPTH} levels)"
    )
    try:
        data = json.loads(body)
    except ValueError as e:
        raise ParseError(f"feed failed to parse: invalid JSON ({e})") from e
    except RecursionError as e:  # the decoder recurses once per level
        raise too_deep from e
    if json_depth(data) > MAX_JSON_DEPTH:
        raise too_deep
    version = data.get("version", "") if isinstance(data, dict) else ""
    if not isinstance(version, str) or not version.startswith(JSON_FEED_VERSION):
        raise ParseError("not a feed: JSON without a jsonfeed.org version")
    items = data.get("items")
    raw_items = [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    entries = finish_entries((_json_entry(item, url, now) for item in raw_items), now)
    link = _absolute(_text(data, "home_page_url"), url)
    return ParsedFeed(storable(plain_title(_text(data, "title"))), link, entries)


def json_depth(value: Any) -> int:
    """How deep objects and arrays nest in a decoded JSON value (a scalar is 0), walked
    without recursion and stopping once past MAX_JSON_DEPTH."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack and deepest <= MAX_JSON_DEPTH:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _text(mapping: Mapping[str, Any], *keys: str) -> str:
    """The first of `keys` holding a string or a number, as text; "" if none does."""
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return ""


def _json_entry(item: Mapping[str, Any], base: str, now: datetime) -> Entry | None:
    date = _text(item, "date_published", "date_modified")
    return make_entry(
        guid=_text(item, "id"),
        link=_text(item, "url", "external_url"),
        base=base,
        title=_text(item, "title"),
        author=_json_author(item),
        summary_html=_escape(_text(item, "summary")),
        content_html=_text(item, "content_html") or _escape(_text(item, "content_text")),
        published=parse_date(date, now) if date else None,
    )


def _json_author(item: Mapping[str, Any]) -> str:
    authors = item.get("authors")
    first = authors[0] if isinstance(authors, list) and authors else item.get("author")
    return _text(first, "name") if isinstance(first, dict) else ""


def _escape(text: str) -> str:
    """Plain text as HTML, so it survives html_to_text unchanged."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- uniform entries ------------------------------------------------------------------------


def make_entry(
    *,
    guid: str,
    link: str,
    base: str,
    title: str,
    author: str,
    summary_html: str,
    content_html: str,
    published: datetime | None,
) -> Entry | None:
    """One uniform Entry, or None when it has neither guid nor link nor text."""
    url = _absolute(storable(link), base)
    title_text = plain_title(title)
    summary = html_to_text(summary_html)
    content = html_to_text(content_html) if content_html != summary_html else summary
    guid = storable(guid.strip()) or url
    if not guid:
        if not (title_text or summary or content):
            return None
        guid = "hash:" + xxhash.xxh3_64_hexdigest(f"{title_text}\n{summary or content}".encode())
    return Entry(
        storable(guid),
        storable(url),
        storable(title_text),
        storable(plain_title(author)),
        published,
        storable(summary),
        storable(content),
    )


def finish_entries(entries: Iterable[Entry | None], now: datetime) -> tuple[Entry, ...]:
    """Drop empty entries and repeated guids (first wins)."""
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry is None or entry.guid in seen:
            continue
        seen.add(entry.guid)
        kept.append(entry)
    return tuple(kept)


def _absolute(link: str, base: str) -> str:
    """`link` resolved against `base`; "" unless it ends up an http(s) URL."""
    url = urljoin(base, link.strip()) if link.strip() else ""
    return url if url.startswith(("http://", "https://")) else ""
