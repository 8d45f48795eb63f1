"""`monitor feeds …`: list, add (with discovery), remove, enable, disable, OPML import/export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from xml.sax.saxutils import quoteattr

import typer
from rich.table import Table

from monitor.cli import fail, load, out, print_json, run_async, with_conn
from monitor.clock import SystemClock

feeds_app = typer.Typer(help="Manage feeds.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")


@feeds_app.command("list")
def list_feeds(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Feeds with their state, tags and source (config or CLI)."""
    from monitor.storage.queries import feed_status

    rows = run_async(lambda: with_conn(load(ctx, check_secrets=False), feed_status))
    if as_json:
        print_json(rows)
        return
    table = Table("id", "name", "url", "tags", "state", "source", "articles")
    for f in rows:
        table.add_row(
            str(f["id"]),
            f["name"],
            f["url"],
            ",".join(f["tags"]),
            f["state"],
            f["source"],
            str(f["articles"]),
        )
    out.print(table)


@feeds_app.command("add")
def add(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A feed URL, or a site URL whose feed is discovered.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    tags: Annotated[str, typer.Option("--tags", help="Comma-separated tags.")] = "",
    no_discover: Annotated[
        bool, typer.Option("--no-discover", help="Store the URL as given, without fetching it.")
    ] = False,
) -> None:
    """Add a feed (a site URL is resolved to its feed)."""
    from monitor.pipeline.discover import discover_feed
    from monitor.pipeline.fetch import Fetcher
    from monitor.storage.feeds import add_feed

    settings = load(ctx, check_secrets=False)
    if not url.startswith(("http://", "https://")):
        raise fail(f"{url}: not an http:// or https:// URL", 2)
    clock = SystemClock()

    async def go() -> tuple[str, bool]:
        feed_url = url
        if not no_discover:
            async with Fetcher(settings.polling) as fetcher:
                feed_url = await discover_feed(fetcher, url, now=clock.now())
        tag_list = [t.strip() for t in tags.split(",") if t.strip()]

        async def insert(conn: Any) -> bool:
            return await add_feed(conn, feed_url, name=name, tags=tag_list, now=clock.now())

        return feed_url, await with_conn(settings, insert, write=True)

    feed_url, added = run_async(go)
    if not added:
        raise fail(f"{feed_url} is already a feed", 1)
    found = f" (found from {url})" if feed_url != url else ""
    out.print(f"added {feed_url}{found}")


def _change_state(ctx: typer.Context, feed: str, state: str) -> None:
    from monitor.storage.feeds import find_feed, set_state

    settings = load(ctx, check_secrets=False)

    async def work(conn: Any) -> Any:
        row = await find_feed(conn, feed)
        if row is not None:
            await set_state(conn, row.id, state, SystemClock().now())
        return row

    row = run_async(lambda: with_conn(settings, work, write=True))
    if row is None:
        raise fail(f"no feed {feed!r} (see `monitor feeds list`)", 1)
    out.print(f"{'enabled' if state == 'ok' else 'disabled'} {row.url}")


@feeds_app.command("enable")
def enable(
    ctx: typer.Context, feed: Annotated[str, typer.Argument(help="Feed id or URL.")]
) -> None:
    """Enable a feed (also brings back a retired one); it is polled at the next tick."""
    _change_state(ctx, feed, "ok")


@feeds_app.command("disable")
def disable(
    ctx: typer.Context, feed: Annotated[str, typer.Argument(help="Feed id or URL.")]
) -> None:
    """Stop polling a feed; its articles are kept."""
    _change_state(ctx, feed, "disabled")


@feeds_app.command("remove")
def remove(
    ctx: typer.Context, feed: Annotated[str, typer.Argument(help="Feed id or URL.")]
) -> None:
    """Delete a CLI-added feed and its articles (config feeds: edit the config instead)."""
    from sqlalchemy import delete

    from monitor.storage.feeds import find_feed
    from monitor.storage.tables import feeds

    settings = load(ctx, check_secrets=False)

    async def work(conn: Any) -> tuple[Any, bool]:
        row = await find_feed(conn, feed)
        if row is None or row.config_url:
            return row, False
        await conn.execute(delete(feeds).where(feeds.c.id == row.id))
        return row, True

    row, removed = run_async(lambda: with_conn(settings, work, write=True))
    if row is None:
        raise fail(f"no feed {feed!r} (see `monitor feeds list`)", 1)
    if not removed:
        raise fail(
            f"{row.config_url} comes from {settings.source}: remove it there (or `monitor feeds disable`)",
            1,
        )
    out.print(f"removed {row.url}")


@feeds_app.command("import")
def import_opml(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(help="An OPML file.", exists=True)]
) -> None:
    """Add every feed of an OPML file (categories become tags)."""
    import listparser

    from monitor.storage.feeds import add_feed

    settings = load(ctx, check_secrets=False)
    parsed = listparser.parse(file.read_bytes())
    if parsed.bozo and not parsed.feeds:
        raise fail(f"{file}: not a readable OPML file ({parsed.bozo_exception})", 2)

    async def work(conn: Any) -> int:
        added = 0
        for item in parsed.feeds:
            if not str(item.url).startswith(("http://", "https://")):
                continue
            tags = sorted({str(t) for cat in item.categories for t in cat if t})
            added += await add_feed(
                conn, item.url, name=item.title or "", tags=tags, now=SystemClock().now()
            )
        return added

    added = run_async(lambda: with_conn(settings, work, write=True))
    out.print(f"imported {added} new feeds of {len(parsed.feeds)} in {file}")


@feeds_app.command("export")
def export_opml(ctx: typer.Context) -> None:
    """Print every feed as OPML 2.0."""
    from monitor.storage.queries import feed_status

    rows = run_async(lambda: with_conn(load(ctx, check_secrets=False), feed_status))
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head><title>feed-monitor feeds</title></head>",
        "  <body>",
    ]
    for f in rows:
        attrs = f'type="rss" text={quoteattr(f["name"] or f["url"])} xmlUrl={quoteattr(f["url"])}'
        if f["tags"]:
            attrs += f" category={quoteattr(','.join(f['tags']))}"
        lines.append(f"    <outline {attrs}/>")
    lines += ["  </body>", "</opml>"]
    typer.echo("\n".join(lines))
