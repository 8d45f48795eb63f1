"""Evidence on both backends, end to end: pages served by a real HTTP server are polled,
alerted and kept; the exported WARC reads back with warcio, its digests verify and each
response payload is byte for byte what the server sent (gzip-encoded, windows-1256, and
through two redirects); the evidence outlives a changed and then deleted source page."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from monitor.app import open_runtime
from monitor.scheduler import run_round
from monitor.services.warc import sha256_label
from monitor.storage.tables import articles, outbox
from tests.support.evidence_site import Site, alert_payloads, export, serve_site, site_settings
from tests.support.feedserver import FeedServer


@pytest.fixture
def site() -> Iterator[Site]:
    with FeedServer() as server:
        yield serve_site(server)


def _read_warc(path: Path) -> list[dict[str, Any]]:
    """Every record of a WARC file, digests checked (a mismatch raises)."""
    records = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream, check_digests="raise"):
            http = record.http_headers
            records.append(
                {
                    "type": record.rec_type,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                    "headers": dict(record.rec_headers.headers),
                    "status": http.get_statuscode()
                    if http and record.rec_type == "response"
                    else None,
                    "http": http,
                    "payload": record.raw_stream.read(),
                }
            )
    return records


async def _alerts(runtime: Any) -> dict[str, dict[str, Any]]:
    """The alert payloads read back, by the URL of the article that raised them."""
    return {p["article"]["url"]: p for p in await alert_payloads(runtime)}


async def _export(runtime: Any, alert_id: str, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.warc.gz"
    await export(runtime, alert_id, path)
    return path


async def test_exported_warc_holds_each_page_as_the_server_sent_it(
    site: Site, database_url: str, tmp_path: Path
) -> None:
    settings = site_settings(database_url, tmp_path, site.feed_url)
    async with open_runtime(settings, extract_workers=1) as runtime:
        report = await run_round(runtime, all_feeds=True)
        assert (report.stored, report.alerts, report.errors) == (3, 3, 0)
        alerts = await _alerts(runtime)
        async with runtime.engine.connect() as conn:
            texts = {r.url: r.text for r in await conn.execute(select(articles))}
        assert set(alerts) == {
            site.page_url("gzip"),
            site.page_url("arabic"),
            site.page_url("hop1"),
        }
        for entry_url, payload in alerts.items():
            final_url = entry_url.replace("hop1", "final")
            sent = site.served[final_url]
            (kept,) = payload["evidence"]["articles"]
            assert kept["final_url"] == final_url
            assert kept["response_sha256"] == hashlib.sha256(sent).hexdigest()
            assert kept["text_sha256"] == hashlib.sha256(texts[entry_url].encode()).hexdigest()
            assert payload["evidence"]["watchlist_version"] == 1
            warc = _read_warc(await _export(runtime, payload["id"], tmp_path, "e"))
            responses = [r for r in warc if r["type"] == "response"]
            assert responses[-1]["uri"] == final_url
            assert responses[-1]["payload"] == sent
            assert responses[-1]["headers"]["WARC-Payload-Digest"] == sha256_label(
                kept["response_sha256"]
            )
            assert responses[-1]["headers"]["WARC-IP-Address"] == "127.0.0.1"
            assert [r["type"] for r in warc].count("request") == len(responses)
            (conversion,) = [r for r in warc if r["type"] == "conversion"]
            assert conversion["payload"].decode() == texts[entry_url]
            alert_record = json.loads(warc[-1]["payload"])
            assert alert_record["alert"]["id"] == payload["id"]
            assert alert_record["watchlist_version"]["version"] == 1


async def test_redirect_hops_each_get_a_request_and_a_response(
    site: Site, database_url: str, tmp_path: Path
) -> None:
    settings = site_settings(database_url, tmp_path, site.feed_url)
    async with open_runtime(settings, extract_workers=1) as runtime:
        await run_round(runtime, all_feeds=True)
        payload = (await _alerts(runtime))[site.page_url("hop1")]
        warc = _read_warc(await _export(runtime, payload["id"], tmp_path, "hops"))
    hops = [(r["uri"], r["status"]) for r in warc if r["type"] == "response"]
    assert hops == [
        (site.page_url("hop1"), "301"),
        (site.page_url("hop2"), "302"),
        (site.page_url("final"), "200"),
    ]
    requests = [r["uri"] for r in warc if r["type"] == "request"]
    assert requests == [site.page_url("hop1"), site.page_url("hop2"), site.page_url("final")]


async def test_gzip_response_keeps_its_encoding_and_the_bundle_decodes_it(
    site: Site, database_url: str, tmp_path: Path
) -> None:
    settings = site_settings(database_url, tmp_path, site.feed_url)
    async with open_runtime(settings, extract_workers=1) as runtime:
        await run_round(runtime, all_feeds=True)
        payload = (await _alerts(runtime))[site.page_url("gzip")]
        warc, bundle = tmp_path / "g.warc.gz", tmp_path / "g.zip"
        await export(runtime, payload["id"], warc, bundle)
    (response,) = [r for r in _read_warc(warc) if r["type"] == "response"]
    assert response["http"].get_header("Content-Encoding") == "gzip"
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            data = archive.read(entry["path"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert len(data) == entry["bytes"]
        names = {entry["path"] for entry in manifest["files"]}
        (html_name,) = [n for n in names if n.endswith("page.html")]
        html = archive.read(html_name)
    assert html.startswith(b"<html>")
    assert b"ISIS-K" in html
    assert warc.name in names


async def test_evidence_is_unchanged_after_the_source_changes_then_disappears(
    site: Site, database_url: str, tmp_path: Path
) -> None:
    settings = site_settings(database_url, tmp_path, site.feed_url)
    arabic = site.page_url("arabic")
    async with open_runtime(settings, extract_workers=1) as runtime:
        await run_round(runtime, all_feeds=True)
        before = (await _alerts(runtime))[arabic]
        first = _read_warc(await _export(runtime, before["id"], tmp_path, "before"))
        site.server.add("/arabic", "<html><body>Corrected: nothing happened.</body></html>")
        await run_round(runtime, all_feeds=True)
        del site.server.routes["/arabic"]
        await run_round(runtime, all_feeds=True)
        after = (await _alerts(runtime))[arabic]
        second = _read_warc(await _export(runtime, after["id"], tmp_path, "after"))
        async with runtime.engine.connect() as conn:
            bodies = list((await conn.execute(select(outbox.c.body))).scalars())
    assert after["evidence"] == before["evidence"]
    keep = ("type", "uri", "payload")
    assert [{k: r[k] for k in keep} for r in first[:-1]] == [
        {k: r[k] for k in keep} for r in second[:-1]
    ]
    (response,) = [r for r in second if r["type"] == "response"]
    assert response["payload"] == site.served[arabic]
    assert response["payload"].decode("cp1256").count("داعش خراسان") == 1
    assert bodies == []  # no channel configured: nothing else was written meanwhile


async def test_peer_ip_is_kept_when_the_server_closes_the_connection(
    site: Site, database_url: str, tmp_path: Path
) -> None:
    # A server that closes after each response (HTTP/1.0 style, `Connection: close`): the
    # socket is gone once the body is read, so the address must be taken before that.
    for route in site.server.routes.values():
        route.headers["Connection"] = "close"
    settings = site_settings(database_url, tmp_path, site.feed_url)
    async with open_runtime(settings, extract_workers=1) as runtime:
        await run_round(runtime, all_feeds=True)
        payload = (await _alerts(runtime))[site.page_url("hop1")]
        warc, bundle = tmp_path / "p.warc.gz", tmp_path / "p.zip"
        await export(runtime, payload["id"], warc, bundle)
    records = [r for r in _read_warc(warc) if r["type"] in ("request", "response")]
    assert len(records) == 6
    assert {r["headers"].get("WARC-IP-Address") for r in records} == {"127.0.0.1"}
    with zipfile.ZipFile(bundle) as archive:
        (hops_name,) = [n for n in archive.namelist() if n.endswith("hops.json")]
        hops = json.loads(archive.read(hops_name))
    assert [hop["peer_ip"] for hop in hops] == ["127.0.0.1"] * 3
