"""Search stored articles with the watchlist query language: hits marked, pages of
`PAGE` articles, and a query that does not parse shown with its error beside the box."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from monitor.errors import InvalidRequest
from monitor.web.console.deps import Viewer, monitor_of
from monitor.web.console.pages import ConsoleRoute
from monitor.web.console.render import render
from monitor.web.limits import QUERY_GUARD

router = APIRouter(route_class=ConsoleRoute)
PAGE = 20
MAX_PAGES = 25  # a search confirms page × PAGE articles; deeper pages ask for a narrower query


@router.get("/search", name="console.search")
async def search(
    request: Request,
    who: Viewer,
    q: Annotated[str, Query(max_length=QUERY_GUARD)] = "",
    page: int = 1,
) -> Response:
    q, page = q.strip(), max(1, min(page, MAX_PAGES))
    context = who.page(
        request,
        title=f"Search: {q}" if q else "Search",
        section="console.search",
        q=q,
        page=page,
        offset=(page - 1) * PAGE,
        result=None,
        error="",
        has_more=False,
    )
    status = 200
    if q:
        try:
            found = await monitor_of(request).articles.search(q, limit=page * PAGE + 1)
        except InvalidRequest as e:
            context["error"], status = str(e), 400
        else:
            shown = found.articles[(page - 1) * PAGE : page * PAGE]
            context["result"] = {"articles": shown, "words": found.words}
            context["has_more"] = len(found.articles) > page * PAGE and page < MAX_PAGES
    return render(request, "console/search.html", context, status_code=status)
