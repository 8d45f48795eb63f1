"""Retention (`[retention]`): article text older than `article_text` is pruned, articles
older than `articles` are deleted, near-duplicate band keys older than the story window are
dropped, evidence snapshots kept longer than `evidence` are deleted (and only by that
setting: pruning or deleting articles never touches evidence). Alerts and stories are
kept; a story's count and dates are recounted as its articles go. Runs as a cluster-wide singleton job, in batches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.config import RetentionConfig, StoriesConfig
from monitor.storage.evidence import prune_evidence
from monitor.storage.retention import delete_articles, prune_bands, prune_text


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one retention run removed."""

    articles_deleted: int = 0
    texts_pruned: int = 0
    bands_deleted: int = 0
    snapshots_deleted: int = 0


async def apply_retention(
    engine: AsyncEngine, retention: RetentionConfig, stories: StoriesConfig, now: datetime
) -> RetentionReport:
    """Apply the retention settings as of `now` (an empty setting keeps everything)."""
    deleted = await delete_articles(engine, now - retention.articles) if retention.articles else 0
    pruned = await prune_text(engine, now - retention.article_text) if retention.article_text else 0
    bands = await prune_bands(engine, now - stories.window)
    kept = retention.evidence
    snapshots = await prune_evidence(engine, now - kept) if kept else 0
    return RetentionReport(deleted, pruned, bands, snapshots)
