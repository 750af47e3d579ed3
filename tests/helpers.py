"""Test helpers: read the store and wait for exact rows (never a fixed sleep)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from catalog_view.catalog.writes import insert_rows
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


def create_catalog_basics(admin: psycopg.Connection, base: int) -> None:
    """Root > Apparel > Shirts, a product type, attribute color with two values."""
    with admin.transaction():
        insert_rows(
            admin,
            "category",
            ("id", "parent_id", "name", "slug"),
            [
                (base, None, "Root", f"root-{base}"),
                (base + 1, base, "Apparel", f"apparel-{base}"),
                (base + 2, base + 1, "Shirts", f"shirts-{base}"),
            ],
        )
        insert_rows(admin, "product_type", ("id", "name", "slug"), [(base, "T-shirt", "t-shirt")])
        insert_rows(admin, "attribute", ("id", "name", "slug"), [(base, "Color", "color")])
        insert_rows(
            admin,
            "attribute_value",
            ("id", "attribute_id", "name", "slug"),
            [(base, base, "Navy", "navy"), (base + 1, base, "Sand", "sand")],
        )
        insert_rows(
            admin,
            "channel",
            ("id", "name", "slug", "currency_code"),
            [(base, "US", f"us-{base}", "USD")],
        )


def write_snapshot(directory: Path, written_at: float) -> Path:
    """A completed checkpoint or savepoint: the directory with its _metadata
    written at a time."""
    directory.mkdir(parents=True)
    metadata = directory / "_metadata"
    metadata.write_bytes(b"m")
    os.utime(metadata, (written_at, written_at))
    return directory


def write_checkpoint(root: Path, job: str, number: int, written_at: float) -> Path:
    """A completed checkpoint directory (job/chk-N)."""
    return write_snapshot(root / job / f"chk-{number}", written_at)
