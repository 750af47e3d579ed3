"""docker-compose.yml describes the same stack as the embedded local one.

No Docker engine runs here, so the compose file is checked offline: Debian's
docker-compose validates it (`docker-compose config`), and every setting that
the local stack also has is compared with the local stack's own source of
truth: the poms in stack/, pyproject.toml, the jinja2 templates, the
PostgreSQL settings PostgresCluster writes, the job's argument spec and Settings.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from catalog_view.settings import REPO_ROOT, Settings
from catalog_view.stack import jars
from catalog_view.stack import postgres as local_postgres
from catalog_view.stack.java import TEMPLATES as STACK_TEMPLATES
from catalog_view.stack.job import job_arguments
from catalog_view.stack.local import PASSWORD_FIELDS
from catalog_view.templating import render_text
from connectors.render import CONNECT_SECRETS_KEY, connect_secrets_file, render_source_connector

pytestmark = pytest.mark.unit

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_FILE = REPO_ROOT / ".env"
DOCKER_DIR = REPO_ROOT / "docker"
DUMMY_SECRETS = {f"CATALOG_VIEW_{field.upper()}": f"dummy-{field}" for field in PASSWORD_FIELDS}
ONE_SHOT = {"setup", "job-submit"}
# Where containers differ from the local processes by necessity, not by choice.
PG_NETWORK_SETTINGS = {"port", "listen_addresses", "unix_socket_directories"}


def compose_env(**extra: str) -> dict[str, str]:
    """The caller's environment without CATALOG_VIEW_* (so a developer's
    settings cannot leak in), plus dummy passwords."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOG_VIEW_")}
    env.update(DUMMY_SECRETS)
    env.update(extra)
    return env


def docker_compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose not found: install Debian's docker-compose package "
            "(apt-get install --no-install-recommends docker-compose; scripts/setup.sh does)"
        )
    return subprocess.run(
        [binary, "-f", str(COMPOSE_FILE), "--project-directory", str(REPO_ROOT), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """The compose file as docker-compose resolves it (.env and variables interpolated)."""
    result = docker_compose("config", env=compose_env())
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    loaded: dict[str, Any] = yaml.safe_load(result.stdout)
    return loaded


@pytest.fixture(scope="module")
def services(config: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = config["services"]
    return result


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """The compose file as written (YAML anchors resolved, variables not)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


@pytest.fixture(scope="module")
def env_file() -> dict[str, str]:
    values = {}
    for line in ENV_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


@pytest.fixture
def clean_settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("CATALOG_VIEW_"):
            monkeypatch.delenv(key)


def dockerfile(name: str) -> str:
    return (DOCKER_DIR / name / "Dockerfile").read_text()


def pom_property(component: str, name: str, pom: Path | None = None) -> str:
    pom = pom or REPO_ROOT / "stack" / component / "pom.xml"
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    value = ET.parse(pom).getroot().findtext(f"m:properties/m:{name}", namespaces=ns)
    assert value, f"{pom} has no <{name}>"
    return value.strip()


def pyproject_pin(package: str) -> str:
    match = re.search(
        rf'"{re.escape(package)}==([^"]+)"', (REPO_ROOT / "pyproject.toml").read_text()
    )
    assert match, f"pyproject.toml does not pin {package}"
    return match.group(1)


def options(argv: list[str]) -> dict[str, str]:
    """--flag value pairs; --jar (repeated, machine-specific) left out."""
    assert len(argv) % 2 == 0, argv
    pairs = dict(zip(argv[::2], argv[1::2], strict=True))
    pairs.pop("--jar", None)
    return pairs


def properties(text: str) -> dict[str, str]:
    result = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            result[key.strip()] = value.strip()
    return result


def listeners(value: str) -> dict[str, int]:
    """'NAME://host:port,...' -> {NAME: port}."""
    result = {}
    for item in value.split(","):
        name, _, address = item.partition("://")
        result[name] = int(address.rsplit(":", 1)[1])
    return result


def mount_targets(service: dict[str, Any]) -> list[str]:
    """Container paths of the volumes (docker-compose prints source:target:mode)."""
    return [volume.split(":")[1] for volume in service.get("volumes", [])]


def setup_settings(services: dict[str, Any]) -> Settings:
    """Settings as the setup container loads them from its environment."""
    env = services["setup"]["environment"]
    fields = {
        key.removeprefix("CATALOG_VIEW_").lower(): value
        for key, value in env.items()
        if key.startswith("CATALOG_VIEW_") and key != "CATALOG_VIEW_KAFKA_BOOTSTRAP_SERVERS"
    }
    return Settings(**fields)


# (a) docker-compose validates the file.


def test_compose_config_is_valid() -> None:
    result = docker_compose("config", "-q", env=compose_env())
    assert result.returncode == 0, f"docker-compose config -q failed:\n{result.stderr}"


@pytest.mark.parametrize("missing", sorted(DUMMY_SECRETS))
def test_every_password_is_required(missing: str) -> None:
    env = compose_env()
    del env[missing]
    result = docker_compose("config", "-q", env=env)
    assert result.returncode != 0
    assert f"set {missing}" in result.stderr


def test_passwords_only_come_from_the_environment(
    raw: dict[str, Any], env_file: dict[str, str]
) -> None:
    assert all(key.endswith("_IMAGE") for key in env_file), ".env holds image tags only"
    for name, service in raw["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key:
                assert re.fullmatch(r"\$\{CATALOG_VIEW_[A-Z_]+_PASSWORD:\?[^}]+\}", value), (
                    f"{name}: {key} must come from the environment, not the file"
                )


def test_healthchecks_and_dependency_conditions(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name not in ONE_SHOT:
            assert "healthcheck" in service, f"{name} has no healthcheck"
        for dependency, how in service.get("depends_on", {}).items():
            condition = how["condition"]
            if name == "taskmanager" and dependency == "jobmanager":
                # The JobManager is healthy only once a TaskManager registered.
                assert condition == "service_started"
            elif dependency in ONE_SHOT:
                assert condition == "service_completed_successfully", (name, dependency)
            else:
                assert condition == "service_healthy", (name, dependency)
                assert "healthcheck" in services[dependency]


def test_dockerfile_sources_exist() -> None:
    for path in sorted(DOCKER_DIR.glob("*/Dockerfile")):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] != ["COPY"] or any(w.startswith("--from") for w in words):
                continue
            for source in words[1:-1]:
                assert (REPO_ROOT / source).exists(), f"{path}: COPY {source}: no such path"


# (b) The same versions as the local stack.


def test_image_tags_match_the_local_pins(
    env_file: dict[str, str], services: dict[str, Any]
) -> None:
    kafka = pom_property("kafka", "kafka.version")
    assert pom_property("connect", "kafka.version") == kafka
    assert env_file["KAFKA_IMAGE"] == f"apache/kafka:{kafka}"
    assert env_file["POSTGRES_IMAGE"] == f"postgres:{local_postgres.PG_MAJOR}"
    flink = pyproject_pin("apache-flink")
    assert env_file["FLINK_IMAGE"] == f"flink:{flink}-java17"

    assert services["postgres"]["image"] == env_file["POSTGRES_IMAGE"]
    assert services["kafka"]["image"] == env_file["KAFKA_IMAGE"]
    # Connect runs on the broker's image, the job on the Flink line of pyproject.
    assert services["connect"]["build"]["args"]["KAFKA_IMAGE"] == env_file["KAFKA_IMAGE"]
    assert services["jobmanager"]["build"]["args"]["FLINK_IMAGE"] == env_file["FLINK_IMAGE"]
    for name in ("connect", "setup", "jobmanager"):
        for arg, value in services[name]["build"]["args"].items():
            if arg.endswith("_IMAGE"):
                assert value == env_file[arg], (name, arg)
    for name in ("taskmanager", "job-submit"):
        assert services[name]["image"] == services["jobmanager"]["image"]


def test_jars_come_from_the_poms() -> None:
    connect = dockerfile("connect")
    assert "mvn -q -B -f /build/stack/debezium/pom.xml dependency:copy-dependencies" in connect
    assert "COPY stack/debezium/pom.xml " in connect
    assert pom_property("debezium", "debezium.version") not in connect
    assert "FROM ${KAFKA_IMAGE}" in connect

    flink = dockerfile("flink")
    assert "mvn -q -B -f /build/stack/flink/pom.xml dependency:copy-dependencies" in flink
    assert "COPY stack/flink/pom.xml " in flink
    for version in ("flink.kafka.connector.version", "flink.jdbc.connector.version"):
        assert pom_property("flink", version) not in flink
    assert "FROM ${FLINK_IMAGE}" in flink
    jvm_pom = REPO_ROOT / "jvm" / "pom.xml"
    if jvm_pom.exists():
        # The project's sink module, built as jars.build_sink builds it, on the
        # Flink version the job runs on.
        assert "mvn -q -B -f /build/jvm/pom.xml package" in flink
        assert f"/jars/{getattr(jars, 'SINK_JAR', 'catalog-view-sink.jar')}" in flink
        assert pom_property("jvm", "flink.version", jvm_pom) == pyproject_pin("apache-flink")
    # PyFlink and psycopg are installed at pyproject's pins, read from it.
    assert "COPY pyproject.toml " in flink
    assert pyproject_pin("apache-flink") not in flink


def test_flink_image_installs_pyprojects_pins() -> None:
    """The sed in docker/flink/Dockerfile finds exactly apache-flink, psycopg and sqlparse."""
    match = re.search(r"sed -n '([^']+)'", dockerfile("flink"))
    assert match
    sed = shutil.which("sed")
    assert sed
    found = subprocess.run(
        [sed, "-n", match.group(1), str(REPO_ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert found[0] == f"apache-flink=={pyproject_pin('apache-flink')}"
    assert found[1].startswith("psycopg[binary]")
    assert found[2].startswith("sqlparse")
    assert len(found) == 3


# (b) The same configs as the local stack.


def test_postgres_settings_match_the_local_cluster(
    services: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not root for the moment, so _write_conf does not chown to `postgres`.
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    cluster = local_postgres.PostgresCluster(Settings(data_dir=tmp_path))
    cluster.data.mkdir(parents=True)
    cluster._write_conf()
    local = {
        key: value.split("#", 1)[0].strip().strip("'")
        for key, value in properties((cluster.data / "catalog_view.conf").read_text()).items()
    }
    command = services["postgres"]["command"]
    assert command[0] == "postgres"
    assert command[1::2] == ["-c"] * (len(command) // 2)
    in_compose = dict(item.split("=", 1) for item in command[2::2])
    expected = {k: v for k, v in local.items() if k not in PG_NETWORK_SETTINGS}
    assert in_compose == expected

    initdb_source = inspect.getsource(local_postgres.PostgresCluster.init)
    local_flags = set(re.findall(r'"(--[a-z-]+=[^"]+)"', initdb_source))
    compose_flags = set(services["postgres"]["environment"]["POSTGRES_INITDB_ARGS"].split())
    assert compose_flags == local_flags


def test_kafka_settings_match_the_local_broker(services: dict[str, Any]) -> None:
    local = properties(
        render_text(
            STACK_TEMPLATES,
            "kafka-server.properties.j2",
            {"host": "127.0.0.1", "broker_port": 1, "controller_port": 2, "log_dirs": "/d"},
        )
    )
    env = {k: str(v) for k, v in services["kafka"]["environment"].items()}

    def compose_value(key: str) -> str:
        name = "KAFKA_" + key.upper().replace(".", "_")
        assert name in env, f"kafka-server.properties.j2 sets {key}; compose has no {name}"
        return env[name]

    compose_listeners = listeners(compose_value("listeners"))
    assert set(listeners(local["listeners"])) <= set(compose_listeners)
    assert set(listeners(local["advertised.listeners"])) <= set(
        listeners(compose_value("advertised.listeners"))
    )
    local_map = set(local["listener.security.protocol.map"].split(","))
    assert local_map <= set(compose_value("listener.security.protocol.map").split(","))
    # The image formats without --standalone: a static one-voter quorum instead.
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert voters == f"{local['node.id']}@localhost:{compose_listeners['CONTROLLER']}"
    assert compose_value("log.dirs") in mount_targets(services["kafka"])

    special = {
        "listeners",
        "advertised.listeners",
        "listener.security.protocol.map",
        "controller.quorum.bootstrap.servers",
        "log.dirs",
    }
    for key, value in local.items():
        if key not in special:
            assert compose_value(key) == value, key


def kafka_internal_bootstrap(services: dict[str, Any]) -> str:
    advertised: str = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    inter_broker = services["kafka"]["environment"]["KAFKA_INTER_BROKER_LISTENER_NAME"]
    for item in advertised.split(","):
        name, _, address = item.partition("://")
        if name == inter_broker:
            return address
    raise AssertionError(f"no {inter_broker} in {advertised}")


def test_connect_worker_config_from_the_local_template(
    services: dict[str, Any], tmp_path: Path, clean_settings_env: None
) -> None:
    connect = dockerfile("connect")
    assert "COPY catalog_view/stack/templates/connect-distributed.properties.j2 " in connect
    assert "render_worker_config.py" in connect
    args = services["connect"]["build"]["args"]
    out = tmp_path / "connect-distributed.properties"
    # The build's render step, run here with the same arguments.
    subprocess.run(
        [
            sys.executable,
            str(DOCKER_DIR / "connect" / "render_worker_config.py"),
            "--templates",
            str(STACK_TEMPLATES),
            "--out",
            str(out),
            "--bootstrap-servers",
            args["BOOTSTRAP_SERVERS"],
            "--host",
            args["CONNECT_HOST"],
            "--rest-port",
            str(args["REST_PORT"]),
            "--group-id",
            args["GROUP_ID"],
            "--plugin-path",
            args["PLUGIN_PATH"],
        ],
        check=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    worker = properties(out.read_text())
    assert worker["bootstrap.servers"] == kafka_internal_bootstrap(services)
    assert worker["group.id"] == f"{Settings().capture_name}-connect"
    assert worker["plugin.path"] == args["PLUGIN_PATH"]
    assert "COPY --from=plugin /plugins ${PLUGIN_PATH}" in connect
    rest = urlsplit(worker["listeners"])
    assert (rest.hostname, rest.port) == ("connect", int(args["REST_PORT"]))
    assert worker["rest.advertised.host.name"] == "connect"
    assert f"http://connect:{rest.port}/connectors" in services["connect"]["healthcheck"]["test"]
    assert services["setup"]["environment"]["CATALOG_VIEW_CONNECT_URL"] == (
        f"http://connect:{rest.port}"
    )
    published = [p for p in services["connect"]["ports"] if p.endswith(f":{rest.port}/tcp")]
    assert published == [f"127.0.0.1:{Settings().connect_port}:{rest.port}/tcp"]


def test_connector_secret_reaches_the_worker(
    services: dict[str, Any], clean_settings_env: None
) -> None:
    settings = setup_settings(services)
    data_dir = services["connect"]["environment"]["CATALOG_VIEW_DATA_DIR"]
    assert str(settings.data_dir) == data_dir
    secrets = connect_secrets_file(settings)
    relative = secrets.relative_to(data_dir)
    script = (DOCKER_DIR / "connect" / "start-worker.sh").read_text()
    assert f'"$CATALOG_VIEW_DATA_DIR/{relative}"' in script
    assert f"'{CONNECT_SECRETS_KEY}=%s\\n'" in script
    assert any(str(secrets.parent) == t.split(":")[0] for t in services["connect"]["tmpfs"])

    config = render_source_connector(settings)
    assert config["database.password"] == f"${{file:{secrets}:{CONNECT_SECRETS_KEY}}}"
    assert config["database.hostname"] == "postgres"
    assert config["database.port"] == "5432"
    assert config["topic.prefix"] == "catalog"


def test_setup_uses_the_project_cli_and_defaults(
    services: dict[str, Any], clean_settings_env: None
) -> None:
    setup = services["setup"]
    command = " ".join(setup["command"])
    assert "catalog-view connector register" in command
    assert "catalog-view bootstrap" in command
    env = setup["environment"]
    # capture_name keeps its default, so slot, publication and topics do too.
    assert not any(k in env for k in ("CATALOG_VIEW_CAPTURE_NAME", "CATALOG_VIEW_ADMIN_SCHEMA"))
    assert Settings().capture_name == "catalog"
    assert env["CATALOG_VIEW_KAFKA_BOOTSTRAP_SERVERS"] == kafka_internal_bootstrap(services)
    assert (env["CATALOG_VIEW_PG_HOST"], str(env["CATALOG_VIEW_PG_PORT"])) == ("postgres", "5432")
    settings = setup_settings(services)
    assert set(DUMMY_SECRETS) <= set(env)
    assert settings.secret("cdc_password") == DUMMY_SECRETS["CATALOG_VIEW_CDC_PASSWORD"]


def test_job_arguments_are_the_spec(services: dict[str, Any], clean_settings_env: None) -> None:
    """job-submit's command is the job's argument spec (flink_jobs/arguments.py)
    rendered from the settings the setup service runs with: the same function
    renders the local start and the cluster submission (catalog_view/stack/job.py
    job_arguments), so the three cannot drift."""
    command = services["job-submit"]["command"]
    assert command[0] == "/opt/catalog-view/submit-job.sh"
    env = services["setup"]["environment"]
    settings = setup_settings(services).model_copy(
        update={"kafka_bootstrap_servers": env["CATALOG_VIEW_KAFKA_BOOTSTRAP_SERVERS"]}
    )
    assert settings.bootstrap_servers == kafka_internal_bootstrap(services)
    spec = job_arguments(
        settings,
        checkpoint_dir="/var/lib/catalog-view/flink/checkpoints",
        # The repository's sql/, copied into the image.
        sql_dir="/app/sql",
    )
    assert command[1:] == spec.argv()
    compose = options(command[1:])

    submit = (DOCKER_DIR / "flink" / "submit-job.sh").read_text()
    assert "flink run -m jobmanager:8081 --detached -pym flink_jobs" in submit
    assert 'set -- "$@" --jar "file://$jar"' in submit
    assert (
        services["job-submit"]["environment"]["CATALOG_VIEW_STORE_PASSWORD"]
        == (DUMMY_SECRETS["CATALOG_VIEW_WRITER_PASSWORD"])
    )
    checkpoints = compose["--checkpoint-dir"]
    for name in ("jobmanager", "taskmanager"):
        assert checkpoints in mount_targets(services[name]), name
    slots = services["taskmanager"]["environment"]["TASK_MANAGER_NUMBER_OF_TASK_SLOTS"]
    assert int(slots) >= int(compose["--parallelism"])


def test_images_carry_the_repositorys_sql() -> None:
    for name in ("app", "flink"):
        assert "\nCOPY sql /app/sql\n" in dockerfile(name), name
    # Editable, so settings.REPO_ROOT is /app and bootstrap finds /app/sql.
    assert "pip install --no-cache-dir -e /app" in dockerfile("app")
