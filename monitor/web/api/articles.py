"""`/api/v1/articles`: list, show with text and matches, search with the query language."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from monitor.services.articles import MAX_QUERY_CHARS
from monitor.services.shapes import to_json
from monitor.web.api import schemas
from monitor.web.api.common import Facade, Limit, Since, Viewer, errors, since_time
from monitor.web.limits import QUERY_GUARD

router = APIRouter(prefix="/articles", tags=["articles"])


@router.get("", response_model=list[schemas.Article], responses=errors(400, 404))
async def list_articles(
    m: Facade,
    who: Viewer,
    feed: Annotated[str | None, Query(max_length=2000, description="a feed's URL")] = None,
    since: Since = None,
    limit: Limit = 50,
) -> Any:
    """Stored articles newest first; 404 when `feed` names no feed."""
    since_at = since_time(since, m.ctx.clock.now())
    return to_json(await m.articles.list(feed=feed, since=since_at, limit=limit))


@router.get("/search", response_model=schemas.SearchResult, responses=errors(400))
async def search_articles(
    m: Facade,
    who: Viewer,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=QUERY_GUARD,
            description=f"watchlist query, at most {MAX_QUERY_CHARS:,} characters",
        ),
    ],
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Any:
    """Articles the query matches, newest first, each with a snippet around its hit."""
    since_at = since_time(since, m.ctx.clock.now())
    return to_json(await m.articles.search(q, since=since_at, limit=limit))


@router.get("/{article_id}", response_model=schemas.ArticleDetail, responses=errors(404))
async def show_article(
    m: Facade, who: Viewer, article_id: Annotated[int, Path(ge=1, le=2**62)]
) -> Any:
    """One article with its full text, story and watchlist matches."""
    return to_json(await m.articles.get(article_id))
