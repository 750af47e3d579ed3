"""The checker's scenarios: named sequences of source transactions. Each
transaction writes to the admin catalog (catalog_view.catalog.writes) and does
NOT commit: the recorder commits it under the global commit lock and records
Q(S(t)). Every random choice is drawn when a scenario is planned, so one seed
replays the same workload; ids come from the identity sequences, so they may
differ between runs (entities are picked by position).

The scenarios cover docs/design.md, "Scenarios" (the users' own examples),
plus plain random edits. They write to the admin database only; never to the store.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import psycopg
from psycopg import sql

from catalog_view.catalog.writes import (
    BULK_ROWS_PER_PRODUCT,
    add_variant,
    assign_value,
    bulk_import,
    bulk_imported,
    delete_product,
    delete_products,
    delete_variant,
    insert_category,
    insert_fan_out_tree,
    insert_product,
    next_id,
    pick,
    touch_marker,
)
from catalog_view.checker.draws import Draws, Scale, Scenario, WorkloadError, draw_product

Slots = dict[str, int]

FAN_OUT_ROOT = "fan-out-root"
FAN_OUT_MID = "fan-out-mid"
FAN_OUT_LEAF = "fan-out-leaf"


# -- the scenarios of docs/design.md, "Scenarios" ------------------------------


def category_then_product(d: Draws, scale: Scale) -> Scenario:
    """A category, then a product in it, in back-to-back transactions."""
    parent_pick, name, product = d.fraction(), d.words(2).title(), draw_product(d)
    slots: Slots = {}

    def create_category(conn: psycopg.Connection) -> None:
        slots["category"] = insert_category(conn, None, pick(conn, "category", parent_pick), name)

    def create_product(conn: psycopg.Connection) -> None:
        insert_product(conn, product, None, slots["category"])

    return Scenario("category_then_product", (create_category, create_product))


def product_before_its_category(d: Draws, scale: Scale) -> Scenario:
    """A product referencing a category that is created in the next transaction (no FK)."""
    parent_pick, name, product = d.fraction(), d.words(2).title(), draw_product(d)
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
    category_pick, product = d.fraction(), draw_product(d)
    slots: Slots = {}

    def create(conn: psycopg.Connection) -> None:
        category = pick(conn, "category", category_pick)
        slots["product"] = insert_product(conn, product, None, category)

    def delete(conn: psycopg.Connection) -> None:
        delete_product(conn, slots["product"])

    return Scenario("create_then_delete", (create, delete))


def delete_then_recreate(d: Draws, scale: Scale) -> Scenario:
    """Delete an existing product, then re-create a product with the same id."""
    product_pick, category_pick, product = d.fraction(), d.fraction(), draw_product(d)
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
    parent_pick, name, product = d.fraction(), d.words(2).title(), draw_product(d)
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
    variant_value_pick, price, fallback = d.fraction(), d.price(), draw_product(d)

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
        insert_fan_out_tree(conn, scale.fan_out_products)

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


def bulk_import_then_delete_half(d: Draws, scale: Scale) -> Scenario:
    """Import ~`scale.bulk_rows` rows in one transaction, then delete half of
    the imported products (with their dependents) in one transaction."""
    tag, category_pick, type_pick = f"{d.integer(0, 10**9):x}", d.fraction(), d.fraction()
    value_pick, price = d.fraction(), d.price()
    products = max(1, -(-scale.bulk_rows // BULK_ROWS_PER_PRODUCT))

    def load(conn: psycopg.Connection) -> None:
        bulk_import(
            conn,
            tag,
            products,
            category_pick=category_pick,
            type_pick=type_pick,
            value_pick=value_pick,
            price=price,
        )

    def remove_half(conn: psycopg.Connection) -> None:
        delete_products(conn, bulk_imported(conn, tag)[::2])

    return Scenario("bulk_import", (load, remove_half))


def concurrent_commit_order(d: Draws, scale: Scale) -> Scenario:
    """Two overlapping transactions on two connections: A starts first and
    commits last. A creates a product in a category that B renames; both only
    insert new rows or update rows A never touches, so neither waits for the other."""
    category_pick, product, new_name = d.fraction(), draw_product(d), d.words(2).title()
    other = draw_product(d)

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
    product = draw_product(d, description=d.text(scale.toast_bytes))
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


# docs/design.md's "Scenarios" first, then the plain edits (weighted up: they
# are the background traffic the special scenarios run in).
SCENARIOS: dict[str, Kind] = {
    "category_then_product": Kind(category_then_product, 3),
    "product_before_its_category": Kind(product_before_its_category, 3),
    "create_then_delete": Kind(create_then_delete, 3),
    "delete_then_recreate": Kind(delete_then_recreate, 3),
    "requeue_trap": Kind(requeue_trap, 3),
    "multi_table_transaction": Kind(multi_table_transaction, 4),
    "category_fan_out": Kind(category_fan_out, 2),
    "bulk_import": Kind(bulk_import_then_delete_half, 1),
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
