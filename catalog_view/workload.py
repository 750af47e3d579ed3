"""Workloads for the checker: named scenarios of source transactions.

A scenario is a short sequence of source transactions. Each transaction is a
function of a psycopg connection that writes to the admin catalog and does
NOT commit: the runner (catalog_view.verify) commits it under the global
commit lock and records Q(S(t)). Every random choice is drawn when a scenario
is planned, so one seed replays the same workload; ids come from the identity
sequences, so they may differ between runs (entities are picked by position,
e.g. "the product at 37% of the id order").

The scenarios cover docs/design.md, "Scenarios" (the users' own examples), plus plain
random edits. This module writes to the admin database only; it never reads
the store and never commits.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from catalog_view.errors import CatalogViewError

Transaction = Callable[[psycopg.Connection], None]
Slots = dict[str, int]

WORDS = ("alpine", "harbor", "linen", "merino", "canvas", "cobalt", "ember", "fjord", "juniper")
FAN_OUT_ROOT = "fan-out-root"
FAN_OUT_MID = "fan-out-mid"
FAN_OUT_LEAF = "fan-out-leaf"


class WorkloadError(CatalogViewError):
    """A workload was asked for with impossible parameters."""


@dataclass(frozen=True)
class Scale:
    """Sizes of the big scenarios; the defaults keep a CI run small.

    docs/design.md ("Scenarios") asks for fan-out to thousands of products and bulk imports of
    10k+ rows: `Scale.full()` gives those sizes."""

    bulk_rows: int = 2000
    fan_out_products: int = 200
    toast_bytes: int = 4096

    @classmethod
    def full(cls) -> Scale:
        return cls(bulk_rows=12_000, fan_out_products=3000, toast_bytes=20_000)

    def validate(self) -> None:
        for name in ("bulk_rows", "fan_out_products", "toast_bytes"):
            if getattr(self, name) < 1:
                raise WorkloadError(f"{name} must be >= 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class Scenario:
    """One named scenario instance: its transactions in order, and the values
    it drew (a replay check compares those).

    `overlapping`: the runner starts steps[0] first and commits steps[1] first,
    on two connections (commit order differs from start order)."""

    name: str
    steps: tuple[Transaction, ...]
    drawn: tuple[Any, ...] = ()
    overlapping: bool = False


class Draws:
    """A seeded random source that logs every value it hands out."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self.log: list[Any] = []

    def _keep(self, value: Any) -> Any:
        self.log.append(value)
        return value

    def fraction(self) -> float:
        return float(self._keep(round(self._rng.random(), 6)))

    def chance(self, p: float) -> bool:
        return bool(self._keep(self._rng.random() < p))

    def integer(self, low: int, high: int) -> int:
        return int(self._keep(self._rng.randint(low, high)))

    def words(self, n: int) -> str:
        return str(self._keep(" ".join(self._rng.choice(WORDS) for _ in range(n))))

    def price(self) -> Decimal:
        value = Decimal(self._rng.randrange(100, 99_999)) / 100
        self._keep(str(value))
        return value

    def text(self, n_bytes: int) -> str:
        """Random hex: it does not compress, so a long one is TOASTed out of line."""
        value = self._rng.randbytes(n_bytes).hex()
        self._keep(f"hex:{n_bytes}:{value[:16]}")
        return value


# -- small SQL helpers -------------------------------------------------------


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


def insert_category(
    conn: psycopg.Connection, category_id: int | None, parent_id: int | None, name: str
) -> int:
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
    """Everything a product create needs, drawn in advance."""

    name: str
    type_pick: float
    value_picks: tuple[float, ...]
    variant_value_picks: tuple[float, ...]
    prices: tuple[Decimal, ...]
    channel_picks: tuple[float, ...]
    published: bool
    rating: int
    description: str = ""

    @classmethod
    def draw(cls, d: Draws, description: str = "") -> NewProduct:
        variants = d.integer(0, 3)
        return cls(
            name=d.words(3).title(),
            type_pick=d.fraction(),
            value_picks=tuple(d.fraction() for _ in range(d.integer(0, 2))),
            variant_value_picks=tuple(d.fraction() for _ in range(variants)),
            prices=tuple(d.price() for _ in range(variants)),
            channel_picks=tuple(d.fraction() for _ in range(d.integer(1, 2))),
            published=d.chance(0.7),
            rating=d.integer(1, 5),
            description=description or d.words(12),
        )


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


def delete_product(conn: psycopg.Connection, product_id: int) -> bool:
    """Delete a product and everything hanging off it; False when it was absent."""
    variants = "SELECT id FROM product_variant WHERE product_id = %(p)s"
    for statement in (
        f"DELETE FROM product_variant_channel_listing WHERE variant_id IN ({variants})",
        f"DELETE FROM assigned_variant_attribute_value WHERE variant_id IN ({variants})",
        "DELETE FROM product_variant WHERE product_id = %(p)s",
        "DELETE FROM product_channel_listing WHERE product_id = %(p)s",
        "DELETE FROM assigned_product_attribute_value WHERE product_id = %(p)s",
    ):
        conn.execute(statement.encode(), {"p": product_id})
    deleted = conn.execute("DELETE FROM product WHERE id = %s", (product_id,)).rowcount
    return deleted > 0


def touch_marker(conn: psycopg.Connection, label: str) -> None:
    """A source transaction that changes a catalog row but no view row: the
    checker uses it to mark the start and the end of a run."""
    updated = conn.execute(
        "UPDATE category SET description = %s WHERE id = (SELECT min(id) FROM category)",
        (f"checker marker {label}",),
    ).rowcount
    if not updated:
        insert_category(conn, None, None, "Checker marker")


# -- the scenarios of docs/design.md, "Scenarios" ------------------------------


def category_then_product(d: Draws, scale: Scale) -> Scenario:
    """A category, then a product in it, in back-to-back transactions."""
    parent_pick, name, product = d.fraction(), d.words(2).title(), NewProduct.draw(d)
    slots: Slots = {}

    def create_category(conn: psycopg.Connection) -> None:
        slots["category"] = insert_category(conn, None, pick(conn, "category", parent_pick), name)

    def create_product(conn: psycopg.Connection) -> None:
        insert_product(conn, product, None, slots["category"])

    return Scenario("category_then_product", (create_category, create_product))


def product_before_its_category(d: Draws, scale: Scale) -> Scenario:
    """A product referencing a category that is created in the next transaction (no FK)."""
    parent_pick, name, product = d.fraction(), d.words(2).title(), NewProduct.draw(d)
    slots: Slots = {}

    def create_product(conn: psycopg.Connection) -> None:
        slots["category"] = next_id(conn, "category")
        insert_product(conn, product, None, slots["category"])

    def create_category(conn: psycopg.Connection) -> None:
        parent = pick(conn, "category", parent_pick)
        insert_category(conn, slots["category"], parent, name)

    return Scenario("product_before_its_category", (create_product, create_category))


def create_then_delete(d: Draws, scale: Scale) -> Scenario:
    """Create a product, then delete it (one id, two transactions)."""
    category_pick, product = d.fraction(), NewProduct.draw(d)
    slots: Slots = {}

    def create(conn: psycopg.Connection) -> None:
        category = pick(conn, "category", category_pick)
        slots["product"] = insert_product(conn, product, None, category)

    def delete(conn: psycopg.Connection) -> None:
        delete_product(conn, slots["product"])

    return Scenario("create_then_delete", (create, delete))


def delete_then_recreate(d: Draws, scale: Scale) -> Scenario:
    """Delete an existing product, then re-create a product with the same id."""
    product_pick, category_pick, product = d.fraction(), d.fraction(), NewProduct.draw(d)
    slots: Slots = {}

    def delete(conn: psycopg.Connection) -> None:
        victim = pick(conn, "product", product_pick)
        if victim is not None and delete_product(conn, victim):
            slots["product"] = victim

    def recreate(conn: psycopg.Connection) -> None:
        if "product" in slots:
            category = pick(conn, "category", category_pick)
            insert_product(conn, product, slots["product"], category)
        else:
            touch_marker(conn, "nothing to re-create")

    return Scenario("delete_then_recreate", (delete, recreate))


def requeue_trap(d: Draws, scale: Scale) -> Scenario:
    """The users' trap: a create depending on X, then X, then the delete of
    the first create; re-queueing reorders these and resurrects the product."""
    parent_pick, name, product = d.fraction(), d.words(2).title(), NewProduct.draw(d)
    slots: Slots = {}

    def create_depending_on_x(conn: psycopg.Connection) -> None:
        slots["x"] = next_id(conn, "category")
        slots["product"] = insert_product(conn, product, None, slots["x"])

    def create_x(conn: psycopg.Connection) -> None:
        insert_category(conn, slots["x"], pick(conn, "category", parent_pick), name)

    def delete(conn: psycopg.Connection) -> None:
        delete_product(conn, slots["product"])

    return Scenario("requeue_trap", (create_depending_on_x, create_x, delete))


def multi_table_transaction(d: Draws, scale: Scale) -> Scenario:
    """One transaction touching a product, its variants, attribute values and listings."""
    product_pick, new_name, value_pick = d.fraction(), d.words(2).title(), d.fraction()
    variant_value_pick, price, fallback = d.fraction(), d.price(), NewProduct.draw(d)

    def edit(conn: psycopg.Connection) -> None:
        pid = pick(conn, "product", product_pick)
        if pid is None:
            insert_product(conn, fallback, None, None)
            return
        conn.execute("UPDATE product SET name = %s WHERE id = %s", (new_name, pid))
        old = pick(conn, "product_variant", 0.0, f"product_id = {pid}")
        if old is not None:
            delete_variant(conn, old)
        add_variant(conn, pid, new_name, variant_value_pick, price)
        conn.execute("DELETE FROM assigned_product_attribute_value WHERE product_id = %s", (pid,))
        assign_value(conn, "assigned_product_attribute_value", "product_id", pid, value_pick)
        conn.execute(
            "UPDATE product_channel_listing SET is_published = NOT is_published, "
            "publication_date = CASE WHEN is_published THEN NULL ELSE DATE '2025-06-01' END "
            "WHERE product_id = %s",
            (pid,),
        )

    return Scenario("multi_table_transaction", (edit,))


def fan_out_tree(scale: Scale) -> Scenario:
    """Setup (not drawn): Fan-out > Mid > Leaf with `scale.fan_out_products`
    products in the leaf, so that one category edit changes them all."""

    def create(conn: psycopg.Connection) -> None:
        if pick(conn, "category", 0.0, f"slug = '{FAN_OUT_ROOT}'") is not None:
            touch_marker(conn, "fan-out tree exists")
            return
        root = insert_category(conn, None, None, "Fan Out Root")
        mid = insert_category(conn, None, root, "Fan Out Mid")
        leaf = insert_category(conn, None, mid, "Fan Out Leaf")
        type_id = pick(conn, "product_type", 0.0) or 0
        conn.execute(
            "INSERT INTO product (product_type_id, category_id, name, slug, description) "
            "SELECT %s, %s, 'Fan-out ' || g, 'fan-out-' || g, 'fan-out product' "
            "FROM generate_series(1, %s) AS g",
            (type_id, leaf, scale.fan_out_products),
        )

    return Scenario("fan_out_tree", (create,))


def category_fan_out(d: Draws, scale: Scale) -> Scenario:
    """Rename or move a category with many products beneath (the fan-out tree)."""
    action, new_name, root_pick = d.integer(0, 2), d.words(2).title(), d.fraction()

    def edit(conn: psycopg.Connection) -> None:
        slug = FAN_OUT_ROOT if action == 0 else FAN_OUT_MID
        target = pick(conn, "category", 0.0, f"slug = '{slug}'")
        if target is None:  # no fan-out tree: the widest subtree we know of
            target = pick(conn, "category", 0.0, "parent_id IS NULL")
        if target is None:
            touch_marker(conn, "no category to fan out")
        elif action < 2:
            conn.execute("UPDATE category SET name = %s WHERE id = %s", (new_name, target))
        else:
            # Roots are never beneath a non-root category: no cycle possible.
            root = pick(conn, "category", root_pick, f"parent_id IS NULL AND id <> {target}")
            conn.execute("UPDATE category SET parent_id = %s WHERE id = %s", (root, target))

    return Scenario("category_fan_out", (edit,))


BULK_ROWS_PER_PRODUCT = 9


def bulk_import(d: Draws, scale: Scale) -> Scenario:
    """Import ~`scale.bulk_rows` rows in one transaction, then delete half of
    the imported products (with their dependents) in one transaction."""
    tag, category_pick, type_pick = f"{d.integer(0, 10**9):x}", d.fraction(), d.fraction()
    value_pick, price = d.fraction(), d.price()
    products = max(1, -(-scale.bulk_rows // BULK_ROWS_PER_PRODUCT))

    def load(conn: psycopg.Connection) -> None:
        _bulk_insert(conn, tag, products, pick(conn, "category", category_pick), type_pick)
        value = pick(conn, "attribute_value", value_pick) or 0
        _bulk_dependents(conn, tag, value, price)

    def remove_half(conn: psycopg.Connection) -> None:
        ids = [
            int(r[0])
            for r in conn.execute(
                "SELECT id FROM product WHERE slug LIKE %s ORDER BY id", (f"bulk-{tag}-%",)
            )
        ]
        _bulk_delete(conn, ids[::2])

    return Scenario("bulk_import", (load, remove_half))


def import_products(conn: psycopg.Connection, tag: str, products: int) -> None:
    """`products` products with their dependents (BULK_ROWS_PER_PRODUCT rows
    each), in the caller's transaction: a bulk import as one source transaction."""
    _bulk_insert(conn, tag, products, pick(conn, "category", 0.5), 0.5)
    _bulk_dependents(conn, tag, pick(conn, "attribute_value", 0.5) or 0, Decimal("10.00"))


def _bulk_insert(
    conn: psycopg.Connection, tag: str, products: int, category: int | None, type_pick: float
) -> None:
    conn.execute(
        "INSERT INTO product (product_type_id, category_id, name, slug, description, rating) "
        "SELECT %s, %s, 'Bulk ' || g, %s || g, 'imported in bulk', g %% 5 + 1 "
        "FROM generate_series(1, %s) AS g",
        (pick(conn, "product_type", type_pick) or 0, category, f"bulk-{tag}-", products),
    )


def _bulk_dependents(conn: psycopg.Connection, tag: str, value: int, price: Decimal) -> None:
    """Per product: 1 attribute, 2 variants with 1 attribute each, 1 listing,
    2 variant prices (9 rows with the product itself)."""
    mine = "SELECT id FROM product WHERE slug LIKE %(like)s"
    variants = f"SELECT id FROM product_variant WHERE product_id IN ({mine})"
    params = {"like": f"bulk-{tag}-%", "value": value, "price": price}
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


def _bulk_delete(conn: psycopg.Connection, ids: list[int]) -> None:
    variants = "SELECT id FROM product_variant WHERE product_id = ANY(%(ids)s)"
    for statement in (
        f"DELETE FROM product_variant_channel_listing WHERE variant_id IN ({variants})",
        f"DELETE FROM assigned_variant_attribute_value WHERE variant_id IN ({variants})",
        "DELETE FROM product_variant WHERE product_id = ANY(%(ids)s)",
        "DELETE FROM product_channel_listing WHERE product_id = ANY(%(ids)s)",
        "DELETE FROM assigned_product_attribute_value WHERE product_id = ANY(%(ids)s)",
        "DELETE FROM product WHERE id = ANY(%(ids)s)",
    ):
        conn.execute(statement.encode(), {"ids": ids})


def concurrent_commit_order(d: Draws, scale: Scale) -> Scenario:
    """Two overlapping transactions on two connections: A starts first and
    commits last. A creates a product in a category that B renames; both only
    insert new rows or update rows A never touches, so neither waits for the other."""
    category_pick, product, new_name = d.fraction(), NewProduct.draw(d), d.words(2).title()
    other = NewProduct.draw(d)

    def first(conn: psycopg.Connection) -> None:
        insert_product(conn, product, None, pick(conn, "category", category_pick))

    def second(conn: psycopg.Connection) -> None:
        category = pick(conn, "category", category_pick)
        conn.execute("UPDATE category SET name = %s WHERE id = %s", (new_name, category))
        insert_product(conn, other, None, category)

    return Scenario("concurrent_commit_order", (first, second), overlapping=True)


def primary_key_update(d: Draws, scale: Scale) -> Scenario:
    """UPDATE product SET id = <new id>; the dependents follow in the same
    transaction, or (sometimes) are left pointing at the old id."""
    product_pick, cascade = d.fraction(), d.chance(0.7)

    def move(conn: psycopg.Connection) -> None:
        old = pick(conn, "product", product_pick)
        if old is None:
            touch_marker(conn, "no product to re-key")
            return
        new = next_id(conn, "product")
        conn.execute("UPDATE product SET id = %s WHERE id = %s", (new, old))
        if cascade:
            for table in (
                "product_variant",
                "assigned_product_attribute_value",
                "product_channel_listing",
            ):
                conn.execute(
                    sql.SQL("UPDATE {} SET product_id = %s WHERE product_id = %s").format(
                        sql.Identifier(table)
                    ),
                    (new, old),
                )

    return Scenario("primary_key_update", (move,))


def toast_unchanged(d: Draws, scale: Scale) -> Scenario:
    """A product with a large incompressible description (TOASTed), then an
    update of other columns that leaves the description alone."""
    product = NewProduct.draw(d, description=d.text(scale.toast_bytes))
    new_name, rating = d.words(2).title(), d.integer(1, 5)
    slots: Slots = {}

    def create(conn: psycopg.Connection) -> None:
        slots["product"] = insert_product(conn, product, None, None)

    def update_other_columns(conn: psycopg.Connection) -> None:
        conn.execute(
            "UPDATE product SET name = %s, rating = %s WHERE id = %s",
            (new_name, rating, slots["product"]),
        )

    return Scenario("toast_unchanged", (create, update_other_columns))


# -- plain random edits ----------------------------------------------------------


def reprice(d: Draws, scale: Scale) -> Scenario:
    listing_pick, price = d.fraction(), d.price()

    def edit(conn: psycopg.Connection) -> None:
        listing = pick(conn, "product_variant_channel_listing", listing_pick)
        conn.execute(
            "UPDATE product_variant_channel_listing SET price_amount = %s WHERE id = %s",
            (price, listing),
        )

    return Scenario("reprice", (edit,))


def publish_toggle(d: Draws, scale: Scale) -> Scenario:
    listing_pick, days = d.fraction(), d.integer(0, 365)

    def edit(conn: psycopg.Connection) -> None:
        listing = pick(conn, "product_channel_listing", listing_pick)
        conn.execute(
            "UPDATE product_channel_listing SET is_published = NOT is_published, "
            "publication_date = CASE WHEN is_published THEN NULL ELSE %s END WHERE id = %s",
            (date(2025, 1, 1) + timedelta(days=days), listing),
        )

    return Scenario("publish_toggle", (edit,))


def variant_add(d: Draws, scale: Scale) -> Scenario:
    product_pick, name, value_pick, price = d.fraction(), d.words(1), d.fraction(), d.price()

    def edit(conn: psycopg.Connection) -> None:
        pid = pick(conn, "product", product_pick)
        if pid is None:
            touch_marker(conn, "no product for a variant")
        else:
            add_variant(conn, pid, name, value_pick, price)

    return Scenario("variant_add", (edit,))


def variant_remove(d: Draws, scale: Scale) -> Scenario:
    variant_pick = d.fraction()

    def edit(conn: psycopg.Connection) -> None:
        vid = pick(conn, "product_variant", variant_pick)
        if vid is None:
            touch_marker(conn, "no variant to remove")
        else:
            delete_variant(conn, vid)

    return Scenario("variant_remove", (edit,))


def attribute_reassign(d: Draws, scale: Scale) -> Scenario:
    assignment_pick, value_pick, on_variant = d.fraction(), d.fraction(), d.chance(0.5)
    table = "assigned_variant_attribute_value" if on_variant else "assigned_product_attribute_value"

    def edit(conn: psycopg.Connection) -> None:
        assignment = pick(conn, table, assignment_pick)
        value = pick(conn, "attribute_value", value_pick)
        if assignment is None or value is None:
            touch_marker(conn, "no attribute to reassign")
            return
        conn.execute(
            sql.SQL("UPDATE {} SET value_id = %s WHERE id = %s").format(sql.Identifier(table)),
            (value, assignment),
        )

    return Scenario("attribute_reassign", (edit,))


def product_rename(d: Draws, scale: Scale) -> Scenario:
    product_pick, name = d.fraction(), d.words(3).title()

    def edit(conn: psycopg.Connection) -> None:
        pid = pick(conn, "product", product_pick)
        conn.execute("UPDATE product SET name = %s WHERE id = %s", (name, pid))

    return Scenario("product_rename", (edit,))


Builder = Callable[[Draws, Scale], Scenario]


@dataclass(frozen=True)
class Kind:
    build: Builder
    weight: int


# docs/design.md's "Scenarios" first, then the plain edits (weighted up: they are the
# background traffic the special scenarios run in).
SCENARIOS: dict[str, Kind] = {
    "category_then_product": Kind(category_then_product, 3),
    "product_before_its_category": Kind(product_before_its_category, 3),
    "create_then_delete": Kind(create_then_delete, 3),
    "delete_then_recreate": Kind(delete_then_recreate, 3),
    "requeue_trap": Kind(requeue_trap, 3),
    "multi_table_transaction": Kind(multi_table_transaction, 4),
    "category_fan_out": Kind(category_fan_out, 2),
    "bulk_import": Kind(bulk_import, 1),
    "concurrent_commit_order": Kind(concurrent_commit_order, 3),
    "primary_key_update": Kind(primary_key_update, 2),
    "toast_unchanged": Kind(toast_unchanged, 2),
    "reprice": Kind(reprice, 8),
    "publish_toggle": Kind(publish_toggle, 6),
    "variant_add": Kind(variant_add, 5),
    "variant_remove": Kind(variant_remove, 4),
    "attribute_reassign": Kind(attribute_reassign, 5),
    "product_rename": Kind(product_rename, 5),
}


@dataclass
class Plan:
    """The scenarios of one run, in the order they are started."""

    seed: int
    scenarios: list[Scenario] = field(default_factory=list)

    @property
    def transactions(self) -> int:
        return sum(len(s.steps) for s in self.scenarios)

    def signature(self) -> list[tuple[str, tuple[Any, ...]]]:
        """What a replay must reproduce: names and drawn values, not ids."""
        return [(s.name, s.drawn) for s in self.scenarios]


def _instance(name: str, seed: int, scale: Scale) -> Scenario:
    draws = Draws(seed)
    scenario = SCENARIOS[name].build(draws, scale)
    return Scenario(name, scenario.steps, tuple(draws.log), scenario.overlapping)


def plan(seed: int, transactions: int, scale: Scale | None = None) -> Plan:
    """Scenarios adding up to at least `transactions` source transactions
    (the last scenario may overshoot by its own length). Every scenario kind
    comes once first, in seeded order, as far as the count allows; the rest
    are drawn by weight."""
    if transactions < 1:
        raise WorkloadError(f"transactions must be >= 1, got {transactions}")
    scale = scale or Scale()
    scale.validate()
    rng = random.Random(seed)
    names = list(SCENARIOS)
    rng.shuffle(names)
    weights = [SCENARIOS[n].weight for n in SCENARIOS]
    result = Plan(seed)
    while result.transactions < transactions:
        name = names.pop(0) if names else rng.choices(list(SCENARIOS), weights)[0]
        result.scenarios.append(_instance(name, rng.getrandbits(63), scale))
    return result
