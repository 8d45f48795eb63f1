"""`monitor articles …` and `monitor stories …`: read what was stored."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from monitor.cli import fail, load, out, print_json, run_async, since_option, with_conn

articles_app = typer.Typer(help="Stored articles.", no_args_is_help=True)
stories_app = typer.Typer(
    help="Near-duplicate stories (one event, many outlets).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(articles_app, name="articles")
    app.add_typer(stories_app, name="stories")


@articles_app.command("list")
def list_articles(
    ctx: typer.Context,
    feed: Annotated[str | None, typer.Option("--feed", help="Only this feed's URL.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="e.g. 24h, 7d.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Stored articles, newest first."""
    from monitor.storage.queries import list_articles as query

    settings = load(ctx, check_secrets=False)
    after = since_option(since)
    rows = run_async(
        lambda: with_conn(settings, lambda c: query(c, feed=feed, since=after, limit=limit))
    )
    if as_json:
        print_json(rows)
        return
    table = Table("id", "published", "lang", "feed", "title", "story")
    for a in rows:
        table.add_row(
            str(a["id"]),
            a["published_at"] or a["fetched_at"],
            a["language"],
            a["feed"]["name"] or a["feed"]["url"],
            a["title"],
            str(a["story_id"]),
        )
    out.print(table)


@articles_app.command("show")
def show_article(
    ctx: typer.Context,
    article_id: Annotated[int, typer.Argument(help="Article id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One article with its full extracted text, language, story and matches."""
    from monitor.storage.queries import get_article

    settings = load(ctx, check_secrets=False)
    article = run_async(lambda: with_conn(settings, lambda c: get_article(c, article_id)))
    if article is None:
        raise fail(f"no article {article_id}", 1)
    if as_json:
        print_json(article)
        return
    out.print(f"[bold]{article['title']}[/bold]", highlight=False)
    out.print(
        f"{article['url']}\n{article['feed']['name'] or article['feed']['url']}  "
        f"published {article['published_at'] or '?'}  language {article['language'] or '?'}  "
        f"story {article['story']['id']} ({article['story']['articles']} articles)",
        highlight=False,
    )
    for m in article["matches"]:
        actor = f" ({m['actor']})" if m["actor"] else ""
        out.print(f"  match [{m['watchlist']}] {m['term']}{actor} ×{m['count']}", highlight=False)
    out.print()
    out.print(article["text"], highlight=False, markup=False)


@stories_app.command("list")
def list_stories(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="e.g. 24h, 7d.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Stories newest first: articles, outlets, first seen."""
    from monitor.storage.queries import list_stories as query

    settings = load(ctx, check_secrets=False)
    after = since_option(since)
    rows = run_async(lambda: with_conn(settings, lambda c: query(c, since=after, limit=limit)))
    if as_json:
        print_json(rows)
        return
    table = Table("id", "first seen", "articles", "outlets", "title")
    for s in rows:
        table.add_row(
            str(s["id"]), s["first_seen"], str(s["articles"]), str(s["outlets"]), s["title"]
        )
    out.print(table)


@stories_app.command("show")
def show_story(
    ctx: typer.Context,
    story_id: Annotated[int, typer.Argument(help="Story id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One story: its articles, the outlets that carried it, first seen."""
    from monitor.storage.queries import get_story

    settings = load(ctx, check_secrets=False)
    story = run_async(lambda: with_conn(settings, lambda c: get_story(c, story_id)))
    if story is None:
        raise fail(f"no story {story_id}", 1)
    if as_json:
        print_json(story)
        return
    out.print(f"[bold]{story['title']}[/bold]", highlight=False)
    out.print(
        f"first seen {story['first_seen']}, last seen {story['last_seen']}, "
        f"{story['articles']} articles from {len(story['outlets'])} outlets",
        highlight=False,
    )
    for a in story["items"]:
        out.print(
            f"  #{a['id']}  {a['fetched_at']}  {a['feed']['name'] or a['feed']['url']}  {a['url']}",
            highlight=False,
        )
