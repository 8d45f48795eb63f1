"""Article pages for the evidence tests, served by a real `FeedServer`: a gzip-encoded page,
a windows-1256 page and a page reached through two redirects, each a different story that
the `isis-k` watchlist matches."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.app import Runtime
from monitor.config import Settings, settings_from_dict
from monitor.services import open_monitor
from monitor.services.shapes import alert_json
from tests.support.feedserver import FeedServer, gz, rss

WATCHLIST = "isis-k"
ALIASES = ["ISIS-K", "ISKP", "داعش خراسان"]


MARKET = [
    "Officials in the northern province said on Tuesday that a bombing at the central market "
    "had forced traders to close their stalls for the rest of the week.",
    "The provincial governor told reporters that the attack bore the marks of ISIS-K, the "
    "regional branch of the Islamic State, which has claimed similar assaults this year.",
    "Residents described panic as smoke rose above the fruit sellers, and hospitals in the "
    "capital asked for blood donations and extra staff for the night shift.",
]
CHECKPOINT = [
    "Gunmen stormed a border checkpoint before dawn on Sunday, killing four guards and "
    "seizing weapons before escaping into the hills, the interior ministry said.",
    "A statement circulated on messaging channels attributed the raid to ISKP fighters who "
    "had crossed the river overnight in small boats.",
    "Customs traffic at the crossing was suspended until further notice while soldiers "
    "searched villages along the frontier for the attackers.",
]


def english_page(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
        f"<article><h1>{html.escape(title)}</h1>{body}</article>"
        "<footer>All rights reserved.</footer></body></html>"
    )


def arabic_page() -> bytes:
    paragraphs = [
        "قال مسؤولون في الولاية يوم الثلاثاء إن هجوما استهدف سوقا مزدحمة في وسط المدينة.",
        "وأعلن تنظيم داعش خراسان مسؤوليته عن الهجوم في بيان نشر على الإنترنت بعد ساعات.",
        "وقال سكان إن قوات الأمن أغلقت الطرق المؤدية إلى السوق وبدأت عمليات تفتيش واسعة.",
        "وطالبت المستشفيات المواطنين بالتبرع بالدم بعد وصول عشرات الجرحى إلى أقسام الطوارئ.",
    ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    page = (
        "<html dir='rtl'><head><meta http-equiv='Content-Type' "
        "content='text/html; charset=windows-1256'><title>هجوم على سوق</title></head><body>"
        f"<article><h1>هجوم على سوق في المدينة</h1>{body}</article></body></html>"
    )
    return page.encode("cp1256")


@dataclass
class Site:
    """The served pages: what each URL answered, byte for byte."""

    server: FeedServer
    served: dict[str, bytes]  # final URL -> body bytes as sent
    feed_url: str

    def page_url(self, name: str) -> str:
        return self.server.url(f"/{name}")


def serve_site(server: FeedServer) -> Site:
    gzip_body = gz(english_page("Market attack in the north", MARKET).encode())
    server.add("/gzip", gzip_body, "text/html; charset=utf-8", headers={"Content-Encoding": "gzip"})
    arabic = arabic_page()
    server.add("/arabic", arabic, "text/html; charset=windows-1256")
    final = english_page("Checkpoint assault near the border", CHECKPOINT).encode()
    server.add("/final", final)
    server.add("/hop2", b"", status=302, headers={"Location": "/final"})
    server.add("/hop1", b"", status=301, headers={"Location": server.url("/hop2")})
    items = [
        {"title": "Market attack", "link": server.url("/gzip"), "guid": "g-gzip"},
        {"title": "هجوم على سوق", "link": server.url("/arabic"), "guid": "g-arabic"},
        {"title": "Checkpoint assault", "link": server.url("/hop1"), "guid": "g-hops"},
    ]
    feed_url = server.add("/rss", rss("Outlet", items), "application/rss+xml")
    served = {
        server.url("/gzip"): gzip_body,
        server.url("/arabic"): arabic,
        server.url("/final"): final,
    }
    return Site(server, served, feed_url)


def site_settings(
    database_url: str, tmp_path: Path, feed_url: str, *, exclude: tuple[str, ...] = (), **extra: Any
) -> Settings:
    raw: dict[str, Any] = {
        "database": {"url": database_url},
        "polling": {"allow_networks": ["127.0.0.0/8"], "timeout": "10s", "per_host": 4},
        "feeds": [{"url": feed_url, "name": "Outlet"}],
        "watchlists": [
            {
                "name": WATCHLIST,
                "severity": "high",
                "actors": [{"name": "ISIS-Khorasan", "aliases": ALIASES}],
                "exclude": list(exclude),
            }
        ],
        "channels": {},
        **extra,
    }
    return settings_from_dict(raw, base=tmp_path)


async def alert_payloads(runtime: Runtime) -> list[dict[str, Any]]:
    """The §4 payloads of every alert, as `alerts list --json` prints them."""
    async with open_monitor(runtime.settings, engine=runtime.engine, clock=runtime.clock) as m:
        page = await m.alerts.list(limit=100)
    return [alert_json(alert) for alert in page.items]


async def export(runtime: Runtime, alert_id: str, warc: Path, bundle: Path | None = None) -> None:
    """`monitor evidence export` through the use case, over the runtime's database."""
    async with open_monitor(runtime.settings, engine=runtime.engine, clock=runtime.clock) as m:
        await m.evidence.export(alert_id, warc, bundle=bundle)
