"""`monitor watchlists …` and `monitor articles search`.

`watchlists test` matches one text as the service would, but with no feed: a watchlist
limited to feed `tags` is applied only when `--tags` names one of them. Language-limited
watchlists see the text's detected language, as in the service.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from monitor.cli import err, fail, load, out, print_json, run_async, since_option
from monitor.cli.articles import articles_app
from monitor.config import Settings, WatchlistConfig
from monitor.models import WatchlistMatch

if TYPE_CHECKING:
    from monitor.pipeline.match import Matcher
    from monitor.storage.backfill import BackfillReport
    from monitor.storage.search import SearchResult

watchlists_app = typer.Typer(help="Watchlists: list, test, backfill.", no_args_is_help=True)
QUERY_WIDTH = 48


def register(app: typer.Typer) -> None:
    app.add_typer(watchlists_app, name="watchlists")


# --- list -------------------------------------------------------------------------------


@watchlists_app.command("list")
def list_watchlists(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each watchlist with its severity, channels, term count, scope and query."""
    from monitor.app import compile_matcher

    settings = load(ctx, check_secrets=False)
    matcher = compile_matcher(settings)
    rows = [_summary(w, matcher.term_count(w.name)) for w in settings.watchlists]
    if as_json:
        print_json(rows)
        return
    table = Table("name", "severity", "channels", "terms", "scope", "query")
    for row in rows:
        table.add_row(
            row["name"],
            row["severity"],
            ", ".join(row["channels"]),
            str(row["terms"]),
            _scope_text(row),
            _shorten(row["query"]),
        )
    out.print(table)


def _summary(watchlist: WatchlistConfig, term_count: int) -> dict[str, Any]:
    return {
        "name": watchlist.name,
        "severity": watchlist.severity,
        "channels": list(watchlist.channels),
        "terms": term_count,
        "exclude": len(watchlist.exclude),
        "tags": list(watchlist.tags),
        "languages": list(watchlist.languages),
        "query": " ".join(watchlist.query.split()),
    }


def _scope_text(row: dict[str, Any]) -> str:
    parts = [f"tags: {', '.join(row['tags'])}"] if row["tags"] else []
    parts += [f"languages: {', '.join(row['languages'])}"] if row["languages"] else []
    return "; ".join(parts) or "all"


def _shorten(query: str) -> str:
    return query if len(query) <= QUERY_WIDTH else query[: QUERY_WIDTH - 1] + "…"


# --- test -------------------------------------------------------------------------------


@watchlists_app.command("test")
def match_text(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Argument(help="A text file, an http(s) URL (fetched and extracted), or - for stdin."),
    ] = None,
    tags: Annotated[
        str | None,
        typer.Option(
            "--tags", help="Feed tags to assume, e.g. af,en (tag-limited watchlists need one)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Match a text against the configured watchlists; nothing is stored or sent."""
    from monitor.app import compile_matcher
    from monitor.pipeline.language import detect_language

    settings = load(ctx, check_secrets=False)
    title, body, language = _read_source(settings, source)
    language = language or detect_language(title + "\n\n" + body)
    feed_tags = tuple(t.strip() for t in (tags or "").split(",") if t.strip())
    found = compile_matcher(settings).match(title, body, feed_tags=feed_tags, language=language)
    if as_json:
        print_json([_match_json(m) for m in found])
    else:
        _print_matches(found, language)
    _note_unapplied(settings.watchlists, feed_tags)


def _read_source(settings: Settings, source: str | None) -> tuple[str, str, str]:
    """(title, body, language or "") of a file, a URL or stdin."""
    if source is None or source == "-":
        if source is None and sys.stdin.isatty():
            raise fail("give a text FILE, a URL, or - to read stdin", 2)
        return "", sys.stdin.read(), ""
    if source.startswith(("http://", "https://")):
        return run_async(lambda: _fetch(settings, source))
    path = Path(source)
    if not path.is_file():
        raise fail(f"no such file: {source}", 2)
    return "", path.read_bytes().decode("utf-8-sig", errors="replace"), ""


async def _fetch(settings: Settings, url: str) -> tuple[str, str, str]:
    import asyncio

    from monitor.pipeline.extract import extract_article
    from monitor.pipeline.fetch import PAGE_ACCEPT, Fetcher

    async with Fetcher(settings.polling) as fetcher:
        page = await fetcher.get(url, max_bytes=settings.polling.max_page_bytes, accept=PAGE_ACCEPT)
    extracted = await asyncio.to_thread(
        extract_article, page.body, url=page.url, charset=page.charset
    )
    return extracted.title, extracted.text, extracted.language


def _match_json(match: WatchlistMatch) -> dict[str, Any]:
    return {
        "watchlist": match.watchlist,
        "matches": [{"term": m.term, "actor": m.actor, "count": m.count} for m in match.matches],
        "snippets": list(match.snippets),
    }


def _print_matches(found: list[WatchlistMatch], language: str) -> None:
    out.print(f"language: {language or '?'}", style="dim", highlight=False)
    if not found:
        out.print("no watchlist matched", highlight=False)
    for match in found:
        channels = ", ".join(match.channels) or "no channels"
        out.print(f"[bold]{match.watchlist}[/bold] ({match.severity}) → {channels}")
        terms = ", ".join(
            f"{m.term}{f' ({m.actor})' if m.actor else ''} ×{m.count}" for m in match.matches
        )
        out.print(f"  {terms}", highlight=False, markup=False)
        for snippet in match.snippets:
            out.print(Text("  ") + highlighted(snippet, [m.term for m in match.matches]))


def highlighted(snippet: str, terms: list[str]) -> Text:
    """The snippet with every occurrence of the terms marked."""
    from monitor.pipeline.snippets import highlight_spans

    shown = Text(snippet)
    for start, end in highlight_spans(snippet, terms):
        shown.stylize("bold yellow", start, end)
    return shown


def _note_unapplied(watchlists: tuple[WatchlistConfig, ...], feed_tags: tuple[str, ...]) -> None:
    skipped = [w.name for w in watchlists if w.tags and not set(w.tags) & set(feed_tags)]
    if skipped:
        err.print(
            f"not applied (limited to feed tags; pass --tags): {', '.join(skipped)}",
            style="dim",
            highlight=False,
        )


# --- backfill ---------------------------------------------------------------------------


@watchlists_app.command("backfill")
def backfill_watchlist(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The watchlist to run.")],
    since: Annotated[
        str | None, typer.Option("--since", help="Only articles fetched this recently, e.g. 30d.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report what would match; store nothing.")
    ] = False,
) -> None:
    """Run a watchlist over stored articles: store its matches and raise its alerts."""
    from monitor.pipeline.match import Matcher

    settings = load(ctx, check_secrets=False)
    watchlist = next((w for w in settings.watchlists if w.name == name), None)
    if watchlist is None:
        names = ", ".join(w.name for w in settings.watchlists) or "none"
        raise fail(f"no watchlist {name!r} in {settings.source}; configured: {names}", 2)
    after = since_option(since)
    matcher = Matcher.compile([watchlist])
    with _progress() as progress:
        report = run_async(lambda: _backfill(settings, matcher, name, after, dry_run, progress))
    _print_backfill(report, dry_run)


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


async def _backfill(
    settings: Settings,
    matcher: Matcher,
    name: str,
    since: datetime | None,
    dry_run: bool,
    progress: Progress,
) -> BackfillReport:
    from monitor.app import open_engine
    from monitor.clock import SystemClock
    from monitor.notify.outbox import alert_builder
    from monitor.storage.backfill import backfill

    task = progress.add_task("articles", total=None)

    def advance(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    async with open_engine(settings) as engine:
        return await backfill(
            engine,
            matcher,
            name,
            build=alert_builder(settings, SystemClock()),
            since=since,
            dry_run=dry_run,
            progress=advance,
        )


def _print_backfill(report: BackfillReport, dry_run: bool) -> None:
    if dry_run:
        out.print(
            f"{report.scanned} articles scanned, {report.matched} would match "
            "(dry run: nothing stored)",
            highlight=False,
        )
    else:
        out.print(
            f"{report.scanned} articles scanned, {report.matched} matched, "
            f"{report.new_alerts} new alerts",
            highlight=False,
        )
    if report.terms:
        table = Table("term", "actor", "hits", "articles")
        for (term, actor), hits in report.terms.items():
            table.add_row(term, actor or "", str(hits), str(report.articles[(term, actor)]))
        out.print(table)
    terms = [term for term, _ in report.terms]
    for snippet in report.snippets:
        out.print(Text("  ") + highlighted(snippet, terms))


# --- articles search --------------------------------------------------------------------


@articles_app.command("search")
def search_articles(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Watchlist query, e.g. '\"ISIS-K\" NEAR/5 Kabul'.")],
    since: Annotated[str | None, typer.Option("--since", help="e.g. 24h, 7d.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 20,
    scan: Annotated[
        bool, typer.Option("--scan", help="Confirm every article, without the full-text index.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search stored articles with the watchlist query language, newest first."""
    from monitor.errors import QuerySyntaxError
    from monitor.pipeline.query import parse_query, terms

    try:
        parsed = parse_query(query)
    except QuerySyntaxError as e:
        raise fail(f"query: {e}", 2) from None
    settings = load(ctx, check_secrets=False)
    after = since_option(since)
    result = run_async(lambda: _search(settings, query, after, limit, scan))
    if as_json:
        print_json(result.articles)
        return
    words = [term.text for term in terms(parsed)]
    for article in result.articles:
        _print_found(article, words)
    err.print(
        f"{len(result.articles)} found; {result.candidates} articles read ({result.method})",
        style="dim",
        highlight=False,
    )


async def _search(
    settings: Settings, query: str, since: datetime | None, limit: int, scan: bool
) -> SearchResult:
    from monitor.app import open_engine
    from monitor.storage.search import search_articles as run

    async with open_engine(settings) as engine, engine.connect() as conn:
        return await run(conn, query, since=since, limit=limit, scan=scan)


def _print_found(article: dict[str, Any], words: list[str]) -> None:
    date = article["published_at"] or article["fetched_at"]
    source = article["feed"]["name"] or article["feed"]["url"]
    out.print(f"[bold]#{article['id']}[/bold]  {date}  {source}", highlight=False)
    out.print(Text("  " + article["title"], style="bold"))
    out.print(Text("  ") + highlighted(article["snippet"], words))
