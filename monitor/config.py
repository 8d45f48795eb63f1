"""The whole configuration schema and loading it from TOML plus env overrides.

`load_config(path)` reads the TOML file, merges `MONITOR_<SECTION>__<KEY>` env overrides
for the scalar keys of the plain sections, validates everything, resolves relative paths
against the file's folder and checks that every secret named by a channel is set. Any
problem raises `ConfigError` with one line naming the file, the key and what is wrong (a bad
env override names its variable instead: the file does not hold that value).

Bounds: the file is at most `MAX_CONFIG_BYTES` and nests tables and arrays at most
`MAX_NESTING` deep; durations and sizes have their own upper bounds (`monitor.units`).
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from monitor.errors import ConfigError
from monitor.trends import MIN_HISTORY, whole_hours
from monitor.units import format_duration, parse_duration, parse_size

DEFAULT_CONFIG_PATH = Path("config/monitor.toml")
PLAIN_SECTIONS = ("database", "polling", "delivery", "server", "retention", "stories", "evidence")
VERSION = "0.1.0"
MAX_CONFIG_BYTES = 10_000_000
MAX_NESTING = 16


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a duration string such as '15m'")
    return parse_duration(value)


def _optional_duration(value: Any) -> timedelta | None:
    if value is None or value == "":
        return None
    return _duration(value)


def _size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("must be a size such as '10MB'")
    return parse_size(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]
OptionalDuration = Annotated[timedelta | None, BeforeValidator(_optional_duration)]
Size = Annotated[int, BeforeValidator(_size)]
Severity = Literal["low", "medium", "high", "critical"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# libpq's sslmode values, which a PostgreSQL URL may carry (`storage.engine` maps them to
# asyncpg's `ssl` argument)
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


class DatabaseConfig(_Section):
    url: str = "sqlite+aiosqlite:///data/monitor.db"

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        query = parse_qs(urlsplit(value).query)
        for key in ("sslmode", "ssl"):
            for mode in query.get(key, ()):
                if mode not in SSL_MODES:
                    raise ValueError(f"sslmode must be one of {', '.join(SSL_MODES)}, not {mode!r}")
        return value


class PollingConfig(_Section):
    default_interval: Duration = timedelta(minutes=15)
    min_interval: Duration = timedelta(minutes=2)
    max_interval: Duration = timedelta(hours=6)
    concurrency: int = Field(default=32, ge=1, le=1000)
    per_host: int = Field(default=2, ge=1, le=100)
    host_spacing: Duration = timedelta(seconds=0.001)
    timeout: Duration = timedelta(seconds=20)
    max_feed_bytes: Size = 10_000_000
    max_page_bytes: Size = 5_000_000
    fetch_articles: bool = True
    max_entry_age: OptionalDuration = None
    allow_networks: tuple[str, ...] = ()
    allow_all_networks: bool = False  # the second key that lets allow_networks cover everything
    proxy: str = ""
    user_agent: str = f"feed-monitor/{VERSION} (+https://github.com/feed-monitor/feed-monitor)"
    retire_after_404: Duration = timedelta(days=7)
    lease: Duration = timedelta(minutes=5)
    tick: Duration = timedelta(seconds=5)
    silent_factor: float = Field(default=4.0, gt=1)
    silent_channel: str = ""
    # New entries taken per poll; the rest are taken by the next polls (a 100,000-item feed
    # must not hold a worker, its memory and its event loop for minutes).
    max_entries_per_poll: int = Field(default=500, ge=1, le=1_000_000)
    # A worker whose heartbeat (written every tick) is this old is dead: its leases are free.
    # Unset: 4 ticks, at least 20 s (`dead_after`).
    worker_timeout: OptionalDuration = None

    @model_validator(mode="after")
    def _intervals(self) -> PollingConfig:
        if self.min_interval > self.max_interval:
            raise ValueError(
                f"min_interval ({format_duration(self.min_interval)}) is longer than"
                f" max_interval ({format_duration(self.max_interval)})"
            )
        if self.worker_timeout is not None and self.worker_timeout < 2 * self.tick:
            raise ValueError(
                f"worker_timeout ({format_duration(self.worker_timeout)}) must be at least"
                f" twice the tick ({format_duration(self.tick)}): a live worker beats every tick"
            )
        return self

    @property
    def dead_after(self) -> timedelta:
        """How old a worker's heartbeat is when its leases become free to claim."""
        return self.worker_timeout or max(timedelta(seconds=20), 4 * self.tick)

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as e:
                raise ValueError(f"{item!r} is not an IP network such as '127.0.0.0/8'") from e
        return value

    @model_validator(mode="after")
    def _not_everything(self) -> PollingConfig:
        whole = _covers_everything(self.allow_networks)
        if whole and not self.allow_all_networks:
            raise ValueError(
                f"allow_networks lets every address through ({whole}), which turns the SSRF"
                " guard off; list only the networks you mean, or also set"
                " allow_all_networks = true"
            )
        return self

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://", "socks5://")):
            raise ValueError("must be an http://, https:// or socks5:// URL")
        return value


_IPV4_CARRIERS = tuple(
    ipaddress.IPv6Network(n) for n in ("::ffff:0:0/96", "64:ff9b::/96", "2002::/16")
)


def _covers_everything(items: tuple[str, ...]) -> str | None:
    """The whole address space ("0.0.0.0/0" or "::/0") the listed networks add up to, if any."""
    listed = [ipaddress.ip_network(item, strict=False) for item in items]
    v4 = [n for n in listed if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in listed if isinstance(n, ipaddress.IPv6Network)]
    if ipaddress.IPv4Network("0.0.0.0/0") in ipaddress.collapse_addresses(v4):
        return "0.0.0.0/0"
    for (
        carrier
    ) in _IPV4_CARRIERS:  # the guard lets an embedded IPv4 address go where its carrier goes
        if any(carrier.subnet_of(network) for network in ipaddress.collapse_addresses(v6)):
            return f"0.0.0.0/0 through {carrier}"
    if ipaddress.IPv6Network("::/0") in ipaddress.collapse_addresses(v6):
        return "::/0"
    return None


class DeliveryConfig(_Section):
    max_attempts: int = Field(default=8, ge=1, le=100)
    shutdown_timeout: Duration = timedelta(seconds=10)
    retry_base: Duration = timedelta(seconds=30)
    retry_max: Duration = timedelta(hours=1)
    timeout: Duration = timedelta(seconds=15)


class ServerConfig(_Section):
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=9108, ge=0, le=65535)
    max_body: Size = 1_000_000  # request bodies above it get 413 (OPML imports included)
    session_lifetime: Duration = timedelta(hours=12)  # console sign-in


class RetentionConfig(_Section):
    article_text: OptionalDuration = timedelta(days=90)
    articles: OptionalDuration = timedelta(days=730)
    evidence: OptionalDuration = timedelta(days=5 * 365)  # snapshots of alerted stories


class EvidenceConfig(_Section):
    max_bytes: Size = 2_000_000  # per snapshot: a longer page body is cut, with a note


class StoriesConfig(_Section):
    window: Duration = timedelta(hours=72)
    threshold: float = Field(default=0.7, gt=0, le=1)  # overlap coefficient; see pipeline/dedupe.py


class FeedConfig(_Section):
    url: str
    name: str = ""
    tags: tuple[str, ...] = ()
    interval: OptionalDuration = None
    fetch_articles: bool | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    silent_after: OptionalDuration = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class TermConfig(_Section):
    """A watchlist term; every matching rule but the case rule can be switched off per term."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    text: str = Field(min_length=1)
    match_case: bool | None = Field(
        default=None, validation_alias=AliasChoices("match_case", "exact_case")
    )
    dashes: bool = True  # a dash also matches nothing, or a space in the exact case
    diacritics: bool = True  # Latin diacritics and transliteration marks fold
    invisible: bool = True  # invisible characters inside the hit are ignored
    hashtags: bool = True  # `_` separates the words of a hashtag
    clitics: bool = True  # Arabic proclitics attach to the first word
    inflect: bool = True  # Russian words match their inflected forms

    @model_validator(mode="before")
    @classmethod
    def _one_case_option(cls, value: Any) -> Any:
        if isinstance(value, dict) and "match_case" in value and "exact_case" in value:
            raise ValueError("give match_case or exact_case (the same option), not both")
        return value


def _term(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


Term = Annotated[TermConfig, BeforeValidator(_term)]


class ActorConfig(_Section):
    name: str = Field(min_length=1)
    aliases: tuple[Term, ...] = ()


def _switch(value: Any) -> Any:
    """`true` means the section with its defaults, `false` means off."""
    if value is True:
        return {}
    if value is False:
        return None
    if value is not None and not isinstance(value, dict | BaseModel):
        raise ValueError('must be true, false or a table such as { after = "24h" }')
    return value


MAX_SURGE_WINDOW = timedelta(days=7)


class SurgeConfig(_Section):
    """`[[watchlists]] surge = {…}`: see monitor/trends.py for the test. Stories are counted
    per hour, so `window` and `baseline` take any duration and are rounded up to whole
    hours; `baseline` is at least a day, the least history the test learns an expectation
    from (a shorter one would never decide)."""

    window: Duration = timedelta(hours=6)
    baseline: Duration = timedelta(days=14)
    factor: float = Field(default=3.0, ge=1)
    min_stories: int = Field(default=5, ge=1)
    p_value: float = Field(default=0.001, gt=0, lt=1)

    @field_validator("window")
    @classmethod
    def _window(cls, value: timedelta) -> timedelta:
        value = whole_hours(value)
        if value > MAX_SURGE_WINDOW:
            raise ValueError(
                f"must be at most {format_duration(MAX_SURGE_WINDOW)}: every run of hours up"
                " to the window is tested each check, so a longer one costs more and, with the"
                " p-value corrected for each run, detects less"
            )
        return value

    @field_validator("baseline")
    @classmethod
    def _baseline(cls, value: timedelta) -> timedelta:
        return max(whole_hours(value), MIN_HISTORY)


class QuietConfig(_Section):
    """`quiet = {…}`: no story for `after` (any duration, rounded up to whole hours) where at
    least `min_daily` is usual."""

    after: Duration = timedelta(hours=24)
    min_daily: float = Field(default=3.0, gt=0)

    @field_validator("after")
    @classmethod
    def _after(cls, value: timedelta) -> timedelta:
        return whole_hours(value)


Surge = Annotated[SurgeConfig | None, BeforeValidator(_switch)]
Quiet = Annotated[QuietConfig | None, BeforeValidator(_switch)]


class CoverageConfig(_Section):
    """`[coverage]`: quiet checks on feed tags (regions, languages …)."""

    quiet: Quiet = None
    tags: tuple[str, ...] = ()  # empty: every tag some feed carries
    channels: tuple[str, ...] = ()


class WatchlistConfig(_Section):
    name: str = Field(min_length=1)
    severity: Severity = "medium"
    channels: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()
    actors: tuple[ActorConfig, ...] = ()
    exclude: tuple[Term, ...] = ()
    query: str = ""
    tags: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    surge: Surge = None
    quiet: Quiet = None

    def canonical_json(self) -> str:
        """The definition as JSON with sorted keys and every default written out: two
        configs that mean the same watchlist give the same text (and sha256)."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, indent=2
        )


class _ChannelBase(_Section):
    digest: OptionalDuration = None
    digest_timezone: str = "UTC"
    max_per_hour: int = Field(default=0, ge=0)

    @field_validator("digest", mode="before")
    @classmethod
    def _digest_off(cls, value: Any) -> Any:
        return None if value in ("off", "", None) else value

    @field_validator("digest_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r}") from e
        return value


class LogChannelConfig(_ChannelBase):
    type: Literal["log"]


class EmailChannelConfig(_ChannelBase):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    type: Literal["email"]
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    tls: bool = False
    username: str = ""
    password_env: str = ""
    from_: str = Field(alias="from")
    to: tuple[str, ...] = Field(min_length=1)
    ca_file: str = ""
    timeout: Duration = timedelta(seconds=20)


class WebhookChannelConfig(_ChannelBase):
    type: Literal["webhook"]
    url: str
    secret_env: str
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


ChannelConfig = Annotated[
    LogChannelConfig | EmailChannelConfig | WebhookChannelConfig, Field(discriminator="type")
]


class _NotJson(ValueError):
    """An env override of a list or table key that is not JSON; `key` names the key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _PlainSectionsEnv(EnvSettingsSource):
    """Env overrides only for the plain sections; feeds, watchlists and channels are file-only."""

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        return {key: value for key, value in data.items() if key in PLAIN_SECTIONS}

    def decode_complex_value(self, field_name: str, field: Any, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError as e:  # pydantic-settings re-raises it with the section name only
            raise _NotJson(field_name) from e


class Settings(BaseSettings):
    """The validated configuration of one feed-monitor installation."""

    model_config = SettingsConfigDict(
        extra="forbid",
        frozen=True,
        env_prefix="MONITOR_",
        env_nested_delimiter="__",
        nested_model_default_partial_update=True,
    )

    database: DatabaseConfig = DatabaseConfig()
    polling: PollingConfig = PollingConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    server: ServerConfig = ServerConfig()
    retention: RetentionConfig = RetentionConfig()
    stories: StoriesConfig = StoriesConfig()
    evidence: EvidenceConfig = EvidenceConfig()
    feeds: tuple[FeedConfig, ...] = ()
    watchlists: tuple[WatchlistConfig, ...] = ()
    coverage: CoverageConfig = CoverageConfig()
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    source: str = Field(default="", exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (_PlainSectionsEnv(settings_cls), init_settings)

    def secret(self, env_name: str) -> str:
        """The value of a secret's env variable (checked to exist at load time)."""
        return os.environ.get(env_name, "")


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for position, item in enumerate(loc):
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif position == 2 and loc[0] == "channels" and item in ("log", "email", "webhook"):
            continue  # the discriminator tag pydantic inserts, not a key the user wrote
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


# Pydantic's wording for a wrong type, in the words of a TOML file.
_TYPE_MESSAGES = {
    "tuple_type": 'must be a list, e.g. ["a", "b"]',
    "list_type": 'must be a list, e.g. ["a", "b"]',
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be a string in quotes",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
}


def _env_variables(section: str, key: str = "") -> list[str]:
    """The set env variables overriding `section.key` (every key of `section` when no key is
    given). Their names are matched as pydantic-settings does, ignoring case."""
    prefix = f"monitor_{section}__".lower()
    return sorted(
        name
        for name in os.environ
        if (name.lower() == prefix + key.lower() if key else name.lower().startswith(prefix))
    )


def _where(loc: tuple[int | str, ...], source: str) -> str:
    """What a config error line starts with: the file and the key, or the env variable that
    overrode the key (a bad value there is not the file's)."""
    key = _location(loc)
    section = str(loc[0]) if loc else ""
    if section not in PLAIN_SECTIONS:
        return f"{source}: {key}"
    if len(loc) > 1:
        named = _env_variables(section, str(loc[1]))
        return f"{named[0]} (overrides {key} in {source})" if named else f"{source}: {key}"
    overrides = _env_variables(section)  # a check across keys, some of them from env
    if overrides:
        return f"{source} (with {', '.join(overrides)} from the environment): {key}"
    return f"{source}: {key}"


def _explain(error: ValidationError, source: str) -> ConfigError:
    first = error.errors()[0]
    message = _TYPE_MESSAGES.get(first["type"]) or (
        first["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
    )
    return ConfigError(f"{_where(first['loc'], source)}: {message}")


def _explain_env(error: SettingsError, source: str) -> ConfigError:
    """An env override pydantic-settings could not read (a list or table that is not JSON)."""
    cause = error.__cause__
    if isinstance(cause, _NotJson):
        for section in PLAIN_SECTIONS:
            if _env_variables(section, cause.key):
                where = _where((section, cause.key), source)
                return ConfigError(f'{where}: must be JSON, e.g. ["a", "b"]')
    return ConfigError(f"{source}: an env override cannot be read: {error}")


def resolve_sqlite_path(url: str, base: Path) -> str:
    """Make a relative SQLite file path in `url` absolute against `base`."""
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix):
        return url
    path = url[len(prefix) :]
    if not path or path.startswith(("/", ":memory:")):
        return url
    return prefix + str((base / path).resolve())


def _check_references(settings: Settings, source: str) -> None:
    names = set()
    for index, watchlist in enumerate(settings.watchlists):
        if watchlist.name in names:
            raise ConfigError(
                f"{source}: watchlists[{index}].name: duplicate name {watchlist.name!r}"
            )
        names.add(watchlist.name)
        for channel in watchlist.channels:
            if channel not in settings.channels:
                raise ConfigError(
                    f"{source}: watchlists[{index}].channels: no channel named {channel!r}"
                    " (define it under [channels.NAME])"
                )
    urls = set()
    for index, feed in enumerate(settings.feeds):
        if feed.url in urls:
            raise ConfigError(f"{source}: feeds[{index}].url: feed {feed.url!r} is listed twice")
        urls.add(feed.url)
    for channel in settings.coverage.channels:
        if channel not in settings.channels:
            raise ConfigError(f"{source}: coverage.channels: no channel named {channel!r}")
    silent = settings.polling.silent_channel
    if silent and silent not in settings.channels:
        where = _where(("polling", "silent_channel"), source)
        raise ConfigError(f"{where}: no channel named {silent!r}")


def _check_secrets(settings: Settings, source: str) -> None:
    for name, channel in settings.channels.items():
        env_name = ""
        key = ""
        if isinstance(channel, WebhookChannelConfig):
            env_name, key = channel.secret_env, "secret_env"
        elif isinstance(channel, EmailChannelConfig) and channel.password_env:
            env_name, key = channel.password_env, "password_env"
        if env_name and not os.environ.get(env_name):
            raise ConfigError(
                f"{source}: channels.{name}.{key}: env variable {env_name} is not set"
            )


def config_path(explicit: str | Path | None) -> Path:
    """The config file to read: the --config option, else $MONITOR_CONFIG, else the default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("MONITOR_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def load_config(path: Path, *, check_secrets: bool = True) -> Settings:
    """Read, validate and resolve the config at `path`; raise ConfigError with one clear line."""
    source = str(path)
    try:
        raw = _parse_toml(_read_capped(path), source)
    except FileNotFoundError as e:
        raise ConfigError(f"{source}: config file not found (pass --config PATH)") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{source}: cannot read: {e}") from e
    return settings_from_dict(raw, base=path.parent, source=source, check_secrets=check_secrets)


def _read_capped(path: Path) -> str:
    with path.open("rb") as file:
        data = file.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: config file too large: at most {MAX_CONFIG_BYTES} bytes")
    return data.decode("utf-8")


def _parse_toml(text: str, source: str) -> dict[str, Any]:
    too_deep = ConfigError(f"{source}: nested too deeply: at most {MAX_NESTING} levels")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from e
    except RecursionError as e:  # tomllib recurses once per nested array or inline table
        raise too_deep from e
    if _nesting(raw) > MAX_NESTING:
        raise too_deep
    return raw


def _nesting(value: Any) -> int:
    """How deep tables and arrays nest in `value`, walked without recursion."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_NESTING:
            break
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        stack.extend((child, depth + 1) for child in children)
    return deepest


def settings_from_dict(
    raw: dict[str, Any], *, base: Path, source: str = "<config>", check_secrets: bool = True
) -> Settings:
    """Validate an already-parsed config mapping (used by load_config, the demo and tests)."""
    try:
        settings = Settings(**raw)
    except ValidationError as e:
        raise _explain(e, source) from e
    except SettingsError as e:
        raise _explain_env(e, source) from e
    database = settings.database.model_copy(
        update={"url": resolve_sqlite_path(settings.database.url, base)}
    )
    settings = settings.model_copy(update={"database": database, "source": source})
    _check_references(settings, source)
    if check_secrets:
        _check_secrets(settings, source)
    return settings
