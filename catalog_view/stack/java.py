"""Kafka broker and Kafka Connect worker as local JVM processes."""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class KafkaBroker:
    settings: Settings

    @property
    def root(self) -> Path:
        return self.settings.data_dir / "kafka"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(
            "kafka", self.settings.data_dir / "run", self.settings.data_dir / "logs"
        )

    def _configure(self) -> tuple[Path, Path]:
        server = _write(
            self.root / "server.properties",
            render_text(
                TEMPLATES,
                "kafka-server.properties.j2",
                {
                    "host": HOST,
                    "broker_port": self.settings.kafka_port,
                    "controller_port": self.settings.kafka_controller_port,
                    "log_dirs": self.root / "data",
                },
            ),
        )
        log4j = _write(
            self.root / "log4j2.properties",
            render_text(
                TEMPLATES,
                "log4j2.properties.j2",
                {"log_file": self.settings.data_dir / "logs" / "kafka-server.log"},
            ),
        )
        return server, log4j

    def _format(self, server: Path, log4j: Path) -> None:
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

    def start(self, timeout_s: float = 90) -> None:
        if self.process.pid() is not None:
            return
        if port_open(self.settings.kafka_port):
            raise StackError(f"port {self.settings.kafka_port} is taken by another process")
        server, log4j = self._configure()
        self._format(server, log4j)
        self.process.start(
            [
                java_bin(),
                "-Xms256m",
                "-Xmx768m",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={log4j}",
                "-cp",
                jars.classpath("kafka"),
                "kafka.Kafka",
                str(server),
            ]
        )
        self._wait(timeout_s)

    def _wait(self, timeout_s: float) -> None:
        def ready() -> bool:
            if self.process.pid() is None:
                raise StackError(f"Kafka broker exited:\n{self.process.log_tail()}")
            return port_open(self.settings.kafka_port) and self.healthy()

        try:
            wait_until(ready, timeout_s=timeout_s, what="Kafka broker ready", interval_s=0.5)
        except WaitTimeout as exc:
            raise StackError(f"{exc}; see {self.process.log_file}") from None

    def healthy(self) -> bool:
        try:
            admin = AdminClient({"bootstrap.servers": self.settings.bootstrap_servers})
            metadata = admin.list_topics(timeout=3)
        except Exception:  # noqa: BLE001 - any client error means "not healthy yet"
            return False
        return bool(metadata.brokers)

    def stop(self) -> bool:
        return self.process.stop()

    def version(self) -> str:
        return jars.version_of("kafka", "kafka-clients")


@dataclass(frozen=True)
class ConnectWorker:
    settings: Settings

    @property
    def root(self) -> Path:
        return self.settings.data_dir / "connect"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(
            "connect", self.settings.data_dir / "run", self.settings.data_dir / "logs"
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.settings.connect_port}"

    def _configure(self) -> tuple[Path, Path]:
        worker = _write(
            self.root / "connect-distributed.properties",
            render_text(
                TEMPLATES,
                "connect-distributed.properties.j2",
                {
                    "host": HOST,
                    "bootstrap_servers": self.settings.bootstrap_servers,
                    "group_id": f"{self.settings.capture_name}-connect",
                    "rest_port": self.settings.connect_port,
                    "plugin_path": jars.plugin_path(),
                },
            ),
        )
        log4j = _write(
            self.root / "log4j2.properties",
            render_text(
                TEMPLATES,
                "log4j2.properties.j2",
                {"log_file": self.settings.data_dir / "logs" / "connect-worker.log"},
            ),
        )
        secrets = connect_secrets_file(self.settings)
        _write(secrets, f"{CONNECT_SECRETS_KEY}={self.settings.secret('cdc_password')}\n")
        secrets.chmod(0o600)
        return worker, log4j

    def start(self, timeout_s: float = 120) -> None:
        if self.process.pid() is not None:
            return
        if port_open(self.settings.connect_port):
            raise StackError(f"port {self.settings.connect_port} is taken by another process")
        worker, log4j = self._configure()
        self.process.start(
            [
                java_bin(),
                "-Xms256m",
                "-Xmx1g",
                "-XX:+UseG1GC",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={log4j}",
                "-cp",
                jars.classpath("connect"),
                "org.apache.kafka.connect.cli.ConnectDistributed",
                str(worker),
            ]
        )

        def ready() -> bool:
            if self.process.pid() is None:
                raise StackError(f"Kafka Connect exited:\n{self.process.log_tail()}")
            return self.healthy()

        try:
            wait_until(ready, timeout_s=timeout_s, what="Kafka Connect REST ready", interval_s=0.5)
        except WaitTimeout as exc:
            raise StackError(f"{exc}; see {self.process.log_file}") from None

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/connectors", timeout=3).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> bool:
        return self.process.stop()

    def version(self) -> str:
        try:
            return str(requests.get(self.url, timeout=3).json().get("version", "?"))
        except (requests.RequestException, ValueError):
            return jars.version_of("connect", "connect-runtime")
