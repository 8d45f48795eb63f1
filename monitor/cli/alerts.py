"""`monitor alerts …` and `monitor channels …`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from monitor.cli import call, counted, fail, out, print_json, since_option
from monitor.cli.accounts import actor
from monitor.errors import DeliveryError
from monitor.services import Monitor
from monitor.services.records import Alert, Delivery
from monitor.services.shapes import alert_json, to_json
from monitor.services.triage import STATES as TRIAGE_STATES
from monitor.textcaps import SNIPPET_CHARS, TITLE_CHARS, clip
from monitor.textfit import Col, fitted, terminal_width
from monitor.textsafe import safe, safe_join
from monitor.units import iso_z

alerts_app = typer.Typer(help="Alerts and their deliveries.", no_args_is_help=True)
channels_app = typer.Typer(help="Alert channels.", no_args_is_help=True)
STATUSES = ("pending", "held", "sent", "dead", "rolled")
# One line per alert in any terminal: id, time and severity whole, the title cut to what is
# left; deliveries, matches and then the story go first when the width runs out.
ALERT_COLUMNS = (
    Col("id", "kept"),
    Col("created", "kept"),
    Col("severity", "kept"),
    Col("watchlist", cap=16),
    Col("story", cap=12, drop=1),
    Col("article", "free"),
    Col("matches", cap=20, drop=2),
    Col("deliveries", cap=24, drop=3),
)
CHANNEL_COLUMNS = (
    Col("name", cap=20),
    Col("type", "kept"),
    Col("digest", "kept"),
    Col("max/hour", "kept"),
    Col("state", "free"),  # "ok", or why it was disabled
)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(channels_app, name="channels")


def _deliveries_text(alert: Alert) -> str:
    return ", ".join(f"{d.channel}:{d.status}" for d in alert.deliveries) or "-"


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
    language: Annotated[
        str | None, typer.Option("--language", help="Only articles in this language, e.g. fa.")
    ] = None,
    triage: Annotated[
        str | None,
        typer.Option(
            "--triage", help="Only alerts in this triage state: " + ", ".join(TRIAGE_STATES)
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 200,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON array of alert payloads.")
    ] = False,
) -> None:
    """Alerts newest first, with each channel's delivery state."""
    if triage and triage not in TRIAGE_STATES:
        raise typer.BadParameter(
            f"must be one of {', '.join(TRIAGE_STATES)}", param_hint="--triage"
        )
    if status and status not in STATUSES:
        raise typer.BadParameter(f"must be one of {', '.join(STATUSES)}", param_hint="--status")
    after = since_option(since)
    page = call(
        ctx,
        lambda m: m.alerts.list(
            since=after,
            watchlist=watchlist,
            status=status,
            language=language,
            limit=limit,
            triage=triage,
        ),
    )
    if as_json:
        print_json([alert_json(a) for a in page.items])
        return
    rows = [
        (
            alert.id,
            alert_json(alert)["created_at"],
            alert.severity,
            alert.watchlist,
            f"#{alert.story.id} ×{alert.story.articles}",
            clip(alert.article.title or "", TITLE_CHARS),
            ", ".join(f"{m.term}×{m.count}" for m in alert.matches),
            _deliveries_text(alert),
        )
        for alert in page.items
    ]
    out.print(fitted(ALERT_COLUMNS, rows, terminal_width()), soft_wrap=False, crop=False)


@alerts_app.command("show")
def show_alert(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="Alert id (alt_…), or a unique prefix of it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One alert: matches, snippets, article, story and every delivery with attempts and last error."""
    alert = call(ctx, lambda m: m.alerts.get(alert_id))
    if as_json:
        print_json(to_json(alert))
        return
    _print_alert(alert)


def _print_alert(alert: Alert) -> None:
    data = alert_json(alert)
    article = alert.article
    out.print(
        safe_join(
            (alert.id, "bold"),
            f"  {alert.severity.upper()}  watchlist {alert.watchlist}  created {data['created_at']}",
        ),
        highlight=False,
    )
    out.print(
        safe_join(
            safe(article.title, limit=TITLE_CHARS),
            f"\n{article.url}\n{article.feed.name or article.feed.url}"
            f"  published {data['article']['published_at'] or '?'}"
            f"  language {article.language or '?'}",
        ),
        highlight=False,
    )
    out.print(
        safe(f"story #{alert.story.id}: {counted(alert.story.articles, 'article')}"),
        highlight=False,
    )
    triage = alert.triage
    verdict = f" by {triage.by}" if triage.by else ""
    note = f": {triage.note}" if triage.note else ""
    out.print(safe(f"triage: {triage.state}{verdict}{note}"), highlight=False)
    for m in alert.matches:
        actor = f" ({m.actor})" if m.actor else ""
        out.print(safe(f"  match {m.term}{actor} ×{m.count}"), highlight=False)
    for snippet in alert.snippets:
        out.print(safe_join("  “", safe(snippet, limit=SNIPPET_CHARS), "”"), highlight=False)
    _print_evidence(alert)
    for d in alert.deliveries:
        out.print(safe(_delivery_line(d)), highlight=False)


def _print_evidence(alert: Alert) -> None:
    """What was kept of the story's pages, and how to export it."""
    version = alert.watchlist_version or "?"
    out.print(safe(f"evidence (watchlist {alert.watchlist} v{version}):"), highlight=False)
    for kept in alert.evidence:
        cut = " (cut at the size cap)" if kept.truncated else ""
        out.print(
            safe(
                f"  {kept.final_url or kept.url}  fetched {iso_z(kept.fetched_at)}  "
                f"sha256 {kept.response_sha256 or '-'}{cut}"
            ),
            highlight=False,
        )
    out.print(
        safe(f"  export: monitor evidence export {alert.id} -o {alert.id}.warc.gz"),
        highlight=False,
    )


def _delivery_line(d: Delivery) -> str:
    shown = to_json(d)
    error = f"  last error: {d.last_error}" if d.last_error else ""
    when = {
        "sent": f"sent {shown['sent_at']}",
        "dead": "no further attempts (`monitor alerts retry` requeues it)",
        "rolled": "rolled into a digest",
        "held": f"held until {shown['next_attempt_at']}",
    }.get(d.status, f"next attempt {shown['next_attempt_at']}")
    tried = counted(d.attempts, "attempt")
    return f"  delivery {d.channel}: {d.status} after {tried}, {when}, id {d.message_id}{error}"


@alerts_app.command("triage")
def triage_alert(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="Alert id (alt_…), or a unique prefix of it.")],
    state: Annotated[str, typer.Argument(help=", ".join(TRIAGE_STATES))],
    note: Annotated[
        str | None, typer.Option("--note", help="Why (required for false_positive).")
    ] = None,
) -> None:
    """Set an alert's triage state; a false positive never alerts again for its story."""
    if state not in TRIAGE_STATES:
        raise typer.BadParameter(f"must be one of {', '.join(TRIAGE_STATES)}", param_hint="STATE")
    result = call(ctx, lambda m: m.triage.set(alert_id, state, note, actor=actor()))
    out.print(safe(f"{alert_id}: {result.state}"), highlight=False)


@alerts_app.command("retry")
def retry(
    ctx: typer.Context,
    alert_id: Annotated[
        str | None,
        typer.Argument(help="Alert id (alt_…) or a unique prefix of it, or a digest id."),
    ] = None,
    dead: Annotated[
        bool, typer.Option("--dead", help="Requeue every dead-lettered delivery.")
    ] = False,
) -> None:
    """Requeue an alert's failed deliveries (or all dead-lettered ones); sent ones are never resent."""
    count = call(ctx, lambda m: m.alerts.retry(alert_id, dead=dead))
    out.print(
        f"requeued {counted(count, 'delivery', 'deliveries')}; the running service"
        " (or `monitor run --once`) sends them"
    )


@channels_app.command("list")
def list_channels(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Channels with their type and state (a webhook answering 410 is disabled)."""
    channels = call(ctx, lambda m: m.channels.list())
    if as_json:
        print_json(to_json(channels))
        return
    rows = []
    for channel in channels:
        digest = "off" if channel.digest_seconds is None else _period(channel.digest_seconds)
        disabled = to_json(channel)["state"] == "disabled"
        state = f"disabled: {channel.disabled_reason}" if disabled else "ok"
        rows.append((channel.name, channel.type, digest, channel.max_per_hour or "-", state))
    out.print(fitted(CHANNEL_COLUMNS, rows, terminal_width()), soft_wrap=False, crop=False)


def _period(seconds: float) -> str:
    return str(timedelta(seconds=seconds))


@channels_app.command("enable")
def enable_channel(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Channel name.")]
) -> None:
    """Re-enable a channel disabled by a 410 Gone; its pending deliveries go out again."""
    changed = call(ctx, lambda m: m.channels.enable(name))
    out.print(safe(f"enabled {name}" if changed else f"{name} was not disabled"), highlight=False)


@channels_app.command("test")
def test_channel(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Channel name.")]
) -> None:
    """Send a clearly marked test message through a channel and report the outcome."""

    async def send(m: Monitor) -> str:
        try:
            return (await m.channels.test(name)).message_id
        except DeliveryError as e:
            raise fail(f"channel {name}: test message not delivered: {e}", 1) from None

    message_id = call(ctx, send, check_secrets=True)
    out.print(safe(f"channel {name}: test message {message_id} delivered"), highlight=False)
