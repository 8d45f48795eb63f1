"""Feeds to webhook, driven through the CLI: the seed story carried by four outlets in one
round makes one story, one alert per matching watchlist, one signed webhook each."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import monitor
from tests.support.feedserver import FIXTURES, FeedServer, rss
from tests.support.notify import WEBHOOK_SECRET, WebhookReceiver

OUTLETS = FIXTURES / "stories" / "seed_outlets"


def _page(title: str, body: str, outlet: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n\n") if p.strip())
    return (
        f"<html><head><title>{html.escape(title)} | {outlet}</title></head><body>"
        f"<nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/sport'>Sport</a></nav>"
        f"<article><h1>{html.escape(title)}</h1>{paragraphs}</article>"
        f"<aside><h3>Related</h3><a href='/x'>ISIS-K claims another attack</a></aside>"
        f"<footer>© {outlet}. All rights reserved.</footer></body></html>"
    )


@pytest.fixture
def outlets() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        for i in range(1, 5):
            title, _, body = (OUTLETS / f"{i}.txt").read_text(encoding="utf-8").partition("\n")
            srv.add(f"/outlet{i}/story", _page(title, body, f"Outlet {i}"))
            item = {
                "title": html.escape(title),
                "link": srv.url(f"/outlet{i}/story?utm_source=rss"),
                "guid": f"o{i}-1",
            }
            srv.add(f"/outlet{i}/story?utm_source=rss", _page(title, body, f"Outlet {i}"))
            srv.add(f"/outlet{i}/rss", rss(f"Outlet {i}", [item]), "application/rss+xml")
        yield srv


def _config(tmp_path: Path, db_url: str, feeds: list[str], hook_url: str) -> Path:
    feed_blocks = "".join(
        f'[[feeds]]\nurl = "{u}"\nname = "Outlet {i + 1}"\n\n' for i, u in enumerate(feeds)
    )
    path = tmp_path / "monitor.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"

[polling]
allow_networks = ["127.0.0.0/8"]

{feed_blocks}
[[watchlists]]
name = "isis-k"
severity = "high"
channels = ["hook"]

[[watchlists.actors]]
name = "ISIS-Khorasan"
aliases = ["ISIS-K", "ISKP", "ISIS-Khorasan", "Islamic State Khorasan"]

[[watchlists]]
name = "iskp-only"
severity = "low"
channels = ["hook"]
terms = ["ISKP"]

[[watchlists]]
name = "unrelated"
channels = ["hook"]
terms = ["earthquake"]

[channels.hook]
type = "webhook"
url = "{hook_url}"
secret_env = "MONITOR_TEST_HOOK_SECRET"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_TEST_HOOK_SECRET", WEBHOOK_SECRET)


def test_four_outlets_one_story_one_alert_per_watchlist(
    outlets: FeedServer, tmp_path: Path, database_url: str
) -> None:
    with WebhookReceiver().running() as receiver:
        feeds = [outlets.url(f"/outlet{i}/rss") for i in range(1, 5)]
        config = _config(tmp_path, database_url, feeds, receiver.url)
        result = monitor(config, "run", "--once")
        assert result.returncode == 0, result.stderr
        again = monitor(config, "run", "--once", "--all")  # re-running a round adds nothing
        assert again.returncode == 0, again.stderr
        alerts = json.loads(monitor(config, "alerts", "list", "--json").stdout)
        by_watchlist = {a["watchlist"]: a for a in alerts}
        assert sorted(by_watchlist) == [
            "isis-k",
            "iskp-only",
        ]  # ISKP is only in outlet 4's extra paragraph
        assert by_watchlist["isis-k"]["story"]["articles"] == 4
        assert by_watchlist["isis-k"]["story"]["id"] == by_watchlist["iskp-only"]["story"]["id"]
        assert by_watchlist["isis-k"]["severity"] == "high"
        assert any(
            "ISIS-K" in s or "ISIS-Khorasan" in s for s in by_watchlist["isis-k"]["snippets"]
        )
        for snippet in by_watchlist["isis-k"]["snippets"]:
            assert "Related" not in snippet  # boilerplate never matched
        accepted = receiver.accepted()
        assert sorted(r.id for r in accepted) == sorted(by_watchlist[w]["id"] for w in by_watchlist)
        assert all(r.verified for r in accepted)
        body = json.loads(accepted[0].body)
        assert body["type"] == "alert.created"
        assert set(body) == {
            "id",
            "type",
            "created_at",
            "watchlist",
            "severity",
            "matches",
            "snippets",
            "article",
            "story",
            "evidence",
        }
        # each alert cites the alerting article's page, kept with its digests, and any copy
        # of its story kept before it (which copy alerts first depends on the round's order)
        for received in accepted:
            cited = json.loads(received.body)
            kept = cited["evidence"]["articles"]
            assert cited["article"]["id"] in [k["article_id"] for k in kept]
            assert len({k["article_id"] for k in kept}) == len(kept)
            assert all(len(k["response_sha256"]) == 64 for k in kept)
        stories = json.loads(monitor(config, "stories", "list", "--json").stdout)
        assert [s["articles"] for s in stories] == [4]
        assert stories[0]["outlets"] == 4
        shown = json.loads(
            monitor(config, "alerts", "show", by_watchlist["isis-k"]["id"], "--json").stdout
        )
        assert [(d["channel"], d["status"]) for d in shown["deliveries"]] == [("hook", "sent")]
        # the id shown is the webhook-id the receiver got, to match its logs against
        webhook_id = next(r.id for r in accepted if r.id == by_watchlist["isis-k"]["id"])
        assert shown["deliveries"][0]["message_id"] == webhook_id
        plain = monitor(config, "alerts", "show", webhook_id).stdout
        assert "delivery hook: sent after 1 attempt, sent " in plain
        assert f", id {webhook_id}\n" in plain


@pytest.fixture
def wire_copies() -> Iterator[FeedServer]:
    """Three outlets each carrying outlet 1's story word for word on a page of their own,
    under their own headline."""
    title, _, body = (OUTLETS / "1.txt").read_text(encoding="utf-8").partition("\n")
    with FeedServer() as srv:
        for i in range(1, 4):
            headline = f"{title} (Outlet {i})"
            srv.add(f"/outlet{i}/story", _page(headline, body, f"Outlet {i}"))
            item = {"title": html.escape(headline), "link": srv.url(f"/outlet{i}/story")}
            srv.add(f"/outlet{i}/rss", rss(f"Outlet {i}", [item]), "application/rss+xml")
        yield srv


def test_three_word_for_word_copies_are_three_articles_of_one_story(
    wire_copies: FeedServer, tmp_path: Path, database_url: str
) -> None:
    with WebhookReceiver().running() as receiver:
        feeds = [wire_copies.url(f"/outlet{i}/rss") for i in range(1, 4)]
        config = _config(tmp_path, database_url, feeds, receiver.url)
        result = monitor(config, "run", "--once", "--all")
        assert result.returncode == 0, result.stderr
        [alert] = json.loads(monitor(config, "alerts", "list", "--json").stdout)
        assert (alert["watchlist"], alert["story"]["articles"]) == ("isis-k", 3)
        assert [r.id for r in receiver.accepted()] == [alert["id"]]
        stories = json.loads(monitor(config, "stories", "list", "--json").stdout)
        assert [(s["articles"], s["outlets"]) for s in stories] == [(3, 3)]
        status = json.loads(monitor(config, "status", "--json").stdout)
        assert [feed["articles"] for feed in status] == [1, 1, 1]


def test_receiver_down_dead_letters_then_retry_delivers(
    outlets: FeedServer, tmp_path: Path
) -> None:
    receiver = WebhookReceiver(statuses=[503] * 100)
    with receiver.running():
        config = _config(
            tmp_path,
            f"sqlite+aiosqlite:///{tmp_path / 'm.db'}",
            [outlets.url("/outlet1/rss")],
            receiver.url,
        )
        text = config.read_text(encoding="utf-8").replace(
            "[polling]", '[delivery]\nmax_attempts = 1\nretry_base = "1s"\n\n[polling]'
        )
        config.write_text(text, encoding="utf-8")
        failed = monitor(config, "run", "--once")
        assert failed.returncode == 0  # a failed delivery is no failed run
        assert "0 messages delivered, 0 failed, 1 dead-lettered, 0 feed errors" in failed.stdout
        [alert] = json.loads(monitor(config, "alerts", "list", "--json", "--status", "dead").stdout)
        shown = json.loads(monitor(config, "alerts", "show", alert["id"], "--json").stdout)
        assert shown["deliveries"][0]["status"] == "dead"
        assert "503" in shown["deliveries"][0]["last_error"]
        receiver.statuses.clear()
        retried = monitor(config, "alerts", "retry", "--dead")
        assert retried.returncode == 0, retried.stderr
        delivered = monitor(config, "run", "--once")
        assert delivered.returncode == 0
        assert "1 message delivered, 0 failed, 0 feed errors" in delivered.stdout
        assert [r.id for r in receiver.accepted()] == [alert["id"]]
        assert (
            json.loads(monitor(config, "alerts", "list", "--json", "--status", "sent").stdout)[0][
                "id"
            ]
            == alert["id"]
        )


def test_the_run_once_summary_counts_deliveries_that_failed_and_stay_queued(
    outlets: FeedServer, tmp_path: Path
) -> None:
    receiver = WebhookReceiver(statuses=[503] * 100)
    with receiver.running():
        feeds = [outlets.url(f"/outlet{i}/rss") for i in range(1, 5)]
        config = _config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", feeds, receiver.url)
        result = monitor(config, "run", "--once")
        pending = json.loads(
            monitor(config, "alerts", "list", "--json", "--status", "pending").stdout
        )
    assert result.returncode == 0, result.stderr
    assert "2 alerts, 0 messages delivered, 2 failed (queued for retry), 0 feed errors" in (
        result.stdout
    )
    assert len(pending) == 2
    assert len(receiver.received) == 2


def test_channels_test_sends_a_signed_test_message(tmp_path: Path) -> None:
    with WebhookReceiver().running() as receiver:
        config = _config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'm.db'}", [], receiver.url)
        result = monitor(config, "channels", "test", "hook")
        assert result.returncode == 0, result.stderr
        [got] = receiver.accepted()
        assert got.verified
        body = json.loads(got.body)
        assert body["type"] == "channel.test"
        assert body["id"].startswith("tst_")
        assert monitor(config, "channels", "test", "nope").returncode == 2
