"""B4 fan-out: rename a root category above N products.

Setup (one transaction, not timed): a new root > mid > leaf chain with N new
products in the leaf, so that the root sits above exactly N products. Then
one transaction renames the root; visible_s runs from its COMMIT returning
until one read of the store (a single statement: one snapshot) shows the
watermark naming it AND the breadcrumb of all N products starting with the
new name. Polled every 25 ms.
"""

from __future__ import annotations

import secrets
import time

import psycopg
from psycopg import sql

from catalog_view.bench.pipelines import Pipeline, check_running, wait_seen
from catalog_view.bench.progress import Progress
from catalog_view.bench_report.results import FanOutResult
from catalog_view.catalog.writes import insert_fan_out_tree
from catalog_view.settings import Settings
from catalog_view.source import Body, commit_once
from catalog_view.stack.job import FlinkJob
from catalog_view.store import connect_store, watermark_txid_query
from catalog_view.waiting import wait_until


def timeout_for(products: int) -> float:
    return 300 + products / 100


def create_tree(tag: str, products: int) -> Body:
    def body(conn: psycopg.Connection) -> None:
        insert_fan_out_tree(conn, products, tag)

    return body


def rename_root(tag: str, new_name: str) -> Body:
    def body(conn: psycopg.Connection) -> None:
        conn.execute(
            "UPDATE category SET name = %s WHERE slug = %s",
            (new_name, "-".join(f"Fan Out Root {tag}".lower().split())),
        )

    return body


def run_b4(
    settings: Settings, job: FlinkJob, pipeline: Pipeline, products: int, progress: Progress
) -> FanOutResult:
    tag = secrets.token_hex(3)
    schema = settings.store_schema
    query = sql.SQL(
        "SELECT ({}), (SELECT count(*) FROM {} WHERE category_path->0->>'name' = %s)"
    ).format(watermark_txid_query(settings), sql.Identifier(schema, "product"))
    with connect_store(settings, autocommit=True) as store:

        def shows(txid: int, name: str) -> float | None:
            check_running(job)
            row = store.execute(query, (name,)).fetchone()
            if row is not None and row[0] == txid and row[1] == products:
                return time.monotonic()
            return None

        root = f"Fan Out Root {tag}"
        with progress.step(f"a root category above {products:,} new products"):
            setup = commit_once(settings, create_tree(tag, products))
            wait_until(
                lambda: shows(setup.txid, root),
                timeout_s=timeout_for(products),
                what=f"{pipeline.name}: the fan-out tree in the store",
                interval_s=0.1,
            )
        renamed = f"Fan Out Renamed {tag}"
        with progress.step(f"rename the root above {products:,} products"):
            done = commit_once(settings, rename_root(tag, renamed))
            seen = wait_seen(
                lambda: shows(done.txid, renamed),
                timeout_s=timeout_for(products),
                what=f"{pipeline.name}: every product beneath shows the renamed root",
                interval_s=0.025,
            )
    return FanOutResult(products, seen - done.at)
