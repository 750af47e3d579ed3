"""The scenarios of docs/design.md ("Scenarios"), one test each, on the real stack.

Each test names the property it defends, commits the scenario's source DML
back to back (no waiting in between unless the test checks an intermediate
state), and then asserts the exact store rows of its id range, read in ONE
repeatable-read transaction together with a watermark that names the last
source transaction of the scenario (Materialize testdrive style).

Ids: 2_000_000 + 1000 * n per test, except the bulk import, which owns
2_100_000..2_109_999. test_e2e_views uses 1_00x_000.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from catalog_view.catalog.writes import delete_product
from catalog_view.settings import Settings
from catalog_view.source import current_txid as _txid
from catalog_view.source import xid32
from catalog_view.waiting import wait_until
from tests.helpers import TIMEOUT_S, create_catalog_basics

pytestmark = pytest.mark.e2e

Row = dict[str, Any]
NAVY = {"attribute": "color", "value": "navy", "name": "Navy"}
SAND = {"attribute": "color", "value": "sand", "name": "Sand"}
VIEWS = {"product": ("product_id",), "product_channel": ("product_id", "channel_id")}


# -- helpers ---------------------------------------------------------------------------


def _crumb(category_id: int, name: str, slug: str) -> Row:
    return {"id": category_id, "name": name, "slug": slug}


def _path(base: int, depth: int = 3) -> list[Row]:
    names = [("Root", "root"), ("Apparel", "apparel"), ("Shirts", "shirts")]
    return [_crumb(base + i, n, f"{s}-{base}") for i, (n, s) in enumerate(names[:depth])]


def _product(base: int, product_id: int, name: str, path: list[Row] | None, **fields: Any) -> Row:
    """An expected catalog_view.product row; `path` None: no category (or a
    category_id whose category does not exist, given in fields)."""
    row: Row = {
        "product_id": product_id,
        "name": name,
        "slug": name.lower().replace(" ", "-"),
        "description": "",
        "rating": None,
        "product_type_id": base,
        "product_type_name": "T-shirt",
        "product_type_slug": "t-shirt",
        "category_id": path[-1]["id"] if path else None,
        "category_name": path[-1]["name"] if path else None,
        "category_slug": path[-1]["slug"] if path else None,
        "category_path": path,
        "attributes": {},
        "variants": {},
    }
    return {**row, **fields}


def _listing(base: int, product_id: int, variants: dict[str, Row], **fields: Any) -> Row:
    """An expected catalog_view.product_channel row in channel US."""
    prices = [Decimal(str(v["price"])) for v in variants.values()]
    row: Row = {
        "product_id": product_id,
        "channel_id": base,
        "channel_slug": f"us-{base}",
        "currency_code": "USD",
        "is_published": True,
        "publication_date": date(2025, 3, 1),
        "visible_in_listings": True,
        "variants": variants,
        "min_price": min(prices) if prices else None,
        "max_price": max(prices) if prices else None,
    }
    return {**row, **fields}


def _read(store: psycopg.Connection, ids: range) -> dict[str, dict[tuple[Any, ...], Row]]:
    result: dict[str, dict[tuple[Any, ...], Row]] = {}
    with store.cursor(row_factory=dict_row) as cur:
        for view, key in VIEWS.items():
            cur.execute(
                f"SELECT * FROM catalog_view.{view} WHERE product_id >= %s AND product_id < %s",
                (ids.start, ids.stop),
            )
            result[view] = {tuple(r[k] for k in key): r for r in cur.fetchall()}
    return result


def _snapshot(store: psycopg.Connection, ids: range) -> tuple[int | None, dict[str, Any]]:
    """Watermark and the rows of `ids`, in one repeatable-read transaction."""
    with store.transaction():
        store.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        mark = store.execute("SELECT source_txid FROM catalog_view.watermark").fetchone()
        return (None if mark is None else mark[0]), _read(store, ids)


def wait_for_view(
    store: psycopg.Connection,
    txid: int,
    ids: range,
    product: Sequence[Row],
    product_channel: Sequence[Row] = (),
    timeout_s: float = TIMEOUT_S,
) -> None:
    """Wait until the watermark names source transaction `txid` and, in the
    same read, the rows of both views in `ids` are exactly the expected ones."""
    expected = {
        "product": {(r["product_id"],): r for r in product},
        "product_channel": {(r["product_id"], r["channel_id"]): r for r in product_channel},
    }

    def shows() -> bool:
        mark, rows = _snapshot(store, ids)
        return mark == xid32(txid) and rows == expected

    def last(_: bool) -> str:
        mark, rows = _snapshot(store, ids)
        return f"watermark {mark} (want {xid32(txid)}), rows {rows!r:.2000}"

    wait_until(
        shows,
        timeout_s=timeout_s,
        what=f"store at source txid {txid} with exact rows",
        describe_last=last,
    )


def _insert_product(
    admin: psycopg.Connection, product_id: int, base: int, category_id: int | None, name: str
) -> None:
    admin.execute(
        "INSERT INTO product (id, product_type_id, category_id, name, slug) "
        "VALUES (%s, %s, %s, %s, %s)",
        (product_id, base, category_id, name, name.lower().replace(" ", "-")),
    )


def _insert_variant(
    admin: psycopg.Connection, variant_id: int, product_id: int, sku: str, value: int, price: str
) -> None:
    """A variant with one color and a price in channel US (channel id = value's base)."""
    admin.execute(
        "INSERT INTO product_variant (id, product_id, sku, name) VALUES (%s, %s, %s, %s)",
        (variant_id, product_id, sku, sku.title()),
    )
    admin.execute(
        "INSERT INTO assigned_variant_attribute_value (id, variant_id, value_id) "
        "VALUES (%s, %s, %s)",
        (variant_id, variant_id, value),
    )
    admin.execute(
        "INSERT INTO product_variant_channel_listing "
        "(id, variant_id, channel_id, price_amount, currency) VALUES (%s, %s, %s, %s, 'USD')",
        (variant_id, variant_id, value - value % 1000, Decimal(price)),
    )


def _list_in_us(admin: psycopg.Connection, listing_id: int, product_id: int, base: int) -> None:
    admin.execute(
        "INSERT INTO product_channel_listing (id, product_id, channel_id, is_published, "
        "publication_date, visible_in_listings) VALUES (%s, %s, %s, true, '2025-03-01', true)",
        (listing_id, product_id, base),
    )


def test_category_then_product_in_back_to_back_transactions(
    admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    """C1 across transactions: a product created right after its category shows
    the category and its whole breadcrumb, never a product without them."""
    base = 2_001_000
    create_catalog_basics(admin, base)
    with admin.transaction():
        admin.execute(
            "INSERT INTO category (id, parent_id, name, slug) VALUES (%s, %s, 'Polos', 'polos')",
            (base + 10, base + 1),
        )
    with admin.transaction():
        _insert_product(admin, base, base, base + 10, "Polo")
        last = _txid(admin)
    path = [*_path(base, 2), _crumb(base + 10, "Polos", "polos")]
    wait_for_view(store, last, range(base, base + 1000), [_product(base, base, "Polo", path)])


def test_product_referencing_a_category_created_later(
    admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    """C1 inherits the source's consistency (no FK): while the source holds a
    product whose category does not exist yet, the view says exactly what Q
    says (category fields null); once the category is created, it appears."""
    base = 2_002_000
    ids = range(base, base + 1000)
    create_catalog_basics(admin, base)
    with admin.transaction():
        _insert_product(admin, base, base, base + 10, "Early")
        first = _txid(admin)
    wait_for_view(store, first, ids, [_product(base, base, "Early", None, category_id=base + 10)])
    with admin.transaction():
        admin.execute(
            "INSERT INTO category (id, parent_id, name, slug) VALUES (%s, %s, 'Late', 'late')",
            (base + 10, base),
        )
        second = _txid(admin)
    path = [*_path(base, 1), _crumb(base + 10, "Late", "late")]
    wait_for_view(store, second, ids, [_product(base, base, "Early", path)])


# -- 20-deletes -------------------------------------------------------------------------


def test_create_then_delete_one_id(admin: psycopg.Connection, store: psycopg.Connection) -> None:
    """C3: a product created and deleted in back-to-back transactions is gone
    from both views once the watermark names the delete; nothing resurrects."""
    base = 2_003_000
    create_catalog_basics(admin, base)
    with admin.transaction():
        _insert_product(admin, base, base, base + 2, "Brief")
        _insert_variant(admin, base, base, "brief-navy", base, "10.00")
        _list_in_us(admin, base, base, base)
    with admin.transaction():
        delete_product(admin, base)
        last = _txid(admin)
    wait_for_view(store, last, range(base, base + 1000), [], [])


def test_delete_then_recreate_one_id(admin: psycopg.Connection, store: psycopg.Connection) -> None:
    """C1/C3 by id: delete a product and re-create the same id with other
    content in the next transaction; the view shows only the new content."""
    base = 2_004_000
    ids = range(base, base + 1000)
    create_catalog_basics(admin, base)
    with admin.transaction():
        _insert_product(admin, base, base, base + 2, "Old")
        _insert_variant(admin, base, base, "old-navy", base, "10.00")
        _list_in_us(admin, base, base, base)
        first = _txid(admin)
    old_variants = {str(base): {"sku": "old-navy", "name": "Old-Navy", "attributes": {}}}
    old_variants[str(base)]["attributes"] = {str(base): NAVY}
    wait_for_view(
        store,
        first,
        ids,
        [_product(base, base, "Old", _path(base), variants=old_variants)],
        [_listing(base, base, {str(base): {"sku": "old-navy", "price": 10.0}})],
    )
    with admin.transaction():
        delete_product(admin, base)
    with admin.transaction():
        _insert_product(admin, base, base, base + 1, "New")
        _insert_variant(admin, base + 1, base, "new-sand", base + 1, "12.50")
        last = _txid(admin)
    new_variants = {str(base + 1): {"sku": "new-sand", "name": "New-Sand", "attributes": {}}}
    new_variants[str(base + 1)]["attributes"] = {str(base + 1): SAND}
    wait_for_view(
        store, last, ids, [_product(base, base, "New", _path(base, 2), variants=new_variants)]
    )


def test_requeue_trap_create_depending_on_x_then_x_then_delete(
    admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    """The users' trap: "Create-Event depending on X, Event X, Delete-Event".
    Consumers that re-queue the create until X exists process the delete
    first and then resurrect the product. C1/C3: after the three source
    transactions the deleted product is absent for good, and the product that
    was not deleted shows X."""
    base = 2_005_000
    x = base + 10
    create_catalog_basics(admin, base)
    with admin.transaction():  # create, depending on X (X does not exist yet)
        _insert_product(admin, base, base, x, "Doomed")
        _insert_variant(admin, base, base, "doomed-navy", base, "9.99")
        _list_in_us(admin, base, base, base)
        _insert_product(admin, base + 1, base, x, "Keeper")
    with admin.transaction():  # X
        admin.execute(
            "INSERT INTO category (id, parent_id, name, slug) VALUES (%s, %s, 'X', 'x')",
            (x, base + 1),
        )
    with admin.transaction():  # delete of the first create
        delete_product(admin, base)
        last = _txid(admin)
    path = [*_path(base, 2), _crumb(x, "X", "x")]
    wait_for_view(store, last, range(base, base + 1000), [_product(base, base + 1, "Keeper", path)])


# -- 30-concurrency ---------------------------------------------------------------------


def test_concurrent_transactions_commit_order_differs_from_start_order(
    settings: Settings, admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    """C1/C2 follow commit order, not start order: A starts first and writes;
    B, on another connection, renames A's category and commits while A is
    still open; the store shows B's state (without A's product), then A's."""
    base = 2_006_000
    ids = range(base, base + 1000)
    create_catalog_basics(admin, base)
    renamed = [*_path(base, 2), _crumb(base + 2, "Tops", f"shirts-{base}")]
    with psycopg.connect(settings.admin_conninfo()) as a:  # not autocommit: A stays open
        a.execute(f"SET search_path TO {settings.admin_schema}")
        _insert_product(a, base, base, base + 2, "From A")
        txid_a = _txid(a)
        with admin.transaction():  # B
            admin.execute("UPDATE category SET name = 'Tops' WHERE id = %s", (base + 2,))
            _insert_product(admin, base + 1, base, base + 2, "From B")
            txid_b = _txid(admin)
        assert txid_a < txid_b  # A started first ...
        wait_for_view(store, txid_b, ids, [_product(base, base + 1, "From B", renamed)])
        a.commit()  # ... and commits last: the watermark then names A
    wait_for_view(
        store,
        txid_a,
        ids,
        [_product(base, base, "From A", renamed), _product(base, base + 1, "From B", renamed)],
    )


# -- 40-bulk ----------------------------------------------------------------------------


def test_bulk_import_of_10k_rows_in_one_transaction(
    admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    """C1 at size: 11 250 source rows (1 250 products, each with an attribute,
    2 variants with colors and prices, a listing) in ONE transaction, then
    every row of both views exactly as Q says."""
    base, n = 2_100_000, 1250
    create_catalog_basics(admin, base)
    with admin.transaction():
        admin.execute(
            "INSERT INTO product (id, product_type_id, category_id, name, slug) "
            "SELECT %(b)s + g, %(b)s, %(b)s + 2, 'Bulk ' || g, 'bulk-' || g "
            "FROM generate_series(0, %(n)s - 1) AS g",
            {"b": base, "n": n},
        )
        admin.execute(
            "INSERT INTO assigned_product_attribute_value (id, product_id, value_id) "
            "SELECT %(b)s + g, %(b)s + g, %(b)s FROM generate_series(0, %(n)s - 1) AS g",
            {"b": base, "n": n},
        )
        admin.execute(
            "INSERT INTO product_variant (id, product_id, sku, name) "
            "SELECT %(b)s + g, %(b)s + g / 2, 'BULK-' || g, 'V' || g %% 2 "
            "FROM generate_series(0, 2 * %(n)s - 1) AS g",
            {"b": base, "n": n},
        )
        admin.execute(
            "INSERT INTO assigned_variant_attribute_value (id, variant_id, value_id) "
            "SELECT %(b)s + g, %(b)s + g, %(b)s + g %% 2 FROM generate_series(0, 2 * %(n)s - 1) g",
            {"b": base, "n": n},
        )
        admin.execute(
            "INSERT INTO product_channel_listing (id, product_id, channel_id, is_published, "
            "publication_date) SELECT %(b)s + g, %(b)s + g, %(b)s, true, '2025-03-01' "
            "FROM generate_series(0, %(n)s - 1) AS g",
            {"b": base, "n": n},
        )
        admin.execute(
            "INSERT INTO product_variant_channel_listing (id, variant_id, channel_id, "
            "price_amount, currency) SELECT %(b)s + g, %(b)s + g, %(b)s, 10 + g %% 7, 'USD' "
            "FROM generate_series(0, 2 * %(n)s - 1) AS g",
            {"b": base, "n": n},
        )
        last = _txid(admin)
    products, listings = [], []
    for i in range(n):
        variants = {
            str(base + 2 * i + v): {
                "sku": f"BULK-{2 * i + v}",
                "name": f"V{v}",
                "attributes": {str(base + v): NAVY if v == 0 else SAND},
            }
            for v in (0, 1)
        }
        prices = {
            str(base + 2 * i + v): {"sku": f"BULK-{2 * i + v}", "price": 10 + (2 * i + v) % 7}
            for v in (0, 1)
        }
        products.append(
            _product(
                base,
                base + i,
                f"Bulk {i}",
                _path(base),
                slug=f"bulk-{i}",
                attributes={str(base): NAVY},
                variants=variants,
            )
        )
        listings.append(_listing(base, base + i, prices))
    wait_for_view(store, last, range(base, base + 10_000), products, listings, TIMEOUT_S * 3)


# -- 50-fan-out -------------------------------------------------------------------------


def test_category_move_and_rename_fan_out_to_every_product_beneath(
    admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    """C1 for a fan-out: one transaction moves Apparel under another root and
    renames Shirts; all 300 products beneath show the new breadcrumb."""
    base = 2_007_000
    count = 300
    create_catalog_basics(admin, base)
    with admin.transaction():
        admin.execute(
            "INSERT INTO category (id, parent_id, name, slug) VALUES (%s, NULL, 'Sale', 'sale')",
            (base + 20,),
        )
        admin.execute(
            "INSERT INTO product (id, product_type_id, category_id, name, slug) "
            "SELECT %(b)s + g, %(b)s, %(b)s + 2, 'Fan ' || g, 'fan-' || g "
            "FROM generate_series(0, %(n)s - 1) AS g",
            {"b": base, "n": count},
        )
    with admin.transaction():
        admin.execute("UPDATE category SET parent_id = %s WHERE id = %s", (base + 20, base + 1))
        admin.execute("UPDATE category SET name = 'Tops' WHERE id = %s", (base + 2,))
        last = _txid(admin)
    path = [
        _crumb(base + 20, "Sale", "sale"),
        _crumb(base + 1, "Apparel", f"apparel-{base}"),
        _crumb(base + 2, "Tops", f"shirts-{base}"),
    ]
    expected = [_product(base, base + i, f"Fan {i}", path, slug=f"fan-{i}") for i in range(count)]
    wait_for_view(store, last, range(base, base + 1000), expected, timeout_s=TIMEOUT_S * 2)


# -- 60-primary-key-update ----------------------------------------------------------------


def test_primary_key_update(admin: psycopg.Connection, store: psycopg.Connection) -> None:
    """C1 for a key change: UPDATE product SET id moves the view row to the new
    key. Product A's dependents follow in the same transaction; product B's do
    not, so its variants and listing dangle on the old id, exactly as in Q."""
    base = 2_008_000
    create_catalog_basics(admin, base)
    with admin.transaction():
        for pid, name in ((base, "Keyed A"), (base + 1, "Keyed B")):
            _insert_product(admin, pid, base, base + 2, name)
            _insert_variant(admin, pid, pid, f"sku-{pid - base}", base, "20.00")
            _list_in_us(admin, pid, pid, base)
        admin.execute(
            "INSERT INTO assigned_product_attribute_value (id, product_id, value_id) "
            "VALUES (%s, %s, %s)",
            (base, base, base + 1),
        )
    with admin.transaction():
        admin.execute("UPDATE product SET id = %s WHERE id = %s", (base + 500, base))
        for table in ("product_variant", "product_channel_listing"):
            admin.execute(
                f"UPDATE {table} SET product_id = %s WHERE product_id = %s", (base + 500, base)
            )
        admin.execute(
            "UPDATE assigned_product_attribute_value SET product_id = %s WHERE product_id = %s",
            (base + 500, base),
        )
        admin.execute("UPDATE product SET id = %s WHERE id = %s", (base + 501, base + 1))
        last = _txid(admin)
    variants = {str(base): {"sku": "sku-0", "name": "Sku-0", "attributes": {str(base): NAVY}}}
    wait_for_view(
        store,
        last,
        range(base, base + 1000),
        [
            _product(
                base,
                base + 500,
                "Keyed A",
                _path(base),
                attributes={str(base + 1): SAND},
                variants=variants,
            ),
            _product(base, base + 501, "Keyed B", _path(base)),
        ],
        [_listing(base, base + 500, {str(base): {"sku": "sku-0", "price": 20.0}})],
    )


# -- 70-multi-table-transaction -----------------------------------------------------------


def test_one_transaction_touching_product_variants_attribute_values_and_listings(
    admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    """C1 for one wide transaction: rename the product, replace a variant,
    reassign the product's attribute value and unpublish its listing; both
    views go from the old state to the new one with no state in between."""
    base = 2_009_000
    ids = range(base, base + 1000)
    create_catalog_basics(admin, base)
    with admin.transaction():
        _insert_product(admin, base, base, base + 2, "Before")
        _insert_variant(admin, base, base, "before-navy", base, "30.00")
        _list_in_us(admin, base, base, base)
        admin.execute(
            "INSERT INTO assigned_product_attribute_value (id, product_id, value_id) "
            "VALUES (%s, %s, %s)",
            (base, base, base),
        )
    with admin.transaction():
        admin.execute("UPDATE product SET name = 'After' WHERE id = %s", (base,))
        for table, column in (
            ("product_variant_channel_listing", "variant_id"),
            ("assigned_variant_attribute_value", "variant_id"),
            ("product_variant", "id"),
        ):
            admin.execute(f"DELETE FROM {table} WHERE {column} = %s", (base,))
        _insert_variant(admin, base + 1, base, "after-sand", base + 1, "35.00")
        admin.execute(
            "UPDATE assigned_product_attribute_value SET value_id = %s WHERE id = %s",
            (base + 1, base),
        )
        admin.execute(
            "UPDATE product_channel_listing SET is_published = false, publication_date = NULL "
            "WHERE id = %s",
            (base,),
        )
        last = _txid(admin)
    variant = {"sku": "after-sand", "name": "After-Sand", "attributes": {str(base + 1): SAND}}
    wait_for_view(
        store,
        last,
        ids,
        [
            _product(
                base,
                base,
                "After",
                _path(base),
                slug="before",
                attributes={str(base + 1): SAND},
                variants={str(base + 1): variant},
            )
        ],
        [
            _listing(
                base,
                base,
                {str(base + 1): {"sku": "after-sand", "price": 35.0}},
                is_published=False,
                publication_date=None,
            )
        ],
    )


# -- 80-toast -----------------------------------------------------------------------------


def test_unchanged_toasted_description_survives_updates(
    admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    """C1 with TOAST: updates that leave a large out-of-line description
    alone (another column, and the product's category through the join)
    never blank or truncate it in the view."""
    base = 2_010_000
    create_catalog_basics(admin, base)
    description = secrets.token_hex(20_000)  # incompressible: stored out of line
    with admin.transaction():
        admin.execute(
            "INSERT INTO product (id, product_type_id, category_id, name, slug, description) "
            "VALUES (%s, %s, %s, 'Long', 'long', %s)",
            (base, base, base + 2, description),
        )
    size = admin.execute(
        "SELECT pg_column_size(description) FROM product WHERE id = %s", (base,)
    ).fetchone()
    assert size is not None and size[0] > 8192
    with admin.transaction():
        admin.execute("UPDATE product SET rating = 3 WHERE id = %s", (base,))
    with admin.transaction():
        admin.execute("UPDATE category SET name = 'Tees' WHERE id = %s", (base + 2,))
    with admin.transaction():
        admin.execute("UPDATE product SET name = 'Longer', rating = 4 WHERE id = %s", (base,))
        last = _txid(admin)
    path = [*_path(base, 2), _crumb(base + 2, "Tees", f"shirts-{base}")]
    expected = _product(base, base, "Longer", path, slug="long", description=description, rating=4)
    wait_for_view(store, last, range(base, base + 1000), [expected])
