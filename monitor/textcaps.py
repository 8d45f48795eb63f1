"""The length caps on text that comes from feeds, and the one way to cut text to a cap.

A feed can send a 5 MB title; what is stored, sent (webhook, email) and shown is cut to
these caps. The article's extracted text is never cut here (retention decides its fate).

| what              | cap (characters) |
|-------------------|------------------|
| title, feed name  | 1,000            |
| author            | 200              |
| summary           | 2,000            |
| snippet           | 600              |
| error line        | 500              |

`clip` cuts at a character boundary that does not split a combining sequence (a base
letter and its marks, a ZWJ emoji sequence) and ends the cut text with "…"; the result,
ellipsis included, is at most `limit` characters. Pure: no I/O.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
TITLE_CHARS = 1_000
AUTHOR_CHARS = 200
SUMMARY_CHARS = 2_000
SNIPPET_CHARS = 600
ERROR_CHARS = 500
_JOINERS = frozenset("\u200c\u200d")


def clip(text: str, limit: int) -> str:
    """`text` unchanged when it fits in `limit` characters, else cut to fit, with "…"."""
    if len(text) <= limit:
        return text
    cut = max(limit - len(ELLIPSIS), 0)
    while cut > 0 and _continues(text, cut):
        cut -= 1
    return text[:cut].rstrip() + ELLIPSIS


def _continues(text: str, index: int) -> bool:
    """Whether text[index] belongs to the character sequence before it (a mark, a variation
    selector, a joiner or what a joiner joins): cutting there would split a character."""
    char = text[index]
    if unicodedata.category(char).startswith("M") or char in _JOINERS:
        return True
    return text[index - 1] in _JOINERS
