"""`monitor trends [WATCHLIST]`: stories per hour or day with the count the surge test
expected, surges marked, and a sparkline of each watchlist on a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli import call, fail, out, print_json
from monitor.services import to_json
from monitor.textfit import Col, fitted, terminal_width
from monitor.textsafe import safe, safe_join
from monitor.units import parse_duration

if TYPE_CHECKING:
    from monitor.services.trends import Bucket, WatchlistTrend

SPARKS = "▁▂▃▄▅▆▇█"
# One line per period (`textfit`): times and counts, never cut.
POINT_COLUMNS = (
    Col("start (UTC)", "kept"),
    Col("stories", "kept"),
    Col("outlets", "kept"),
    Col("expected", "kept"),
    Col("", "kept"),
)


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
    out.print(
        safe_join((name, "bold"), f" · {sum(stories)} stories · {detection}"), highlight=False
    )
    if out.is_terminal:
        out.print(sparkline(stories))
    stamp = "%Y-%m-%d %H:00" if trend.by == "hour" else "%Y-%m-%d"
    rows = [
        (
            point.start.strftime(stamp),
            point.stories,
            point.outlets,
            "" if point.expected is None else f"{point.expected:.1f}",
            "SURGE" if point.surge else "",
        )
        for point in trend.points
    ]
    out.print(fitted(POINT_COLUMNS, rows, terminal_width()), soft_wrap=False, crop=False)
    for episode in trend.episodes:
        message = episode.payload.get("message", episode.type)
        out.print(safe(f"  {episode.id} {episode.type}: {message}"), highlight=False)
