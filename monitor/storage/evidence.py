"""Evidence SQL: snapshots of the articles of alerted stories and their content-addressed
blobs, written inside the article's own transaction (`storage.articles`), read back for
payloads and exports, and pruned by `[retention] evidence` alone.

A blob is keyed by the sha256 of its uncompressed bytes and written once however many
snapshots share it; retention deletes old snapshots, then the blobs no snapshot cites.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.models import Article, EvidenceRef, Exchange, Snapshot
from monitor.storage.dialect import insert_ignore
from monitor.storage.tables import alerts, evidence_blobs, evidence_snapshots, feeds

BATCH = 500


def evidence_ref(snapshot: Snapshot, article: Article, article_id: int | None) -> EvidenceRef:
    """What a payload cites of a snapshot about to be written."""
    capture = snapshot.capture
    return EvidenceRef(
        article_id=article_id,
        url=article.url,
        final_url=capture.final.url if capture else None,
        status=capture.final.status if capture else None,
        fetched_at=capture.fetched_at if capture else article.fetched_at,
        response_sha256=snapshot.received_sha256,
        text_sha256=snapshot.text_sha256,
        truncated=bool(snapshot.cut_note),
    )


def _ref_of_row(row: Any) -> EvidenceRef:
    return EvidenceRef(
        # the snapshot remembers its article after retention deleted it
        article_id=row.article_id or row.meta.get("article_id"),
        url=str(row.meta.get("url", "")),
        final_url=row.final_url,
        status=row.status,
        fetched_at=row.fetched_at,
        response_sha256=row.received_sha256,
        text_sha256=row.text_sha256,
        truncated=bool(row.cut_note),
    )


async def story_alerted(conn: AsyncConnection, story_id: int) -> bool:
    """Whether any watchlist alerted this story (a later copy joining it is kept too)."""
    return bool(await conn.scalar(select(exists().where(alerts.c.story_id == story_id))))


async def story_evidence(
    conn: AsyncConnection, story_ids: Iterable[int]
) -> dict[int, list[EvidenceRef]]:
    """The snapshots kept for each story, oldest first, as payload references."""
    ids = sorted(set(story_ids))
    found: dict[int, list[EvidenceRef]] = {story: [] for story in ids}
    for start in range(0, len(ids), BATCH):
        rows = await conn.execute(
            select(evidence_snapshots)
            .where(evidence_snapshots.c.story_id.in_(ids[start : start + BATCH]))
            .order_by(evidence_snapshots.c.fetched_at, evidence_snapshots.c.id)
        )
        for row in rows:
            found[row.story_id].append(_ref_of_row(row))
    return found


def _exchange_json(exchange: Exchange) -> dict[str, Any]:
    return {
        "url": exchange.url,
        "method": exchange.method,
        "request_headers": [list(pair) for pair in exchange.request_headers],
        "http_version": exchange.http_version,
        "status": exchange.status,
        "reason": exchange.reason,
        "response_headers": [list(pair) for pair in exchange.response_headers],
        "peer_ip": exchange.peer_ip,
        "started_at": exchange.started_at.isoformat(),
    }


def _meta(
    article: Article, feed: tuple[str, str], article_id: int, story_id: int
) -> dict[str, Any]:
    published = article.published_at.isoformat() if article.published_at else None
    return {
        "article_id": article_id,
        "story_id": story_id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "guid": article.guid,
        "title": article.title,
        "author": article.author,
        "published_at": published,
        "fetched_at": article.fetched_at.isoformat(),
        "language": article.language,
        "content_hash": article.content_hash,
        "feed": {"url": feed[0], "name": feed[1]},
    }


async def _put_blobs(conn: AsyncConnection, blobs: Mapping[str, bytes], now: datetime) -> None:
    """Write the blobs; one already stored (the same bytes) is left as it is. No lookup
    first: a repeat is rare (another outlet's word-for-word copy repeats the text blob) and
    a statement fewer matters more in the article's transaction."""
    rows = [
        {"sha256": sha, "size": len(data), "data": data, "created_at": now}
        for sha, data in blobs.items()
    ]
    await conn.execute(insert_ignore(conn, evidence_blobs), rows)


async def insert_snapshot(
    conn: AsyncConnection,
    snapshot: Snapshot,
    article: Article,
    *,
    article_id: int,
    story_id: int,
    now: datetime,
    feed: tuple[str, str] | None = None,
) -> None:
    """Keep an article's snapshot (in the caller's transaction, with the alert it backs).
    `feed` is the article's (feed url, name), read here when not given."""
    if feed is None:
        row = (
            await conn.execute(
                select(feeds.c.url, feeds.c.name, feeds.c.title).where(
                    feeds.c.id == article.feed_id
                )
            )
        ).one()
        feed = (row.url, row.name or row.title)
    await _put_blobs(
        conn,
        {snapshot.body_sha256: snapshot.body, snapshot.text_sha256: article.text.encode()},
        now,
    )
    capture = snapshot.capture
    await conn.execute(
        insert_ignore(conn, evidence_snapshots).values(
            story_id=story_id,
            article_id=article_id,
            request_url=capture.request_url if capture else None,
            final_url=capture.final.url if capture else None,
            peer_ip=capture.final.peer_ip if capture else None,
            status=capture.final.status if capture else None,
            exchanges=[_exchange_json(e) for e in capture.exchanges] if capture else [],
            body_sha256=snapshot.body_sha256,
            received_sha256=snapshot.received_sha256,
            received_bytes=snapshot.received_bytes,
            cut_note=snapshot.cut_note,
            text_sha256=snapshot.text_sha256,
            meta=_meta(article, feed, article_id, story_id),
            fetched_at=capture.fetched_at if capture else article.fetched_at,
            created_at=now,
        )
    )


async def payload_evidence(
    conn: AsyncConnection, article: Article, article_id: int, story_id: int, new_story: bool
) -> tuple[EvidenceRef, ...]:
    """The snapshots an alert raised now cites: the story's kept ones, and this article's."""
    kept = [] if new_story else (await story_evidence(conn, [story_id]))[story_id]
    if article.snapshot is not None:
        kept.append(evidence_ref(article.snapshot, article, article_id))
    return tuple(kept)


async def keep_evidence(
    conn: AsyncConnection,
    article: Article,
    article_id: int,
    story_id: int,
    *,
    matched: bool,
    new_story: bool,
    feed: tuple[str, str] | None = None,
) -> None:
    """Keep the article's snapshot when its story is alerted: it matched (so it raised an
    alert or joined its watchlist's alert) or it joined a story another copy alerted.
    `feed` (url, name) saves a query when the caller has read it already."""
    if article.snapshot is None:
        return
    if not matched and (new_story or not await story_alerted(conn, story_id)):
        return
    await insert_snapshot(
        conn,
        article.snapshot,
        article,
        article_id=article_id,
        story_id=story_id,
        now=article.fetched_at,
        feed=feed,
    )


async def story_snapshots(conn: AsyncConnection, story_id: int) -> list[dict[str, Any]]:
    """A story's snapshot rows, oldest fetch first (for exports)."""
    rows = await conn.execute(
        select(evidence_snapshots)
        .where(evidence_snapshots.c.story_id == story_id)
        .order_by(evidence_snapshots.c.fetched_at, evidence_snapshots.c.id)
    )
    return [dict(row._mapping) for row in rows]


async def read_blobs(conn: AsyncConnection, shas: Sequence[str]) -> dict[str, bytes]:
    """The bytes of the given blobs (decompressed), by sha256."""
    rows = await conn.execute(
        select(evidence_blobs.c.sha256, evidence_blobs.c.data).where(
            evidence_blobs.c.sha256.in_(sorted(set(shas)))
        )
    )
    return {row.sha256: row.data for row in rows}


async def stored_bytes(conn: AsyncConnection, story_ids: Sequence[int]) -> dict[int, int]:
    """Per snapshot id, the compressed bytes its blobs take (shared blobs counted in each)."""
    body = evidence_blobs.alias("body")
    text = evidence_blobs.alias("text")
    rows = await conn.execute(
        select(
            evidence_snapshots.c.id,
            func.coalesce(func.length(body.c.data), 0) + func.coalesce(func.length(text.c.data), 0),
        )
        .select_from(
            evidence_snapshots.outerjoin(
                body, body.c.sha256 == evidence_snapshots.c.body_sha256
            ).outerjoin(text, text.c.sha256 == evidence_snapshots.c.text_sha256)
        )
        .where(evidence_snapshots.c.story_id.in_(list(story_ids)))
    )
    return {int(row[0]): int(row[1]) for row in rows}


async def _delete_snapshots_batch(engine: AsyncEngine, before: datetime) -> int:
    async with engine.begin() as conn:
        ids = list(
            (
                await conn.execute(
                    select(evidence_snapshots.c.id)
                    .where(evidence_snapshots.c.created_at < before)
                    .order_by(evidence_snapshots.c.created_at)
                    .limit(BATCH)
                )
            ).scalars()
        )
        if ids:
            await conn.execute(delete(evidence_snapshots).where(evidence_snapshots.c.id.in_(ids)))
        return len(ids)


async def _delete_orphan_blobs(engine: AsyncEngine) -> int:
    cited = select(evidence_snapshots.c.body_sha256).union(select(evidence_snapshots.c.text_sha256))
    async with engine.begin() as conn:
        result = await conn.execute(
            delete(evidence_blobs).where(evidence_blobs.c.sha256.not_in(cited.scalar_subquery()))
        )
        return int(result.rowcount)


async def prune_evidence(engine: AsyncEngine, before: datetime) -> int:
    """Delete snapshots kept before `before`, then the blobs no snapshot cites; return how
    many snapshots went."""
    total = 0
    while count := await _delete_snapshots_batch(engine, before):
        total += count
    if total:
        await _delete_orphan_blobs(engine)
    return total
