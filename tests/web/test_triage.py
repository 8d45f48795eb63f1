"""Triage through the API on SQLite and PostgreSQL: the state round-trips with who and when,
filters the list, is audited and feeds each watchlist's precision; a false positive's story
copied later by another outlet raises nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from monitor.storage.tables import alerts, outbox
from tests.support.api import FEEDS, NOW, SEED_BODY, SEED_TITLE, Served, article, ingest
from tests.web.test_console_access import sign_in


async def test_triage_round_trips_filters_and_is_audited(api: Served) -> None:
    alert = api.seeded.alert_id
    async with api.client("analyst") as analyst, api.client("admin") as admin:
        put = await analyst.put(
            f"/api/v1/alerts/{alert}/triage", json={"state": "acknowledged", "note": "seen"}
        )
        assert put.json() == {
            "state": "acknowledged",
            "note": "seen",
            "by": "analyst",
            "at": "2026-11-27T12:00:00Z",
        }
        shown = (await analyst.get(f"/api/v1/alerts/{alert}")).json()
        assert shown["triage"] == put.json()
        acknowledged = (await analyst.get("/api/v1/alerts?triage=acknowledged")).json()
        assert [a["id"] for a in acknowledged["items"]] == [alert]
        assert (await analyst.get("/api/v1/alerts?triage=new")).json()["items"] == []

        audit = (await admin.get("/api/v1/audit", params={"target": f"alert:{alert}"})).json()
        assert [(e["actor"], e["action"], e["before"], e["after"]) for e in audit["items"]] == [
            (
                "analyst",
                "alert.triage",
                {"state": "new", "note": None},
                {"state": "acknowledged", "note": "seen"},
            )
        ]

        api.clock.advance(timedelta(minutes=5))
        back = await admin.put(f"/api/v1/alerts/{alert}/triage", json={"state": "new"})
        reset = {"state": "new", "note": None, "by": "admin", "at": "2026-11-27T12:05:00Z"}
        assert back.json() == reset, "a reset to new still says who set it and when"
        assert (await analyst.get(f"/api/v1/alerts/{alert}")).json()["triage"] == reset
    async with api.client() as browser:
        await sign_in(browser, "analyst")
        page = (await browser.get(f"/alerts/{alert}")).text
    block = page.split('id="triage-state">', 1)[1].split("</dd>", 1)[0]
    assert ">new</span> by <bdi>admin</bdi>" in block
    assert 'datetime="2026-11-27T12:05:00Z"' in block


async def test_a_false_positive_needs_a_note_and_counts_against_precision(api: Served) -> None:
    alert = api.seeded.alert_id
    async with api.client("analyst") as client:

        async def precision() -> dict[str, object]:
            listed = (await client.get("/api/v1/watchlists")).json()
            return next(w["precision"] for w in listed if w["name"] == "isis-k")

        assert await precision() == {"triaged": 0, "false_positives": 0, "precision": None}
        refused = await client.put(
            f"/api/v1/alerts/{alert}/triage", json={"state": "false_positive"}
        )
        assert refused.status_code == 400
        assert refused.headers["content-type"] == "application/problem+json"
        assert "note" in refused.json()["detail"]
        await client.put(f"/api/v1/alerts/{alert}/triage", json={"state": "dismissed"})
        assert await precision() == {"triaged": 1, "false_positives": 0, "precision": 1.0}
        await client.put(
            f"/api/v1/alerts/{alert}/triage",
            json={"state": "false_positive", "note": "a football club called ISKP"},
        )
        assert await precision() == {"triaged": 1, "false_positives": 1, "precision": 0.0}


async def _counts(api: Served) -> tuple[int, int]:
    async with api.engine.connect() as conn:
        raised = await conn.scalar(select(func.count()).select_from(alerts))
        queued = await conn.scalar(select(func.count()).select_from(outbox))
    return int(raised or 0), int(queued or 0)


async def test_a_false_positive_story_copied_later_by_another_outlet_raises_nothing(
    api: Served,
) -> None:
    alert = api.seeded.alert_id
    async with api.client("analyst") as client:
        await client.put(
            f"/api/v1/alerts/{alert}/triage",
            json={"state": "false_positive", "note": "satire site"},
        )
    before = await _counts(api)
    other_outlet = api.seeded.feed_ids[FEEDS[1]]
    api.clock.advance(timedelta(hours=6))
    later = NOW + timedelta(hours=6)
    copy = article(
        other_outlet, "copy", SEED_TITLE, SEED_BODY.replace("Monday", "Tuesday"), at=later
    )
    stored = await ingest(api.engine, api.monitor.settings, api.clock, copy)
    assert stored.article_id is not None
    assert stored.story_id == api.seeded.story_id  # the copy joined the triaged story
    assert stored.alert_ids == ()
    assert await _counts(api) == before  # no alert, no outbox row for any channel
    async with api.client("viewer") as client:
        shown = (await client.get(f"/api/v1/alerts/{alert}")).json()
    assert shown["story"]["articles"] == 2
    assert shown["triage"]["state"] == "false_positive"
    assert len(shown["copies"]) == 2
