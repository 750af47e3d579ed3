"""The source: the admin catalog that Debezium captures.

One way to connect to it (search_path set to the admin schema), and one way
to commit a source transaction and learn its txid, for every tool that
writes to the catalog: the checker, the bench, the demo and the tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from catalog_view.settings import Settings

# Debezium reports pgoutput's 32-bit xid; txid_current() adds an epoch above it.
XID_MODULUS = 2**32

Body = Callable[[psycopg.Connection], object]


def xid32(txid: int) -> int:
    """A source transaction as Debezium and the watermark name it (the epoch stripped)."""
    return txid % XID_MODULUS


@dataclass(frozen=True)
class Committed:
    txid: int
    at: float  # time.monotonic() right after COMMIT returned


def connect_source(settings: Settings, *, autocommit: bool = False) -> psycopg.Connection:
    """A connection to the admin catalog, search_path set to its schema."""
    return psycopg.connect(
        settings.admin_conninfo(),
        autocommit=autocommit,
        options=f"-c search_path={settings.admin_schema}",
    )


def current_txid(conn: psycopg.Connection) -> int:
    """The txid of the transaction `conn` is in (with its epoch: see xid32)."""
    row = conn.execute("SELECT txid_current()").fetchone()
    assert row is not None
    return int(row[0])


def commit(conn: psycopg.Connection, body: Body) -> Committed:
    """Run `body(conn)` and commit it as one source transaction."""
    body(conn)
    txid = current_txid(conn)
    conn.commit()
    return Committed(xid32(txid), time.monotonic())


def commit_once(settings: Settings, body: Body) -> Committed:
    """`body` as one source transaction on a connection of its own."""
    with connect_source(settings) as conn:
        return commit(conn, body)
