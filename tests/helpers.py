"""Test helpers: read the store and wait for exact rows (never a fixed sleep)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from catalog_view.waiting import wait_until

TIMEOUT_S = 120.0


def store_row(store: psycopg.Connection, table: str, **key: Any) -> dict[str, Any] | None:
    where = " AND ".join(f"{k} = %({k})s" for k in key)
    with store.cursor(row_factory=dict_row) as cur:
        cur.execute(f"SELECT * FROM catalog_view.{table} WHERE {where}", key)
        return cur.fetchone()


def wait_for_row(
    store: psycopg.Connection, table: str, expected: dict[str, Any] | None, **key: Any
) -> dict[str, Any] | None:
    """Wait until the store row with `key` equals `expected` (None: absent)."""
    wait_until(
        lambda: store_row(store, table, **key) == expected,
        timeout_s=TIMEOUT_S,
        what=f"{table} {key} == expected",
        describe_last=lambda _: repr(store_row(store, table, **key)),
    )
    return expected


def watermark_txid(store: psycopg.Connection) -> int | None:
    row = store.execute("SELECT source_txid FROM catalog_view.watermark").fetchone()
    return None if row is None else int(row[0])


def create_catalog_basics(admin: psycopg.Connection, base: int) -> None:
    """Root > Apparel > Shirts, a product type, attribute color with two values."""
    with admin.transaction():
        admin.execute(
            "INSERT INTO category (id, parent_id, name, slug) VALUES "
            "(%(b)s, NULL, 'Root', %(root)s), (%(b)s + 1, %(b)s, 'Apparel', %(apparel)s), "
            "(%(b)s + 2, %(b)s + 1, 'Shirts', %(shirts)s)",
            {"b": base, **{n: f"{n}-{base}" for n in ("root", "apparel", "shirts")}},
        )
        admin.execute(
            "INSERT INTO product_type (id, name, slug) VALUES (%s, 'T-shirt', 't-shirt')", (base,)
        )
        admin.execute(
            "INSERT INTO attribute (id, name, slug) VALUES (%s, 'Color', 'color')", (base,)
        )
        admin.execute(
            "INSERT INTO attribute_value (id, attribute_id, name, slug) VALUES "
            "(%(b)s, %(b)s, 'Navy', 'navy'), (%(b)s + 1, %(b)s, 'Sand', 'sand')",
            {"b": base},
        )
        admin.execute(
            "INSERT INTO channel (id, name, slug, currency_code) VALUES (%s, 'US', %s, 'USD')",
            (base, f"us-{base}"),
        )
