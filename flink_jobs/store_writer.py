"""Write view changes to the PostgreSQL store, row by row (psycopg).

This is the plain writer: it applies each change as it comes (+I/+U upsert,
-U/-D delete by key), so a reader can see intermediate states. Run it at
parallelism 1: -U and +U of one key must keep their order.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from pyflink.common import Row
from pyflink.common.types import RowKind
from pyflink.datastream import MapFunction, RuntimeContext

from flink_jobs.changes import millis_to_datetime


def _table_shape(
    conn: psycopg.Connection, schema: str, table: str
) -> tuple[dict[str, str], list[str]]:
    """Column -> SQL type, and the primary key columns, from the catalog."""
    types = {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            (f"{schema}.{table}",),
        )
    }
    key = [
        r[0]
        for r in conn.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum",
            (f"{schema}.{table}",),
        )
    ]
    if not types or not key:
        raise RuntimeError(f"store table {schema}.{table} is missing or has no primary key")
    return types, key


def reset_store(conninfo: str, schema: str, tables: list[str]) -> None:
    """Empty the view tables and the watermark before a replay from the start
    of the topics: rows the replay never touches (created and deleted while
    the job was down) must not survive it."""
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            sql.SQL("TRUNCATE {}").format(
                sql.SQL(", ").join(sql.Identifier(schema, t) for t in [*tables, "watermark"])
            )
        )


class ViewWriter(MapFunction):  # type: ignore[misc]
    def __init__(self, conninfo: str, schema: str, table: str, columns: list[str]) -> None:
        self.conninfo, self.schema, self.table, self.columns = conninfo, schema, table, columns

    def open(self, runtime_context: RuntimeContext) -> None:
        self.conn = psycopg.connect(self.conninfo, autocommit=True)
        types, key = _table_shape(self.conn, self.schema, self.table)
        unknown = [c for c in self.columns if c not in types]
        if unknown:
            raise RuntimeError(f"store table {self.schema}.{self.table} lacks {unknown}")
        target = sql.Identifier(self.schema, self.table)
        values = sql.SQL(", ").join(
            sql.SQL("{}::{}").format(sql.Placeholder(), sql.SQL(types[c])) for c in self.columns
        )
        updates = sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
            for c in self.columns
            if c not in key
        )
        self.upsert = sql.SQL(
            "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}"
        ).format(
            target,
            sql.SQL(", ").join(map(sql.Identifier, self.columns)),
            values,
            sql.SQL(", ").join(map(sql.Identifier, key)),
            updates,
        )
        self.delete = sql.SQL("DELETE FROM {} WHERE {}").format(
            target,
            sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in key),
        )
        self.key_positions = [self.columns.index(k) for k in key]

    def close(self) -> None:
        self.conn.close()

    def map(self, row: Row) -> int:
        values: list[Any] = list(row)
        if row.get_row_kind() in (RowKind.INSERT, RowKind.UPDATE_AFTER):
            self.conn.execute(self.upsert, values)
        else:
            self.conn.execute(self.delete, [values[i] for i in self.key_positions])
        return 1


class WatermarkWriter(MapFunction):  # type: ignore[misc]
    """Moves the watermark row forward only (never backwards)."""

    def __init__(self, conninfo: str, schema: str) -> None:
        self.conninfo, self.schema = conninfo, schema

    def open(self, runtime_context: RuntimeContext) -> None:
        self.conn = psycopg.connect(self.conninfo, autocommit=True)
        self.statement = sql.SQL(
            "INSERT INTO {} (id, commit_lsn, source_txid, source_commit, applied_at) "
            "VALUES (1, %s, %s, %s, now()) ON CONFLICT (id) DO UPDATE SET "
            "commit_lsn = EXCLUDED.commit_lsn, source_txid = EXCLUDED.source_txid, "
            "source_commit = EXCLUDED.source_commit, applied_at = now() "
            "WHERE {}.commit_lsn < EXCLUDED.commit_lsn"
        ).format(sql.Identifier(self.schema, "watermark"), sql.Identifier("watermark"))

    def close(self) -> None:
        self.conn.close()

    def map(self, row: Row) -> int:
        self.conn.execute(self.statement, [row[0], row[1], millis_to_datetime(row[2])])
        return 1
