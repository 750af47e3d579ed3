"""Every write the tools make to the admin catalog: insert a category, a
product (with attribute values, listings and variants) or a variant, delete
a variant or a product with everything hanging off it, bulk-import products,
insert prepared rows, empty the catalog.

Nothing here commits: the caller decides what one source transaction holds
(catalog_view.source commits it and learns its txid). Entities are found by
position ("the product at 37% of the id order", `pick`), so a seeded plan
replays the same choices whatever ids the sequences hand out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from catalog_view.settings import CATALOG_TABLES

# Rows per product of a bulk import: the product, 1 attribute value, 2
# variants with 1 attribute value each, 1 listing, 2 variant prices.
BULK_ROWS_PER_PRODUCT = 9


def _scalar(conn: psycopg.Connection, query: str, params: Sequence[Any] = ()) -> Any:
    row = conn.execute(query.encode(), params).fetchone()
    return None if row is None else row[0]


def next_id(conn: psycopg.Connection, table: str) -> int:
    """Reserve an id from the table's identity sequence (usable before the row exists)."""
    return int(_scalar(conn, "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", (table,)))


def pick(conn: psycopg.Connection, table: str, fraction: float, where: str = "TRUE") -> int | None:
    """The id at `fraction` of the id order of the rows matching `where`."""
    count = int(_scalar(conn, f"SELECT count(*) FROM {table} WHERE {where}"))
    if count == 0:
        return None
    offset = min(count - 1, int(fraction * count))
    query = f"SELECT id FROM {table} WHERE {where} ORDER BY id OFFSET %s LIMIT 1"
    return int(_scalar(conn, query, (offset,)))


def first_products(conn: psycopg.Connection, size: int) -> list[int]:
    """The ids of the first `size` products by id."""
    rows = conn.execute("SELECT id FROM product ORDER BY id LIMIT %s", (size,)).fetchall()
    return [int(r[0]) for r in rows]


def insert_rows(
    conn: psycopg.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: Sequence[tuple[object, ...]],
) -> list[int]:
    """Insert prepared rows in one batch, returning their ids in order."""
    if not rows:
        return []
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
    )
    ids: list[int] = []
    with conn.cursor() as cur:
        cur.executemany(query, rows, returning=True)
        while True:
            row = cur.fetchone()
            if row is not None:
                ids.append(row[0])
            if not cur.nextset():
                break
    return ids


def delete_catalog(conn: psycopg.Connection) -> None:
    """Every catalog row, dependents first. DELETE, not TRUNCATE: Debezium
    skips truncates by default, and the views must see every row go."""
    for table in reversed(CATALOG_TABLES):
        conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))


def insert_category(
    conn: psycopg.Connection, category_id: int | None, parent_id: int | None, name: str
) -> int:
    """A category (its slug from the name); with `category_id`, under that id."""
    slug = "-".join(name.lower().split())
    if category_id is None:
        query = "INSERT INTO category (parent_id, name, slug) VALUES (%s, %s, %s) RETURNING id"
        return int(_scalar(conn, query, (parent_id, name, slug)))
    conn.execute(
        "INSERT INTO category (id, parent_id, name, slug) VALUES (%s, %s, %s, %s)",
        (category_id, parent_id, name, slug),
    )
    return category_id


@dataclass(frozen=True)
class NewProduct:
    """Everything a product create needs, chosen in advance (picks are
    fractions of the id order, see `pick`); one variant per price."""

    name: str
    type_pick: float = 0.0
    value_picks: tuple[float, ...] = ()
    variant_value_picks: tuple[float, ...] = ()
    prices: tuple[Decimal, ...] = ()
    channel_picks: tuple[float, ...] = ()
    published: bool = False
    rating: int | None = None
    description: str = ""


def insert_product(
    conn: psycopg.Connection, p: NewProduct, product_id: int | None, category_id: int | None
) -> int:
    """A product with attribute values, variants (with attributes) and channel
    listings with prices; ids from the sequences unless `product_id` is given."""
    type_id = pick(conn, "product_type", p.type_pick) or 0
    pid = product_id if product_id is not None else next_id(conn, "product")
    slug = f"{'-'.join(p.name.lower().split())}-{pid}"
    conn.execute(
        "INSERT INTO product (id, product_type_id, category_id, name, slug, description, rating) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (pid, type_id, category_id, p.name, slug, p.description, p.rating),
    )
    for value_pick in p.value_picks:
        assign_value(conn, "assigned_product_attribute_value", "product_id", pid, value_pick)
    channels = sorted({c for c in (pick(conn, "channel", f) for f in p.channel_picks) if c})
    for channel in channels:
        conn.execute(
            "INSERT INTO product_channel_listing (product_id, channel_id, is_published, "
            "publication_date) VALUES (%s, %s, %s, %s)",
            (pid, channel, p.published, date(2025, 1, 1) if p.published else None),
        )
    for n, (value_pick, price) in enumerate(zip(p.variant_value_picks, p.prices, strict=True)):
        add_variant(conn, pid, f"V{n}", value_pick, price)
    return pid


def assign_value(
    conn: psycopg.Connection, table: str, owner_column: str, owner: int, value_pick: float
) -> None:
    value = pick(conn, "attribute_value", value_pick)
    if value is not None:
        conn.execute(
            sql.SQL("INSERT INTO {} ({}, value_id) VALUES (%s, %s)").format(
                sql.Identifier(table), sql.Identifier(owner_column)
            ),
            (owner, value),
        )


def add_variant(
    conn: psycopg.Connection, product_id: int, name: str, value_pick: float, price: Decimal
) -> int:
    """A variant with one attribute value, priced in every channel its product is listed in."""
    vid = next_id(conn, "product_variant")
    conn.execute(
        "INSERT INTO product_variant (id, product_id, sku, name) VALUES (%s, %s, %s, %s)",
        (vid, product_id, f"SKU-{product_id}-{vid}", name),
    )
    assign_value(conn, "assigned_variant_attribute_value", "variant_id", vid, value_pick)
    conn.execute(
        "INSERT INTO product_variant_channel_listing (variant_id, channel_id, price_amount, "
        "currency) SELECT %s, l.channel_id, %s, ch.currency_code "
        "FROM product_channel_listing AS l JOIN channel AS ch ON ch.id = l.channel_id "
        "WHERE l.product_id = %s",
        (vid, price, product_id),
    )
    return vid


def delete_variant(conn: psycopg.Connection, variant_id: int) -> None:
    for statement in (
        "DELETE FROM product_variant_channel_listing WHERE variant_id = %s",
        "DELETE FROM assigned_variant_attribute_value WHERE variant_id = %s",
        "DELETE FROM product_variant WHERE id = %s",
    ):
        conn.execute(statement.encode(), (variant_id,))


def delete_products(conn: psycopg.Connection, ids: Sequence[int]) -> int:
    """Delete products and everything hanging off them; how many products went."""
    variants = "SELECT id FROM product_variant WHERE product_id = ANY(%(ids)s)"
    for statement in (
        f"DELETE FROM product_variant_channel_listing WHERE variant_id IN ({variants})",
        f"DELETE FROM assigned_variant_attribute_value WHERE variant_id IN ({variants})",
        "DELETE FROM product_variant WHERE product_id = ANY(%(ids)s)",
        "DELETE FROM product_channel_listing WHERE product_id = ANY(%(ids)s)",
        "DELETE FROM assigned_product_attribute_value WHERE product_id = ANY(%(ids)s)",
    ):
        conn.execute(statement.encode(), {"ids": list(ids)})
    return conn.execute("DELETE FROM product WHERE id = ANY(%s)", (list(ids),)).rowcount


def delete_product(conn: psycopg.Connection, product_id: int) -> bool:
    """Delete a product and everything hanging off it; False when it was absent."""
    return delete_products(conn, [product_id]) > 0


def insert_products(
    conn: psycopg.Connection,
    category_id: int | None,
    count: int,
    *,
    name: str,
    slug: str,
    description: str,
) -> None:
    """`count` bare products (no variants, listings or attribute values) in one
    statement, named and slugged `name`/`slug` plus their number (1..count),
    of the first product type."""
    conn.execute(
        "INSERT INTO product (product_type_id, category_id, name, slug, description) "
        "SELECT coalesce((SELECT min(id) FROM product_type), 0), %s, %s || g, %s || g, %s "
        "FROM generate_series(1, %s) AS g",
        (category_id, name, slug, description, count),
    )


def insert_fan_out_tree(conn: psycopg.Connection, products: int, label: str = "") -> int:
    """Fan Out Root > Mid > Leaf (names ending in `label`) with `products`
    bare products in the leaf, so that one category edit changes them all;
    returns the root's id."""
    suffix = f" {label}" if label else ""
    root = insert_category(conn, None, None, f"Fan Out Root{suffix}")
    mid = insert_category(conn, None, root, f"Fan Out Mid{suffix}")
    leaf = insert_category(conn, None, mid, f"Fan Out Leaf{suffix}")
    slug = f"fan-out-{label}-" if label else "fan-out-"
    insert_products(conn, leaf, products, name="Fan-out ", slug=slug, description="fan-out product")
    return root


def touch_marker(conn: psycopg.Connection, label: str) -> None:
    """A source transaction's write that changes a catalog row but no view
    row: the checker uses it to mark the start and the end of a run."""
    updated = conn.execute(
        "UPDATE category SET description = %s WHERE id = (SELECT min(id) FROM category)",
        (f"checker marker {label}",),
    ).rowcount
    if not updated:
        insert_category(conn, None, None, "Checker marker")


def bulk_slug_prefix(tag: str) -> str:
    """The slug prefix of the products of the bulk import tagged `tag`."""
    return f"bulk-{tag}-"


def bulk_import(
    conn: psycopg.Connection,
    tag: str,
    products: int,
    *,
    category_pick: float = 0.5,
    type_pick: float = 0.5,
    value_pick: float = 0.5,
    price: Decimal = Decimal("10.00"),
) -> None:
    """`products` products with their dependents (BULK_ROWS_PER_PRODUCT rows
    each), set-based, in the caller's transaction: a bulk import as one
    source transaction. Their slugs start with bulk_slug_prefix(tag)."""
    prefix = bulk_slug_prefix(tag)
    conn.execute(
        "INSERT INTO product (product_type_id, category_id, name, slug, description, rating) "
        "SELECT %s, %s, 'Bulk ' || g, %s || g, 'imported in bulk', g %% 5 + 1 "
        "FROM generate_series(1, %s) AS g",
        (
            pick(conn, "product_type", type_pick) or 0,
            pick(conn, "category", category_pick),
            prefix,
            products,
        ),
    )
    mine = "SELECT id FROM product WHERE slug LIKE %(like)s"
    variants = f"SELECT id FROM product_variant WHERE product_id IN ({mine})"
    value = pick(conn, "attribute_value", value_pick) or 0
    params = {"like": f"{prefix}%", "value": value, "price": price}
    for statement in (
        f"INSERT INTO assigned_product_attribute_value (product_id, value_id) "
        f"SELECT id, %(value)s FROM ({mine}) AS p",
        f"INSERT INTO product_variant (product_id, sku, name, sort_order) "
        f"SELECT p.id, 'BULK-' || p.id || '-' || v, 'Bulk ' || v, v "
        f"FROM ({mine}) AS p, generate_series(1, 2) AS v",
        f"INSERT INTO assigned_variant_attribute_value (variant_id, value_id) "
        f"SELECT id, %(value)s FROM ({variants}) AS v",
        f"INSERT INTO product_channel_listing (product_id, channel_id, is_published, "
        f"publication_date) SELECT p.id, (SELECT min(id) FROM channel), true, DATE '2025-02-01' "
        f"FROM ({mine}) AS p",
        f"INSERT INTO product_variant_channel_listing (variant_id, channel_id, price_amount, "
        f"currency) SELECT v.id, ch.id, %(price)s + v.id %% 7, ch.currency_code "
        f"FROM ({variants}) AS v, (SELECT * FROM channel ORDER BY id LIMIT 1) AS ch",
    ):
        conn.execute(statement.encode(), params)


def bulk_imported(conn: psycopg.Connection, tag: str) -> list[int]:
    """The ids of the products of the bulk import tagged `tag`, ascending."""
    rows = conn.execute(
        "SELECT id FROM product WHERE slug LIKE %s ORDER BY id", (f"{bulk_slug_prefix(tag)}%",)
    )
    return [int(r[0]) for r in rows]
