"""Choosing the character encoding of a feed or a page whose labels may disagree or lie
(pure): the one decision both feeds (`decode_xml`) and article pages (`decode_html`) use.

The order, and why:
1. a byte-order mark wins (it cannot be there by accident);
2. a body that is valid UTF-8 (and not plain ASCII) is UTF-8, whatever the labels say:
   legacy-encoded text with high bytes is practically never valid UTF-8, while servers
   calling UTF-8 "ISO-8859-1" or "windows-1251" are common (mislabelled UTF-8);
3. otherwise the HTTP charset, then the document's own label (the XML declaration of a
   feed, the `<meta charset>` of a page), if the body decodes with it and a Latin-1 family
   label does not produce mojibake (Cyrillic or Arabic bytes read as Latin-1 give runs of
   accented letters like "Ïðåçèäåíò"). Latin-1 labels mean windows-1252, as browsers read
   them; labels of codecs no document is written in (punycode, unicode-escape …) and
   Unicode labels without a BOM (already ruled out by step 2) are skipped;
4. otherwise charset-normalizer's best guess; last resort UTF-8 with replacement.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?\?>", re.IGNORECASE)
_DECL_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']", re.IGNORECASE)
_LATIN1_FAMILY = frozenset({"iso8859_1", "cp1252", "iso8859_15", "ascii", "cp437"})
_MOJIBAKE_RUN = re.compile("[\u00c0-\u00ff]{3,}")
_UNICODE_FAMILY = frozenset({"utf_8", "utf_16", "utf_32", "utf_16_le", "utf_16_be"})
_WINDOWS_1252_LABELS = frozenset(
    {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "ascii", "us-ascii"}
)
_NOT_DOCUMENT_CODECS = frozenset(
    {"punycode", "idna", "unicode_escape", "raw_unicode_escape", "utf_7"}
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_SCAN = 200_000  # characters scanned for mojibake


# C0 controls other than tab, newline, form feed and carriage return, and DEL: text has few.
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 32), 127])
_BINARY_SAMPLE = 8192


def looks_binary(body: bytes) -> bool:
    """Whether a body served as text is binary: a NUL or more than 1 % control bytes in its
    first 8 kB (UTF-16/32 text, recognised by its byte-order mark, is text)."""
    sample = body[:_BINARY_SAMPLE]
    if not sample or bom_encoding(sample) is not None:
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls * 100 > len(sample)


def bom_encoding(body: bytes) -> str | None:
    """The encoding a byte-order mark announces, if there is one."""
    return next((codec for bom, codec in _BOMS if body.startswith(bom)), None)


def declared_encoding(body: bytes) -> str | None:
    """The encoding named in the XML declaration, if any."""
    decl = _XML_DECL.match(body[:512])
    found = _DECL_ENCODING.search(decl.group(0)) if decl else None
    return found.group(1).decode("ascii") if found else None


def meta_charset(body: bytes) -> str | None:
    """The charset a page's `<meta>` names, if any."""
    found = _META_CHARSET.search(body[:4096])
    return found.group(1).decode("ascii") if found else None


def _codec(label: str | None) -> str | None:
    """Python's canonical codec name for a label; None if unknown or not a document codec."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup("cp1252" if label in _WINDOWS_1252_LABELS else label).name
    except (LookupError, ValueError):
        return None
    name = name.replace("-", "_")
    return None if name in _NOT_DOCUMENT_CODECS else name


def _looks_misdecoded(text: str) -> bool:
    """Runs of 3+ Latin-1 accented letters: Cyrillic/Arabic bytes read as Latin-1."""
    return len(_MOJIBAKE_RUN.findall(text[:_SCAN])) >= 3


def _decodes(body: bytes, codec: str) -> str | None:
    try:
        text = body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    if codec in _LATIN1_FAMILY and _looks_misdecoded(text):
        return None
    return text


def choose_encoding(
    body: bytes, header_charset: str | None = None, declared: str | None = None
) -> str:
    """The Python codec to decode `body` with, given the HTTP charset and the document's own
    label (see the module docstring for the rules)."""
    bom = bom_encoding(body)
    if bom:
        return bom
    if body.isascii() or _decodes(body, "utf_8") is not None:
        return "utf_8"
    for label in (header_charset, declared):
        codec = _codec(label)
        if codec and codec not in _UNICODE_FAMILY and _decodes(body, codec) is not None:
            return codec
    guess = from_bytes(body[:_SCAN]).best()
    codec = _codec(guess.encoding) if guess is not None else None
    return codec or "utf_8"


def decode_html(body: bytes, header_charset: str | None = None) -> str:
    """A page as text, by its HTTP charset and `<meta charset>`."""
    codec = choose_encoding(body, header_charset, meta_charset(body))
    return body.decode(codec, "replace").removeprefix("\ufeff")


def decode_xml(body: bytes, header_charset: str | None = None) -> str:
    """A feed as text, with its XML declaration removed (it may name the wrong encoding)."""
    codec = choose_encoding(body, header_charset, declared_encoding(body))
    text = body.decode(codec, "replace").removeprefix("\ufeff")
    return re.sub(r"^\s*<\?xml[^>]*?\?>", "", text, count=1, flags=re.IGNORECASE)
