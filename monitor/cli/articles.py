"""`monitor articles …` and `monitor stories …`: read what was stored, search it."""

from __future__ import annotations

from typing import Annotated

import typer

from monitor.cli import call, counted, err, out, print_json, since_option
from monitor.cli.marks import highlighted
from monitor.services.records import ArticleSummary, FoundArticle
from monitor.services.shapes import to_json
from monitor.textcaps import TITLE_CHARS, clip
from monitor.textfit import Col, fitted, terminal_width
from monitor.textsafe import safe, safe_join

articles_app = typer.Typer(help="Stored articles.", no_args_is_help=True)
stories_app = typer.Typer(
    help="Near-duplicate stories (one event, many outlets).", no_args_is_help=True
)
# One line per row in any terminal: ids, times and counts whole, the title cut to what is left.
ARTICLE_COLUMNS = (
    Col("id", "kept"),
    Col("published", "kept"),
    Col("lang", "kept"),
    Col("feed", cap=16),
    Col("title", "free"),
    Col("story", "kept"),
)
STORY_COLUMNS = (
    Col("id", "kept"),
    Col("first seen", "kept"),
    Col("articles", "kept"),
    Col("outlets", "kept"),
    Col("title", "free"),
)


def register(app: typer.Typer) -> None:
    app.add_typer(articles_app, name="articles")
    app.add_typer(stories_app, name="stories")


@articles_app.command("list")
def list_articles(
    ctx: typer.Context,
    feed: Annotated[str | None, typer.Option("--feed", help="Only this feed's URL.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="e.g. 24h, 7d.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Stored articles, newest first."""
    after = since_option(since)
    found = call(ctx, lambda m: m.articles.list(feed=feed, since=after, limit=limit))
    if as_json:
        print_json(to_json(found))
        return
    rows = [_article_row(article) for article in found]
    out.print(fitted(ARTICLE_COLUMNS, rows, terminal_width()), soft_wrap=False, crop=False)


def _article_row(article: ArticleSummary) -> tuple[object, ...]:
    shown = to_json(article)
    return (
        article.id,
        shown["published_at"] or shown["fetched_at"],
        article.language,
        clip(article.feed.name or article.feed.url, TITLE_CHARS),
        clip(article.title, TITLE_CHARS),
        article.story_id,
    )


@articles_app.command("show")
def show_article(
    ctx: typer.Context,
    article_id: Annotated[int, typer.Argument(help="Article id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One article with its full extracted text, language, story and matches."""
    detail = call(ctx, lambda m: m.articles.get(article_id))
    shown = to_json(detail)
    if as_json:
        print_json(shown)
        return
    article = detail.article
    out.print(safe(article.title, style="bold", limit=TITLE_CHARS), highlight=False)
    out.print(
        safe(
            f"{article.url}\n{article.feed.name or article.feed.url}  "
            f"published {shown['published_at'] or '?'}  language {article.language or '?'}  "
            f"story {detail.story.id} ({counted(detail.story.articles, 'article')})"
        ),
        highlight=False,
    )
    for m in detail.matches:
        actor = f" ({m.actor})" if m.actor else ""
        out.print(safe(f"  match [{m.watchlist}] {m.term}{actor} ×{m.count}"), highlight=False)
    out.print()
    out.print(safe(detail.text), highlight=False)


@articles_app.command("search")
def search_articles(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Watchlist query, e.g. '\"ISIS-K\" NEAR/5 Kabul'.")],
    since: Annotated[str | None, typer.Option("--since", help="e.g. 24h, 7d.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    scan: Annotated[
        bool, typer.Option("--scan", help="Confirm every article, without the full-text index.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search stored articles with the watchlist query language, newest first."""
    after = since_option(since)
    result = call(ctx, lambda m: m.articles.search(query, since=after, limit=limit, scan=scan))
    if as_json:
        print_json(to_json(result.articles))
        return
    for found in result.articles:
        _print_found(found, list(result.words))
    err.print(
        f"{len(result.articles)} found; {counted(result.candidates, 'article')} read"
        f" ({result.method})",
        style="dim",
        highlight=False,
    )


def _print_found(found: FoundArticle, words: list[str]) -> None:
    article = found.article
    shown = to_json(article)
    date = shown["published_at"] or shown["fetched_at"]
    source = article.feed.name or article.feed.url
    out.print(safe_join((f"#{article.id}", "bold"), f"  {date}  {source}"), highlight=False)
    out.print(safe_join("  ", safe(article.title, style="bold", limit=TITLE_CHARS)))
    out.print(highlighted(found.snippet, words))


@stories_app.command("list")
def list_stories(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="e.g. 24h, 7d.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Stories newest first: articles, outlets, first seen."""
    after = since_option(since)
    stories = call(ctx, lambda m: m.stories.list(since=after, limit=limit))
    if as_json:
        print_json(to_json(stories))
        return
    rows = [
        (
            story.id,
            to_json(story)["first_seen"],
            story.articles,
            story.outlets,
            clip(story.title, TITLE_CHARS),
        )
        for story in stories
    ]
    out.print(fitted(STORY_COLUMNS, rows, terminal_width()), soft_wrap=False, crop=False)


@stories_app.command("show")
def show_story(
    ctx: typer.Context,
    story_id: Annotated[int, typer.Argument(help="Story id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One story: its articles, the outlets that carried it, first seen."""
    story = call(ctx, lambda m: m.stories.get(story_id))
    shown = to_json(story)
    if as_json:
        print_json(shown)
        return
    out.print(safe(story.title, style="bold", limit=TITLE_CHARS), highlight=False)
    out.print(
        safe(
            f"first seen {shown['first_seen']}, last seen {shown['last_seen']}, "
            f"{counted(story.articles, 'article')} from {counted(story.outlets, 'outlet')}"
        ),
        highlight=False,
    )
    for item in shown["items"]:
        out.print(
            safe(
                f"  #{item['id']}  {item['fetched_at']}  {item['feed']['name'] or item['feed']['url']}"
                f"  {item['url']}"
            ),
            highlight=False,
        )
