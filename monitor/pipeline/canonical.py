"""Canonical URLs: one identity key for an article page reached by many URLs (pure).

`canonical_url` is a dedupe key, not a fetch address (the stored `url` keeps the
address that was fetched). Decisions, so that the same page always gets one key:

- scheme and host are lowercased; `http` becomes `https` (outlets serve both and
  redirect one to the other); userinfo, default ports and the fragment go;
- host prefixes `www.`, `amp.`, `m.`, `mobile.` are stripped (they only name a
  variant of the same site); Google AMP-cache URLs are unwrapped to the origin;
- AMP path forms go: a `/amp/` segment, a trailing `/amp`, `.amp` / `.amp.html`;
- known tracking parameters and AMP switches (`amp`, `outputType=amp`) are
  dropped, the remaining parameters sorted, percent-escapes normalised;
- dot segments and repeated slashes are resolved; a trailing slash is dropped
  except on the root path, which is always `/`.

`page_canonical` reads `<link rel=canonical>` (then `og:url`) from a page and
accepts it only when it names a page of the same site that is not the site's
home page (a common CMS bug), so each outlet's copy keeps its own key and
story clustering, not URL dedupe, joins syndicated copies.
"""

from __future__ import annotations

import posixpath
import re
from contextlib import suppress
from html.parser import HTMLParser
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_VARIANT_HOST_PREFIXES = ("www.", "amp.", "m.", "mobile.")
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "yclid", "msclkid",
        "twclid", "ttclid", "li_fat_id", "mc_cid", "mc_eid", "igshid", "igsh",
        "ref", "ref_src", "ref_url", "referrer", "cmpid", "cmp", "ocid", "icid", "ncid",
        "_ga", "_gl", "spm", "scm", "smid", "smtyp", "xtor", "sr_share", "s_cid",
        "ito", "rss", "feature", "share", "fromrss", "utm", "usqp", "amp", "amp_js_v",
        "__twitter_impression", "_hsenc", "_hsmi", "mkt_tok", "trk", "trkcampaign",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "oly_", "vero_", "wt.", "ga_")
_UNRESERVED_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_AMP_CACHE = re.compile(r"^/(?:c|v)/(?:(s)/)?([^/]+)(/.*)?$")


def canonical_url(url: str) -> str:
    """The identity key of an http(s) URL; other input comes back stripped, unchanged."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a broken IPv6 literal: no key better than the text itself
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return url
    unwrapped = _unwrap_amp_cache(host, parts.path)
    if unwrapped is not None:
        return canonical_url(unwrapped + (f"?{parts.query}" if parts.query else ""))
    host = _canonical_host(host)
    port = _port(parts, scheme)
    path = _canonical_path(parts.path)
    query = _canonical_query(parts.query)
    return urlunsplit(("https", host + port, path, query, ""))


def page_canonical(html: str, page_url: str, *, allow_cross_site: bool = False) -> str:
    """The page's own canonical URL (`<link rel=canonical>`, else `og:url`), canonicalised.

    A declaration is skipped when it is not http(s), names the home page of a
    site, or (unless `allow_cross_site`) names another site; "" when none is left.
    """
    finder = _CanonicalFinder()
    finder.feed(_head_of(html))
    finder.close()
    for href in (finder.link, finder.og_url):
        accepted = _accepted(href, finder.base, page_url, allow_cross_site) if href else ""
        if accepted:
            return accepted
    return ""


def _accepted(href: str, base: str, page_url: str, allow_cross_site: bool) -> str:
    try:
        canonical = canonical_url(urljoin(urljoin(page_url, base), href.strip()))
        parts, page = urlsplit(canonical), urlsplit(canonical_url(page_url))
    except ValueError:
        return ""
    if parts.scheme != "https" or not parts.hostname or (parts.path == "/" and not parts.query):
        return ""
    if not allow_cross_site and not _same_site(parts.hostname, page.hostname or ""):
        return ""
    return canonical


def _same_site(a: str, b: str) -> bool:
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _port(parts: SplitResult, scheme: str) -> str:
    """ ":port" unless it is the scheme's default, https's (the key's scheme) or invalid."""
    try:
        port = parts.port
    except ValueError:
        return ""
    return "" if port in (None, _DEFAULT_PORTS[scheme], 443) else f":{port}"


def _canonical_host(host: str) -> str:
    host = host.lower()
    with suppress(UnicodeError):  # an undecodable host stays as it came: still a stable key
        host = host.encode("idna").decode("ascii")
    stripped = True
    while stripped:
        stripped = False
        for prefix in _VARIANT_HOST_PREFIXES:
            rest = host.removeprefix(prefix)
            if rest != host and "." in rest:
                host, stripped = rest, True
    return host


def _unwrap_amp_cache(host: str, path: str) -> str | None:
    """The origin URL behind `*.cdn.ampproject.org/c/s/origin/path` and `google.*/amp/s/…`."""
    if host.lower().endswith(".cdn.ampproject.org"):
        found = _AMP_CACHE.match(path)
    elif host.lower().removeprefix("www.").startswith("google.") and path.startswith("/amp/"):
        found = _AMP_CACHE.match("/c" + path[len("/amp") :])
    else:
        return None
    if found is None:
        return None
    scheme = "https" if found.group(1) else "http"
    return f"{scheme}://{found.group(2)}{found.group(3) or '/'}"


def _canonical_path(path: str) -> str:
    """Escapes normalised, dot segments and `//` resolved, AMP forms and trailing slash gone."""
    path = _normalise_escapes(quote(path, safe=_PATH_SAFE))
    for _ in range(8):  # stripping `.amp` can expose another AMP form; stop once stable
        simpler = _without_amp(posixpath.normpath("/" + re.sub(r"/{2,}", "/", path)))
        if simpler == path:
            break
        path = simpler
    return path


def _without_amp(path: str) -> str:
    segments = [s for s in path.split("/") if s and s != "amp"]
    if segments:
        segments[-1] = _strip_amp_suffix(segments[-1])
    return "/" + "/".join(s for s in segments if s)


def _strip_amp_suffix(segment: str) -> str:
    """`story.amp` → `story`, `story.amp.html` → `story.html`."""
    if segment.endswith(".amp.html"):
        return segment[: -len(".amp.html")] + ".html"
    return segment.removesuffix(".amp")


def _normalise_escapes(text: str) -> str:
    """Decode escapes of unreserved characters; uppercase the hex of the others."""

    def fix(found: re.Match[str]) -> str:
        char = chr(int(found.group(1), 16))
        if char.isascii() and (char.isalnum() or char in "-._~"):
            return char
        return "%" + found.group(1).upper()

    return _UNRESERVED_ESCAPE.sub(fix, text)


def _canonical_query(query: str) -> str:
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _dropped(k, v)]
    return urlencode(sorted(kept), quote_via=quote)


def _dropped(name: str, value: str) -> bool:
    lowered = name.lower()
    if lowered in _TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES):
        return True
    return lowered in {"outputtype", "output", "format"} and value.lower() == "amp"


def _head_of(html: str) -> str:
    """The part of a page before `<body`, where canonical links belong (bounded)."""
    found = re.search(r"<body[\s>]", html[:1_000_000], re.IGNORECASE)
    return html[: found.start()] if found else html[:1_000_000]


class _CanonicalFinder(HTMLParser):
    """Collects the first `<link rel=canonical>`, `og:url` and `<base href>` of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.link = ""
        self.og_url = ""
        self.base = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name.lower(): value or "" for name, value in attrs}
        if tag == "link" and "canonical" in found.get("rel", "").lower().split():
            self.link = self.link or found.get("href", "")
        elif tag == "meta" and "og:url" in (found.get("property", ""), found.get("name", "")):
            self.og_url = self.og_url or found.get("content", "")
        elif tag == "base":
            self.base = self.base or found.get("href", "")


def linkless_key(feed_url: str, guid: str) -> str:
    """The URL key of an entry without a link: the feed's URL with the entry's guid as its
    fragment, so such entries (guid-only bulletins) dedupe by guid and content, never all
    collapse into the feed's URL."""
    return f"{feed_url}#entry={quote(guid, safe='')}"
