"""Kafka broker and Kafka Connect worker as local JVM processes."""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, NamedTuple

import requests
from confluent_kafka.admin import AdminClient

from catalog_view.errors import StackError
from catalog_view.settings import Settings
from catalog_view.stack import jars
from catalog_view.stack.process import ManagedProcess
from catalog_view.templating import render_text
from catalog_view.waiting import WaitTimeout, wait_until
from connectors.render import CONNECT_SECRETS_KEY, connect_secrets_file

TEMPLATES = Path(__file__).parent / "templates"
HOST = "127.0.0.1"


def java_bin() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError(
            "java not found: install a JDK 17 (apt-get install openjdk-17-jdk-headless)"
        )
    return java


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class JavaSpec(NamedTuple):
    name: str  # its directory, pid file and jar set
    title: str  # as errors name it
    port_setting: str  # the Settings field of the port it listens on
    heap: str  # -Xmx
    main_class: str
    server_log: str  # the log file its log4j2 configuration writes
    start_timeout_s: float


@dataclass(frozen=True)
class JavaComponent:
    """A JVM process of the stack: its directory under the data directory, its
    process, and a start that waits until it answers on its port."""

    settings: Settings
    spec: ClassVar[JavaSpec]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def root(self) -> Path:
        return self.settings.data_dir / self.name

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess.of(self.name, self.settings.data_dir)

    @property
    def port(self) -> int:
        return int(getattr(self.settings, self.spec.port_setting))

    def stop(self) -> bool:
        return self.process.stop()

    def healthy(self) -> bool:
        raise NotImplementedError

    def _configure(self) -> Path:
        """Writes its configuration files; returns the one its main class takes."""
        raise NotImplementedError

    def _prepare(self, config: Path, log4j: Path) -> None:
        """What must happen once before the first start (nothing by default)."""

    def _render(self, file: str, template: str, values: dict[str, object]) -> Path:
        """A configuration file of its own, from a template of stack/templates."""
        return _write(self.root / file, render_text(TEMPLATES, template, values))

    def _log4j(self) -> Path:
        return self._render(
            "log4j2.properties",
            "log4j2.properties.j2",
            {"log_file": self.settings.data_dir / "logs" / self.spec.server_log},
        )

    def start(self, timeout_s: float | None = None) -> None:
        if self.process.pid() is not None:
            return
        if port_open(self.port):
            raise StackError(f"port {self.port} is taken by another process")
        config, log4j = self._configure(), self._log4j()
        self._prepare(config, log4j)
        self.process.start(
            [
                java_bin(),
                "-Xms256m",
                f"-Xmx{self.spec.heap}",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={log4j}",
                "-cp",
                jars.classpath(self.name),
                self.spec.main_class,
                str(config),
            ]
        )

        def ready() -> bool:
            if self.process.pid() is None:
                raise StackError(f"{self.spec.title} exited:\n{self.process.log_tail()}")
            return port_open(self.port) and self.healthy()

        try:
            wait_until(
                ready,
                timeout_s=timeout_s or self.spec.start_timeout_s,
                what=f"{self.spec.title} ready",
                interval_s=0.5,
            )
        except WaitTimeout as exc:
            raise StackError(f"{exc}; see {self.process.log_file}") from None


@dataclass(frozen=True)
class KafkaBroker(JavaComponent):
    spec = JavaSpec(
        "kafka", "Kafka broker", "kafka_port", "768m", "kafka.Kafka", "kafka-server.log", 90
    )

    def _configure(self) -> Path:
        return self._render(
            "server.properties",
            "kafka-server.properties.j2",
            {
                "host": HOST,
                "broker_port": self.settings.kafka_port,
                "controller_port": self.settings.kafka_controller_port,
                "log_dirs": self.root / "data",
            },
        )

    def _prepare(self, server: Path, log4j: Path) -> None:
        """Formats the broker's storage (KRaft), once."""
        if (self.root / "data" / "meta.properties").is_file():
            return
        cp = jars.classpath("kafka")
        cluster_id = subprocess.run(
            [java_bin(), "-cp", cp, "kafka.tools.StorageTool", "random-uuid"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        result = subprocess.run(
            [
                java_bin(),
                f"-Dlog4j2.configurationFile={log4j}",
                "-cp",
                cp,
                "kafka.tools.StorageTool",
                "format",
                "--config",
                str(server),
                "--cluster-id",
                cluster_id,
                "--standalone",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(
                f"kafka storage format failed: {result.stderr.strip() or result.stdout}"
            )

    def healthy(self) -> bool:
        try:
            admin = AdminClient({"bootstrap.servers": self.settings.bootstrap_servers})
            metadata = admin.list_topics(timeout=3)
        except Exception:  # noqa: BLE001 - any client error means "not healthy yet"
            return False
        return bool(metadata.brokers)

    def version(self) -> str:
        return jars.version_of("kafka", "kafka-clients")


@dataclass(frozen=True)
class ConnectWorker(JavaComponent):
    spec = JavaSpec(
        "connect",
        "Kafka Connect",
        "connect_port",
        "1g",
        "org.apache.kafka.connect.cli.ConnectDistributed",
        "connect-worker.log",
        120,
    )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.settings.connect_port}"

    def _configure(self) -> Path:
        worker = self._render(
            "connect-distributed.properties",
            "connect-distributed.properties.j2",
            {
                "host": HOST,
                "bootstrap_servers": self.settings.bootstrap_servers,
                "group_id": f"{self.settings.capture_name}-connect",
                "rest_port": self.settings.connect_port,
                "plugin_path": jars.plugin_path(),
            },
        )
        secrets = connect_secrets_file(self.settings)
        _write(secrets, f"{CONNECT_SECRETS_KEY}={self.settings.secret('cdc_password')}\n")
        secrets.chmod(0o600)
        return worker

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/connectors", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def version(self) -> str:
        try:
            return str(requests.get(self.url, timeout=3).json().get("version", "?"))
        except (requests.RequestException, ValueError):
            return jars.version_of("connect", "connect-runtime")
