"""`monitor alerts …` and `monitor channels …`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from monitor.cli import fail, load, out, print_json, run_async, since_option, with_conn
from monitor.clock import SystemClock

alerts_app = typer.Typer(help="Alerts and their deliveries.", no_args_is_help=True)
channels_app = typer.Typer(help="Alert channels.", no_args_is_help=True)
STATUSES = ("pending", "held", "sent", "dead", "rolled")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(channels_app, name="channels")


def _deliveries_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{d['channel']}:{d['status']}" for d in row["deliveries"]) or "-"


@alerts_app.command("list")
def list_alerts(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="Created within, e.g. 24h, 7d.")
    ] = None,
    watchlist: Annotated[
        str | None, typer.Option("--watchlist", help="Only this watchlist.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="Only alerts with a delivery in this state: " + ", ".join(STATUSES)
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 200,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array of alert payloads.")
    ] = False,
) -> None:
    """Alerts newest first, with each channel's delivery state."""
    from monitor.notify.store import deliveries
    from monitor.services.evidence import alert_payloads
    from monitor.storage.alerts import list_alerts as query

    if status and status not in STATUSES:
        raise typer.BadParameter(f"must be one of {', '.join(STATUSES)}", param_hint="--status")
    settings = load(ctx, check_secrets=False)
    after = since_option(since)

    async def work(conn: Any) -> list[dict[str, Any]]:
        rows = await query(conn, since=after, watchlist=watchlist, status=status, limit=limit)
        sent = await deliveries(conn, [r["id"] for r in rows])
        payloads = await alert_payloads(conn, rows)
        return [
            {**r, "deliveries": sent[r["id"]], "payload": p}
            for r, p in zip(rows, payloads, strict=True)
        ]

    rows = run_async(lambda: with_conn(settings, work))
    if as_json:
        print_json([r["payload"] for r in rows])
        return
    table = Table(
        "id", "created", "watchlist", "severity", "matches", "story", "article", "deliveries"
    )
    for row in rows:
        data = row["payload"]
        terms = ", ".join(f"{m['term']}×{m['count']}" for m in data["matches"])
        table.add_row(
            data["id"],
            data["created_at"],
            data["watchlist"],
            data["severity"],
            terms,
            f"#{data['story']['id']} ×{data['story']['articles']}",
            data["article"]["title"],
            _deliveries_text(row),
        )
    out.print(table)


@alerts_app.command("show")
def show_alert(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="Alert id (alt_…).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One alert: matches, snippets, article, story and every delivery with attempts and last error."""
    from monitor.notify.store import deliveries as query_deliveries
    from monitor.services.evidence import alert_payloads
    from monitor.storage.alerts import get_alert

    settings = load(ctx, check_secrets=False)

    async def work(conn: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        row = await get_alert(conn, alert_id)
        data = (await alert_payloads(conn, [row]))[0] if row is not None else None
        return data, (await query_deliveries(conn, [alert_id]))[alert_id]

    data, deliveries = run_async(lambda: with_conn(settings, work))
    if data is None:
        raise fail(f"no alert {alert_id!r} (see `monitor alerts list`)", 1)
    if as_json:
        print_json({**data, "deliveries": deliveries})
        return
    _print_alert(data, deliveries)


def _print_alert(data: dict[str, Any], deliveries: list[dict[str, Any]]) -> None:
    article = data["article"]
    out.print(
        f"[bold]{data['id']}[/bold]  {data['severity'].upper()}  watchlist {data['watchlist']}  "
        f"created {data['created_at']}",
        highlight=False,
    )
    out.print(
        f"{article['title']}\n{article['url']}\n{article['feed']['name'] or article['feed']['url']}"
        f"  published {article['published_at'] or '?'}  language {article['language'] or '?'}",
        highlight=False,
    )
    out.print(
        f"story #{data['story']['id']}: {data['story']['articles']} articles", highlight=False
    )
    for m in data["matches"]:
        actor = f" ({m['actor']})" if m["actor"] else ""
        out.print(f"  match {m['term']}{actor} ×{m['count']}", highlight=False)
    for snippet in data["snippets"]:
        out.print(f"  “{snippet}”", highlight=False, markup=False)
    evidence = data["evidence"]
    out.print(f"watchlist version {evidence['watchlist_version'] or '?'}", highlight=False)
    for page in evidence["articles"]:
        cut = " (cut)" if page["truncated"] else ""
        out.print(
            f"  evidence {page['final_url'] or page['url']} fetched {page['fetched_at']}"
            f" response sha256 {page['response_sha256'] or '-'}{cut}",
            highlight=False,
            markup=False,
        )
    out.print(f"  export: {evidence['export']}", highlight=False, markup=False)
    for d in deliveries:
        error = f"  last error: {d['last_error']}" if d["last_error"] else ""
        when = d["sent_at"] or f"next attempt {d['next_attempt_at']}"
        out.print(
            f"  delivery {d['channel']}: {d['status']} after {d['attempts']} attempts, {when}{error}",
            highlight=False,
            markup=False,
        )


@alerts_app.command("retry")
def retry(
    ctx: typer.Context,
    alert_id: Annotated[str | None, typer.Argument(help="Alert id (alt_…) or digest id.")] = None,
    dead: Annotated[
        bool, typer.Option("--dead", help="Requeue every dead-lettered delivery.")
    ] = False,
) -> None:
    """Requeue an alert's failed deliveries (or all dead-lettered ones); sent ones are never resent."""
    from monitor.notify.store import requeue

    if not alert_id and not dead:
        raise fail("give an alert id or --dead", 2)
    settings = load(ctx, check_secrets=False)
    now = SystemClock().now()
    ids = (alert_id,) if alert_id else ()
    count = run_async(
        lambda: with_conn(settings, lambda c: requeue(c, now, ids=ids, dead=dead), write=True)
    )
    if alert_id and not count:
        raise fail(f"nothing to retry for {alert_id!r} (unknown, or already sent)", 1)
    out.print(
        f"requeued {count} deliveries; the running service (or `monitor run --once`) sends them"
    )


@channels_app.command("list")
def list_channels(ctx: typer.Context) -> None:
    """Channels with their type and state (a webhook answering 410 is disabled)."""
    from monitor.notify.store import disabled_channels

    settings = load(ctx, check_secrets=False)
    disabled = run_async(lambda: with_conn(settings, disabled_channels))
    table = Table("name", "type", "digest", "max/hour", "state")
    for name, channel in settings.channels.items():
        digest = str(channel.digest) if channel.digest else "off"
        state = f"disabled: {disabled[name]}" if name in disabled else "ok"
        table.add_row(name, channel.type, digest, str(channel.max_per_hour or "-"), state)
    out.print(table)


@channels_app.command("enable")
def enable_channel(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Channel name.")]
) -> None:
    """Re-enable a channel disabled by a 410 Gone; its pending deliveries go out again."""
    from monitor.notify.store import enable_channel as enable

    settings = load(ctx, check_secrets=False)
    if name not in settings.channels:
        raise fail(f"no channel {name!r} in {settings.source}", 2)
    changed = run_async(lambda: with_conn(settings, lambda c: enable(c, name), write=True))
    out.print(f"enabled {name}" if changed else f"{name} was not disabled")


@channels_app.command("test")
def test_channel(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Channel name.")]
) -> None:
    """Send a clearly marked test message through a channel and report the outcome."""
    from monitor.errors import DeliveryError
    from monitor.notify.registry import build_notifiers, send_test
    from monitor.pipeline.fetch import Fetcher

    settings = load(ctx)
    if name not in settings.channels:
        raise fail(
            f"no channel {name!r} in {settings.source} (have: {', '.join(settings.channels) or 'none'})",
            2,
        )

    async def go() -> str:
        async with Fetcher(settings.polling) as fetcher:
            notifier = build_notifiers(settings, fetcher)[name]
            try:
                return await send_test(notifier, SystemClock().now())
            except DeliveryError as e:
                raise fail(f"channel {name}: test message not delivered: {e}", 1) from None

    message_id = run_async(go)
    out.print(f"channel {name}: test message {message_id} delivered")
