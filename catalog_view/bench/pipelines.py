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

from catalog_view.bench.progress import Progress
from catalog_view.bench_report import PRODUCT
from catalog_view.demo import converged
from catalog_view.errors import CatalogViewError
from catalog_view.seed import seed_catalog
from catalog_view.settings import Settings
from catalog_view.stack.capture import resnapshot, stop_connector
from catalog_view.stack.job import FlinkJob
from catalog_view.waiting import wait_until

# Above this many products, "the store equals the reference" is judged by
# counts and id ranges only: comparing every row would take longer than the
# wait it times (the seed's descriptions are kilobytes each).
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
BASELINES: dict[str, Pipeline] = {
    # The plain changelog join, rows applied one by one (flink_jobs --baseline).
    # Its watermark row follows the transaction topic, not the rows: unusable.
    "python": Pipeline(
        "python-rowwise",
        lambda job, p: job.start(parallelism=p, baseline=True, fresh=True),
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


def reference_shape(settings: Settings) -> StoreShape:
    """Products (count, min id, max id) and channel listings of the reference
    views, i.e. what the store must hold."""
    a = settings.admin_schema
    with psycopg.connect(settings.admin_conninfo()) as conn:
        row = conn.execute(
            f"SELECT (SELECT count(*) FROM {a}.product), (SELECT min(id) FROM {a}.product), "
            f"(SELECT max(id) FROM {a}.product), (SELECT count(*) FROM {a}.product_channel_listing "
            f"AS l JOIN {a}.product AS p ON p.id = l.product_id)".encode()
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


def store_shape(settings: Settings) -> StoreShape:
    s = settings.store_schema
    with psycopg.connect(settings.store_reader_conninfo()) as conn:
        row = conn.execute(
            f"SELECT (SELECT count(*) FROM {s}.product), (SELECT min(product_id) FROM "
            f"{s}.product), (SELECT max(product_id) FROM {s}.product), "
            f"(SELECT count(*) FROM {s}.product_channel)".encode()
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2], row[3]


def shows_reference(settings: Settings, expected: StoreShape) -> bool:
    """Whether the store equals the reference queries: the shape first, then
    every row when the catalog is small enough (FULL_COMPARE_PRODUCTS)."""
    if store_shape(settings) != expected:
        return False
    return expected[0] > FULL_COMPARE_PRODUCTS or converged(settings)


def wait_reference(
    settings: Settings,
    job: FlinkJob,
    expected: StoreShape,
    what: str,
    timeout_s: float,
    ready: Callable[[], bool] = lambda: True,
) -> float:
    """Wait until the store equals the reference queries; returns the time
    (monotonic) it was first seen so. Cheap checks come first (the shape, and
    `ready`, e.g. the last row written shows); every row is compared only when
    the catalog is small enough (FULL_COMPARE_PRODUCTS)."""

    def equal() -> float | None:
        check_running(job)
        return time.monotonic() if ready() and shows_reference(settings, expected) else None

    return wait_seen(equal, timeout_s=timeout_s, what=what, interval_s=0.1)


def fresh_start(
    settings: Settings,
    job: FlinkJob,
    pipeline: Pipeline,
    *,
    products: int,
    seed: int,
    parallelism: int,
    progress: Progress,
) -> float:
    """A freshly seeded catalog of `products` products, captured by a new
    initial snapshot, applied by `pipeline` started fresh. Returns the seconds
    from the re-snapshot's start until the store equals the reference.

    The connector is stopped while the catalog is re-seeded, so the new
    snapshot is all the capture holds. New rows take new ids, so an old store
    (the previous pipeline's) can never pass for the new one."""
    job.stop()
    with progress.step(f"seed {products:,} products (connector stopped)"):
        stop_connector(settings)
        seed_catalog(settings, products, seed=seed, reset=True, progress=False)
        expected = reference_shape(settings)
    started = time.monotonic()
    with progress.step(f"re-snapshot into {pipeline.name}"):
        resnapshot(settings, parallelism=parallelism, start_job=False)
        pipeline.start(job, parallelism)
    with progress.step(f"{pipeline.name} applies the snapshot"):
        seen = wait_reference(
            settings,
            job,
            expected,
            f"{pipeline.name}: the store equals the reference after the snapshot",
            timeout_s=600 + products / 20,
        )
    return seen - started
