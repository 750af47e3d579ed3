"""B2 capture ceiling: one source transaction of N rows, and a burst of K
single-row transactions.

kafka_s: from COMMIT returning (the burst: its first) until Debezium has put
all of it into Kafka (catalog_view.bench.kafka: the END of each transaction
on the transaction topic, and the table topics grown by the events the ENDs
count). store_s: until the store shows it: the watermark names the (last)
transaction, or, for a pipeline without a watermark, until the store equals
the reference queries. The job's peak resident memory (its process group:
JVM and Python workers) is sampled every 50 ms meanwhile.

Before each single transaction but the first, a pipeline that restores is
restarted from its checkpoint, so that a size is not measured on the heap the
previous one grew (a JVM keeps it); the first runs on the job as B1 left it,
as a baseline's do (a baseline cannot restore and runs on).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

import psycopg

from catalog_view.bench.kafka import Captured, CapturePosition, KafkaView
from catalog_view.bench.pipelines import (
    Pipeline,
    Reference,
    check_running,
    wait_reference,
    wait_seen,
)
from catalog_view.bench.progress import Progress
from catalog_view.bench.sampling import Peaks
from catalog_view.bench_report.results import CaptureResult
from catalog_view.catalog.writes import BULK_ROWS_PER_PRODUCT, bulk_import, insert_products
from catalog_view.settings import Settings
from catalog_view.source import Body, Committed, commit, commit_once, connect_source
from catalog_view.stack.job import FlinkJob, wrote_since
from catalog_view.stack.process import group_rss_bytes
from catalog_view.store import connect_store, watermark_txid
from catalog_view.waiting import wait_until


def timeout_for(rows: int) -> float:
    return 300 + rows / 200


def import_rows(tag: str, rows: int) -> Body:
    """Exactly `rows` source rows: products with their dependents
    (catalog.writes.bulk_import, BULK_ROWS_PER_PRODUCT rows each), the remainder
    as bare products."""
    products, rest = divmod(rows, BULK_ROWS_PER_PRODUCT)

    def body(conn: psycopg.Connection) -> None:
        if products:
            bulk_import(conn, tag, products)
        if rest:
            insert_products(
                conn,
                None,
                rest,
                name="Bulk extra ",
                slug=f"bulk-{tag}-extra-",
                description="imported in bulk",
            )

    return body


def rename(product_id: int, name: str) -> Body:
    def body(conn: psycopg.Connection) -> None:
        conn.execute("UPDATE product SET name = %s WHERE id = %s", (name, product_id))

    return body


class _Store:
    """Polls the store for the end of a B2 measurement."""

    def __init__(self, settings: Settings, job: FlinkJob) -> None:
        self.settings, self.job = settings, job
        self.conn = connect_store(settings, autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def names(self, txid: int) -> float | None:
        check_running(self.job)
        named = watermark_txid(self.conn, self.settings)
        return time.monotonic() if named == txid else None

    def shows_name(self, product_id: int, name: str) -> bool:
        row = self.conn.execute(
            f"SELECT name FROM {self.settings.store_schema}.product WHERE product_id = %s".encode(),
            (product_id,),
        ).fetchone()
        return row is not None and row[0] == name


def _measure(
    settings: Settings,
    job: FlinkJob,
    pipeline: Pipeline,
    kafka: KafkaView,
    position: CapturePosition,
    done: Sequence[Committed],
    what: str,
    ready_marker: tuple[int, str] | None,
    timeout_s: float,
) -> tuple[float, float, int]:
    """(kafka_s, store_s, events counted by the ENDs) from the first commit."""
    first = done[0].at
    captured = Captured(kafka, position, {d.txid for d in done})
    kafka_at = wait_seen(
        lambda: time.monotonic() if captured() else None,
        timeout_s=timeout_s,
        what=f"{what} whole in Kafka",
        interval_s=0.02,
    )
    store = _Store(settings, job)
    try:
        if pipeline.has_watermark:
            last = done[-1].txid
            store_at = wait_seen(
                lambda: store.names(last),
                timeout_s=timeout_s,
                what=f"{pipeline.name}: the watermark names {what} ({last})",
                interval_s=0.02,
            )
        else:
            marker = ready_marker
            store_at = wait_reference(
                settings,
                job,
                f"{pipeline.name}: the store equals the reference after {what}",
                timeout_s,
                ready=(lambda: store.shows_name(*marker)) if marker else (lambda: True),
            )
    finally:
        store.close()
    return kafka_at - first, store_at - first, captured.events


def _restart(settings: Settings, job: FlinkJob, parallelism: int, progress: Progress) -> None:
    with progress.step("restart the job from its checkpoint"):
        since = job.restart(parallelism=parallelism, fresh=False)

        def took_over() -> bool:
            check_running(job)
            return wrote_since(settings, since)

        wait_until(took_over, timeout_s=600, what="restored job commits", interval_s=0.2)


def _job_memory(job: FlinkJob) -> Peaks:
    pgid = job.process.pid()
    check_running(job)
    assert pgid is not None
    return Peaks(lambda: {"job": group_rss_bytes(pgid)}, interval_s=0.05)


def run_single(
    settings: Settings,
    job: FlinkJob,
    pipeline: Pipeline,
    rows: int,
    parallelism: int,
    progress: Progress,
    *,
    restart: bool,
) -> tuple[CaptureResult, list[str]]:
    if restart and pipeline.restores:
        _restart(settings, job, parallelism, progress)
    tag = f"b2-{rows}-{secrets.token_hex(3)}"
    what = f"the {rows:,}-row transaction"
    with KafkaView(settings) as kafka, _job_memory(job) as memory:
        position = kafka.position()
        with progress.step(f"{pipeline.name}: commit one transaction of {rows:,} rows"):
            done = commit_once(settings, import_rows(tag, rows))
        with progress.step(f"{pipeline.name}: until Kafka and the store hold {what}"):
            kafka_s, store_s, events = _measure(
                settings, job, pipeline, kafka, position, [done], what, None, timeout_for(rows)
            )
    notes = []
    if events != rows:
        notes.append(f"B2 {rows:,} rows: Debezium counted {events:,} events (expected {rows:,})")
    if pipeline.has_watermark:
        notes += _confirm(settings, what)
    return CaptureResult(rows, 1, kafka_s, store_s, memory.mib("job")), notes


def run_burst(
    settings: Settings,
    job: FlinkJob,
    pipeline: Pipeline,
    transactions: int,
    pool: Sequence[int],
    progress: Progress,
) -> tuple[CaptureResult, list[str]]:
    tag = secrets.token_hex(3)
    what = f"a burst of {transactions:,} transactions"
    done: list[Committed] = []
    with KafkaView(settings) as kafka, _job_memory(job) as memory:
        position = kafka.position()
        with (
            progress.step(f"{pipeline.name}: commit {what}"),
            connect_source(settings) as conn,
        ):
            for i in range(transactions):
                done.append(commit(conn, rename(pool[i % len(pool)], f"B2 {tag} {i}")))
        last = (pool[(transactions - 1) % len(pool)], f"B2 {tag} {transactions - 1}")
        with progress.step(f"{pipeline.name}: until Kafka and the store hold {what}"):
            kafka_s, store_s, events = _measure(
                settings,
                job,
                pipeline,
                kafka,
                position,
                done,
                what,
                last,
                timeout_for(transactions * 10),
            )
    notes = [
        f"B2 burst of {transactions:,}: timed from the first COMMIT; committing them took "
        f"{done[-1].at - done[0].at:.1f} s on one connection"
    ]
    if events != transactions:
        notes.append(f"B2 burst: Debezium counted {events:,} events (expected {transactions:,})")
    if pipeline.has_watermark:
        notes += _confirm(settings, what)
    return CaptureResult(transactions, transactions, kafka_s, store_s, memory.mib("job")), notes


def _confirm(settings: Settings, what: str) -> list[str]:
    """Not timed, once: the store the watermark vouches for equals the reference."""
    if Reference(settings).shown_at(settings) is not None:
        return []
    return [f"B2: the store differed from the reference when the watermark named {what}"]
