"""Load and validate newsingest.toml once, at start, into typed settings.

Errors name the file, the source and the key (ConfigError, exit status 2 in the CLI).
Defaults live in ingest/defaults.py; this module only reads files and the environment.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ingest import defaults

CONFIG_ENV = "NEWSINGEST_CONFIG"
DATABASE_URL_ENV = "DATABASE_URL"
DATA_DIR_ENV = "NEWSINGEST_DATA_DIR"
DEFAULT_CONFIG_NAME = "newsingest.toml"

_SOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_DURATION_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_MAX_DURATION = 10 * 365 * 86400  # seconds


class ConfigError(Exception):
    """A config value is wrong. The message names file, source and key."""


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    article_pattern: str | None = None
    max_pages: int = 1000
    interval: float = 900.0
    cron: str | None = None
    body_selector: str | None = None
    title_selector: str | None = None
    drop_text: tuple[str, ...] = ()
    follow_links: bool = True
    allow_private_hosts: bool = False

    @property
    def domains(self) -> tuple[str, ...]:
        """Allowed domains: as configured, else the hosts of every configured URL."""
        if self.allowed_domains:
            return self.allowed_domains
        hosts = []
        for url in (*self.start_urls, *self.feeds, *self.sitemaps):
            host = urlsplit(url).hostname
            if host and host not in hosts:
                hosts.append(host)
        return tuple(hosts)


@dataclass(frozen=True, slots=True)
class CrawlSettings:
    user_agent: str
    contact_url: str
    obey_robots_txt: bool
    download_delay: float
    autothrottle: bool
    concurrent_requests: int
    concurrent_requests_per_host: int
    download_timeout: float
    max_response_bytes: int
    max_redirects: int
    max_pages: int
    extract_workers: int
    min_article_chars: int
    allow_private_hosts: bool
    max_retries: int = 2
    retry_backoff: float = 1.0
    retry_after_max: float = 120.0
    host_failure_limit: int = 5
    incremental: bool = True
    revisit_window: float = 48 * 3600.0
    revisit_min_interval: float = 3600.0
    revisit_max_interval: float = 24 * 3600.0
    archive: bool = False
    archive_max_bytes: int = 100 * 1024 * 1024
    redis_url: str | None = None
    redis_outage_grace: float = 60.0
    extract_timeout: float = 10.0
    max_page_elements: int = 20000


@dataclass(frozen=True, slots=True)
class DaemonSettings:
    max_concurrent_crawls: int
    grace_period: float
    housekeeping_interval: float
    unhealthy_after: int
    trigger_poll_interval: float
    keep_bad_segments: float
    stale_run_after: float


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None  # None when no file was found: defaults only
    database_url: str | None
    data_dir: Path
    crawl: CrawlSettings
    load_interval: float
    daemon: DaemonSettings
    sources: tuple[Source, ...] = field(default=())

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"{self.path or 'config'}: no source named {name!r} (configured: {known})")

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"


def find_config_path(explicit: str | os.PathLike | None) -> Path | None:
    """--config, else $NEWSINGEST_CONFIG, else ./newsingest.toml if present."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    local = Path(DEFAULT_CONFIG_NAME)
    return local if local.exists() else None


def load_config(explicit: str | os.PathLike | None = None, env: dict[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    path = find_config_path(explicit)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    return parse_config(raw, path, env)


def parse_config(raw: dict[str, Any], path: Path | None, env: dict[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    where = str(path) if path else "config"
    v = _Validator(where)
    v.no_unknown(raw, {"database", "service", "crawl", "load", "daemon", "sources"}, "")

    database = v.table(raw, "database")
    v.no_unknown(database, set(defaults.DATABASE), "database.")
    database_url = v.optional_str(database, "url", "database.") or None
    if env.get(DATABASE_URL_ENV):
        database_url = env[DATABASE_URL_ENV]

    service = v.table(raw, "service")
    v.no_unknown(service, set(defaults.SERVICE), "service.")
    data_dir_value = v.optional_str(service, "data_dir", "service.")
    data_dir = _data_dir(data_dir_value, path, env)

    crawl = _parse_crawl(v, v.table(raw, "crawl"))

    load = v.table(raw, "load")
    v.no_unknown(load, set(defaults.LOAD), "load.")
    load_interval = v.duration(load, "interval", "load.", defaults.LOAD["interval"])

    daemon = _parse_daemon(v, v.table(raw, "daemon"))

    sources_raw = raw.get("sources", [])
    if not isinstance(sources_raw, list):
        raise ConfigError(f"{where}: key 'sources': expected [[sources]] tables, got {_kind(sources_raw)}")
    sources: list[Source] = []
    for index, item in enumerate(sources_raw):
        source = _parse_source(v, item, index, crawl)
        if any(s.name == source.name for s in sources):
            raise ConfigError(f"{where}: source {source.name!r}: key 'name': duplicate source name")
        sources.append(source)

    return Config(
        path=path,
        database_url=database_url,
        data_dir=data_dir,
        crawl=crawl,
        load_interval=load_interval,
        daemon=daemon,
        sources=tuple(sources),
    )


def _data_dir(configured: str | None, path: Path | None, env: dict[str, str]) -> Path:
    if env.get(DATA_DIR_ENV):
        return Path(env[DATA_DIR_ENV]).expanduser()
    if configured:
        candidate = Path(configured).expanduser()
        if not candidate.is_absolute() and path is not None:
            candidate = path.parent / candidate
        return candidate
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "newsingest"


# A page that needs more than an hour of CPU is not an article anyone waits for; a crawl stuck that long is.
_MAX_EXTRACT_TIMEOUT = 3600


def _parse_crawl(v: _Validator, table: dict[str, Any]) -> CrawlSettings:
    d = defaults.CRAWL
    p = "crawl."
    v.no_unknown(table, set(d), p)
    contact_url = v.string(table, "contact_url", p, d["contact_url"])
    user_agent = v.string(table, "user_agent", p, d["user_agent"]).replace("{contact_url}", contact_url)
    extract_timeout = v.number(table, "extract_timeout", p, d["extract_timeout"], minimum=0.1)
    if extract_timeout > _MAX_EXTRACT_TIMEOUT:
        raise v.fail(p + "extract_timeout", f"must be at most {_MAX_EXTRACT_TIMEOUT}, got {extract_timeout:g}")
    return CrawlSettings(
        user_agent=user_agent,
        contact_url=contact_url,
        obey_robots_txt=v.boolean(table, "obey_robots_txt", p, d["obey_robots_txt"]),
        download_delay=v.number(table, "download_delay", p, d["download_delay"], minimum=0),
        autothrottle=v.boolean(table, "autothrottle", p, d["autothrottle"]),
        concurrent_requests=v.integer(table, "concurrent_requests", p, d["concurrent_requests"], minimum=1),
        concurrent_requests_per_host=v.integer(
            table, "concurrent_requests_per_host", p, d["concurrent_requests_per_host"], minimum=1
        ),
        download_timeout=v.number(table, "download_timeout", p, d["download_timeout"], minimum=0.1),
        max_response_bytes=v.integer(table, "max_response_bytes", p, d["max_response_bytes"], minimum=1024),
        max_redirects=v.integer(table, "max_redirects", p, d["max_redirects"], minimum=0),
        max_pages=v.integer(table, "max_pages", p, d["max_pages"], minimum=1),
        extract_workers=v.integer(table, "extract_workers", p, d["extract_workers"], minimum=0),
        min_article_chars=v.integer(table, "min_article_chars", p, d["min_article_chars"], minimum=0),
        allow_private_hosts=v.boolean(table, "allow_private_hosts", p, d["allow_private_hosts"]),
        max_retries=v.integer(table, "max_retries", p, d["max_retries"], minimum=0),
        retry_backoff=v.number(table, "retry_backoff", p, d["retry_backoff"], minimum=0),
        retry_after_max=v.number(table, "retry_after_max", p, d["retry_after_max"], minimum=0),
        host_failure_limit=v.integer(table, "host_failure_limit", p, d["host_failure_limit"], minimum=0),
        incremental=v.boolean(table, "incremental", p, d["incremental"]),
        revisit_window=v.duration(table, "revisit_window", p, d["revisit_window"]),
        revisit_min_interval=v.duration(table, "revisit_min_interval", p, d["revisit_min_interval"]),
        revisit_max_interval=v.duration(table, "revisit_max_interval", p, d["revisit_max_interval"]),
        archive=v.boolean(table, "archive", p, d["archive"]),
        archive_max_bytes=v.integer(table, "archive_max_bytes", p, d["archive_max_bytes"], minimum=1024 * 1024),
        redis_url=v.optional_str(table, "redis_url", p) or None,
        redis_outage_grace=v.duration(table, "redis_outage_grace", p, d["redis_outage_grace"]),
        extract_timeout=extract_timeout,
        max_page_elements=v.integer(table, "max_page_elements", p, d["max_page_elements"], minimum=1000),
    )


def _parse_daemon(v: _Validator, table: dict[str, Any]) -> DaemonSettings:
    d = defaults.DAEMON
    p = "daemon."
    v.no_unknown(table, set(d), p)
    return DaemonSettings(
        max_concurrent_crawls=v.integer(table, "max_concurrent_crawls", p, d["max_concurrent_crawls"], minimum=1),
        grace_period=v.duration(table, "grace_period", p, d["grace_period"]),
        housekeeping_interval=v.duration(table, "housekeeping_interval", p, d["housekeeping_interval"]),
        unhealthy_after=v.integer(table, "unhealthy_after", p, d["unhealthy_after"], minimum=1),
        trigger_poll_interval=v.duration(table, "trigger_poll_interval", p, d["trigger_poll_interval"]),
        keep_bad_segments=v.duration(table, "keep_bad_segments", p, d["keep_bad_segments"]),
        stale_run_after=v.duration(table, "stale_run_after", p, d["stale_run_after"]),
    )


def _parse_source(v: _Validator, item: Any, index: int, crawl: CrawlSettings) -> Source:
    if not isinstance(item, dict):
        raise ConfigError(f"{v.where}: sources[{index}]: expected a table, got {_kind(item)}")
    name = item.get("name")
    label = f"source {name!r}" if isinstance(name, str) and name else f"sources[{index}]"
    sv = _Validator(f"{v.where}: {label}")
    d = defaults.SOURCE
    sv.no_unknown(item, set(d), "")
    if not isinstance(name, str) or not _SOURCE_NAME.match(name):
        raise ConfigError(
            f"{v.where}: {label}: key 'name': required; letters, digits, '.', '_' or '-', at most 64 characters"
        )
    start_urls = sv.urls(item, "start_urls")
    feeds = sv.urls(item, "feeds")
    sitemaps = sv.urls(item, "sitemaps")
    if not (start_urls or feeds or sitemaps):
        raise ConfigError(f"{v.where}: {label}: key 'start_urls': a source needs start_urls, feeds or sitemaps")
    allowed_domains = sv.string_list(item, "allowed_domains")
    for domain in allowed_domains:
        if "/" in domain or ":" in domain or not domain.strip("."):
            raise ConfigError(f"{v.where}: {label}: key 'allowed_domains': {domain!r} is not a host name")
    max_pages = item.get("max_pages", None)
    return Source(
        name=name,
        start_urls=start_urls,
        feeds=feeds,
        sitemaps=sitemaps,
        allowed_domains=tuple(d.lower().strip(".") for d in allowed_domains),
        allow=sv.patterns(item, "allow"),
        deny=sv.patterns(item, "deny"),
        article_pattern=sv.pattern(item, "article_pattern"),
        max_pages=crawl.max_pages if max_pages is None else sv.integer(item, "max_pages", "", 0, minimum=1),
        interval=sv.duration(item, "interval", "", d["interval"]),
        cron=sv.cron(item, "cron"),
        body_selector=sv.selector(item, "body_selector"),
        title_selector=sv.selector(item, "title_selector"),
        drop_text=sv.string_list(item, "drop_text"),
        follow_links=sv.boolean(item, "follow_links", "", d["follow_links"]),
        allow_private_hosts=sv.boolean(item, "allow_private_hosts", "", crawl.allow_private_hosts),
    )


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


class _Validator:
    """Typed getters that raise ConfigError naming where/key."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.where}: key '{key}': {message}")

    def table(self, raw: dict, key: str) -> dict:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a [{key}] table, got {_kind(value)}")
        return value

    def no_unknown(self, table: dict, known: set[str], prefix: str) -> None:
        for key in table:
            if key not in known:
                hint = ", ".join(sorted(known))
                raise self.fail(prefix + key, f"unknown key (known keys: {hint})")

    def string(self, table: dict, key: str, prefix: str, default: str) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(prefix + key, f"expected a non-empty string, got {_kind(value)}")
        return value

    def optional_str(self, table: dict, key: str, prefix: str) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(prefix + key, f"expected a string, got {_kind(value)}")
        return value

    def boolean(self, table: dict, key: str, prefix: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(prefix + key, f"expected true or false, got {_kind(value)}")
        return value

    def integer(self, table: dict, key: str, prefix: str, default: int, minimum: int | None = None) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(prefix + key, f"expected an integer, got {_kind(value)} {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(prefix + key, f"must be at least {minimum}, got {value}")
        return value

    def number(self, table: dict, key: str, prefix: str, default: float, minimum: float | None = None) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(prefix + key, f"expected a number, got {_kind(value)} {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(prefix + key, f"must be at least {minimum}, got {value}")
        return float(value)

    def duration(self, table: dict, key: str, prefix: str, default: float) -> float:
        """Seconds as a number, or a string such as '90s', '15m', '2h', '1d'."""
        value = table.get(key, default)
        seconds: float | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = float(value)
        elif isinstance(value, str):
            match = _DURATION.match(value)
            if match:
                seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        # TOML allows inf and nan; the scheduler cannot add them (or centuries) to a date.
        if seconds is None or not 0 < seconds <= _MAX_DURATION:
            raise self.fail(
                prefix + key, f"expected a positive duration (seconds, or '90s', '15m', '2h', '1d'), got {value!r}"
            )
        return seconds

    def selector(self, table: dict, key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a CSS selector or XPath string, got {_kind(value)}")
        from crawler.extract import compile_selector  # imports trafilatura: only when a source needs it

        try:
            compile_selector(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None
        return value

    def cron(self, table: dict, key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected a crontab expression string, got {_kind(value)}")
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise self.fail(key, f"invalid crontab expression {value!r}: {exc}") from None
        return value

    def string_list(self, table: dict, key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
            raise self.fail(key, f"expected a list of non-empty strings, got {_kind(value)}")
        return tuple(x.strip() for x in value)

    def urls(self, table: dict, key: str) -> tuple[str, ...]:
        values = self.string_list(table, key)
        for url in values:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise self.fail(key, f"{url!r} is not an http(s) URL")
        return values

    def pattern(self, table: dict, key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a regular expression string, got {_kind(value)}")
        self._compile(key, value)
        return value

    def patterns(self, table: dict, key: str) -> tuple[str, ...]:
        values = self.string_list(table, key)
        for value in values:
            self._compile(key, value)
        return values

    def _compile(self, key: str, value: str) -> None:
        try:
            re.compile(value)
        except re.error as exc:
            raise self.fail(key, f"invalid regular expression {value!r}: {exc}") from None
