"""`monitor feeds …`: list, add (with discovery), remove, enable, disable, OPML import/export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.cli import call, out, print_json
from monitor.services.records import FeedChanged
from monitor.services.shapes import to_json
from monitor.textcaps import TITLE_CHARS, clip
from monitor.textfit import Col, fitted, terminal_width
from monitor.textsafe import safe

feeds_app = typer.Typer(help="Manage feeds.", no_args_is_help=True)
# One line per feed in any terminal: id, state and counts whole, the URL cut to what is left;
# the source and then the tags go first when the width runs out.
FEED_COLUMNS = (
    Col("id", "kept"),
    Col("name", cap=20),
    Col("url", "free"),
    Col("tags", cap=16, drop=1),
    Col("state", "kept"),
    Col("source", "kept", drop=2),
    Col("articles", "kept"),
)


def register(app: typer.Typer) -> None:
    app.add_typer(feeds_app, name="feeds")


@feeds_app.command("list")
def list_feeds(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """Feeds with their state, tags and source (config or CLI)."""
    feeds = call(ctx, lambda m: m.feeds.list())
    if as_json:
        print_json(to_json(feeds))
        return
    rows = [
        (
            f.id,
            clip(f.name, TITLE_CHARS),
            f.url,
            ",".join(f.tags),
            f.state,
            f.source,
            f.articles,
        )
        for f in feeds
    ]
    out.print(fitted(FEED_COLUMNS, rows, terminal_width()), soft_wrap=False, crop=False)


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
    added = call(
        ctx,
        lambda m: m.feeds.add(url, name=name, tags=tags.split(","), discover=not no_discover),
    )
    found = f" (found from {added.given})" if added.url != added.given else ""
    out.print(safe(f"added {added.url}{found}"), highlight=False)


def _changed(changed: FeedChanged) -> None:
    verb = {"ok": "enabled", "disabled": "disabled"}.get(changed.state, changed.state)
    out.print(safe(f"{verb} {changed.url}"), highlight=False)


@feeds_app.command("enable")
def enable(
    ctx: typer.Context, feed: Annotated[str, typer.Argument(help="Feed id or URL.")]
) -> None:
    """Enable a feed (also brings back a retired one); it is polled at the next tick."""
    _changed(call(ctx, lambda m: m.feeds.enable(feed)))


@feeds_app.command("disable")
def disable(
    ctx: typer.Context, feed: Annotated[str, typer.Argument(help="Feed id or URL.")]
) -> None:
    """Stop polling a feed; its articles are kept."""
    _changed(call(ctx, lambda m: m.feeds.disable(feed)))


@feeds_app.command("remove")
def remove(
    ctx: typer.Context, feed: Annotated[str, typer.Argument(help="Feed id or URL.")]
) -> None:
    """Delete a feed and its articles (one the config lists: edit the config instead)."""
    _changed(call(ctx, lambda m: m.feeds.remove(feed)))


@feeds_app.command("import")
def import_opml(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(help="An OPML file.", exists=True)]
) -> None:
    """Add every feed of an OPML file (categories become tags)."""
    body = file.read_bytes()
    done = call(ctx, lambda m: m.feeds.import_opml(body, source=str(file)))
    out.print(safe(f"imported {done.added} new feeds of {done.listed} in {file}"), highlight=False)


@feeds_app.command("export")
def export_opml(ctx: typer.Context) -> None:
    """Print every feed as OPML 2.0."""
    typer.echo(call(ctx, lambda m: m.feeds.export_opml()))
