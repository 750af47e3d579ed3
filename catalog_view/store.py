"""The store, read as its readers read it: a reader connection, the
watermark (which source transaction the views show whole), and the store's
own clock. Every tool that reads the store's position reads it here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from catalog_view.settings import Settings


@dataclass(frozen=True)
class Watermark:
    commit_lsn: int
    source_txid: int | None
    source_commit: datetime | None
    applied_at: datetime


def connect_store(settings: Settings, *, autocommit: bool = False) -> psycopg.Connection:
    """A connection of the store's read-only reader role."""
    return psycopg.connect(settings.store_reader_conninfo(), autocommit=autocommit)


def _watermark_table(settings: Settings) -> sql.Identifier:
    return sql.Identifier(settings.store_schema, "watermark")


def watermark_txid_query(settings: Settings) -> sql.Composed:
    """The statement that reads the watermark's source txid (for pollers that
    run it often on a connection of their own)."""
    return sql.SQL("SELECT source_txid FROM {} WHERE id = 1").format(_watermark_table(settings))


def watermark_txid(conn: psycopg.Connection, settings: Settings) -> int | None:
    """The source transaction the watermark names, in the caller's transaction."""
    row = conn.execute(watermark_txid_query(settings)).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def read_watermark(settings: Settings) -> Watermark | None:
    """The whole watermark row, on a connection of its own."""
    query = sql.SQL(
        "SELECT commit_lsn, source_txid, source_commit, applied_at FROM {} WHERE id = 1"
    ).format(_watermark_table(settings))
    with connect_store(settings) as conn:
        row = conn.execute(query).fetchone()
    return Watermark(*row) if row else None


def store_clock(settings: Settings) -> datetime:
    """The store's clock, to compare with the watermark's applied_at."""
    with connect_store(settings) as conn:
        row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]
