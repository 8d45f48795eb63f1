"""The use cases every face (CLI, REST API, web console) calls: one layer, one behaviour.

    async with open_monitor(settings) as m:       # also engine=, clock=, migrate=, liveness=
        page = await m.alerts.list(watchlist="isis-k", limit=50)
        print(to_json(page))                       # services.shapes: the one JSON form

Records are frozen dataclasses (`services.records`); their JSON form is `shapes.to_json`.
Errors (`monitor.errors`): InvalidRequest (exit 2 / HTTP 400), NotFound (404; NotConfigured,
a watchlist or channel the config lacks, is exit 2 on the CLI), Conflict (409), ConfigError,
FetchError, ParseError, ExtractError, DeliveryError; a face turns each into one line or an
application/problem+json body.

m.alerts.list(*, since, watchlist, status, language, cursor, limit) -> AlertPage   newest first, cursor pages, deliveries
m.alerts.get(alert_id) -> Alert                                                    one alert with its deliveries per channel
m.alerts.show(alert_id) -> AlertDetail                                             + every copy of its story
m.alerts.retry(alert_id=None, *, dead=False) -> int                                requeue failed/pending deliveries
m.stories.list(*, since, limit) -> tuple[StorySummary, ...]                        newest first, article/outlet counts
m.stories.get(story_id) -> StoryDetail                                             every copy, oldest first, outlets
m.articles.list(*, feed, since, limit) -> tuple[ArticleSummary, ...]              newest first
m.articles.get(article_id) -> ArticleDetail                                        text, story, watchlist matches
m.articles.search(query, *, since, limit, scan) -> SearchResult                    watchlist query language, with snippets
m.feeds.list() -> tuple[FeedStatus, ...]                                           health, schedule, articles, silence
m.feeds.add(url, *, name, tags, discover=True, origin) -> FeedAdded                the feed as listed; origin: cli|api|console
m.feeds.enable(feed) / m.feeds.disable(feed) -> FeedChanged                        feed = id, URL or config URL
m.feeds.remove(feed) -> FeedChanged                                                not a feed the config lists (Conflict)
m.feeds.import_opml(body: bytes, *, source) -> OpmlImport                          categories become tags; origin opml
m.feeds.export_opml() -> str                                                       OPML 2.0
m.watchlists.list(*, counts=True) -> tuple[WatchlistSummary, ...]                   scope, terms, articles matched, alerts
m.watchlists.test_text(body, *, title, language, feed_tags) -> WatchlistTest      nothing stored or sent
m.watchlists.test_url(url, *, feed_tags) -> WatchlistTest                          fetch + extract + match
m.watchlists.backfill(name, *, since, dry_run, progress) -> BackfillReport        store matches, raise alerts
m.watchlists.preview(name, *, days=7) -> BackfillReport                            dry-run backfill over the last N days
m.channels.list() -> tuple[Channel, ...]                                           type, digest, cap, disabled reason
m.channels.test(name) -> ChannelTest                                               send a marked test message
m.channels.enable(name) -> bool                                                    re-enable after a 410 Gone
m.health.check() -> Health                                                         /readyz, `monitor health`, `status`
m.health.status() -> Status                                                        feeds, outbox backlog, heartbeats, health
m.health.heartbeats() -> tuple[Heartbeat, ...]; m.health.backlog() -> OutboxBacklog
m.trends.series(watchlist, *, since, by, now) -> tuple[WatchlistTrend, ...]       stories/outlets per hour|day, expected, surges
m.trends.episodes(*, since, subject, type) -> tuple[Episode, ...]                 surge/quiet episodes, newest first (the inbox's own kind)
m.trends.check(now) -> CheckReport                                                 count, raise/close episodes (the singleton job)
m.watchlists.history(name) -> tuple[WatchlistVersion, ...]                        every recorded definition, with diffs
m.evidence.export(alert_id, warc, *, bundle=None) -> ExportReport                  WARC 1.1 (+ zip) of the kept pages
m.reload(settings)                                                                 later calls use the new settings
load_settings(path, *, check_secrets=True) -> Settings                             config + compiled watchlists (ConfigError)

The runtime's use case, not a face's: `services.ingest.Ingestor.poll(feed)` polls one claimed
feed end to end (fetch, parse, extract, dedupe, store, match, alert).

Extending: a new use-case module adds one class taking the `Context` and one attribute on
`Monitor` (services.core). No typer, rich or HTTP framework is imported here.
"""

from monitor.services.core import Monitor, open_monitor
from monitor.services.settings import load_settings
from monitor.services.shapes import to_json

__all__ = ["Monitor", "load_settings", "open_monitor", "to_json"]
