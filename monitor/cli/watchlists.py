"""`monitor watchlists …`: list, test a text or URL, backfill over stored articles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from monitor.cli import call, err, fail, out, print_json, since_option
from monitor.cli.marks import highlighted
from monitor.services import Monitor
from monitor.services.records import BackfillReport, WatchlistSummary, WatchlistTest
from monitor.services.shapes import match_json, to_json
from monitor.textcaps import clip
from monitor.textfit import Col, fitted, terminal_width
from monitor.textsafe import safe, safe_join

watchlists_app = typer.Typer(help="Watchlists: list, test, backfill.", no_args_is_help=True)
QUERY_WIDTH = 48
# One line per row in any terminal (`textfit`): severities and counts whole, the query (or a
# term) cut to what is left; the channels and then the scope go first when the width runs out.
WATCHLIST_COLUMNS = (
    Col("name", cap=24),
    Col("severity", "kept"),
    Col("channels", cap=16, drop=2),
    Col("terms", "kept"),
    Col("scope", cap=20, drop=1),
    Col("query", "free"),
)
TERM_COLUMNS = (
    Col("term", "free"),
    Col("actor", cap=16),
    Col("hits", "kept"),
    Col("articles", "kept"),
)


def register(app: typer.Typer) -> None:
    app.add_typer(watchlists_app, name="watchlists")


@watchlists_app.command("list")
def list_watchlists(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each watchlist with its severity, channels, term count, scope and query."""
    summaries = call(ctx, lambda m: m.watchlists.list(counts=False), migrate=False)
    if as_json:
        print_json(to_json(summaries))
        return
    rows = [
        (
            row.name,
            row.severity,
            ", ".join(row.channels),
            row.terms,
            _scope_text(row),
            clip(row.query, QUERY_WIDTH),
        )
        for row in summaries
    ]
    out.print(fitted(WATCHLIST_COLUMNS, rows, terminal_width()), soft_wrap=False, crop=False)


def _scope_text(row: WatchlistSummary) -> str:
    parts = [f"tags: {', '.join(row.tags)}"] if row.tags else []
    parts += [f"languages: {', '.join(row.languages)}"] if row.languages else []
    return "; ".join(parts) or "all"


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
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print JSON: per watchlist its matches, snippets and hits, each hit with its "
            "offsets and the matching rule that produced it.",
        ),
    ] = False,
) -> None:
    """Match a text against the configured watchlists; nothing is stored or sent."""
    feed_tags = (tags or "").split(",")
    # Neither form reads the database, so neither opens (or creates, or migrates) it.
    if source is not None and source.startswith(("http://", "https://")):
        url = source
        result = call(ctx, lambda m: m.watchlists.test_url(url, feed_tags=feed_tags), migrate=False)
    else:
        body = _read_text(source)
        result = call(
            ctx, lambda m: m.watchlists.test_text(body, feed_tags=feed_tags), migrate=False
        )
    if as_json:
        print_json([match_json(m, title=result.title) for m in result.matches])
    else:
        _print_matches(result)
    if result.unapplied:
        err.print(
            safe(f"not applied (limited to feed tags; pass --tags): {', '.join(result.unapplied)}"),
            style="dim",
            highlight=False,
        )


def _read_text(source: str | None) -> str:
    """The text of a file or stdin."""
    if source is None or source == "-":
        if source is None and sys.stdin.isatty():
            raise fail("give a text FILE, a URL, or - to read stdin", 2)
        return sys.stdin.read()
    path = Path(source)
    if not path.is_file():
        raise fail(f"no such file: {source}", 2)
    return path.read_bytes().decode("utf-8-sig", errors="replace")


def _print_matches(result: WatchlistTest) -> None:
    out.print(safe(f"language: {result.language or '?'}"), style="dim", highlight=False)
    if not result.matches:
        out.print("no watchlist matched", highlight=False)
    for match in result.matches:
        channels = ", ".join(match.channels) or "no channels"
        out.print(
            safe_join((match.watchlist, "bold"), f" ({match.severity}) → {channels}"),
            highlight=False,
        )
        terms = ", ".join(
            f"{m.term}{f' ({m.actor})' if m.actor else ''} ×{m.count}" for m in match.matches
        )
        out.print(safe(f"  {terms}"), highlight=False)
        for snippet in match.snippets:
            out.print(highlighted(snippet, [m.term for m in match.matches]))


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
    after = since_option(since)
    with _progress() as progress:
        task = progress.add_task("articles", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        async def run(m: Monitor) -> BackfillReport:
            return await m.watchlists.backfill(name, since=after, dry_run=dry_run, progress=advance)

        report = call(ctx, run)
    _print_backfill(report)


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


def _print_backfill(report: BackfillReport) -> None:
    if report.dry_run:
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
        counts = [(t.term, t.actor or "", t.hits, t.articles) for t in report.terms]
        out.print(fitted(TERM_COLUMNS, counts, terminal_width()), soft_wrap=False, crop=False)
    terms = [t.term for t in report.terms]
    for snippet in report.snippets:
        out.print(highlighted(snippet, terms))
