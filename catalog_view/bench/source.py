"""Source transactions of the bench: commit one, learn its txid and when
COMMIT returned (the client's monotonic clock)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from catalog_view.settings import Settings

XID_MODULUS = 2**32

Body = Callable[[psycopg.Connection], object]


def xid32(txid: int) -> int:
    """A source transaction as Debezium and the watermark name it (the epoch stripped)."""
    return txid % XID_MODULUS


@dataclass(frozen=True)
class Committed:
    txid: int
    at: float  # time.monotonic() right after COMMIT returned


def connect_source(settings: Settings) -> psycopg.Connection:
    """A connection to the admin catalog (search_path set), not autocommit."""
    return psycopg.connect(
        settings.admin_conninfo(), options=f"-c search_path={settings.admin_schema}"
    )


def commit(conn: psycopg.Connection, body: Body) -> Committed:
    """Run `body(conn)` and commit it as one source transaction."""
    body(conn)
    row = conn.execute("SELECT txid_current()").fetchone()
    assert row is not None
    conn.commit()
    return Committed(xid32(int(row[0])), time.monotonic())


def commit_once(settings: Settings, body: Body) -> Committed:
    with connect_source(settings) as conn:
        return commit(conn, body)


def product_pool(settings: Settings, size: int = 200) -> list[int]:
    """The first `size` products by id: the ones the bench's edits rename."""
    with connect_source(settings) as conn:
        rows = conn.execute("SELECT id FROM product ORDER BY id LIMIT %s", (size,)).fetchall()
    if not rows:
        raise ValueError("the catalog holds no product to edit")
    return [int(r[0]) for r in rows]
