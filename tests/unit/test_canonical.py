"""Canonical URLs and a page's own canonical link (monitor.pipeline.canonical)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls

from monitor.pipeline.canonical import canonical_url, page_canonical

SAME_ARTICLE = "https://example.com/world/asia/taliban-isis-k-2024"


@pytest.mark.parametrize(
    "url",
    [
        SAME_ARTICLE,
        "HTTPS://EXAMPLE.COM/world/asia/taliban-isis-k-2024",
        "http://example.com/world/asia/taliban-isis-k-2024",
        "https://www.example.com/world/asia/taliban-isis-k-2024/",
        "https://example.com:443/world/asia/taliban-isis-k-2024",
        "http://example.com:80/world/asia/taliban-isis-k-2024",
        "https://example.com./world/asia/taliban-isis-k-2024",
        "https://user:secret@example.com/world/asia/taliban-isis-k-2024",
        "https://example.com/world/asia/taliban-isis-k-2024#comments",
        "  https://example.com/world/asia/taliban-isis-k-2024\n",
        "https://example.com/world//asia/./x/../taliban-isis-k-2024",
        "https://example.com/world/asia/taliban%2Disis%2Dk%2D2024",
        # tracking parameters
        "https://example.com/world/asia/taliban-isis-k-2024?utm_source=rss&utm_medium=feed",
        "https://example.com/world/asia/taliban-isis-k-2024?UTM_Campaign=x&fbclid=IwAR0x",
        "https://example.com/world/asia/taliban-isis-k-2024?gclid=1&yclid=2&msclkid=3",
        "https://example.com/world/asia/taliban-isis-k-2024?mc_cid=a&mc_eid=b&igshid=c",
        "https://example.com/world/asia/taliban-isis-k-2024?ref=tw&ref_src=twsrc%5Etfw",
        "https://example.com/world/asia/taliban-isis-k-2024?cmpid=x&ocid=y&_ga=2.1&spm=a",
        "https://example.com/world/asia/taliban-isis-k-2024?at_medium=rss&at_campaign=64",
        "https://example.com/world/asia/taliban-isis-k-2024?xtor=RSS-1&smid=nytcore",
        # AMP and mobile variants
        "https://amp.example.com/world/asia/taliban-isis-k-2024",
        "https://m.example.com/world/asia/taliban-isis-k-2024",
        "https://mobile.example.com/world/asia/taliban-isis-k-2024",
        "https://www.m.example.com/world/asia/taliban-isis-k-2024",
        "https://example.com/amp/world/asia/taliban-isis-k-2024",
        "https://example.com/world/asia/amp/taliban-isis-k-2024",
        "https://example.com/world/asia/taliban-isis-k-2024/amp",
        "https://example.com/world/asia/taliban-isis-k-2024/amp/",
        "https://example.com/world/asia/taliban-isis-k-2024.amp",
        "https://example.com/world/asia/taliban-isis-k-2024?amp",
        "https://example.com/world/asia/taliban-isis-k-2024?amp=1",
        "https://example.com/world/asia/taliban-isis-k-2024?outputType=amp",
        "https://www-example-com.cdn.ampproject.org/c/s/www.example.com/world/asia/taliban-isis-k-2024",
        "https://www-example-com.cdn.ampproject.org/v/s/example.com/world/asia/taliban-isis-k-2024?amp_js_v=0.1",
        "https://www.google.com/amp/s/m.example.com/world/asia/taliban-isis-k-2024/amp",
    ],
)
def test_variants_of_one_article_share_a_canonical_url(url: str) -> None:
    assert canonical_url(url) == SAME_ARTICLE


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com", "https://example.com/"),
        ("https://example.com/?utm_source=x", "https://example.com/"),
        ("https://example.com/a?b=2&a=1&c=", "https://example.com/a?a=1&b=2&c="),
        ("https://example.com/a?q=a+b&q=c%20d", "https://example.com/a?q=a%20b&q=c%20d"),
        ("https://example.com/a?outputType=print", "https://example.com/a?outputType=print"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:8080/a", "https://example.com:8080/a"),
        ("https://example.com/story.amp.html", "https://example.com/story.html"),
        ("https://example.com/story.amp.amp.html", "https://example.com/story.html"),
        ("https://example.com/story.amp.amp", "https://example.com/story"),
        ("https://example.com/x.amp/amp.amp", "https://example.com/x"),
        ("https://example.com/a/..amp", "https://example.com/a"),
        ("https://example.com/%7Euser/%e2%82%ac", "https://example.com/~user/%E2%82%AC"),
        ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),
        ("https://EXAMPLE.com/Case/Kept", "https://example.com/Case/Kept"),
        ("https://m.com/a", "https://m.com/a"),
        ("https://amp.dev/a", "https://amp.dev/a"),
        ("https://news.example.com/a", "https://news.example.com/a"),
        ("https://tolonews.com/fa/خبر", "https://tolonews.com/fa/%D8%AE%D8%A8%D8%B1"),
        ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
        ("https://example.com:99999/a", "https://example.com/a"),
        ("http://example.com:443/a", "https://example.com/a"),
    ],
)
def test_canonical_url_normalises(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_unicode_and_percent_encoded_paths_are_one_key() -> None:
    assert canonical_url("https://tolonews.com/fa/خبر") == canonical_url(
        "https://tolonews.com/fa/%d8%ae%d8%a8%d8%b1"
    )


def test_meaningful_parameters_and_paths_stay_distinct() -> None:
    assert canonical_url("https://example.com/a?id=1") != canonical_url(
        "https://example.com/a?id=2"
    )
    assert canonical_url("https://example.com/a") != canonical_url("https://example.com/b")
    assert canonical_url("https://a.example.com/x") != canonical_url("https://b.example.com/x")


@pytest.mark.parametrize(
    "url", ["", "not a url", "mailto:desk@example.org", "ftp://example.com/a", "https:///path"]
)
def test_non_http_input_comes_back_stripped(url: str) -> None:
    assert canonical_url(f" {url} ") == url


@settings(max_examples=200, deadline=None)
@given(urls())
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once
    assert once.startswith("https://")


_PIECES = [
    "amp",
    ".amp",
    "x.amp",
    "..",
    ".",
    "a",
    "amp.html",
    "x.amp.html",
    "",
    "%2e",
    "m.",
    "?amp",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES), max_size=6), st.sampled_from(["http://m.", "https://amp."])
)
def test_amp_shaped_paths_canonicalise_idempotently(pieces: list[str], prefix: str) -> None:
    once = canonical_url(prefix + "example.com/" + "/".join(pieces))
    assert canonical_url(once) == once


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_canonical_url_never_raises(text: str) -> None:
    assert isinstance(canonical_url("https://example.com/" + text), str)
    assert isinstance(canonical_url(text), str)


# --- page_canonical ----------------------------------------------------------------------

PAGE = "https://m.example.com/world/story-1?utm_source=rss"


def _page(head: str, body: str = "<p>text</p>") -> str:
    return f"<!doctype html><html><head><title>t</title>{head}</head><body>{body}</body></html>"


def test_link_rel_canonical_is_resolved_and_canonicalised() -> None:
    html = _page('<link rel="canonical" href="/world/story-1/?ref=home">')
    assert page_canonical(html, PAGE) == "https://example.com/world/story-1"


def test_link_rel_canonical_wins_over_og_url() -> None:
    html = _page(
        '<meta property="og:url" content="https://example.com/og-version">'
        '<LINK REL="Canonical" HREF="https://www.example.com/world/story-1">'
    )
    assert page_canonical(html, PAGE) == "https://example.com/world/story-1"


def test_og_url_is_used_without_a_canonical_link() -> None:
    html = _page('<meta property="og:url" content="//www.example.com/world/story-1.amp">')
    assert page_canonical(html, PAGE) == "https://example.com/world/story-1"


def test_relative_link_resolves_against_base_href() -> None:
    html = _page('<base href="https://example.com/world/"><link rel="canonical" href="story-1">')
    assert page_canonical(html, "https://example.com/x/y") == "https://example.com/world/story-1"


def test_rel_with_several_tokens_counts() -> None:
    html = _page('<link rel="alternate canonical" href="/world/story-1">')
    assert page_canonical(html, PAGE) == "https://example.com/world/story-1"


@pytest.mark.parametrize(
    "head",
    [
        "",
        '<link rel="alternate" href="/world/story-1">',
        '<link rel="canonical" href="https://example.com/">',  # every page "canonical" to home
        '<link rel="canonical" href="https://www.example.com/?utm_source=x">',
        '<link rel="canonical" href="/">',
        '<link rel="canonical" href="https://wire.example.net/original-story">',  # another site
        '<link rel="canonical" href="javascript:alert(1)">',
        '<link rel="canonical" href="mailto:desk@example.com">',
        '<link rel="canonical">',
    ],
)
def test_no_usable_canonical_gives_empty(head: str) -> None:
    assert page_canonical(_page(head), PAGE) == ""


def test_og_url_is_used_when_the_canonical_link_is_unusable() -> None:
    html = _page(
        '<link rel="canonical" href="https://example.com/">'
        '<meta property="og:url" content="https://example.com/world/story-1">'
    )
    assert page_canonical(html, PAGE) == "https://example.com/world/story-1"


def test_cross_site_canonical_is_kept_when_allowed() -> None:
    html = _page('<link rel="canonical" href="https://wire.example.net/original-story">')
    assert (
        page_canonical(html, PAGE, allow_cross_site=True)
        == "https://wire.example.net/original-story"
    )


def test_subdomain_of_the_same_site_is_accepted() -> None:
    html = _page('<link rel="canonical" href="https://news.example.com/world/story-1">')
    assert page_canonical(html, PAGE) == "https://news.example.com/world/story-1"


def test_canonical_link_in_the_body_is_ignored() -> None:
    html = _page("", body='<link rel="canonical" href="/elsewhere"><p>text</p>')
    assert page_canonical(html, PAGE) == ""


def test_malformed_html_does_not_raise() -> None:
    assert page_canonical("<html><head><link rel=canonical href='/a'<meta", PAGE) in {
        "",
        "https://example.com/a",
    }
    assert page_canonical("", PAGE) == ""
    assert page_canonical(_page('<link rel="canonical" href="http://[::1/a">'), PAGE) == ""
    assert page_canonical(_page('<link rel="canonical" href="/a">'), "http://[::1/x") == ""


def test_broken_ipv6_literal_comes_back_unchanged() -> None:
    assert canonical_url("http://[::1/a") == "http://[::1/a"
