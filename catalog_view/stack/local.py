"""The embedded default stack: PostgreSQL, Kafka (KRaft), Kafka Connect with
Debezium, and the Flink job on a local mini-cluster, as local processes with
all state under one data directory.

`up` is re-runnable (it starts what is not running and re-applies idempotent
setup); `down` stops, by pid, exactly what `up` started.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timezone

from pydantic import SecretStr

from catalog_view.errors import CatalogViewError
from catalog_view.settings import Settings
from catalog_view.stack import jars
from catalog_view.stack.cluster import FlinkCluster
from catalog_view.stack.freshness import assess
from catalog_view.stack.java import ConnectWorker, KafkaBroker
from catalog_view.stack.job import FlinkJob
from catalog_view.stack.postgres import PostgresCluster
from catalog_view.stack.status import ComponentStatus
from connectors.register import ConnectClient, register, summarize_trace
from connectors.render import render_source_connector
from connectors.topics import ensure_topics

log = logging.getLogger(__name__)

PASSWORD_FIELDS = (
    "pg_superuser_password",
    "admin_password",
    "cdc_password",
    "writer_password",
    "reader_password",
)


def ensure_secrets(settings: Settings) -> Settings:
    """Generate missing passwords once into <data_dir>/secrets.env (mode 600)."""
    missing = [f for f in PASSWORD_FIELDS if getattr(settings, f) is None]
    if not missing:
        return settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    generated = {field: secrets.token_urlsafe(18) for field in missing}
    with settings.secrets_file.open("a") as out:
        for field, value in generated.items():
            out.write(f"CATALOG_VIEW_{field.upper()}={value}\n")
    settings.secrets_file.chmod(0o600)
    return settings.model_copy(update={f: SecretStr(v) for f, v in generated.items()})


def _step(name: str, action: Callable[[], object]) -> None:
    started = time.monotonic()
    log.info("%s ...", name)
    action()
    log.info("%s done in %.1fs", name, time.monotonic() - started)


class LocalStack:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def postgres(self) -> PostgresCluster:
        return PostgresCluster(self.settings)

    @property
    def kafka(self) -> KafkaBroker:
        return KafkaBroker(self.settings)

    @property
    def connect(self) -> ConnectWorker:
        return ConnectWorker(self.settings)

    @property
    def job(self) -> FlinkJob:
        return FlinkJob(self.settings)

    @property
    def cluster(self) -> FlinkCluster:
        return FlinkCluster(self.settings)

    def up(self, *, with_job: bool = True, flink: str | None = None) -> None:
        """`flink`: "mini" (the default) runs the job as one local mini-cluster
        process, "cluster" on the standalone session cluster; None keeps the
        local cluster when it already runs."""
        if flink not in (None, "mini", "cluster"):
            raise CatalogViewError(f"flink must be 'mini' or 'cluster', got {flink!r}")
        self.settings = ensure_secrets(self.settings)
        _step("resolve jars", jars.resolve_all)
        _step("postgres", self._postgres_up)
        _step("kafka", self.kafka.start)
        _step("topics", lambda: ensure_topics(self.settings))
        _step("connect", self.connect.start)
        _step("connector", self.register_connector)
        on_cluster = flink == "cluster" or (flink is None and self.cluster.running())
        if on_cluster:
            _step("flink cluster", self.cluster.start)
        if with_job and on_cluster:
            _step("flink job (cluster)", self._submit_to_cluster)
        elif with_job:
            _step("flink job", self.job.start)

    def _submit_to_cluster(self) -> None:
        from catalog_view.stack import lifecycle

        target = lifecycle.resolve_target(self.settings, flink="cluster")
        running = target.rest.running_job()
        if running is not None:
            log.info("job %s already runs", running.job_id)
            return
        lifecycle.submit(target)

    def _postgres_up(self) -> None:
        self.postgres.init()
        self.postgres.start()
        self.postgres.wait_ready()
        for finding in self.postgres.bootstrap():
            log.warning(
                "source check: %s; `catalog-view source prepare` fixes what it can", finding
            )

    def register_connector(self) -> None:
        register(self.settings, render_source_connector(self.settings))

    def down(self) -> list[str]:
        """Stop in reverse order; returns the names of what was running."""
        stopped = []
        for name, stop in (
            ("flink job", self.job.stop),
            ("flink cluster", self.cluster.stop),
            ("connect", self.connect.stop),
            ("kafka", self.kafka.stop),
            ("postgres", self.postgres.stop),
        ):
            if stop():
                stopped.append(name)
        return stopped

    def status(self) -> list[ComponentStatus]:
        result = [self._postgres_status(), self._kafka_status(), self._connect_status()]
        result.append(self._connector_status())
        if self.cluster.running():
            result += self.cluster.status()
            result.append(self._cluster_job_status())
        else:
            result.append(self.job.status())
            if self.settings.metrics_port and self.job.process.pid() is not None:
                result.append(self._metrics_status())
        result.append(self._freshness_status())
        return result

    def _cluster_job_status(self) -> ComponentStatus:
        from catalog_view.stack.flink_rest import FlinkRestError

        rest = self.cluster.rest
        try:
            job = rest.running_job()
            detail = rest.job(job.job_id) if job is not None else None
        except FlinkRestError as exc:
            return ComponentStatus("flink-job", "unknown", "cluster", str(exc))
        if job is None or detail is None:
            return ComponentStatus("flink-job", "stopped", "cluster", "no job on the cluster")
        state = "running" if detail.all_running else detail.state.lower()
        return ComponentStatus(
            "flink-job",
            state,
            "cluster",
            f"id {job.job_id}, parallelism {detail.parallelism}; `catalog-view job status`",
        )

    def _metrics_status(self) -> ComponentStatus:
        from catalog_view.stack import metrics

        try:
            job_id = metrics.running_job_id(self.job.checkpoint_dir)
            found = metrics.scrape(self.settings.metrics_port, job_id)
        except Exception as exc:  # noqa: BLE001 - status must not crash
            return ComponentStatus("job-metrics", "unknown", "-", str(exc).splitlines()[0])
        started = self.job.started_at()
        young = started is not None and (datetime.now(timezone.utc) - started).total_seconds() < 60
        if found is None and young:
            return ComponentStatus(
                "job-metrics", "running", "prometheus", "job starting: no metrics reported yet"
            )
        if found is None:
            return ComponentStatus(
                "job-metrics",
                "unreachable",
                "prometheus",
                f"no reporter on ports {self.settings.metrics_port} reports the job's metrics "
                "(yet: the first checkpoint names the job)",
            )
        return ComponentStatus("job-metrics", "running", "prometheus", metrics.summary(found))

    def _freshness_status(self) -> ComponentStatus:
        try:
            verdict = assess(self.settings, self.job.started_at())
        except Exception as exc:  # noqa: BLE001 - status must not crash
            return ComponentStatus("freshness", "unknown", "-", str(exc).strip().splitlines()[0])
        return ComponentStatus("freshness", verdict.state, "-", verdict.detail)

    def _postgres_status(self) -> ComponentStatus:
        pid = self.postgres.pid()
        if pid is None:
            return ComponentStatus("postgres", "stopped", "-")
        healthy = self.postgres.healthy()
        version = self.postgres.version() if healthy else "?"
        return ComponentStatus(
            "postgres",
            "healthy" if healthy else "unhealthy",
            version,
            f"pid {pid}, port {self.settings.pg_port}, wal_level=logical",
        )

    def _kafka_status(self) -> ComponentStatus:
        pid = self.kafka.process.pid()
        if pid is None:
            return ComponentStatus("kafka", "stopped", self.kafka.version())
        state = "healthy" if self.kafka.healthy() else "unhealthy"
        return ComponentStatus(
            "kafka",
            state,
            self.kafka.version(),
            f"pid {pid}, {self.settings.bootstrap_servers}, KRaft",
        )

    def _connect_status(self) -> ComponentStatus:
        pid = self.connect.process.pid()
        if pid is None:
            return ComponentStatus("connect", "stopped", "-")
        state = "healthy" if self.connect.healthy() else "unhealthy"
        return ComponentStatus(
            "connect", state, self.connect.version(), f"pid {pid}, {self.connect.url}"
        )

    def _connector_status(self) -> ComponentStatus:
        name = self.settings.connector_name
        if not self.connect.healthy():
            return ComponentStatus(name, "unknown", "-", "Kafka Connect is not running")
        client = ConnectClient(self.connect.url)
        try:
            status = client.status(name)
        except CatalogViewError as exc:
            return ComponentStatus(name, "unknown", "-", str(exc))
        debezium = jars.version_of("debezium", "debezium-connector-postgres")
        if status is None:
            return ComponentStatus(name, "absent", debezium)
        detail = f"tasks {list(status.task_states)}"
        if status.trace:
            detail += f"; {summarize_trace(status.trace)}"
        return ComponentStatus(name, status.connector_state.lower(), debezium, detail)
