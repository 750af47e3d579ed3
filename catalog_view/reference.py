"""The judge: evaluate sql/reference/<view>.sql on the source and compare it
with the store. Rows are compared as dicts keyed by primary key, JSON parsed,
so that key order inside JSON and numeric formatting do not matter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from catalog_view.settings import REPO_ROOT, Settings
from catalog_view.source import connect_source
from catalog_view.store import connect_store

REFERENCE_DIR = REPO_ROOT / "sql" / "reference"
VIEW_KEYS: dict[str, tuple[str, ...]] = {
    "product": ("product_id",),
    "product_channel": ("product_id", "channel_id"),
}

Rows = dict[tuple[Any, ...], dict[str, Any]]


def _normalize(value: Any) -> Any:
    """JSON numbers may come back as int or float from either side."""
    if isinstance(value, dict):
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _rows(cursor: psycopg.Cursor[Any], view: str) -> Rows:
    names = [d.name for d in cursor.description or ()]
    keys = VIEW_KEYS[view]
    result: Rows = {}
    for record in cursor.fetchall():
        row = {n: _normalize(v) for n, v in zip(names, record, strict=True)}
        result[tuple(row[k] for k in keys)] = row
    return result


def reference_rows(conn: psycopg.Connection, settings: Settings, view: str) -> Rows:
    """Q(S) for the source state this connection's transaction sees."""
    conn.execute(
        sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(settings.admin_schema))
    )
    query = (REFERENCE_DIR / f"{view}.sql").read_text()
    with conn.cursor() as cur:
        cur.execute(query.encode())
        return _rows(cur, view)


def store_rows(conn: psycopg.Connection, settings: Settings, view: str) -> Rows:
    """The store table of a view; its columns are those of the reference query."""
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(settings.store_schema, view)))
        return _rows(cur, view)


@dataclass(frozen=True)
class Difference:
    view: str
    missing: list[tuple[Any, ...]]
    unexpected: list[tuple[Any, ...]]
    changed: list[tuple[Any, ...]]

    @property
    def empty(self) -> bool:
        return not (self.missing or self.unexpected or self.changed)

    def describe(self, limit: int = 3) -> str:
        return (
            f"{self.view}: {len(self.missing)} missing {self.missing[:limit]}, "
            f"{len(self.unexpected)} unexpected {self.unexpected[:limit]}, "
            f"{len(self.changed)} changed {self.changed[:limit]}"
        )


def diff(view: str, expected: Rows, actual: Rows) -> Difference:
    return Difference(
        view=view,
        missing=sorted(k for k in expected if k not in actual),
        unexpected=sorted(k for k in actual if k not in expected),
        changed=sorted(k for k in expected if k in actual and expected[k] != actual[k]),
    )


def converged(settings: Settings) -> bool:
    """Whether the store equals the reference queries on the source, now."""
    with (
        connect_source(settings) as source,
        connect_store(settings) as store,
    ):
        return all(
            diff(v, reference_rows(source, settings, v), store_rows(store, settings, v)).empty
            for v in VIEW_KEYS
        )
