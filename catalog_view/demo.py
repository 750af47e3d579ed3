"""`catalog-view demo`: the main job end to end on the embedded stack.

Starts the stack, seeds a catalog, applies a stream of admin edits (each one a
source transaction), waits after each until the store equals the reference
query again, and prints denormalized rows and the watermark.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from catalog_view.catalog.seeded import seed_catalog
from catalog_view.catalog.writes import NewProduct, delete_product, insert_category, insert_product
from catalog_view.reference import converged
from catalog_view.settings import Settings
from catalog_view.source import connect_source
from catalog_view.stack.local import LocalStack
from catalog_view.store import connect_store, read_watermark
from catalog_view.waiting import wait_until

log = logging.getLogger(__name__)

Edit = Callable[[psycopg.Connection], str]


def _rename_root_category(conn: psycopg.Connection) -> str:
    row = conn.execute(
        "UPDATE category SET name = name || ' (renamed)' "
        "WHERE id = (SELECT min(id) FROM category WHERE parent_id IS NULL) RETURNING name"
    ).fetchone()
    return f"renamed a root category to {row[0] if row else '?'!r}: every product beneath moves"


def _category_then_product(conn: psycopg.Connection) -> str:
    with conn.transaction():
        parent = conn.execute("SELECT min(id) FROM category").fetchone()
        category = insert_category(conn, None, parent[0] if parent else None, "Demo new")
    with conn.transaction():
        product = NewProduct("Demo product", description="Made in the demo")
        insert_product(conn, product, None, category)
    return "created a category, then a product in it (two transactions)"


def _reprice(conn: psycopg.Connection) -> str:
    conn.execute(
        "UPDATE product_variant_channel_listing SET price_amount = price_amount * %s "
        "WHERE id IN (SELECT id FROM product_variant_channel_listing ORDER BY id LIMIT 5)",
        (Decimal("0.9"),),
    )
    return "10% off five variant prices: min/max price per listing follow"


def _delete_product(conn: psycopg.Connection) -> str:
    with conn.transaction():
        row = conn.execute("SELECT max(id) FROM product").fetchone()
        product = row[0] if row else None
        if product is not None:
            delete_product(conn, product)
    return f"deleted product {product} with its variants and listings in one transaction"


EDITS: tuple[Edit, ...] = (_rename_root_category, _category_then_product, _reprice, _delete_product)


def _wait_converged(settings: Settings, what: str) -> float:
    started = time.monotonic()
    wait_until(lambda: converged(settings), timeout_s=180, what=what, interval_s=0.5)
    return time.monotonic() - started


def _show(settings: Settings) -> None:
    with connect_store(settings) as store, store.cursor(row_factory=dict_row) as cur:
        products = cur.execute(
            "SELECT * FROM catalog_view.product ORDER BY jsonb_array_length(category_path) DESC, "
            "product_id LIMIT 2"
        ).fetchall()
        listings = cur.execute(
            "SELECT * FROM catalog_view.product_channel ORDER BY product_id, channel_id LIMIT 2"
        ).fetchall()
        counts: dict[str, int] | None = cur.execute(
            "SELECT (SELECT count(*) FROM catalog_view.product) AS products, "
            "(SELECT count(*) FROM catalog_view.product_channel) AS listings"
        ).fetchone()
    assert counts is not None
    for row in products:
        row["description"] = f"{row['description'][:60]}... ({len(row['description'])} chars)"
        print("catalog_view.product", json.dumps(row, indent=2, default=_json_default))
    for row in listings:
        print("catalog_view.product_channel", json.dumps(row, indent=2, default=_json_default))
    print(f"store: {counts['products']} products, {counts['listings']} channel listings")
    mark = read_watermark(settings)
    if mark is not None:
        print(
            f"watermark: commit_lsn={mark.commit_lsn} source_txid={mark.source_txid} "
            f"source_commit={mark.source_commit} applied_at={mark.applied_at}"
        )


def _json_default(value: Any) -> str:
    return str(value)


def run_demo(settings: Settings, *, products: int, seed: int, keep: bool) -> int:
    stack = LocalStack(settings)
    started = time.monotonic()
    try:
        stack.up(with_job=True)
        settings = stack.settings
        log.info("stack up in %.1fs", time.monotonic() - started)
        report = seed_catalog(settings, products, seed, reset=True)
        print(f"demo: seeded {report.total} rows in one transaction (seed {seed})")
        took = _wait_converged(settings, "store equal to the reference after the seed")
        print(f"demo: store equals the reference after the seed ({took:.1f}s)")
        with connect_source(settings, autocommit=True) as admin:
            for edit in EDITS:
                what = edit(admin)
                took = _wait_converged(settings, what)
                print(f"demo: {what} -> visible and consistent after {took:.1f}s")
        _show(settings)
    finally:
        if not keep:
            stopped = stack.down()
            log.info("stopped %s", ", ".join(stopped))
    log.info("done in %.1fs", time.monotonic() - started)
    return 0
