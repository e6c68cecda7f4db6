"""Operator errors: a mistyped setting, a bad command-line value or a database that goes away end in one
clear line and the documented exit status (2 configuration or usage, 3 database unavailable), never a
traceback, and never print a password however badly the DSN that holds it is written."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import structlog
from newssite import NewsSite
from test_daemon import Daemon, daemon_config

from ingest import logs
from ingest.config import ConfigError, load_config
from ingest.load import LOAD_LOCK

PASSWORD = "pw-0p3r4t0r-5ecret"


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsingest.toml"
    path.write_text(text)
    return path


def _one_line_error(result) -> str:
    assert "Traceback" not in result.stderr and "unhandled_exception" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("newsingest")]
    assert len(errors) == 1, result.stderr[-3000:]
    return errors[0]


# ------------------------------------------------------------------ 13. passwords never printed


@pytest.mark.parametrize("text", [
    f"redis://:{PASSWORD}@x@127.0.0.1:6379/0",
    f"host=db password='{PASSWORD} x' dbname=news",
    f"postgresql//news:{PASSWORD}@db.internal/news",
    f"host=db password={PASSWORD}\\ x dbname=news",  # libpq reads the password as '<PASSWORD> x'
], ids=["redis-password-with-at-sign", "quoted-key-value-password-with-space", "url-missing-its-colon",
        "unquoted-key-value-password-with-escaped-space"])
def test_a_password_is_masked_whole_however_the_string_around_it_is_written(text):
    masked = logs.mask_secrets(text)
    assert "***" in masked
    for part in (PASSWORD, " x'", "x@127", "x dbname"):  # any tail of the password, past its space or '@'
        assert part not in masked


def test_an_unquoted_password_with_an_escaped_space_is_registered_whole(tmp_path):
    path = _config(tmp_path, f'[database]\nurl = "host=db password={PASSWORD}\\\\ x dbname=news"\n')
    secrets = load_config(path, env={}).secrets
    assert f"{PASSWORD}\\ x" in secrets and f"{PASSWORD} x" in secrets
    logs.register_secrets(secrets)
    try:
        masked = logs.mask_secrets(f"no connection with {PASSWORD}\\ x as the password")
    finally:
        logs.register_secrets(())
    assert masked == "no connection with *** as the password"


@pytest.fixture
def log_output():
    """This process's JSON log stream, in memory; the logging set-up before it is put back afterwards."""
    root = logging.getLogger()
    handlers, level, excepthook = list(root.handlers), root.level, sys.excepthook
    stream = io.StringIO()
    logs.configure("json", "info", stream=stream)
    yield stream
    logs.register_secrets(())
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook = excepthook
    logging.captureWarnings(False)
    structlog.reset_defaults()


def test_a_configured_password_is_masked_in_event_fields_and_exception_text(tmp_path, log_output):
    path = _config(tmp_path, f'[database]\nurl = "postgresql://news:{PASSWORD}@db.internal/news"\n')
    logs.register_secrets(load_config(path, env={}).secrets)
    log = structlog.get_logger("newsingest.test")
    try:
        raise RuntimeError(f"it said {PASSWORD} here")
    except RuntimeError:
        log.error("something_failed", error=f"near {PASSWORD}!", exc_info=True)
    output = log_output.getvalue()
    assert "something_failed" in output and "RuntimeError" in output
    assert PASSWORD not in output


def test_a_mistyped_dsn_exits_3_without_printing_the_password(run_cli):
    result = run_cli("load", env={"DATABASE_URL": f"postgresql//news:{PASSWORD}@127.0.0.1/news"})
    assert result.returncode == 3, result.stderr[-3000:]
    assert "database unavailable" in _one_line_error(result)
    assert PASSWORD not in result.stdout + result.stderr


def test_the_daemon_crawls_with_a_mistyped_dsn_and_never_prints_its_password(tmp_path, data_dir):
    with NewsSite() as site:
        config = daemon_config(tmp_path / "newsingest.toml", data_dir, site.url("/feeds/rss.xml"), interval="1h")
        daemon = Daemon.start(config, data_dir, f"postgresql//news:{PASSWORD}@127.0.0.1/news")
        try:
            finished = daemon.wait_for_event("crawl_finished", timeout=60)
            daemon.wait_for_event("load_failed")
            assert daemon.stop() == 0
        finally:
            daemon.kill()
    assert finished[0]["status"] == "finished" and finished[0]["articles"] > 0
    assert not [line for line in daemon.lines if PASSWORD in line]


# ------------------------------------------------------------------ 14. one line and the right exit status


def test_a_config_file_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "newsingest.toml"
    path.write_bytes('[[sources]]\nname = "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=f"{path}: not UTF-8 text"):
        load_config(path, env={})


@pytest.mark.parametrize("url, reason", [
    ("http://[::1", r"is not a valid http\(s\) URL"),
    ("http://news.example:99999/", "port"),
    ("http://news example/", "host"),
], ids=["unclosed-ipv6-bracket", "port-out-of-range", "host-with-a-space"])
def test_a_malformed_start_url_names_the_key(tmp_path, url, reason):
    path = _config(tmp_path, f'[[sources]]\nname = "wire"\nstart_urls = ["{url}"]\n')
    with pytest.raises(ConfigError, match=rf"source 'wire': key 'start_urls': .*{reason}"):
        load_config(path, env={})


def test_a_data_dir_that_is_a_file_is_a_configuration_error(run_cli, tmp_path):
    not_a_dir = tmp_path / "data-file"
    not_a_dir.write_text("")
    result = run_cli("crawl", "--url", "http://127.0.0.1:9/x", "--no-load",
                     env={"NEWSINGEST_DATA_DIR": str(not_a_dir)})
    assert result.returncode == 2, result.stderr[-3000:]
    assert str(not_a_dir) in _one_line_error(result)
    assert "crawl_started" not in result.stderr


def test_a_crawl_failing_inside_scrapy_logs_json_lines_only(tmp_path):
    # Below the CLI's data directory check: the spool fails to open inside Scrapy, which Twisted reports
    # as an unhandled error in a Deferred.
    not_a_dir = tmp_path / "data-file"
    not_a_dir.write_text("")
    script = (
        "from ingest import logs\n"
        "from ingest.config import load_config\n"
        "from crawler.runner import adhoc_source, run_crawl\n"
        "logs.configure('json', 'info')\n"
        f"config = load_config(None, env={{'NEWSINGEST_DATA_DIR': {str(not_a_dir)!r}}})\n"
        "urls = ['http://127.0.0.1:9/x']\n"
        "run_crawl(config, adhoc_source(urls, True), urls, configure_logging=lambda: logs.configure('json', 'info'))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NEWSINGEST_CONFIG": ""})
    lines = result.stderr.splitlines()
    assert any("NotADirectoryError" in line for line in lines), result.stderr[-3000:]
    for line in lines:
        assert isinstance(json.loads(line), dict), line


def test_export_to_a_missing_directory_is_a_usage_error(run_cli, db, tmp_path):
    target = tmp_path / "nonexistent" / "x.jsonl"
    result = run_cli("export", "-o", str(target))
    assert result.returncode == 2, result.stderr[-3000:]
    assert str(target) in _one_line_error(result)


@pytest.mark.parametrize("url", ["notaurl", "ftp://127.0.0.1/story.html", "http://[::1"])
def test_crawl_url_accepts_only_http_urls(run_cli, url):
    result = run_cli("crawl", "--url", url, "--no-load")
    assert result.returncode == 2, result.stderr[-3000:]
    line = _one_line_error(result)
    assert url in line and "http(s)" in line
    assert "crawl_started" not in result.stderr


def test_a_dsn_with_a_bad_query_parameter_is_database_unavailable(run_cli):
    result = run_cli("load", env={"DATABASE_URL": "postgresql://news@127.0.0.1/news?no_such_parameter=1"})
    assert result.returncode == 3, result.stderr[-3000:]
    assert "no_such_parameter" in _one_line_error(result)


def test_a_database_shut_down_in_the_middle_of_a_load_exits_3(run_cli, db, database_url):
    # Holding the load lock parks the load where it has connected and migrated; terminating its backend
    # is what a server shutdown does to it (AdminShutdown).
    db.execute("SELECT pg_advisory_lock(%s)", (LOAD_LOCK,))
    terminated = []

    def terminate_the_waiting_load():
        with psycopg.connect(database_url, autocommit=True) as admin:
            deadline = time.monotonic() + 60
            while not terminated and time.monotonic() < deadline:
                terminated.extend(pid for (pid,) in admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event = 'advisory' AND pid <> %s",
                    (db.info.backend_pid,)))
                time.sleep(0.1)

    killer = threading.Thread(target=terminate_the_waiting_load)
    killer.start()
    try:
        result = run_cli("load")
    finally:
        killer.join()
        db.execute("SELECT pg_advisory_unlock(%s)", (LOAD_LOCK,))
    assert terminated
    assert result.returncode == 3, result.stderr[-3000:]
    assert "database unavailable" in _one_line_error(result)


# ------------------------------------------------------------------ 15. refused at start, not later


@pytest.mark.parametrize("key, value, reason", [
    ("body_selector", '"//div[no-such-function()]"', "invalid selector"),
    ("body_selector", '"(count(//div))"', "elements"),
    ("cron", '"0 0 31 2 *"', "never fires"),
], ids=["xpath-calling-an-unknown-function", "xpath-selecting-a-number", "cron-on-february-31"])
def test_a_value_that_would_only_fail_later_is_refused_at_start(tmp_path, key, value, reason):
    path = _config(tmp_path, f'[[sources]]\nname = "wire"\nfeeds = ["https://wire.example/rss"]\n{key} = {value}\n')
    with pytest.raises(ConfigError, match=rf"{path}: source 'wire': key '{key}': .*{reason}"):
        load_config(path, env={})


def test_a_source_name_ending_in_a_newline_is_refused(tmp_path):
    path = _config(tmp_path, '[[sources]]\nname = "wire\\n"\nfeeds = ["https://wire.example/rss"]\n')
    with pytest.raises(ConfigError, match=r"key 'name'"):
        load_config(path, env={})

