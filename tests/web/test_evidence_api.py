"""The evidence export over the API, on both backends: a viewer downloads the WARC (or the
zip bundle) of an alert, it reads back with warcio and holds the alert's payload; the
export is audited; an unknown alert is a 404 problem."""

from __future__ import annotations

import io
import json
import re
import zipfile

from warcio.archiveiterator import ArchiveIterator

from tests.support.api import PASSWORD, Served


async def test_a_viewer_downloads_the_warc_and_the_bundle(api: Served) -> None:
    alert = api.seeded.alert_id
    async with api.client("viewer") as client:
        payload = (await client.get(f"/api/v1/alerts/{alert}")).json()
        warc = await client.get(payload["evidence"]["api"])
        bundle = await client.get(payload["evidence"]["api"], params={"format": "zip"})
        missing = await client.get("/api/v1/alerts/alt_nothing/evidence")
    async with api.client("admin") as admin:
        audit = (await admin.get("/api/v1/audit", params={"target": f"alert:{alert}"})).json()
    assert [(e["actor"], e["action"]) for e in audit["items"]] == [
        ("viewer", "evidence.export"),
        ("viewer", "evidence.export"),
    ]
    assert warc.status_code == 200
    assert warc.headers["content-type"] == "application/warc"
    assert f'filename="{alert}.warc.gz"' in warc.headers["content-disposition"]
    records = [
        (r.rec_type, r.content_stream().read())
        for r in ArchiveIterator(io.BytesIO(warc.content), check_digests="raise")
    ]
    kinds = [kind for kind, _ in records]
    assert kinds[0] == "warcinfo"
    assert "conversion" in kinds
    metadata = json.loads(records[-1][1])
    assert metadata["alert"]["id"] == alert
    assert metadata["alert"]["evidence"] == payload["evidence"]
    assert bundle.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
        assert f"{alert}.warc.gz" in archive.namelist()
        assert "manifest.json" in archive.namelist()
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_the_console_alert_page_lists_the_evidence_and_links_its_download(
    api: Served,
) -> None:
    alert = api.seeded.alert_id
    async with api.client(follow_redirects=False) as browser:
        form = await browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        signed = await browser.post(
            "/login", data={"name": "viewer", "password": PASSWORD, "csrf_token": token[1]}
        )
        assert signed.status_code == 303
        page = await browser.get(f"/alerts/{alert}")
        link = re.search(r'href="(/api/v1/alerts/[^"]+/evidence)" download', page.text)
        assert link is not None
        download = await browser.get(link[1])  # the console's session cookie is enough
    assert page.status_code == 200
    assert 'id="evidence"' in page.text
    assert "watchlist version ?" in page.text  # the seed stored its alert with no version
    assert "no page fetched: the feed&#39;s text" in page.text
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/warc"
