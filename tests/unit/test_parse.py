"""Feed parsing, charset repair, plain text, dates and feed links (pure, real-looking feed files)."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import ParseError
from monitor.models import ParsedFeed
from monitor.pipeline.charset import choose_encoding, decode_xml
from monitor.pipeline.dates import parse_date
from monitor.pipeline.discover import common_feed_urls, find_feed_links
from monitor.pipeline.parse import MAX_JSON_DEPTH, body_fingerprint, json_depth, parse_feed, sniff
from monitor.pipeline.plaintext import html_to_text, plain_title

FEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
URL = "https://news.example/feeds/main.xml"


def feed_file(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def parse(name: str, content_type: str = "", charset: str | None = None) -> ParsedFeed:
    return parse_feed(feed_file(name), url=URL, content_type=content_type, charset=charset, now=NOW)


# --- formats --------------------------------------------------------------------------------


def test_rss2() -> None:
    feed = parse("rss2.xml")
    assert feed.title == "Khyber Frontier Post — Latest"
    assert feed.link == "https://frontierpost.example/"
    assert len(feed.entries) == 4
    assert not feed.warning
    first = feed.entries[0]
    assert first.guid == "https://frontierpost.example/?p=48211"
    assert first.url == "https://frontierpost.example/2026/11/27/torkham-crossing-reopens/"
    assert first.author == "Staff Reporter"
    assert first.published_at == datetime(2026, 11, 27, 13, 40, 2, tzinfo=UTC)
    assert first.summary.startswith("Trade resumed at the Torkham border crossing")
    assert "“The flow of goods will be normal by evening,”" in first.content
    assert "<p>" not in first.content
    assert "\n\n" in first.content


def test_rss1_rdf() -> None:
    feed = parse("rss1-rdf.xml")
    assert [e.author for e in feed.entries] == ["Farrukh Nazarov", "Aizada Kasymova", "Steppe Wire"]
    assert feed.entries[0].guid == "https://steppe-wire.example/news/2026/11/27/dushanbe-rogun/"
    assert feed.entries[0].published_at == datetime(2026, 11, 27, 5, 12, tzinfo=UTC)


def test_atom_with_xml_base_and_html_title() -> None:
    feed = parse("atom.xml")
    first, second = feed.entries
    assert first.url == "https://plateau-monitor.example/2026/11/27/mashhad-water-rationing"
    assert first.title == "Water rationing extended in Mashhad & Nishapur"
    assert first.guid == "tag:plateau-monitor.example,2026:9121"
    assert first.summary == (
        "Night-time pressure cuts will continue until January, the provincial water company said."
    )
    assert "eleven per cent" in first.content
    assert second.published_at == datetime(2026, 11, 26, 14, 35, tzinfo=UTC)


@pytest.mark.parametrize("name", ["jsonfeed-1.1.json", "jsonfeed-1.json"])
def test_json_feed_versions(name: str) -> None:
    feed = parse(name, "application/feed+json")
    assert len(feed.entries) == 2
    assert all(e.title and e.url.startswith("https://") and e.published_at for e in feed.entries)


def test_json_feed_details() -> None:
    feed = parse("jsonfeed-1.1.json")
    first, second = feed.entries
    assert first.author == "Herald Staff"
    assert first.content.startswith("The Salang pass, the main route")
    assert second.guid == "7779"  # numeric ids become strings
    assert second.url == "https://news.example/2026/11/26/herat-railway"
    assert second.content.startswith("The first passenger service on the Khaf–Herat line")
    assert parse("jsonfeed-1.json").entries[0].author == "Nasir Baloch"


# --- encodings ------------------------------------------------------------------------------

ARABIC_TITLE = "مقتل ثلاثة في انفجار بمدينة جلال آباد شرقي أفغانستان"
RUSSIAN_TITLE = "В Душанбе обсудили безопасность на таджикско-афганской границе"
DARI_TITLE = "طالبان محدودیت‌های تازه‌ای بر رسانه‌ها در هرات وضع کردند"


@pytest.mark.parametrize("header", [None, "utf-8", "iso-8859-1", "windows-1252", "bogus-charset"])
def test_windows_1256_arabic_whatever_the_header_says(header: str | None) -> None:
    feed = parse("arabic-windows-1256.xml", "text/xml", header)
    assert feed.entries[0].title == ARABIC_TITLE
    assert "داعش خراسان" in feed.entries[0].summary


@pytest.mark.parametrize("header", [None, "utf-8", "iso-8859-1"])
def test_windows_1251_russian_whatever_the_header_says(header: str | None) -> None:
    assert parse("russian-windows-1251.xml", "", header).entries[0].title == RUSSIAN_TITLE


def test_windows_1251_without_any_label_is_detected() -> None:
    body = feed_file("russian-windows-1251.xml").replace(b' encoding="windows-1251"', b"")
    feed = parse_feed(body, url=URL, now=NOW)
    assert feed.title == "Новости Центральной Азии"
    assert feed.entries[1].title == "Курс тенге снизился после решения Национального банка"


@pytest.mark.parametrize("header", [None, "windows-1252", "iso-8859-1", "windows-1251"])
def test_mislabelled_utf8_comes_out_right(header: str | None) -> None:
    feed = parse("mislabelled-utf8.xml", "text/xml", header)
    assert feed.entries[0].title == DARI_TITLE
    assert feed.entries[1].title == "د کندهار په ښار کې د اوبو کمښت زیات شوی"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_byte_order_marks(codec: str) -> None:
    text = feed_file("rss2.xml").decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    assert parse_feed(data, url=URL, now=NOW).entries[0].title.startswith("Torkham crossing")


def test_latin1_label_is_kept_for_real_latin1_text() -> None:
    body = "<rss><channel><title>Été à Genève: café crème</title></channel></rss>".encode("latin-1")
    assert choose_encoding(body, "iso-8859-1") == "cp1252"  # how browsers read a Latin-1 label
    assert "Été à Genève" in decode_xml(body, "iso-8859-1")


# --- broken and hostile bodies --------------------------------------------------------------


def test_bozo_feed_with_sound_entries_keeps_them_and_says_why() -> None:
    feed = parse("bozo-sound.xml")
    assert [e.guid for e in feed.entries] == [
        "https://pamirtimes.example/?p=30211",
        "https://pamirtimes.example/?p=30199",
    ]
    assert feed.entries[0].title == "Karakoram Highway reopened near Attabad after landslide"
    assert feed.warning.startswith("XML error at line 7")


def test_truncated_xml_yields_the_entries_before_the_cut() -> None:
    feed = parse("truncated.xml")
    assert len(feed.entries) == 3
    assert "XML error" in feed.warning


def test_html_page_names_the_feed_it_links() -> None:
    with pytest.raises(ParseError) as caught:
        parse("site-homepage.html", "text/html")
    assert str(caught.value) == (
        "not a feed: text/html (the page links a feed at https://news.example/feed/rss2.xml)"
    )


def test_html_error_page_served_with_200() -> None:
    with pytest.raises(ParseError, match=r"^not a feed: text/html$"):
        parse("error-page.html", ["text/html", " charset=utf-8"][0])


def test_html_is_recognised_even_when_labelled_as_xml() -> None:
    with pytest.raises(ParseError, match="not a feed: application/rss"):
        parse("error-page.html", "application/rss+xml")


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"", "", "not a feed: empty body"),
        (b"   \n\t ", "application/rss+xml", "not a feed: empty body"),
        (b"\x89PNG\r\n\x1a\n\0\0\0", "image/png", "not a feed: image/png"),
        (b'{"status": "ok"}', "application/json", "JSON without a jsonfeed.org version"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "", "invalid JSON"),
        (b"[1, 2, 3]", "", "JSON without a jsonfeed.org version"),
        (b"<?xml version='1.0'?><config><a>1</a></config>", "text/xml", "not a feed"),
    ],
)
def test_not_a_feed(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_feed(body, url=URL, content_type=content_type, now=NOW)


def test_rss_root_wins_over_a_wrong_html_content_type() -> None:
    assert len(parse("rss2.xml", "text/html").entries) == 4


def test_billion_laughs_is_not_expanded() -> None:
    lols = '<!ENTITY a "lol">' + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
        for p, c in zip("abcdefgh", "bcdefghi", strict=False)
    )
    body = f'<?xml version="1.0"?><!DOCTYPE rss [{lols}]><rss version="2.0"><channel><title>&i;</title><item><title>t</title><link>https://x.example/1</link></item></channel></rss>'
    feed = parse_feed(body.encode(), url=URL, now=NOW)
    assert len(feed.title) < 1000


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_a_feed_or_a_parse_error(body: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_feed(body, url=URL, now=NOW)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_inside_an_item_never_crashes(text: str) -> None:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    body = f"<rss version='2.0'><channel><item><title>{escaped}</title><description>{escaped}</description></item></channel></rss>"
    with contextlib.suppress(ParseError):
        parse_feed(body.encode("utf-8", "surrogatepass"), url=URL, now=NOW)


# --- deep nesting from the remote side: one line, never a RecursionError ------------------

_JSON_HEAD = '{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": '


@pytest.mark.parametrize(
    "body",
    [
        _JSON_HEAD + "[" * 100_000 + "]" * 100_000 + "}",  # past the decoder's own recursion
        _JSON_HEAD + '[{"id": "1", "x": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}]}",
    ],
)
def test_deeply_nested_json_feed_is_one_parse_error(body: str) -> None:
    with pytest.raises(
        ParseError, match=rf"JSON nested too deeply \(at most {MAX_JSON_DEPTH} levels\)"
    ):
        parse_feed(body.encode(), url=URL, content_type="application/feed+json", now=NOW)


def test_nested_values_in_text_fields_are_not_text() -> None:
    nested = "[" * 30 + "]" * 30
    body = (
        _JSON_HEAD
        + f'[{{"id": 7, "url": "https://x.example/1", "title": {nested}, "summary": {{"a": 1}},'
        + f' "authors": [{{"name": {nested}}}], "date_published": {nested}}}]}}'
    )
    (entry,) = parse_feed(body.encode(), url=URL, now=NOW).entries
    assert (entry.guid, entry.title, entry.summary, entry.author) == ("7", "", "", "")
    assert entry.published_at is None


def test_json_depth() -> None:
    assert [json_depth(v) for v in (1, "s", [], {}, [[]], {"a": [{"b": 1}]})] == [0, 0, 1, 1, 2, 3]


def test_deeply_nested_xml_feed_is_a_feed_or_a_parse_error() -> None:
    deep = "<div>" * 50_000 + "x" + "</div>" * 50_000
    body = f"<rss version='2.0'><channel><item><title>t</title><description>{deep}</description><link>https://x.example/1</link></item></channel></rss>"
    with contextlib.suppress(ParseError):
        parse_feed(body.encode(), url=URL, now=NOW)


# --- entries made uniform -------------------------------------------------------------------


def test_duplicate_guids_inside_one_feed_are_dropped_first_wins() -> None:
    feed = parse("duplicate-guids.xml")
    assert [e.guid for e in feed.entries] == ["qv-5512", "qv-5509"]
    assert feed.entries[0].title == "Coal miners trapped in Marwar mine rescued"


def test_entries_without_guid_or_link_are_kept_only_with_text() -> None:
    feed = parse("no-guid-no-link.xml")
    assert [e.title for e in feed.entries] == [
        "09:00 bulletin",
        "10:00 bulletin",
        "Weekly programme schedule",
    ]
    first, second, third = feed.entries
    assert first.guid.startswith("hash:")
    assert first.guid != second.guid
    assert first.url == ""
    assert third.guid == third.url == "https://mashaal-bulletins.example/schedule"
    assert parse("no-guid-no-link.xml").entries[0].guid == first.guid  # stable across polls


def test_relative_links_are_resolved_against_the_feed_url() -> None:
    feed = parse("relative-links.xml")
    assert feed.link == "https://news.example/"
    assert [e.url for e in feed.entries] == [
        "https://news.example/news/2026/11/27/herat-airport",
        "https://news.example/feeds/news/2026/11/26/saffron",
        "https://cdn.heratdaily.example/news/2026/11/25/cdn",
        "",  # javascript: is never an article URL
    ]


def test_html_entities_in_titles_are_decoded() -> None:
    feed = parse("entities-titles.xml")
    assert feed.title == "Dawn of the Valley & Beyond"
    assert [e.title for e in feed.entries] == [
        "Muzaffarabad & Neelum: roads “unsafe” after snow",
        "Breaking: Skardu flights cancelled – fog",
        "Gilgit–Skardu road 'open by Monday'",
    ]
    assert feed.entries[0].summary == "Officials said the Neelum road was closed beyond Kel."


def test_future_and_odd_dates() -> None:
    dates = [e.published_at for e in parse("odd-dates.xml").entries]
    assert dates == [
        NOW,  # next year's date clamped to now
        datetime(2026, 11, 26, 18, 45, tzinfo=UTC),
        datetime(2026, 11, 25, 7, 30, tzinfo=UTC),
        datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        None,  # "yesterday evening"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T10:00:00+05:00", datetime(2026, 11, 26, 5, 0, tzinfo=UTC)),
        ("2026-11-26T10:00:00Z", datetime(2026, 11, 26, 10, 0, tzinfo=UTC)),
        ("Thu, 26 Nov 2026 10:00:00 +0430", datetime(2026, 11, 26, 5, 30, tzinfo=UTC)),
        ("26.11.2026", datetime(2026, 11, 26, tzinfo=UTC)),
        ("2026/11/26 10:00", datetime(2026, 11, 26, 10, 0, tzinfo=UTC)),
        ("November 26, 2026", datetime(2026, 11, 26, tzinfo=UTC)),
        ("  26 Nov 2026   10:00 ", datetime(2026, 11, 26, 10, 0, tzinfo=UTC)),
        ("2099-01-01T00:00:00Z", NOW),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text, NOW) == expected


def test_html_to_text() -> None:
    html = "<div><p>One &amp; two</p><script>evil()</script><style>p{}</style><p>Three<br>four</p><ul><li>a</li><li>b</li></ul></div>"
    assert html_to_text(html) == "One & two\n\nThree\nfour\n\na\nb"
    assert html_to_text("plain   text\n\n\n\nnext") == "plain text\n\nnext"
    assert plain_title("  Tom &amp;amp; Jerry <i>live</i>\n") == "Tom & Jerry live"


# --- sniffing, fingerprints, feed links -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("rss2.xml", "xml"),
        ("atom.xml", "xml"),
        ("rss1-rdf.xml", "xml"),
        ("jsonfeed-1.json", "json"),
        ("site-homepage.html", "html"),
        ("error-page.html", "html"),
    ],
)
def test_sniff(name: str, kind: str) -> None:
    assert sniff(feed_file(name)) == kind


def test_body_fingerprint() -> None:
    body = feed_file("rss2.xml")
    assert body_fingerprint(body) == body_fingerprint(bytes(body))
    assert body_fingerprint(body) != body_fingerprint(body + b" ")


def test_find_feed_links_in_order_with_base_and_types() -> None:
    page = """<html><head><base href="https://cdn.example/site/">
    <link rel="stylesheet" href="a.css">
    <link rel="alternate" type="application/atom+xml" href="atom.xml">
    <link rel="Alternate Feed" type="application/rss+xml; charset=utf-8" href="/rss">
    <link rel="alternate" type="text/html" href="/fr/">
    <link rel="alternate" type="application/feed+json" href="feed.json">
    <link rel="alternate" type="application/rss+xml" href="/rss">
    <link rel="alternate" type="application/rss+xml" href="javascript:void(0)">
    </head><body></body></html>"""
    assert find_feed_links(page, "https://site.example/") == [
        "https://cdn.example/site/atom.xml",
        "https://cdn.example/rss",
        "https://cdn.example/site/feed.json",
    ]
    assert find_feed_links(feed_file("site-homepage.html"), "https://k.example/x/") == [
        "https://k.example/feed/rss2.xml",
        "https://k.example/comments/feed/",
    ]
    assert find_feed_links(b"<html>broken <link rel=alternate", "https://s.example/") == []


def test_common_feed_urls_are_on_the_origin() -> None:
    urls = common_feed_urls("https://site.example:8443/news/today?x=1")
    assert urls[0] == "https://site.example:8443/feed"
    assert "https://site.example:8443/feeds/posts/default" in urls


RSS_WITH_BAD_CHARACTERS = (
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
    b"<item><guid>bad</guid><title>lone &#xD800; surrogate &#55296; and &#0; NUL</title>"
    b"<description>NUL \x00 inside</description></item>"
    b"<item><guid>good</guid><title>ISIS-K claims attack &#x1F600;</title></item>"
    b"</channel></rss>"
)


def test_character_references_to_unstorable_characters_do_not_fail_the_feed() -> None:
    parsed = parse_feed(RSS_WITH_BAD_CHARACTERS, url=URL, now=NOW)

    assert [e.guid for e in parsed.entries] == ["bad", "good"]
    bad, good = parsed.entries
    assert bad.title == "lone \ufffd surrogate \ufffd and \ufffd NUL"
    assert "\x00" not in bad.summary
    assert good.title == "ISIS-K claims attack \U0001f600"


def test_json_feed_strings_are_cleaned_of_lone_surrogates_and_nul() -> None:
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "t\\ud800", "items": ['
        b'{"id": "a\\u0000", "title": "lone \\ud800 here", "content_text": "NUL \\u0000 here"},'
        b'{"id": "b", "title": "pair \\ud83d\\ude00 kept"}]}'
    )
    parsed = parse_feed(body, url=URL, now=NOW)

    texts = [parsed.title] + [f"{e.guid}{e.title}{e.summary}{e.content}" for e in parsed.entries]
    assert all(s.encode("utf-8") for s in texts)  # no lone surrogate left: encodes cleanly
    assert not any("\x00" in s for s in texts)
    assert parsed.entries[0].title == "lone \ufffd here"
    assert parsed.entries[1].title == "pair \U0001f600 kept"


def test_json_nested_too_deeply_is_one_parse_error() -> None:
    depth = 200_000
    body = b'{"version": "https://jsonfeed.org/version/1.1", "items": [' + b"[" * depth
    body += b"]" * depth + b"]}"
    with pytest.raises(
        ParseError, match=r"^feed failed to parse: JSON nested too deeply \(at most \d+ levels\)$"
    ):
        parse_feed(body, url=URL, now=NOW)


def test_a_bare_guid_is_not_taken_for_a_link() -> None:
    body = (
        b"<rss version='2.0'><channel><title>t</title>"
        b"<item><guid>bulletin-7</guid><description>first</description></item>"
        b"<item><guid>g2</guid><link>/news/2</link><description>second</description></item>"
        b"<item><guid>https://news.example/3</guid><description>third</description></item>"
        b"</channel></rss>"
    )
    parsed = parse_feed(body, url="https://news.example/rss", now=NOW)

    assert [(e.guid, e.url) for e in parsed.entries] == [
        ("bulletin-7", ""),
        ("g2", "https://news.example/news/2"),
        ("https://news.example/3", "https://news.example/3"),
    ]
