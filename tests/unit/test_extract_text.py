"""Pure parts of extraction: charset decoding, page dates, canonical URLs, ZWNJ, headlines."""

from __future__ import annotations

import codecs
from datetime import UTC, datetime

import lxml.html
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.pipeline.extract import (
    declared_canonical_url,
    decode_html,
    extract_article,
    parse_page_date,
)

PERSIAN = "روشنایی"  # one non-ASCII word, in an encoding-neutral test


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        ("<p>café</p>".encode(), None, "<p>café</p>"),
        ("<p>café</p>".encode("cp1252"), "iso-8859-1", "<p>café</p>"),
        # a server-default latin-1 label over real UTF-8 is overruled
        ("<p>café</p>".encode(), "ISO-8859-1", "<p>café</p>"),
        (codecs.BOM_UTF8 + "<p>café</p>".encode(), "windows-1251", "<p>café</p>"),
        (
            '<meta charset="windows-1251"><p>Кабул</p>'.encode("cp1251"),
            None,
            '<meta charset="windows-1251"><p>Кабул</p>',
        ),
        (
            '<meta charset="windows-1251"><p>Кабул</p>'.encode("cp1251"),
            "no-such-codec",
            '<meta charset="windows-1251"><p>Кабул</p>',
        ),
        # codecs no page is written in are not trusted
        (b"<p>\\u0041</p>", "unicode_escape", "<p>\\u0041</p>"),
        # a wrong utf-8 header falls through to the page's own <meta>
        (
            "<meta charset=windows-1256><p>داعش</p>".encode("cp1256"),
            "utf-8",
            "<meta charset=windows-1256><p>داعش</p>",
        ),
        (("<p>" + PERSIAN + "</p>").encode("utf-16"), None, "<p>" + PERSIAN + "</p>"),
    ],
)
def test_decode_html(body: bytes, header: str | None, expected: str) -> None:
    assert decode_html(body, header) == expected


def test_decode_html_without_declaration_detects_the_encoding() -> None:
    text = "<html><body><p>" + "Ташкент и Алматы договорились о воде. " * 20 + "</p></body></html>"
    assert decode_html(text.encode("cp1251")) == text


@given(st.binary(max_size=300), st.one_of(st.none(), st.text(max_size=20)))
def test_decode_html_never_raises(body: bytes, header: str | None) -> None:
    assert isinstance(decode_html(body, header), str)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-04-26", datetime(2024, 4, 26, tzinfo=UTC)),
        ("2024-04-26T10:15:00+0430", datetime(2024, 4, 26, 5, 45, tzinfo=UTC)),
        ("2024-04-26T10:15:00", datetime(2024, 4, 26, 10, 15, tzinfo=UTC)),
        ("", None),
        (None, None),
        ("yesterday", None),
    ],
)
def test_parse_page_date(value: str | None, expected: datetime | None) -> None:
    assert parse_page_date(value) == expected


def head(markup: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><head>{markup}</head><body><p>x</p></body></html>")


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ('<link rel="canonical" href="https://kp.example/a/1">', "https://kp.example/a/1"),
        ('<link rel="Canonical" href="/a/1?x=1">', "https://kp.example/a/1?x=1"),
        ('<link rel="alternate canonical" href="//cdn.example/a">', "https://cdn.example/a"),
        ('<meta property="og:url" content="https://kp.example/a/2">', "https://kp.example/a/2"),
        (
            '<link rel="canonical" href="https://kp.example/a/1"><meta property="og:url" content="https://kp.example/x">',
            "https://kp.example/a/1",
        ),
        # a canonical at the home page is a CMS mistake: og:url, else nothing
        (
            '<link rel="canonical" href="https://kp.example/"><meta property="og:url" content="https://kp.example/a/3">',
            "https://kp.example/a/3",
        ),
        ('<link rel="canonical" href="https://kp.example/">', ""),
        ('<link rel="canonical" href="javascript:void(0)">', ""),
        ('<link rel="canonical" href="   ">', ""),
        ("", ""),
    ],
)
def test_declared_canonical_url(markup: str, expected: str) -> None:
    assert (
        declared_canonical_url(head(markup), "https://kp.example/a/page.html?utm_source=rss")
        == expected
    )


PARAGRAPHS = [
    "گروه نظارت بر تحریم‌های سازمان ملل متحد در تازه‌ترین گزارش خود گفته است که گروه داعش خراسان "
    "سربازگیری را در ولایت‌های شمالی افغانستان افزایش داده است.",
    "مقام‌های حکومت طالبان یافته‌های این گزارش را رد کرده و گفته‌اند که نیروهای امنیتی در ماه‌های "
    "اخیر در ولایت‌های بلخ، کندز و تخار عملیات‌هایی را علیه این گروه انجام داده‌اند.",
]


def persian_page(paragraphs: list[str], title: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><nav><a href=/>صفحهٔ نخست</a></nav><article><h1>{title}</h1>{body}</article>"
        f"<footer>تمام حقوق محفوظ است</footer></body></html>"
    )


def test_zero_width_non_joiner_survives_extraction() -> None:
    title = "نگرانی سازمان ملل از افزایش سربازگیری در ولایت‌های شمالی"
    got = extract_article(persian_page(PARAGRAPHS, title), url="https://ht.example/fa/1")
    assert got.title == title
    assert got.text.split("\n") == PARAGRAPHS
    assert got.language == "fa"


def test_zero_width_non_joiner_entities_become_the_character() -> None:
    encoded = [p.replace("\u200c", "&zwnj;") for p in PARAGRAPHS]
    encoded[1] = encoded[1].replace("&zwnj;", "&#x200C;", 1)
    got = extract_article(persian_page(encoded, "خبر"), url="https://ht.example/fa/2")
    assert got.text.split("\n") == PARAGRAPHS


def test_headline_repeated_in_the_body_is_dropped_once() -> None:
    paragraphs = [
        "The Salang Tunnel reopened to traffic on Monday after three days of clearing snow and rock.",
        "Hundreds of trucks carrying fuel, flour and fruit had been stranded on both sides of the pass.",
        "Traffic will run in one direction at a time for the next week while galleries are repaired.",
    ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        "<html><head><title>Salang Reopens</title></head><body><article>"
        f"<h1>Salang Reopens</h1>{body}</article></body></html>"
    )
    got = extract_article(html, url="https://kdm.example/1")
    assert got.title == "Salang Reopens"
    assert got.text.split("\n") == paragraphs
