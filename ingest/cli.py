"""The `newsingest` command line: crawl, extract, load, migrate, export, demo, db, run, trigger, status, reextract.

Each command is a thin shell over the library functions (crawler.runner, ingest.load, ingest.export ...).
Exit status: 0 success, 1 a run failed, 2 bad configuration or usage, 3 database unavailable.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import UTC, datetime
from pathlib import Path

import structlog

from ingest import __version__, logs
from ingest.config import Config, ConfigError, http_url_problem, load_config

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_DATABASE = 0, 1, 2, 3
# Commands that write under the data directory (the spool): it is checked before they start.
_WRITES_SPOOL = {"crawl", "load", "reextract", "demo", "run", "engine"}

log = structlog.get_logger("newsingest.cli")


def _common_options(suppress_defaults: bool) -> argparse.ArgumentParser:
    """Global options, accepted before or after the command. After it, they must not reset what
    was given before it, hence SUPPRESS as the subcommands' default."""
    common = argparse.ArgumentParser(add_help=False)
    default = (lambda value: argparse.SUPPRESS) if suppress_defaults else (lambda value: value)
    common.add_argument("--config", metavar="FILE", default=default(None),
                        help="config file (default: $NEWSINGEST_CONFIG, else ./newsingest.toml)")
    common.add_argument("--log-format", choices=["json", "console"], default=default(None),
                        help="default: console on a terminal, else json")
    common.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default=default("info"))
    return common


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsingest", description="Crawl news sources into PostgreSQL.",
                                     parents=[_common_options(False)])
    common = _common_options(True)
    parser.add_argument("--version", action="version", version=f"newsingest {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    crawl = sub.add_parser("crawl", parents=[common],
                           help="crawl one source (or --url URLs, or a --site) now, then load")
    crawl.add_argument("source", nargs="?", help="name of a configured source")
    crawl.add_argument("--url", nargs="+", metavar="URL", help="fetch and ingest exactly these article URLs")
    crawl.add_argument("--site", metavar="URL",
                       help="crawl a site with no config: its homepage URL; feeds, sitemaps and sections are "
                            "discovered from it")
    crawl.add_argument("--as-article", action="store_true",
                       help="with --url: store each page even if it marks itself as an index page (homepage, "
                            "section)")
    crawl.add_argument("--allow-private-hosts", action="store_true",
                       help="with --url or --site: allow hosts on private or loopback addresses")
    crawl.add_argument("--no-load", action="store_true", help="leave the records in the spool; load later")
    crawl.add_argument("--progress", choices=["auto", "display", "log", "off"], default="auto",
                       help="auto: a status line on a terminal, periodic crawl_progress events otherwise")
    # Set by the daemon for its child crawls.
    crawl.add_argument("--run-id", help=argparse.SUPPRESS)
    crawl.add_argument("--daemon-id", help=argparse.SUPPRESS)

    sub.add_parser("run", parents=[common], help="run the daemon: scheduled crawls and loads (logs on stdout)")
    # The daemon's crawl engine (crawler/engine.py): started by `run`, not by users.
    engine = sub.add_parser("engine", parents=[common])
    engine.add_argument("--daemon-id")
    trigger = sub.add_parser("trigger", parents=[common], help="ask a running daemon to crawl a source now")
    trigger.add_argument("source", help="name of a configured source")
    status = sub.add_parser("status", parents=[common], help="sources' last and next runs, spool backlog, last load")
    status.add_argument("--json", action="store_true", help="one JSON document, for scripts")

    extract = sub.add_parser("extract", parents=[common], help="extract saved pages; one JSON record per file")
    extract.add_argument("files", nargs="+", metavar="FILE", help="HTML files, plain or .gz")
    extract.add_argument("--url", help="the URL the page was fetched from (one FILE only)")

    reextract = sub.add_parser("reextract", parents=[common],
                               help="rebuild articles from the raw archive with the current extractor, then load")
    reextract.add_argument("--since", metavar="DATE", help="only responses fetched since DATE (ISO 8601)")
    reextract.add_argument("--source", metavar="NAME", help="only this source's archive")

    sub.add_parser("load", parents=[common], help="load the crawled records waiting in the spool")
    sub.add_parser("migrate", parents=[common], help="bring the database schema up to date")

    export = sub.add_parser("export", parents=[common], help="write articles as JSON lines")
    export.add_argument("--since", metavar="DATE", help="only articles added or changed since DATE (ISO 8601)")
    export.add_argument("--source", metavar="NAME", help="only articles of this source")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")

    demo = sub.add_parser("demo", parents=[common], help="crawl a bundled demo site on 127.0.0.1 and show the result")
    demo.add_argument("--show", type=int, default=3, metavar="N", help="articles to print (default 3)")
    demo.add_argument("--serve", action="store_true",
                      help="only serve the demo site until Ctrl-C; print its URL and a config for it")
    demo.add_argument("--port", type=int, default=0, metavar="PORT",
                      help="with --serve: the port on 127.0.0.1 (default: any free one)")

    db = sub.add_parser("db", parents=[common], help="open psql on the configured or embedded database")
    db.add_argument("--dsn", action="store_true", help="print the connection string instead (password masked)")
    db.add_argument("--show-password", action="store_true", help="with --dsn: print the password too")
    db.add_argument("psql_args", nargs=argparse.REMAINDER, metavar="-- PSQL_ARG",
                    help="passed on to psql, after --: newsingest db -- -c 'select count(*) from articles'")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The daemon's output is its log (stdout); other commands keep stdout for their results.
    log_stream = sys.stdout if args.command == "run" else sys.stderr
    args.log_format = logs.configure(args.log_format, args.log_level, stream=log_stream)
    try:
        config = load_config(args.config)
        logs.register_secrets(config.secrets)
        if args.command in _WRITES_SPOOL:
            _check_data_dir(config)
        return COMMANDS[args.command](args, config)
    except ConfigError as exc:
        print(f"newsingest: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except UsageError as exc:
        print(f"newsingest {args.command}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        import psycopg

        from ingest.db import DatabaseUnavailable

        # OperationalError after connecting: the server shut down or the connection broke in mid-command.
        if isinstance(exc, (DatabaseUnavailable, psycopg.OperationalError)):
            error = logs.mask_secrets(logs.error_text(exc))
            log.error("database_unavailable", error=error)
            print(f"newsingest: database unavailable: {error}", file=sys.stderr)
            return EXIT_DATABASE
        raise


class UsageError(Exception):
    pass


def _check_data_dir(config: Config) -> None:
    """The spool's folders exist and take files. Found here, it is one line naming the directory; found
    inside a crawl, it was a Scrapy and Twisted traceback."""
    import tempfile

    from crawler.spool import SpoolPaths

    try:
        paths = SpoolPaths(config.spool_dir).create()
        with tempfile.TemporaryFile(dir=paths.open):
            pass
    except OSError as exc:
        reason = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)
        raise ConfigError(
            f"data directory {config.data_dir} ([service] data_dir or $NEWSINGEST_DATA_DIR) is not usable: {reason}"
        ) from None


def _database(config: Config):
    """An autocommit connection with the schema up to date."""
    from ingest.db import connect, resolve_dsn
    from ingest.migrate import migrate

    conn = connect(resolve_dsn(config), autocommit=True)
    applied = migrate(conn)
    if applied:
        log.info("schema_migrated", applied=applied)
    return conn


def _load(config: Config):
    from ingest.load import load_spool

    with _database(config) as conn:
        result = load_spool(conn, config.spool_dir)
    log.info(
        "load_finished",
        segments=result.segments,
        records=result.records,
        inserted=result.inserted,
        updated=result.updated,
        duplicates=result.duplicates,
        bad_segments=len(result.bad_segments),
        bad_lines=sum(len(lines) for lines in result.bad_lines.values()),
        seconds=round(result.seconds, 3),
    )
    return result


def _configure_again(args):
    return lambda: logs.configure(args.log_format, args.log_level)


def _progress_mode(requested: str) -> str:
    if requested != "auto":
        return requested
    return "display" if sys.stderr.isatty() else "log"


def cmd_crawl(args, config: Config) -> int:
    import psycopg

    from ingest.db import DatabaseUnavailable

    if sum(1 for given in (args.source, args.url, args.site) if given) != 1:
        raise UsageError("give one of: a SOURCE name, --url URL [URL ...], --site URL")
    if args.as_article and not args.url:
        raise UsageError("--as-article applies to the pages of --url")
    for option, url in [*(("--url", url) for url in args.url or ()), ("--site", args.site)]:
        problem = http_url_problem(url) if url is not None else None
        if problem:
            raise UsageError(f"{option} {url!r} {problem}")
    if args.url:
        from crawler.runner import adhoc_source

        source = adhoc_source(args.url, args.allow_private_hosts)
    elif args.site:
        from crawler.runner import site_source

        source = site_source(args.site, config.crawl, args.allow_private_hosts)
    else:
        source = config.source(args.source)
    lock = None
    # The daemon holds the lock for the crawls it starts; --url fetches exactly what it is given, no source.
    if not args.url and not args.daemon_id:
        from ingest.locks import ALREADY_RUNNING, SourceLock

        # Not resolve_dsn(): an embedded server would be started just for a lock its socket keeps local anyway.
        # Distributed workers on several machines crawl one source together through their shared frontier,
        # which fetches each URL once: only the lock file then, one worker per machine.
        dsn = None if config.crawl.redis_url else config.database_url
        lock = SourceLock(config.data_dir / "locks", source.name, dsn)
        try:
            refused = lock.acquire()
        except OSError as exc:
            print(f"newsingest crawl: {source.name}: cannot take the crawl lock {lock.path}: {exc.strerror or exc}",
                  file=sys.stderr)
            return EXIT_FAILED
        if refused:
            log.info("crawl_skipped", source=source.name, reason=refused)
            where = "on this machine" if refused == ALREADY_RUNNING else "on another machine"
            print(f"newsingest crawl: {source.name}: a crawl of this source is already running {where}; "
                  "not started", file=sys.stderr)
            return EXIT_FAILED
    # Scrapy and trafilatura load only now: a crawl refused by the lock says so at once.
    from crawler.runner import run_crawl

    try:
        summary = run_crawl(config, source, args.url, run_id=args.run_id, daemon_id=args.daemon_id,
                            progress=_progress_mode(args.progress), configure_logging=_configure_again(args),
                            as_article=args.as_article)
    finally:
        if lock is not None:
            lock.release()
    line = _summary_line(source.name, summary, adhoc=bool(args.url))
    index_pages = summary.quality.not_article_reasons.get("index_page", 0) if args.url else 0
    if index_pages:
        # Logged at debug level only (a crawl meets many): here the user named the page, so it is news.
        them = "it" if index_pages == 1 else "them"
        print(f"{source.name}: not stored: {_plural(index_pages, 'index page')} (use --as-article to store {them})",
              file=sys.stderr)
    if args.no_load:
        print(f"{line}; left in the spool ({config.spool_dir}) for `newsingest load`")
        return EXIT_OK if summary.status == "finished" else EXIT_FAILED
    try:
        result = _load(config)
    except (DatabaseUnavailable, psycopg.OperationalError) as exc:
        error = logs.mask_secrets(logs.error_text(exc))
        print(f"{line}; not loaded: {error}. The records are kept in {config.spool_dir}; run `newsingest load` "
              "when the database is back.", file=sys.stderr)
        return EXIT_DATABASE
    from ingest.tables.runs import loaded_counts

    with _database(config) as conn:
        counts = loaded_counts(conn, summary.run_id)
    print(f"{line}, new {counts.new}, updated {counts.updated}, duplicate {counts.duplicates}"
          f" ({summary.seconds:.1f} s)")
    return EXIT_OK if summary.status == "finished" and not (result.bad_segments or result.bad_lines) else EXIT_FAILED


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _summary_line(name: str, summary, *, adhoc: bool) -> str:
    """One line: counts, then why pages failed (with the setting that changes it) and a limit that stopped it."""
    from ingest.failures import failure_reasons, limit_reached

    reasons = failure_reasons(summary.errors, adhoc=adhoc)
    limit = limit_reached(summary.finish_reason)
    return (f"{name}: pages fetched {summary.pages_fetched}, articles found {summary.articles_found}, "
            f"failed {summary.failed}" + (f" ({reasons})" if reasons else "") + (f"; {limit}" if limit else ""))


def cmd_extract(args, config: Config) -> int:
    import json

    from crawler.saved_pages import extract_file

    if args.url and len(args.files) > 1:
        raise UsageError("--url names the URL of one page; give a single FILE with it")
    failures = 0
    out = sys.stdout
    for name in args.files:
        record = extract_file(Path(name), args.url, max_bytes=config.crawl.max_response_bytes,
                              max_elements=config.crawl.max_page_elements)
        if record.get("error"):
            failures += 1
            log.error("extract_failed", file=name, error=record["error"])
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return EXIT_FAILED if failures else EXIT_OK


def cmd_load(args, config: Config) -> int:
    from crawler.spool import bad_lines_path

    result = _load(config)
    print(f"loaded {result.segments} segments, {result.records} records: new {result.inserted}, "
          f"updated {result.updated}, duplicate {result.duplicates}, bad segments {len(result.bad_segments)}")
    for name in result.bad_segments:
        print(f"set aside unreadable segment {config.spool_dir / 'bad' / name}", file=sys.stderr)
    for name, lines in result.bad_lines.items():
        kept = bad_lines_path(config.spool_dir, Path(name))
        print(f"set aside unreadable line(s) {', '.join(map(str, lines))} of segment {name} in {kept}",
              file=sys.stderr)
    return EXIT_FAILED if result.bad_segments or result.bad_lines else EXIT_OK


def cmd_migrate(args, config: Config) -> int:
    from ingest.db import connect, resolve_dsn
    from ingest.migrate import migrate

    with connect(resolve_dsn(config), autocommit=True) as conn:
        applied = migrate(conn)
    print("applied: " + ", ".join(applied) if applied else "schema is up to date")
    return EXIT_OK


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since {value!r}: expected an ISO 8601 date or date and time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def cmd_export(args, config: Config) -> int:
    from ingest.export import export_articles

    since = _parse_since(args.since)
    with _database(config) as conn:
        if args.output:
            try:
                fh = open(args.output, "w", encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"-o {args.output}: cannot write there: {exc.strerror}") from None
            with fh:
                count = export_articles(conn, fh, since=since, source=args.source)
        else:
            count = export_articles(conn, sys.stdout, since=since, source=args.source)
    log.info("export_finished", articles=count, output=args.output or "stdout")
    return EXIT_OK


def cmd_reextract(args, config: Config) -> int:
    from crawler.reextract import reextract_archive
    from ingest.tables.runs import loaded_counts

    result = reextract_archive(config, source=args.source, since=_parse_since(args.since))
    load = _load(config)
    new = changed = unchanged = 0
    with _database(config) as conn:
        for run_id in result.run_ids.values():
            counts = loaded_counts(conn, run_id)
            new, changed, unchanged = new + counts.new, changed + counts.updated, unchanged + counts.duplicates
    log.info("reextract_finished", pages=result.pages, articles=result.articles, changed=changed, new=new,
             unchanged=unchanged)
    print(f"reextract: archived pages {result.pages}, articles {result.articles}, changed {changed}, new {new}, "
          f"unchanged {unchanged}")
    return EXIT_FAILED if load.bad_segments else EXIT_OK


def cmd_demo(args, config: Config) -> int:
    from crawler.runner import run_crawl
    from ingest.demo_server import DemoServer, demo_source
    from ingest.export import recent_articles

    if args.serve:
        return _serve_demo(args.port)
    if args.port:
        raise UsageError("--port goes with --serve")

    # The bundled site is on loopback and ours: no politeness delay needed, private hosts allowed.
    crawl = dataclasses.replace(config.crawl, download_delay=0.0, autothrottle=False)
    config = dataclasses.replace(config, crawl=crawl)
    with DemoServer() as server:
        site = server.base_url
        source = demo_source(site)
        summary = run_crawl(config, source, configure_logging=_configure_again(args))
    result = _load(config)
    print(f"demo: crawled {site}: pages fetched {summary.pages_fetched}, articles found "
          f"{summary.articles_found}; loaded new {result.inserted}, updated {result.updated}, "
          f"duplicate {result.duplicates}")
    where = "configured" if config.database_url else f"embedded, in {config.data_dir / 'postgres'}"
    print(f"database: {where}")
    with _database(config) as conn:
        for article in recent_articles(conn, source="demo", limit=args.show):
            print()
            print(f"# {article['title']}")
            print(f"  {', '.join(article['authors']) or 'no author'} | {article['published_at']} | {article['url']}")
            preview = article["text"][:240].replace("\n\n", " ")
            print(f"  {preview}...")
    return EXIT_OK if summary.articles_found else EXIT_FAILED


def _serve_demo(port: int) -> int:
    import signal
    import threading

    from ingest.demo_server import DemoServer, demo_config

    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: expected 1-65535, or 0 for any free port")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        server = DemoServer(port=port).start()
    except OSError as exc:
        raise UsageError(f"--port {port}: cannot listen on 127.0.0.1: {exc.strerror or exc}") from None
    try:
        print(f"demo site: {server.base_url}/ (serving until Ctrl-C)")
        print("a config for it: save these lines as newsingest.toml, then run `newsingest crawl demo`", end="\n\n")
        print(demo_config(server.base_url), flush=True)
        log.info("demo_serving", url=server.base_url + "/")
        while not stop.wait(1.0):
            pass
    finally:
        server.stop()  # bounded: the serve loop polls every 0.5 s and the thread is joined for 5 s at most
    log.info("demo_stopped")
    return EXIT_OK


def cmd_db(args, config: Config) -> int:
    import os
    import shutil
    import signal
    import subprocess

    from ingest.db import connection_parts, resolve_dsn

    psql_args = args.psql_args[1:] if args.psql_args[:1] == ["--"] else args.psql_args
    if args.show_password and not args.dsn:
        raise UsageError("--show-password goes with --dsn")
    if args.dsn and psql_args:
        raise UsageError("--dsn prints the connection string; psql arguments go without it")
    dsn = resolve_dsn(config)
    if args.dsn:
        print(dsn if args.show_password else logs.mask_secrets(dsn))
        return EXIT_OK
    psql = shutil.which("psql")
    if psql is None:
        print("newsingest db: psql is not installed (not found on PATH); install the PostgreSQL client "
              "(Debian: apt install postgresql-client), or give another client `newsingest db --dsn`",
              file=sys.stderr)
        return EXIT_FAILED
    conninfo, password = connection_parts(dsn)
    # The password through the environment: a command line is visible to every user of the machine (ps).
    env = {**os.environ, "PGPASSWORD": password} if password else None
    # A child, not exec: the embedded server stops when the last newsingest process using it exits, which must
    # not come before psql does. Ctrl-C belongs to psql (it cancels a query); this process only waits.
    signal.signal(signal.SIGINT, lambda *_: None)
    return subprocess.run([psql, conninfo, *psql_args], env=env).returncode


def cmd_run(args, config: Config) -> int:
    from ingest.schedule import Daemon

    if not config.sources:
        raise ConfigError(f"{config.path or 'config'}: key 'sources': the daemon needs at least one [[sources]]")
    daemon = Daemon(config, log_format=args.log_format, log_level=args.log_level, config_path=args.config
                    or (str(config.path) if config.path else None))
    return daemon.run()


def cmd_trigger(args, config: Config) -> int:
    import getpass
    import socket

    from ingest.tables.runs import request_crawl

    source = config.source(args.source)
    with _database(config) as conn:
        request_id = request_crawl(conn, source.name, f"{getpass.getuser()}@{socket.gethostname()}")
    log.info("crawl_requested", source=source.name, request_id=request_id)
    print(f"requested a crawl of {source.name} (request {request_id}); a running daemon starts it within seconds")
    return EXIT_OK


def cmd_status(args, config: Config) -> int:
    import json

    from ingest.status import collect_status, render_status

    with _database(config) as conn:
        report = collect_status(conn, config)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(render_status(report))
    return EXIT_OK


def cmd_engine(args, config: Config) -> int:
    from crawler.engine import serve

    return serve(config, args.daemon_id, _configure_again(args))


COMMANDS = {
    "run": cmd_run,
    "engine": cmd_engine,
    "trigger": cmd_trigger,
    "status": cmd_status,
    "crawl": cmd_crawl,
    "extract": cmd_extract,
    "load": cmd_load,
    "reextract": cmd_reextract,
    "migrate": cmd_migrate,
    "export": cmd_export,
    "demo": cmd_demo,
    "db": cmd_db,
}

if __name__ == "__main__":
    sys.exit(main())
