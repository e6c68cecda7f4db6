"""deploy/: the shipped configs validate, the Kubernetes ConfigMap carries the same TOML as its source
file, and the systemd unit and container image run the daemon the way the deployment docs say.

Standard library only (no PyYAML): the YAML is only scanned for the few lines asserted here.
"""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path

import pytest

from ingest.config import load_config, parse_config

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
K8S = DEPLOY / "kubernetes"


def configmap_toml(text: str, key: str = "newsingest.toml") -> str:
    """The literal block `  <key>: |` of a ConfigMap: the lines indented deeper than the key, dedented."""
    lines = text.splitlines()
    header = re.compile(rf"^(\s*){re.escape(key)}:\s*\|\s*$")
    found = next(((i, m) for i, m in enumerate(map(header.match, lines)) if m), None)
    if found is None:
        raise AssertionError(f"no literal block '{key}: |' in the ConfigMap")
    index, match = found
    key_indent = len(match.group(1))
    block = []
    for line in lines[index + 1 :]:
        if line.strip() and len(line) - len(line.lstrip(" ")) <= key_indent:
            break
        block.append(line)
    # YAML's default "clip" chomping: exactly one trailing newline.
    return textwrap.dedent("\n".join(block)).rstrip("\n") + "\n"


def unit_settings(path: Path) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


# --- configuration files -----------------------------------------------------------------------------


def test_example_config_validates():
    config = load_config(DEPLOY / "newsingest.example.toml", env={})
    assert config.sources


def test_kubernetes_configmap_carries_the_same_toml_as_its_source_file():
    assert configmap_toml((K8S / "configmap.yaml").read_text()) == (K8S / "newsingest.toml").read_text()


def test_kubernetes_config_validates():
    path = K8S / "newsingest.toml"
    config = parse_config(tomllib.loads(path.read_text()), path, env={})
    assert [s.name for s in config.sources] == ["bbc-news", "npr"]


def test_kubernetes_config_does_not_size_workers_by_the_nodes_cores():
    # 0 means one per os.cpu_count(), which in a pod is the node's count, not the CPU limit.
    config = load_config(K8S / "newsingest.toml", env={})
    assert config.crawl.extract_workers >= 1


def test_configmap_extraction_stops_at_the_next_key():
    text = "data:\n  newsingest.toml: |\n    a = 1\n\n    b = 2\n  other: x\n"
    assert configmap_toml(text) == "a = 1\n\nb = 2\n"


# --- systemd -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unit() -> dict[str, list[str]]:
    return unit_settings(DEPLOY / "systemd" / "newsingest.service")


def test_unit_runs_the_daemon(unit):
    (exec_start,) = unit["ExecStart"]
    program, *args = exec_start.split()
    assert program.endswith("/newsingest") and args == ["run"]


def test_unit_restarts_on_failure(unit):
    assert unit["Restart"] == ["on-failure"]


def test_unit_reads_secrets_from_an_environment_file(unit):
    assert unit["EnvironmentFile"] == ["/etc/newsingest/newsingest.env"]


def test_unit_runs_as_its_own_user(unit):
    assert unit["User"] == ["newsingest"]


def test_unit_stop_timeout_exceeds_the_daemon_grace_period(unit):
    from ingest.defaults import DAEMON

    assert int(unit["TimeoutStopSec"][0]) > DAEMON["grace_period"]


def test_env_example_names_database_url():
    text = (DEPLOY / "systemd" / "newsingest.env.example").read_text()
    assert re.search(r"^DATABASE_URL=postgresql://", text, re.MULTILINE)


# --- container and orchestration -----------------------------------------------------------------------


def test_dockerfile_runs_the_daemon_as_non_root():
    text = (DEPLOY / "container" / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["newsingest"]' in text and 'CMD ["run"]' in text
    assert re.search(r"^USER 10001", text, re.MULTILINE)


def test_dockerfile_upgrades_pip_before_installing():
    text = (DEPLOY / "container" / "Dockerfile").read_text()
    assert text.index("pip install --no-cache-dir -U pip") < text.index("pip install --no-cache-dir .")


def test_compose_mounts_a_config_file_that_exists():
    text = (DEPLOY / "compose.yaml").read_text()
    (source,) = re.findall(r"-\s*(\./[^:\s]+):/etc/newsingest/newsingest\.toml", text)
    assert (DEPLOY / source).is_file()


def test_kubernetes_grace_period_matches_the_systemd_stop_timeout(unit):
    text = (K8S / "deployment.yaml").read_text()
    (grace,) = re.findall(r"terminationGracePeriodSeconds:\s*(\d+)", text)
    assert int(grace) == int(unit["TimeoutStopSec"][0])


# --- monitoring ----------------------------------------------------------------------------------------


def yaml_block(text: str, key: str) -> str:
    """The lines under the first `key:` of a YAML file, those indented deeper than it."""
    lines = text.splitlines()
    header = re.compile(rf"^(\s*)(?:-\s*)?{re.escape(key)}:\s*$")
    found = next(((i, m) for i, m in enumerate(map(header.match, lines)) if m), None)
    if found is None:
        raise AssertionError(f"no '{key}:' block")
    index, match = found
    block = []
    for line in lines[index + 1 :]:
        if line.strip() and len(line) - len(line.lstrip(" ")) <= len(match.group(1)):
            break
        block.append(line)
    return "\n".join(block)


def yaml_value(block: str, key: str) -> str:
    (value,) = re.findall(rf"^\s*(?:-\s*)?{re.escape(key)}:\s*(.+?)\s*$", block, re.MULTILINE)
    return value.strip("\"'")


@pytest.fixture(scope="module")
def deployment() -> str:
    return (K8S / "deployment.yaml").read_text()


def test_kubernetes_config_serves_monitoring_on_every_interface_of_the_pod():
    config = load_config(K8S / "newsingest.toml", env={})
    assert config.daemon.http is not None and config.daemon.http[0] == "0.0.0.0"


def test_kubernetes_container_exposes_the_configured_monitoring_port(deployment):
    port = load_config(K8S / "newsingest.toml", env={}).daemon.http[1]
    ports = yaml_block(deployment, "ports")
    assert yaml_value(ports, "name") == "metrics" and int(yaml_value(ports, "containerPort")) == port


@pytest.mark.parametrize("probe, path", [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")])
def test_kubernetes_probes_ask_the_daemon_on_its_monitoring_port(deployment, probe, path):
    block = yaml_block(deployment, probe)
    assert yaml_value(block, "path") == path and yaml_value(block, "port") == "metrics"


def test_kubernetes_pods_carry_the_prometheus_scrape_annotations(deployment):
    port = load_config(K8S / "newsingest.toml", env={}).daemon.http[1]
    annotations = yaml_block(yaml_block(deployment, "template"), "annotations")
    assert yaml_value(annotations, "prometheus.io/scrape") == "true"
    assert int(yaml_value(annotations, "prometheus.io/port")) == port
    assert yaml_value(annotations, "prometheus.io/path") == "/metrics"


def test_compose_healthcheck_asks_healthz_where_its_config_serves_it():
    text = (DEPLOY / "compose.yaml").read_text()
    (source,) = re.findall(r"-\s*(\./[^:\s]+):/etc/newsingest/newsingest\.toml", text)
    host, port = load_config(DEPLOY / source, env={}).daemon.http
    check = yaml_value(yaml_block(yaml_block(text, "newsingest"), "healthcheck"), "test")
    assert f"http://127.0.0.1:{port}/healthz" in check and host in ("127.0.0.1", "0.0.0.0")
