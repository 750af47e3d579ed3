"""B3 backfill: a freshly seeded catalog of N products, captured by a new
initial snapshot (`resnapshot`) and applied by the product started fresh;
snapshot_s runs from the re-snapshot's start (connector removed, slot
dropped, topics re-created, connector registered, job started) until the
store equals the reference queries. On the way: running_s, until every task
of the job ran (the job's start-up: PyFlink, its JVM, planning the SQL), and
captured_s, until Debezium had put the whole snapshot into Kafka.

in_db_s: the same rows computed inside PostgreSQL by the reference queries,
INSERT ... SELECT into scratch copies of the store tables (the store's own
DDL: same columns and keys) in the admin database; the transaction is rolled
back, so the scratch tables are never committed and the capture never sees
them.
"""

from __future__ import annotations

import time

from psycopg import sql

from catalog_view.bench.pipelines import PRODUCT_PIPELINE, fresh_start
from catalog_view.bench.progress import Progress
from catalog_view.bench_report.results import BackfillResult
from catalog_view.database import apply_sql_file
from catalog_view.reference import REFERENCE_DIR, VIEW_KEYS
from catalog_view.settings import Settings
from catalog_view.source import connect_source
from catalog_view.stack.job import FlinkJob
from catalog_view.stack.postgres import STORE_SCHEMA_DIR

SCRATCH_SCHEMA = "bench_scratch"


def reference_insert(view: str) -> bytes:
    query = (REFERENCE_DIR / f"{view}.sql").read_text().strip().rstrip(";")
    return f"INSERT INTO {SCRATCH_SCHEMA}.{view} SELECT * FROM (\n{query}\n) AS reference".encode()


def in_db_seconds(settings: Settings) -> float:
    with connect_source(settings) as conn:
        scratch = sql.Identifier(SCRATCH_SCHEMA)
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(scratch))
        conn.execute(sql.SQL("SET LOCAL search_path TO {}").format(scratch))
        for path in sorted(STORE_SCHEMA_DIR.glob("*.sql")):
            apply_sql_file(conn, path)
        conn.execute(
            sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(settings.admin_schema))
        )
        started = time.monotonic()
        for view in VIEW_KEYS:
            conn.execute(reference_insert(view))
        took = time.monotonic() - started
        conn.rollback()
    return took


def run_b3(
    settings: Settings,
    job: FlinkJob,
    products: int,
    seed: int,
    parallelism: int,
    progress: Progress,
) -> BackfillResult:
    times = fresh_start(
        settings,
        job,
        PRODUCT_PIPELINE,
        products=products,
        seed=seed,
        parallelism=parallelism,
        progress=progress,
    )
    with progress.step("the same rows by the reference queries in PostgreSQL"):
        in_db_s = in_db_seconds(settings)
    return BackfillResult(
        products, times.store_s, in_db_s, running_s=times.running_s, captured_s=times.captured_s
    )
