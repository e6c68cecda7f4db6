"""Load and validate newsingest.toml once, at start, into typed settings.

Errors name the file, the source and the key (ConfigError, exit status 2 in the CLI).
Defaults live in ingest/defaults.py; this module only reads files and the environment.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ingest import defaults, logs

CONFIG_ENV = "NEWSINGEST_CONFIG"
DATABASE_URL_ENV = "DATABASE_URL"
DATA_DIR_ENV = "NEWSINGEST_DATA_DIR"
DEFAULT_CONFIG_NAME = "newsingest.toml"

_SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # fullmatch: '$' would let a final newline in
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_DURATION_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_MAX_DURATION = 10 * 365 * 86400  # seconds
# Letters of any script (IDN), digits, '-' and '_' in dot-separated labels; IPv6 literals are checked by urlsplit.
_HOST_NAME = re.compile(r"[\w-]+(?:\.[\w-]+)*\.?")
_DAY = 86400.0
_MAX_PAGES = 10_000_000


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
    # True: any non-public address but link-local ones; or the IP addresses, networks and host names allowed.
    allow_private_hosts: bool | tuple[str, ...] = False
    max_crawl_seconds: float = 3600.0

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
    allow_private_hosts: bool | tuple[str, ...]
    max_retries: int = 2
    retry_backoff: float = 1.0
    retry_after_max: float = 120.0
    host_failure_limit: int = 5
    incremental: bool = True
    revisit_window: float = 48 * 3600.0
    revisit_min_interval: float = 3600.0
    revisit_max_interval: float = 24 * 3600.0
    revisit_floor: float = 300.0
    archive: bool = False
    archive_max_bytes: int = 100 * 1024 * 1024
    redis_url: str | None = None
    redis_outage_grace: float = 60.0
    max_crawl_delay: float = 30.0
    max_crawl_seconds: float = 3600.0
    extract_timeout: float = 10.0
    max_page_elements: int = 20000


@dataclass(frozen=True, slots=True)
class DaemonSettings:
    crawl_engine: str  # shared | process
    max_concurrent_crawls: int  # resolved: never 0
    grace_period: float
    housekeeping_interval: float
    unhealthy_after: int
    trigger_poll_interval: float
    keep_bad_segments: float
    stale_run_after: float
    http: tuple[str, int] | None = None  # (host, port) of the monitoring endpoints (ingest/monitoring.py)


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None  # None when no file was found: defaults only
    database_url: str | None
    data_dir: Path
    crawl: CrawlSettings
    load_interval: float
    daemon: DaemonSettings
    sources: tuple[Source, ...] = field(default=())
    # Password values of the configured DSNs and Redis URL, for the log masking (ingest/logs.py).
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        if self.path is None:
            # Run outside the config's folder, the question is where the config is, not which sources it has.
            raise ConfigError(f"config: no source named {name!r} (configured: {known}; no config file found: "
                              f"looked for {config_search_places()})")
        raise ConfigError(f"{self.path}: no source named {name!r} (configured: {known})")

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


def config_search_places() -> str:
    """Where find_config_path looks, in its order, for a message when it found nothing."""
    return f"--config FILE (not given), ${CONFIG_ENV} (unset), {Path(DEFAULT_CONFIG_NAME).absolute()} (not found)"


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
        except UnicodeDecodeError as exc:
            line = exc.object.count(b"\n", 0, exc.start) + 1
            raise ConfigError(f"{path}: not UTF-8 text: byte 0x{exc.object[exc.start]:02x} on line {line}") from None
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
    # The file's DSN stays secret even when the environment's replaces it.
    secrets = dsn_secrets(database_url) if database_url else set()
    if env.get(DATABASE_URL_ENV):
        database_url = env[DATABASE_URL_ENV]
        secrets |= dsn_secrets(database_url)

    service = v.table(raw, "service")
    v.no_unknown(service, set(defaults.SERVICE), "service.")
    data_dir_value = v.optional_str(service, "data_dir", "service.")
    data_dir = _data_dir(data_dir_value, path, env)

    crawl = _parse_crawl(v, v.table(raw, "crawl"))
    if crawl.redis_url:
        secrets |= logs.passwords_in(crawl.redis_url)

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

    longest_crawl = max([crawl.max_crawl_seconds, *(s.max_crawl_seconds for s in sources)])
    if daemon.stale_run_after <= longest_crawl:
        # Housekeeping would mark a crawl that is still running as abandoned.
        raise ConfigError(f"{where}: key 'daemon.stale_run_after': must be longer than the longest max_crawl_seconds "
                          f"({longest_crawl:g} s), got {daemon.stale_run_after:g}")
    return Config(
        path=path,
        database_url=database_url,
        data_dir=data_dir,
        crawl=crawl,
        load_interval=load_interval,
        daemon=daemon,
        sources=tuple(sources),
        secrets=tuple(sorted(secrets)),
    )


def dsn_secrets(dsn: str) -> set[str]:
    """The password of a PostgreSQL DSN as libpq reads it, and as the log masking's patterns find it in the text
    (logs.passwords_in); the whole DSN when libpq cannot parse it and it may hold a password: which part is the
    password is then a guess."""
    from psycopg import Error, conninfo

    found = logs.passwords_in(dsn)
    try:
        password = conninfo.conninfo_to_dict(dsn).get("password")
    except (Error, ValueError):  # ValueError: text libpq cannot even be given (a NUL, a lone surrogate)
        if "@" in dsn or "password" in dsn.lower():
            found.add(dsn.strip())
    else:
        if password:
            found.add(str(password))
    return found


def http_url_problem(url: str) -> str | None:
    """What makes `url` unfit to crawl (not http(s), no host, a bad port or host name), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        reason = str(exc)
        if "port" in reason.lower():
            return "has an invalid port (expected 1-65535)"
        return f"is not a valid http(s) URL ({reason})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL"
    if port == 0:
        return "has an invalid port (expected 1-65535)"
    if ":" not in parts.hostname and not _HOST_NAME.fullmatch(parts.hostname):
        return f"has an invalid host name {parts.hostname!r}"
    return None


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


def _parse_crawl(v: _Validator, table: dict[str, Any]) -> CrawlSettings:
    d = defaults.CRAWL
    p = "crawl."
    v.no_unknown(table, set(d), p)
    contact_url = v.string(table, "contact_url", p, d["contact_url"])
    user_agent = v.string(table, "user_agent", p, d["user_agent"]).replace("{contact_url}", contact_url)
    return CrawlSettings(
        user_agent=user_agent,
        contact_url=contact_url,
        obey_robots_txt=v.boolean(table, "obey_robots_txt", p, d["obey_robots_txt"]),
        download_delay=v.number(table, "download_delay", p, d["download_delay"], minimum=0, maximum=3600),
        autothrottle=v.boolean(table, "autothrottle", p, d["autothrottle"]),
        concurrent_requests=v.integer(table, "concurrent_requests", p, d["concurrent_requests"], minimum=1,
                                      maximum=1000),
        concurrent_requests_per_host=v.integer(
            table, "concurrent_requests_per_host", p, d["concurrent_requests_per_host"], minimum=1, maximum=100
        ),
        download_timeout=v.number(table, "download_timeout", p, d["download_timeout"], minimum=0.1, maximum=600),
        max_response_bytes=v.integer(table, "max_response_bytes", p, d["max_response_bytes"], minimum=1024,
                                     maximum=1024**3),
        max_redirects=v.integer(table, "max_redirects", p, d["max_redirects"], minimum=0, maximum=100),
        max_pages=v.integer(table, "max_pages", p, d["max_pages"], minimum=1, maximum=_MAX_PAGES),
        extract_workers=v.integer(table, "extract_workers", p, d["extract_workers"], minimum=0, maximum=256),
        min_article_chars=v.integer(table, "min_article_chars", p, d["min_article_chars"], minimum=0,
                                    maximum=100_000),
        allow_private_hosts=v.private_hosts(table, "allow_private_hosts", p, d["allow_private_hosts"]),
        max_retries=v.integer(table, "max_retries", p, d["max_retries"], minimum=0, maximum=20),
        retry_backoff=v.number(table, "retry_backoff", p, d["retry_backoff"], minimum=0, maximum=3600),
        retry_after_max=v.number(table, "retry_after_max", p, d["retry_after_max"], minimum=0, maximum=_DAY),
        host_failure_limit=v.integer(table, "host_failure_limit", p, d["host_failure_limit"], minimum=0,
                                     maximum=1000),
        incremental=v.boolean(table, "incremental", p, d["incremental"]),
        revisit_window=v.duration(table, "revisit_window", p, d["revisit_window"], maximum=365 * _DAY),
        revisit_min_interval=v.duration(table, "revisit_min_interval", p, d["revisit_min_interval"],
                                        maximum=365 * _DAY),
        revisit_max_interval=v.duration(table, "revisit_max_interval", p, d["revisit_max_interval"],
                                        maximum=365 * _DAY),
        revisit_floor=v.duration(table, "revisit_floor", p, d["revisit_floor"], maximum=_DAY),
        archive=v.boolean(table, "archive", p, d["archive"]),
        archive_max_bytes=v.integer(table, "archive_max_bytes", p, d["archive_max_bytes"], minimum=1024 * 1024,
                                    maximum=100 * 1024**3),
        redis_url=v.optional_str(table, "redis_url", p) or None,
        redis_outage_grace=v.duration(table, "redis_outage_grace", p, d["redis_outage_grace"], maximum=_DAY),
        max_crawl_delay=v.number(table, "max_crawl_delay", p, d["max_crawl_delay"], minimum=1, maximum=3600),
        max_crawl_seconds=v.duration(table, "max_crawl_seconds", p, d["max_crawl_seconds"], maximum=_DAY),
        extract_timeout=v.number(table, "extract_timeout", p, d["extract_timeout"], minimum=0.1, maximum=3600),
        max_page_elements=v.integer(table, "max_page_elements", p, d["max_page_elements"], minimum=1000,
                                    maximum=10_000_000),
    )


def _parse_daemon(v: _Validator, table: dict[str, Any]) -> DaemonSettings:
    d = defaults.DAEMON
    p = "daemon."
    v.no_unknown(table, set(d), p)
    engine = v.string(table, "crawl_engine", p, d["crawl_engine"])
    if engine not in defaults.CRAWL_ENGINES:
        raise v.fail(p + "crawl_engine", f"expected one of {', '.join(defaults.CRAWL_ENGINES)}, got {engine!r}")
    concurrent = v.integer(table, "max_concurrent_crawls", p, d["max_concurrent_crawls"], minimum=0, maximum=256)
    return DaemonSettings(
        crawl_engine=engine,
        max_concurrent_crawls=concurrent or defaults.AUTO_CONCURRENT_CRAWLS[engine],
        grace_period=v.duration(table, "grace_period", p, d["grace_period"], maximum=3600),
        housekeeping_interval=v.duration(table, "housekeeping_interval", p, d["housekeeping_interval"],
                                         maximum=30 * _DAY),
        unhealthy_after=v.integer(table, "unhealthy_after", p, d["unhealthy_after"], minimum=1, maximum=1000),
        trigger_poll_interval=v.duration(table, "trigger_poll_interval", p, d["trigger_poll_interval"],
                                         maximum=3600),
        keep_bad_segments=v.duration(table, "keep_bad_segments", p, d["keep_bad_segments"], maximum=365 * _DAY),
        stale_run_after=v.duration(table, "stale_run_after", p, d["stale_run_after"], maximum=30 * _DAY),
        http=v.listen_address(table, "http", p, d["http"]),
    )


def _parse_source(v: _Validator, item: Any, index: int, crawl: CrawlSettings) -> Source:
    if not isinstance(item, dict):
        raise ConfigError(f"{v.where}: sources[{index}]: expected a table, got {_kind(item)}")
    name = item.get("name")
    label = f"source {name!r}" if isinstance(name, str) and name else f"sources[{index}]"
    sv = _Validator(f"{v.where}: {label}")
    d = defaults.SOURCE
    sv.no_unknown(item, set(d), "")
    if not isinstance(name, str) or not _SOURCE_NAME.fullmatch(name):
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
    max_crawl_seconds = item.get("max_crawl_seconds", None)
    return Source(
        name=name,
        start_urls=start_urls,
        feeds=feeds,
        sitemaps=sitemaps,
        allowed_domains=tuple(d.lower().strip(".") for d in allowed_domains),
        allow=sv.patterns(item, "allow"),
        deny=sv.patterns(item, "deny"),
        article_pattern=sv.pattern(item, "article_pattern"),
        max_pages=crawl.max_pages if max_pages is None else sv.integer(item, "max_pages", "", 0, minimum=1,
                                                                         maximum=_MAX_PAGES),
        interval=sv.duration(item, "interval", "", d["interval"]),
        cron=sv.cron(item, "cron"),
        body_selector=sv.selector(item, "body_selector"),
        title_selector=sv.selector(item, "title_selector"),
        drop_text=sv.string_list(item, "drop_text"),
        follow_links=sv.boolean(item, "follow_links", "", d["follow_links"]),
        allow_private_hosts=sv.private_hosts(item, "allow_private_hosts", "", crawl.allow_private_hosts),
        max_crawl_seconds=crawl.max_crawl_seconds if max_crawl_seconds is None
        else sv.duration(item, "max_crawl_seconds", "", 0, maximum=_DAY),
    )


def _is_ip(entry: str) -> bool:
    """An IP address or a network; strict, since 192.168.0.1/24 is more likely a typo than meant."""
    try:
        ipaddress.ip_network(entry) if "/" in entry else ipaddress.ip_address(entry)
    except ValueError:
        return False
    return True


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

    def integer(self, table: dict, key: str, prefix: str, default: int, minimum: int | None = None,
                maximum: int | None = None) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(prefix + key, f"expected an integer, got {_kind(value)} {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(prefix + key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.fail(prefix + key, f"must be at most {maximum}, got {value}")
        return value

    def number(self, table: dict, key: str, prefix: str, default: float, minimum: float | None = None,
               maximum: float | None = None) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(prefix + key, f"expected a number, got {_kind(value)} {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(prefix + key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.fail(prefix + key, f"must be at most {maximum:g}, got {value:g}")
        return float(value)

    def duration(self, table: dict, key: str, prefix: str, default: float, maximum: float = _MAX_DURATION) -> float:
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
        if seconds > maximum:
            raise self.fail(prefix + key, f"must be at most {maximum:g} seconds, got {value!r}")
        return seconds

    def private_hosts(self, table: dict, key: str, prefix: str, default: bool | tuple[str, ...]
                      ) -> bool | tuple[str, ...]:
        """true, false, or a list of IP addresses, networks (CIDR) and host names."""
        value = table.get(key, default)
        if isinstance(value, bool | tuple):
            return value
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise self.fail(prefix + key, f"expected true, false or a list of hosts and networks, got {_kind(value)}")
        entries = []
        for entry in value:
            entry = entry.strip()
            if _is_ip(entry):
                entries.append(entry.lower())
                continue
            try:
                # Requests carry host names as IDNA (punycode): compare in that form.
                name = entry.encode("idna").decode("ascii").lower() if _HOST_NAME.fullmatch(entry) else None
            except UnicodeError:
                name = None
            if name is None:
                raise self.fail(prefix + key, f"{entry!r} is not an IP address, a network or a host name")
            entries.append(name)
        return tuple(entries)

    def listen_address(self, table: dict, key: str, prefix: str, default: str | None) -> tuple[str, int] | None:
        """"host:port" to listen on: an IPv4 address, a host name or a bracketed IPv6 address ("[::1]:9464")."""
        value = table.get(key, default)
        if value is None:
            return None
        expected = "expected \"host:port\" (\"127.0.0.1:9464\", \"0.0.0.0:9464\", \"[::1]:9464\")"
        if not isinstance(value, str):
            raise self.fail(prefix + key, f"{expected}, got {_kind(value)}")
        host, colon, port = value.strip().rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
            try:
                valid_host = ipaddress.ip_address(host).version == 6
            except ValueError:
                valid_host = False
        else:
            valid_host = ":" not in host and bool(_HOST_NAME.fullmatch(host))
        if not colon or not valid_host:
            raise self.fail(prefix + key, f"{expected}, got {value!r}")
        if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
            raise self.fail(prefix + key, f"port must be 1-65535, got {value!r}")
        return host, int(port)

    def selector(self, table: dict, key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a CSS selector or XPath string, got {_kind(value)}")
        from lxml import etree

        from crawler.extract import compile_selector  # imports trafilatura: only when a source needs it

        try:
            xpath = compile_selector(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None
        # lxml reports an unknown function or variable, or a wrong argument count, only when the
        # expression runs: run it once here rather than on every page of the crawl.
        try:
            found = xpath(etree.fromstring("<html><body><div><p>x</p></div></body></html>"))
        except etree.XPathError as exc:
            raise self.fail(key, f"invalid selector {value!r}: {exc}") from None
        if not isinstance(found, list):
            raise self.fail(key, f"selector {value!r} must select elements, not {_kind(found)}")
        return value

    def cron(self, table: dict, key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected a crontab expression string, got {_kind(value)}")
        from datetime import UTC, datetime

        from apscheduler.triggers.cron import CronTrigger

        try:
            trigger = CronTrigger.from_crontab(value, timezone=UTC)
        except ValueError as exc:
            raise self.fail(key, f"invalid crontab expression {value!r}: {exc}") from None
        # APScheduler's search for the next date stops at year 9999, so this is bounded.
        if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
            raise self.fail(key, f"crontab expression {value!r} never fires (no such date)")
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
            problem = http_url_problem(url)
            if problem:
                raise self.fail(key, f"{url!r} {problem}")
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
