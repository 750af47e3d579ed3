"""Digests of view states: rows hashed as canonical JSON, one digest per view.

Numbers compare by value, as in reference.diff (19.5 == 19.50 == 1.95E1,
25 == 25.0): the checker's connections parse JSON numbers straight into a
marked canonical string, and numeric columns (Decimal) get the same form, so
hashing needs no Python walk. It reuses the judge's pieces
(sql/reference/*.sql, reference.VIEW_KEYS, reference.diff) but hashes rows as
they are fetched instead of building reference.Rows: a sample must be cheap
for the sampler to catch short-lived states.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import set_json_loads

from catalog_view.reference import REFERENCE_DIR, VIEW_KEYS, Rows, diff
from catalog_view.settings import Settings

Key = tuple[Any, ...]

NUMBER_MARK = "\x00n"  # PostgreSQL text cannot hold NUL: no string collides


def canonical_number(text: str) -> str:
    value = Decimal(text)
    return NUMBER_MARK + format(value.normalize() if value else Decimal(0), "f")


_DECODER = json.JSONDecoder(parse_float=canonical_number, parse_int=canonical_number)


def json_loads(data: str | bytes) -> Any:
    """The JSON loader of the checker's connections (numbers canonical)."""
    return _DECODER.decode(data if isinstance(data, str) else bytes(data).decode())


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return canonical_number(str(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot hash a {type(value).__name__} in a view row")


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
)


def canonical_json(value: Any) -> str:
    return _ENCODER.encode(value)


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def row_hash(row: dict[str, Any]) -> str:
    return _hash(canonical_json(row))


RowHashes = dict[Key, str]


def digest_of(hashes: RowHashes) -> str:
    """One digest for a whole view state, independent of row order."""
    return _hash("\n".join(f"{canonical_json(list(k))}\t{hashes[k]}" for k in sorted(hashes)))


def fetch_hashes(cursor: psycopg.Cursor[Any], view: str) -> RowHashes:
    """Per-row hashes of a query result, keyed like reference.Rows."""
    names = [d.name for d in cursor.description or ()]
    positions = [names.index(k) for k in VIEW_KEYS[view]]
    return {
        tuple(record[i] for i in positions): row_hash(dict(zip(names, record, strict=True)))
        for record in cursor.fetchall()
    }


def reference_hashes(conn: psycopg.Connection, settings: Settings, view: str) -> RowHashes:
    """Q(S) of `view` (sql/reference/<view>.sql) as this transaction sees the source."""
    conn.execute(
        sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(settings.admin_schema))
    )
    with conn.cursor() as cur:
        cur.execute((REFERENCE_DIR / f"{view}.sql").read_text().encode())
        return fetch_hashes(cur, view)


def store_hashes(
    conn: psycopg.Connection, settings: Settings, view: str, cache: RowCache | None = None
) -> RowHashes:
    """Per-row hashes of a store table. With a cache, the store sends only
    md5(row text) per key, and rows are fetched (in the same transaction) and
    canonicalized only when that text was not seen before: most rows of a
    sample are unchanged since the last one."""
    table = sql.Identifier(settings.store_schema, view)
    if cache is None:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SELECT * FROM {}").format(table))
            return fetch_hashes(cur, view)
    keys = VIEW_KEYS[view]
    columns = sql.SQL(", ").join(map(sql.Identifier, keys))
    texts = conn.execute(sql.SQL("SELECT {}, md5(t::text) FROM {} AS t").format(columns, table))
    fingerprints = {tuple(r[:-1]): (view, *r) for r in texts.fetchall()}
    result = {k: cache[f] for k, f in fingerprints.items() if f in cache}
    missing = [k for k in fingerprints if k not in result]
    if missing:
        fetched = _fetch_keys(conn, table, keys, missing, view)
        for key, hashed in fetched.items():
            cache.remember(fingerprints[key], hashed)
        result.update(fetched)
    return result


def _fetch_keys(
    conn: psycopg.Connection,
    table: sql.Identifier,
    keys: tuple[str, ...],
    wanted: list[Key],
    view: str,
) -> RowHashes:
    columns = sql.SQL(", ").join(map(sql.Identifier, keys))
    arrays = sql.SQL(", ").join(sql.SQL("%s::bigint[]") for _ in keys)
    query = sql.SQL("SELECT * FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))").format(
        table, columns, arrays
    )
    with conn.cursor() as cur:
        cur.execute(query, [[k[i] for k in wanted] for i in range(len(keys))])
        return fetch_hashes(cur, view)


class RowCache(dict[tuple[Any, ...], str]):
    """Row hash by (view, key..., md5 of the row's text); bounded."""

    def __init__(self, limit: int = 500_000) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, fingerprint: tuple[Any, ...], hashed: str) -> None:
        if len(self) >= self.limit:
            self.clear()
        self[fingerprint] = hashed


def checker_connection(conninfo: str, *, autocommit: bool = False) -> psycopg.Connection:
    conn = psycopg.connect(conninfo, autocommit=autocommit)
    set_json_loads(json_loads, conn)
    return conn


@dataclass(frozen=True)
class ViewState:
    """A state of every view: a digest per view, and the per-row hashes."""

    digests: dict[str, str]
    rows: dict[str, RowHashes]

    @classmethod
    def of(cls, hashes: dict[str, RowHashes]) -> ViewState:
        return cls({view: digest_of(h) for view, h in hashes.items()}, hashes)

    @classmethod
    def of_rows(cls, rows_by_view: dict[str, Rows]) -> ViewState:
        """From rows read by a checker connection (see json_loads)."""
        return cls.of(
            {
                view: {key: row_hash(row) for key, row in rows.items()}
                for view, rows in rows_by_view.items()
            }
        )

    def difference(self, actual: ViewState, limit: int = 3) -> str:
        """Which keys differ, per view (via reference.diff on the row hashes)."""
        parts = []
        for view in sorted(self.rows):
            expected = {k: {"row": h} for k, h in self.rows[view].items()}
            observed = {k: {"row": h} for k, h in actual.rows.get(view, {}).items()}
            found = diff(view, expected, observed)
            if not found.empty:
                parts.append(found.describe(limit))
        return "; ".join(parts) or "no difference"
