"""`monitor trends [WATCHLIST]`: stories per hour or day with the count the surge test
expected, surges marked, and a sparkline of each watchlist on a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from monitor.cli import call, fail, out, print_json
from monitor.services import to_json
from monitor.units import parse_duration

if TYPE_CHECKING:
    from monitor.services.trends import Bucket, WatchlistTrend

SPARKS = "▁▂▃▄▅▆▇█"


def register(app: typer.Typer) -> None:
    app.command("trends")(trends)


def trends(
    ctx: typer.Context,
    watchlist: Annotated[str | None, typer.Argument(help="One watchlist (default: all).")] = None,
    since: Annotated[str, typer.Option("--since", help="How far back, e.g. 14d.")] = "14d",
    by: Annotated[str, typer.Option("--by", help="Bucket: hour or day.")] = "day",
    actor: Annotated[
        str | None, typer.Option("--actor", help="Count one actor of the watchlist.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Stories per hour or day for each watchlist, against the expected count; surges marked."""
    if by not in ("hour", "day"):
        raise fail(f"--by: must be hour or day, not {by!r}", 2)
    try:
        span = parse_duration(since)
    except ValueError as e:
        raise fail(f"--since: {e}", 2) from None
    bucket: Bucket = "hour" if by == "hour" else "day"
    found = call(ctx, lambda m: m.trends.series(watchlist, since=span, by=bucket, actor=actor))
    if as_json:
        print_json(to_json(found))
        return
    for trend in found:
        _render(trend)


def sparkline(values: list[int]) -> str:
    """One block character per value, scaled to the largest."""
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(len(SPARKS) - 1, round(v / top * (len(SPARKS) - 1)))] for v in values)


def _render(trend: WatchlistTrend) -> None:
    stories = [p.stories for p in trend.points]
    detection = "surge detection on" if trend.surge else "surge detection off"
    name = f"{trend.watchlist} / {trend.actor}" if trend.actor else trend.watchlist
    out.print(f"[bold]{escape(name)}[/bold] · {sum(stories)} stories · {detection}")
    if out.is_terminal:
        out.print(sparkline(stories))
    table = Table("start (UTC)", "stories", "outlets", "expected", "")
    stamp = "%Y-%m-%d %H:00" if trend.by == "hour" else "%Y-%m-%d"
    for point in trend.points:
        expected = "" if point.expected is None else f"{point.expected:.1f}"
        mark = "SURGE" if point.surge else ""
        table.add_row(
            point.start.strftime(stamp), str(point.stories), str(point.outlets), expected, mark
        )
    out.print(table)
    for episode in trend.episodes:
        message = episode.payload.get("message", episode.type)
        out.print(f"  {episode.id} {episode.type}: {message}", markup=False)
