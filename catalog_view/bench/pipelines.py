"""The pipelines a run measures: the product and the baselines, and a fresh
start of one on a freshly seeded catalog.

A pipeline is a name, how to start it fresh, whether its watermark says what
the store shows, and whether it restores from a checkpoint. A baseline is one
entry of BASELINES (the key is what `--baselines` takes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from catalog_view.bench.kafka import KafkaView
from catalog_view.bench.milestones import (
    JOB_RUNNING,
    SNAPSHOT_IN_KAFKA,
    Milestones,
    catalog_rows,
    job_running,
    snapshot_in_kafka,
)
from catalog_view.bench.progress import Progress
from catalog_view.bench.sampling import Poller
from catalog_view.bench_report.figures import PRODUCT, SQL_JDBC_BASELINE, num
from catalog_view.catalog.seeded import seed_catalog
from catalog_view.errors import CatalogViewError
from catalog_view.reference import VIEW_KEYS, diff, reference_rows, store_rows
from catalog_view.settings import Settings
from catalog_view.source import connect_source
from catalog_view.stack.capture import resnapshot, stop_connector
from catalog_view.stack.job import FlinkJob
from catalog_view.store import connect_store
from catalog_view.waiting import wait_until

# Above this many products, "the store equals the reference" is judged by
# counts and id ranges only: holding and comparing every row would cost more
# than the wait it times (the seed's descriptions are kilobytes each).
FULL_COMPARE_PRODUCTS = 20_000


class BenchError(CatalogViewError):
    pass


@dataclass(frozen=True)
class Pipeline:
    name: str  # as the report names it
    start: Callable[[FlinkJob, int], object]  # start it fresh at a parallelism
    # The watermark names the last source transaction whose rows the store
    # shows whole. Without it, visibility is judged from the rows themselves.
    has_watermark: bool
    restores: bool  # restarts from its checkpoint (else only fresh)


PRODUCT_PIPELINE = Pipeline(
    PRODUCT, lambda job, p: job.start(parallelism=p, fresh=True), has_watermark=True, restores=True
)
# A baseline is one entry; its name is what the report shows (the targets
# compare the product against bench_report.SQL_JDBC_BASELINE, "sql-jdbc").
BASELINES: dict[str, Pipeline] = {
    # Plain Flink SQL: debezium-json sources, the same views, Flink's JDBC
    # upsert sink (flink_jobs --baseline sql). It writes no watermark.
    "sql": Pipeline(
        SQL_JDBC_BASELINE,
        lambda job, p: job.start(parallelism=p, baseline="sql", fresh=True),
        has_watermark=False,
        restores=False,
    ),
    # The plain changelog join, rows applied one by one (flink_jobs --baseline
    # python). Its watermark row follows the transaction topic, not the rows.
    "python": Pipeline(
        "python-rowwise",
        lambda job, p: job.start(parallelism=p, baseline="python", fresh=True),
        has_watermark=False,
        restores=False,
    ),
}


def wait_seen(
    seen: Callable[[], float | None], *, timeout_s: float, what: str, interval_s: float
) -> float:
    """wait_until for a predicate that returns when (monotonic) it first held."""
    at = wait_until(seen, timeout_s=timeout_s, what=what, interval_s=interval_s)
    assert at is not None
    return at


def check_running(job: FlinkJob) -> None:
    """Ends a wait at once when the job has exited."""
    if job.process.pid() is None:
        raise BenchError(f"the job is not running: see {job.process.log_file}")


StoreShape = tuple[int, int | None, int | None, int]


def _shape(conn: psycopg.Connection, products: str, listings: str, key: str) -> StoreShape:
    """Products (count, min id, max id) and channel listings, in one statement."""
    row = conn.execute(
        f"SELECT (SELECT count(*) FROM {products}), (SELECT min({key}) FROM {products}), "
        f"(SELECT max({key}) FROM {products}), (SELECT count(*) FROM {listings})".encode()
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


class Reference:
    """What the store must show for the catalog as it is now, computed once:
    the bench waits on a catalog nobody changes meanwhile.

    The shape (product count and id range, channel listings) always; every
    row of the reference views when the catalog is small enough
    (FULL_COMPARE_PRODUCTS). New ids make an old store's shape differ."""

    def __init__(self, settings: Settings) -> None:
        a = settings.admin_schema
        with connect_source(settings) as conn:
            listed = (
                f"{a}.product_channel_listing AS l JOIN {a}.product AS p ON p.id = l.product_id"
            )
            self.shape = _shape(conn, f"{a}.product", listed, "id")
            self.rows = (
                {view: reference_rows(conn, settings, view) for view in VIEW_KEYS}
                if self.shape[0] <= FULL_COMPARE_PRODUCTS
                else None
            )

    def shown_at(self, settings: Settings) -> float | None:
        """When the store was read equal to it (monotonic, taken just before
        the read's snapshot: one REPEATABLE READ transaction), or None."""
        s = settings.store_schema
        with connect_store(settings) as store:
            store.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            at = time.monotonic()
            if _shape(store, f"{s}.product", f"{s}.product_channel", "product_id") != self.shape:
                return None
            if self.rows is not None:
                for view, expected in self.rows.items():
                    if not diff(view, expected, store_rows(store, settings, view)).empty:
                        return None
        return at


def wait_reference(
    settings: Settings,
    job: FlinkJob,
    what: str,
    timeout_s: float,
    ready: Callable[[], bool] = lambda: True,
) -> float:
    """Wait until the store equals the reference queries; returns when it was
    first read so (monotonic). `ready`: a cheap check first (e.g. the last row
    written shows)."""
    reference = Reference(settings)

    def equal() -> float | None:
        check_running(job)
        return reference.shown_at(settings) if ready() else None

    return wait_seen(equal, timeout_s=timeout_s, what=what, interval_s=0.1)


@dataclass(frozen=True)
class FreshStart:
    """Seconds from the re-snapshot's start: until the store equalled the
    reference, and on the way until every task of the job ran and until the
    whole snapshot was in Kafka (None if not seen before the store was)."""

    store_s: float
    running_s: float | None
    captured_s: float | None


def fresh_start(
    settings: Settings,
    job: FlinkJob,
    pipeline: Pipeline,
    *,
    products: int,
    seed: int,
    parallelism: int,
    progress: Progress,
) -> FreshStart:
    """A freshly seeded catalog of `products` products, captured by a new
    initial snapshot, applied by `pipeline` started fresh.

    The connector is stopped while the catalog is re-seeded, so the new
    snapshot is all the capture holds. New rows take new ids, so an old store
    (the previous pipeline's) can never pass for the new one."""
    job.stop()
    with progress.step(f"seed {products:,} products (connector stopped)"):
        stop_connector(settings)
        seed_catalog(settings, products, seed=seed, reset=True, progress=False)
        rows = catalog_rows(settings)
    started = time.monotonic()
    with progress.step(f"re-snapshot into {pipeline.name}"):
        resnapshot(settings, parallelism=parallelism, start_job=False)
    with KafkaView(settings) as kafka:
        milestones = Milestones(
            {JOB_RUNNING: job_running(job), SNAPSHOT_IN_KAFKA: snapshot_in_kafka(kafka, rows)}
        )
        step = f"{pipeline.name} starts and applies the snapshot of {rows:,} rows"
        with progress.step(step), Poller(milestones.poll, interval_s=0.25):
            pipeline.start(job, parallelism)
            seen = wait_reference(
                settings,
                job,
                f"{pipeline.name}: the store equals the reference after the snapshot",
                timeout_s=600 + products / 20,
            )
    times = FreshStart(
        seen - started,
        milestones.seconds_since(started, JOB_RUNNING),
        milestones.seconds_since(started, SNAPSHOT_IN_KAFKA),
    )
    progress.log(
        f"{pipeline.name}: every task running after {num(times.running_s, 1, 's')}, the "
        f"snapshot in Kafka after {num(times.captured_s, 1, 's')}, the store complete after "
        f"{times.store_s:.1f}s"
    )
    return times
