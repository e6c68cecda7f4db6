"""The config file: defaults, overrides, and errors that name the file, the source and the key."""

from pathlib import Path

import pytest

from ingest.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsingest.toml"
    path.write_text(text)
    return path


def test_minimal_source_gets_defaults(tmp_path):
    config = load_config(write(tmp_path, '[[sources]]\nname = "wire"\nfeeds = ["https://wire.example/rss"]\n'), env={})
    source = config.source("wire")
    assert source.feeds == ("https://wire.example/rss",)
    assert source.domains == ("wire.example",)
    assert source.max_pages == config.crawl.max_pages
    assert source.interval == 900


def test_interval_accepts_units(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "a"\nfeeds = ["https://a.example/f"]\ninterval = "15m"\n')
    config = load_config(path, env={})
    assert config.source("a").interval == 900


def test_database_url_environment_overrides_file(tmp_path):
    path = write(tmp_path, '[database]\nurl = "postgresql://file@db/x"\n')
    assert load_config(path, env={"DATABASE_URL": "postgresql://env@db/y"}).database_url == "postgresql://env@db/y"


def test_wrong_type_names_file_source_and_key(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "wire"\nfeeds = ["https://wire.example/rss"]\nmax_pages = "many"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    message = str(error.value)
    assert str(path) in message and "source 'wire'" in message and "'max_pages'" in message


def test_unknown_key_is_an_error(tmp_path):
    path = write(tmp_path, '[crawl]\ndownload_dealy = 1\n')
    with pytest.raises(ConfigError, match=r"key 'crawl.download_dealy': unknown key"):
        load_config(path, env={})


def test_invalid_regex_names_the_key(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "x"\nstart_urls = ["https://x.example/"]\ndeny = ["(unclosed"]\n')
    with pytest.raises(ConfigError, match=r"source 'x': key 'deny': invalid regular expression"):
        load_config(path, env={})


def test_source_without_any_url_is_an_error(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "empty"\n')
    with pytest.raises(ConfigError, match="needs start_urls, feeds or sitemaps"):
        load_config(path, env={})


def test_bad_toml_names_the_file(tmp_path):
    path = write(tmp_path, "[crawl\n")
    with pytest.raises(ConfigError, match=f"{path}: not valid TOML"):
        load_config(path, env={})


def test_cli_config_error_exits_2_with_file_and_key(tmp_path, run_cli):
    path = write(tmp_path, '[[sources]]\nname = "wire"\nsitemaps = ["ftp://wire.example/s.xml"]\n')
    result = run_cli("--config", str(path), "crawl", "wire")
    assert result.returncode == 2
    assert str(path) in result.stderr and "source 'wire'" in result.stderr and "'sitemaps'" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_body_selector_names_the_key(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "x"\nfeeds = ["https://x.example/f"]\nbody_selector = "div["\n')
    with pytest.raises(ConfigError, match=r"source 'x': key 'body_selector': invalid selector"):
        load_config(path, env={})


@pytest.mark.parametrize("section, key, value", [
    ("crawl", "download_delay", "1e300"),
    ("crawl", "download_timeout", "1e300"),
    ("crawl", "retry_backoff", "1e300"),
    ("crawl", "retry_after_max", "1e300"),
    ("crawl", "concurrent_requests", "1000000000"),
    ("crawl", "max_retries", "1000000"),
    ("crawl", "revisit_window", '"3650d"'),
    ("crawl", "revisit_floor", '"2d"'),
    ("daemon", "grace_period", '"3650d"'),
    ("daemon", "max_concurrent_crawls", "100000"),
])
def test_a_number_beyond_its_range_is_an_error_naming_file_and_key(tmp_path, section, key, value):
    path = write(tmp_path, f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=rf"{path}: key '{section}.{key}': must be at most"):
        load_config(path, env={})


def test_max_crawl_seconds_of_a_source_overrides_the_crawl_default(tmp_path):
    path = write(tmp_path, '[crawl]\nmax_crawl_seconds = "30m"\n'
                           '[[sources]]\nname = "a"\nfeeds = ["https://a.example/f"]\nmax_crawl_seconds = "90s"\n'
                           '[[sources]]\nname = "b"\nfeeds = ["https://b.example/f"]\n')
    config = load_config(path, env={})
    assert config.source("a").max_crawl_seconds == 90
    assert config.source("b").max_crawl_seconds == 1800


def test_allow_private_hosts_takes_addresses_networks_and_host_names(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "a"\nfeeds = ["https://a.example/f"]\n'
                           'allow_private_hosts = ["10.1.2.3", "intranet.example", "192.168.0.0/24", "fe80::1"]\n')
    config = load_config(path, env={})
    assert config.source("a").allow_private_hosts == ("10.1.2.3", "intranet.example", "192.168.0.0/24", "fe80::1")


def test_allow_private_hosts_names_an_international_host_as_requests_carry_it(tmp_path):
    path = write(tmp_path, '[[sources]]\nname = "a"\nfeeds = ["https://a.example/f"]\n'
                           'allow_private_hosts = ["Bücher.example"]\n')
    assert load_config(path, env={}).source("a").allow_private_hosts == ("xn--bcher-kva.example",)


@pytest.mark.parametrize("entry", ["192.168.0.1/24", "10.0.0.0/33", "http://intranet.example/", "bad host", ""])
def test_allow_private_hosts_entry_that_is_no_host_or_network_names_the_key(tmp_path, entry):
    path = write(tmp_path, '[[sources]]\nname = "a"\nfeeds = ["https://a.example/f"]\n'
                           f'allow_private_hosts = ["{entry}"]\n')
    with pytest.raises(ConfigError, match=r"source 'a': key 'allow_private_hosts'"):
        load_config(path, env={})


@pytest.mark.parametrize("value, problem", [(0, "at least 0.1"), (7200, "at most 3600")])
def test_extract_timeout_out_of_range_names_the_key(tmp_path, value, problem):
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, f"[crawl]\nextract_timeout = {value}\n"), env={})
    assert "key 'crawl.extract_timeout'" in str(error.value) and problem in str(error.value)


def test_stale_run_after_shorter_than_a_crawls_time_budget_is_refused(tmp_path):
    path = write(tmp_path, '[daemon]\nstale_run_after = "2h"\n\n[[sources]]\nname = "a"\nfeeds = ["https://a.example/f"]\n'
                           'max_crawl_seconds = "3h"\n')
    with pytest.raises(ConfigError, match=r"key 'daemon.stale_run_after': must be longer than .* \(10800 s\)"):
        load_config(path, env={})


def test_an_unknown_crawl_engine_is_an_error_naming_file_and_key(tmp_path):
    path = write(tmp_path, '[daemon]\ncrawl_engine = "threads"\n')
    with pytest.raises(ConfigError, match=rf"{path}: key 'daemon.crawl_engine': expected one of shared, process"):
        load_config(path, env={})


@pytest.mark.parametrize("engine, crawls", [("shared", 32), ("process", 2)])
def test_max_concurrent_crawls_defaults_to_what_the_crawl_engine_can_take(tmp_path, engine, crawls):
    path = write(tmp_path, f'[daemon]\ncrawl_engine = "{engine}"\n')
    assert load_config(path, env={}).daemon.max_concurrent_crawls == crawls


@pytest.mark.parametrize("value, address", [
    ("127.0.0.1:9464", ("127.0.0.1", 9464)),
    ("0.0.0.0:9464", ("0.0.0.0", 9464)),
    ("[::1]:9464", ("::1", 9464)),
    ("metrics.internal:80", ("metrics.internal", 80)),
])
def test_daemon_http_takes_an_address_and_port(tmp_path, value, address):
    assert load_config(write(tmp_path, f'[daemon]\nhttp = "{value}"\n'), env={}).daemon.http == address


def test_daemon_http_is_off_by_default(tmp_path):
    assert load_config(write(tmp_path, ""), env={}).daemon.http is None


@pytest.mark.parametrize("value", ['"127.0.0.1"', '"127.0.0.1:0"', '"127.0.0.1:65536"', '"::1:9464"', '":9464"',
                                   '"bad host:9464"', "9464"])
def test_daemon_http_that_is_no_host_and_port_names_file_and_key(tmp_path, value):
    path = write(tmp_path, f"[daemon]\nhttp = {value}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path, env={})
    assert str(path) in str(error.value) and "key 'daemon.http'" in str(error.value)


def test_revisit_floor_defaults_to_five_minutes_and_accepts_units(tmp_path):
    assert load_config(write(tmp_path, ""), env={}).crawl.revisit_floor == 300
    assert load_config(write(tmp_path, '[crawl]\nrevisit_floor = "90s"\n'), env={}).crawl.revisit_floor == 90
