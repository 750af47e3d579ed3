"""Where a fresh start's time goes (B3): when every task of the job ran, and
when Debezium had put the whole initial snapshot into Kafka, sampled on a
thread while the bench waits for the store to equal the reference.

The snapshot is in Kafka once the catalog table topics (re-created empty by
`resnapshot`) hold at least as many events as the catalog tables have rows:
a snapshot emits one read event per row and nothing else, and nobody writes
the catalog meanwhile."""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import KafkaException
from psycopg import sql

from catalog_view.bench.kafka import KafkaView
from catalog_view.settings import CATALOG_TABLES, Settings
from catalog_view.source import connect_source
from catalog_view.stack.flink_rest import FlinkRest, FlinkRestError
from catalog_view.stack.job import FlinkJob

JOB_RUNNING = "running_s"
SNAPSHOT_IN_KAFKA = "captured_s"


class Milestones:
    """The first time (monotonic) each named check held; a check that held is
    not asked again. `poll` runs on the sampling thread; read `reached` once
    the poller has stopped."""

    def __init__(
        self, checks: dict[str, Callable[[], bool]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._checks = checks
        self._clock = clock
        self.reached: dict[str, float] = {}

    def poll(self) -> None:
        for name, check in self._checks.items():
            if name not in self.reached and check():
                self.reached[name] = self._clock()

    def seconds_since(self, started: float, name: str) -> float | None:
        at = self.reached.get(name)
        return None if at is None else at - started


def catalog_rows(settings: Settings) -> int:
    """Rows in the captured catalog tables: the events their initial snapshot holds."""
    schema = sql.Identifier(settings.admin_schema)
    counts = sql.SQL(" + ").join(
        sql.SQL("(SELECT count(*) FROM {}.{})").format(schema, sql.Identifier(table))
        for table in CATALOG_TABLES
    )
    with connect_source(settings) as conn:
        row = conn.execute(sql.SQL("SELECT {}").format(counts)).fetchone()
    assert row is not None
    return int(row[0])


def job_running(job: FlinkJob) -> Callable[[], bool]:
    """Every task of the job on the local mini-cluster runs (its REST answers)."""
    rest = FlinkRest(job.rest_url, timeout_s=2.0)

    def check() -> bool:
        try:
            live = [j for j in rest.jobs() if j.state == "RUNNING"]
            return bool(live) and rest.job(live[0].job_id).all_running
        except FlinkRestError:
            return False  # not serving yet

    return check


def snapshot_in_kafka(kafka: KafkaView, rows: int) -> Callable[[], bool]:
    """The catalog table topics hold `rows` events (or more)."""

    def check() -> bool:
        try:
            return sum(kafka.position().table_offsets.values()) >= rows
        except KafkaException:
            return False  # topics being created

    return check
