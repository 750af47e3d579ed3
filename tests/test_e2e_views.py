"""End to end on the real stack: DML in the admin database -> Debezium ->
Kafka -> the Flink job -> exact denormalized rows in the store.

Each test uses its own id range (1_000_000 + 1000 * n) so tests do not see
each other's rows."""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from catalog_view.catalog.seeded import seed_catalog
from catalog_view.reference import VIEW_KEYS, diff, reference_rows, store_rows
from catalog_view.settings import Settings
from catalog_view.source import current_txid
from catalog_view.store import watermark_txid
from catalog_view.waiting import wait_until
from tests.helpers import TIMEOUT_S, create_catalog_basics, wait_for_row

pytestmark = pytest.mark.e2e


def _path(base: int, depth: int) -> list[dict[str, object]]:
    names = [("Root", "root"), ("Apparel", "apparel"), ("Shirts", "shirts")]
    return [
        {"id": base + i, "name": n, "slug": f"{s}-{base}"} for i, (n, s) in enumerate(names[:depth])
    ]


def test_product_insert_update_delete(admin: psycopg.Connection, store: psycopg.Connection) -> None:
    base = 1_001_000
    create_catalog_basics(admin, base)
    admin.execute(
        "INSERT INTO product (id, product_type_id, category_id, name, slug, description, rating) "
        "VALUES (%s, %s, %s, 'Tee', 'tee', 'Soft cotton', 4)",
        (base, base, base + 2),
    )
    admin.execute(
        "INSERT INTO assigned_product_attribute_value (id, product_id, value_id) "
        "VALUES (%s, %s, %s)",
        (base, base, base),
    )
    expected = {
        "product_id": base,
        "name": "Tee",
        "slug": "tee",
        "description": "Soft cotton",
        "rating": 4,
        "product_type_id": base,
        "product_type_name": "T-shirt",
        "product_type_slug": "t-shirt",
        "category_id": base + 2,
        "category_name": "Shirts",
        "category_slug": f"shirts-{base}",
        "category_path": _path(base, 3),
        "attributes": {str(base): {"attribute": "color", "value": "navy", "name": "Navy"}},
        "variants": {},
    }
    wait_for_row(store, "product", expected, product_id=base)

    admin.execute("UPDATE product SET name = 'Tee v2', rating = NULL WHERE id = %s", (base,))
    wait_for_row(store, "product", {**expected, "name": "Tee v2", "rating": None}, product_id=base)

    with admin.transaction():
        admin.execute("DELETE FROM assigned_product_attribute_value WHERE product_id = %s", (base,))
        admin.execute("DELETE FROM product WHERE id = %s", (base,))
    wait_for_row(store, "product", None, product_id=base)


def test_multi_table_transaction(
    admin: psycopg.Connection, store: psycopg.Connection, settings: Settings
) -> None:
    """One transaction: product, two variants with attributes, a listing with prices."""
    base = 1_002_000
    create_catalog_basics(admin, base)
    with admin.transaction():
        txid = current_txid(admin)
        admin.execute(
            "INSERT INTO product (id, product_type_id, category_id, name, slug) "
            "VALUES (%s, %s, %s, 'Polo', 'polo')",
            (base, base, base + 1),
        )
        admin.execute(
            "INSERT INTO product_variant (id, product_id, sku, name) VALUES "
            "(%(b)s, %(b)s, 'POLO-NAVY', 'Navy'), (%(b)s + 1, %(b)s, 'POLO-SAND', 'Sand')",
            {"b": base},
        )
        admin.execute(
            "INSERT INTO assigned_variant_attribute_value (id, variant_id, value_id) VALUES "
            "(%(b)s, %(b)s, %(b)s), (%(b)s + 1, %(b)s + 1, %(b)s + 1)",
            {"b": base},
        )
        admin.execute(
            "INSERT INTO product_channel_listing (id, product_id, channel_id, is_published, "
            "publication_date, visible_in_listings) VALUES (%s, %s, %s, true, '2025-03-01', true)",
            (base, base, base),
        )
        admin.execute(
            "INSERT INTO product_variant_channel_listing "
            "(id, variant_id, channel_id, price_amount, currency) VALUES "
            "(%(b)s, %(b)s, %(b)s, 25.00, 'USD'), "
            "(%(b)s + 1, %(b)s + 1, %(b)s, 19.50, 'USD')",
            {"b": base},
        )
    navy = {"attribute": "color", "value": "navy", "name": "Navy"}
    sand = {"attribute": "color", "value": "sand", "name": "Sand"}
    wait_for_row(
        store,
        "product",
        {
            "product_id": base,
            "name": "Polo",
            "slug": "polo",
            "description": "",
            "rating": None,
            "product_type_id": base,
            "product_type_name": "T-shirt",
            "product_type_slug": "t-shirt",
            "category_id": base + 1,
            "category_name": "Apparel",
            "category_slug": f"apparel-{base}",
            "category_path": _path(base, 2),
            "attributes": {},
            "variants": {
                str(base): {"sku": "POLO-NAVY", "name": "Navy", "attributes": {str(base): navy}},
                str(base + 1): {
                    "sku": "POLO-SAND",
                    "name": "Sand",
                    "attributes": {str(base + 1): sand},
                },
            },
        },
        product_id=base,
    )
    wait_for_row(
        store,
        "product_channel",
        {
            "product_id": base,
            "channel_id": base,
            "channel_slug": f"us-{base}",
            "currency_code": "USD",
            "is_published": True,
            "publication_date": date(2025, 3, 1),
            "visible_in_listings": True,
            "variants": {
                str(base): {"sku": "POLO-NAVY", "price": 25.0},
                str(base + 1): {"sku": "POLO-SAND", "price": 19.5},
            },
            "min_price": Decimal("19.50"),
            "max_price": Decimal("25.00"),
        },
        product_id=base,
        channel_id=base,
    )
    wait_until(
        lambda: (watermark_txid(store, settings) or 0) >= txid,
        timeout_s=TIMEOUT_S,
        what=f"watermark at or past source txid {txid}",
    )


def test_unchanged_toasted_description_survives_update(
    admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    base = 1_003_000
    create_catalog_basics(admin, base)
    # Random text does not compress: 40 kB is stored out of line (TOASTed).
    description = secrets.token_hex(20_000)
    admin.execute(
        "INSERT INTO product (id, product_type_id, category_id, name, slug, description, rating) "
        "VALUES (%s, %s, NULL, 'Long', 'long', %s, 1)",
        (base, base, description),
    )
    size = admin.execute(
        "SELECT pg_column_size(description) FROM product WHERE id = %s", (base,)
    ).fetchone()
    # Larger than a heap page even compressed: it can only live in the TOAST table.
    assert size is not None and size[0] > 8192
    admin.execute("UPDATE product SET rating = 5 WHERE id = %s", (base,))
    expected = {
        "product_id": base,
        "name": "Long",
        "slug": "long",
        "description": description,
        "rating": 5,
        "product_type_id": base,
        "product_type_name": "T-shirt",
        "product_type_slug": "t-shirt",
        "category_id": None,
        "category_name": None,
        "category_slug": None,
        "category_path": None,
        "attributes": {},
        "variants": {},
    }
    wait_for_row(store, "product", expected, product_id=base)


def test_text_a_real_catalog_holds_reaches_the_store_unchanged(
    admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    """Quotes, backslashes, non-ASCII, tabs and newlines in every kind of
    column the sink's payload carries: top-level strings, and strings inside
    the nested JSON (variants, breadcrumb, listings)."""
    base = 1_006_000
    create_catalog_basics(admin, base)
    name = '27" Monitor \\ Café ☕'
    description = 'Line one\n\tindented "quoted" \\ back\u00e9slash\r\nend'
    sku = 'MON-27"\\'
    with admin.transaction():
        admin.execute("UPDATE category SET name = %s WHERE id = %s", ('Écrans "HD"', base + 2))
        admin.execute(
            "INSERT INTO product (id, product_type_id, category_id, name, slug, description) "
            "VALUES (%s, %s, %s, %s, 'monitor', %s)",
            (base, base, base + 2, name, description),
        )
        admin.execute(
            "INSERT INTO product_variant (id, product_id, sku, name) VALUES (%s, %s, %s, %s)",
            (base, base, sku, "Größe\tL"),
        )
        admin.execute(
            "INSERT INTO product_channel_listing (id, product_id, channel_id, is_published, "
            "publication_date, visible_in_listings) VALUES (%s, %s, %s, true, %s, false)",
            (base, base, base, date(2026, 2, 28)),
        )
        admin.execute(
            "INSERT INTO product_variant_channel_listing (id, variant_id, channel_id, "
            "price_amount, currency) VALUES (%s, %s, %s, %s, 'USD')",
            (base, base, base, Decimal("19.90")),
        )
    path = _path(base, 3)
    path[2]["name"] = 'Écrans "HD"'
    wait_for_row(
        store,
        "product",
        {
            "product_id": base,
            "name": name,
            "slug": "monitor",
            "description": description,
            "rating": None,
            "product_type_id": base,
            "product_type_name": "T-shirt",
            "product_type_slug": "t-shirt",
            "category_id": base + 2,
            "category_name": 'Écrans "HD"',
            "category_slug": f"shirts-{base}",
            "category_path": path,
            "attributes": {},
            "variants": {str(base): {"sku": sku, "name": "Größe\tL", "attributes": {}}},
        },
        product_id=base,
    )
    wait_for_row(
        store,
        "product_channel",
        {
            "product_id": base,
            "channel_id": base,
            "channel_slug": f"us-{base}",
            "currency_code": "USD",
            "is_published": True,
            "publication_date": date(2026, 2, 28),
            "visible_in_listings": False,
            "variants": {str(base): {"sku": sku, "price": 19.9}},
            "min_price": Decimal("19.90"),
            "max_price": Decimal("19.90"),
        },
        product_id=base,
        channel_id=base,
    )


def test_category_rename_reaches_every_product_beneath(
    admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    base = 1_004_000
    create_catalog_basics(admin, base)
    with admin.transaction():
        for i in range(20):
            admin.execute(
                "INSERT INTO product (id, product_type_id, category_id, name, slug) "
                "VALUES (%s, %s, %s, %s, %s)",
                (base + i, base, base + 2, f"P{i}", f"p{i}"),
            )
    admin.execute("UPDATE category SET name = 'Clothing' WHERE id = %s", (base + 1,))
    renamed = _path(base, 3)
    renamed[1]["name"] = "Clothing"

    def all_renamed() -> bool:
        rows = store.execute(
            "SELECT category_path FROM catalog_view.product WHERE product_id BETWEEN %s AND %s",
            (base, base + 19),
        ).fetchall()
        return len(rows) == 20 and all(r[0] == renamed for r in rows)

    wait_until(all_renamed, timeout_s=TIMEOUT_S, what="20 products show the renamed category")


def test_store_equals_reference_after_seed(
    settings: Settings, admin: psycopg.Connection, store: psycopg.Connection
) -> None:
    """A seeded catalog (bulk import in one transaction) ends equal to the
    reference queries, for every row of every view."""
    seed_catalog(settings, products=40, seed=11, append=True, progress=False)

    def equal() -> bool:
        with psycopg.connect(settings.admin_conninfo()) as source:
            return all(
                diff(v, reference_rows(source, settings, v), store_rows(store, settings, v)).empty
                for v in VIEW_KEYS
            )

    wait_until(equal, timeout_s=TIMEOUT_S * 2, what="store == reference for every view")
    assert store.execute("SELECT count(*) FROM catalog_view.product").fetchone()[0] >= 40  # type: ignore[index]


def test_quiet_catalog_heartbeat_advances_the_watermark_not_the_state(
    admin: psycopg.Connection, store: psycopg.Connection, settings: Settings
) -> None:
    """With the catalog quiet, Debezium's heartbeat transactions still move the
    watermark's commit position and time forward (freshness stays visible),
    while it keeps naming the last catalog transaction, whose rows are shown."""
    base = 1_005_000
    with admin.transaction():
        admin.execute(
            "INSERT INTO category (id, parent_id, name, slug) VALUES (%s, NULL, 'Quiet', %s)",
            (base, f"quiet-{base}"),
        )
        txid = current_txid(admin)
    wait_until(
        lambda: watermark_txid(store, settings) == txid,
        timeout_s=TIMEOUT_S,
        what=f"watermark names source txid {txid}",
    )
    before = store.execute(
        "SELECT commit_lsn, source_commit FROM catalog_view.watermark"
    ).fetchone()
    assert before is not None

    def moved() -> bool:
        now = store.execute("SELECT commit_lsn FROM catalog_view.watermark").fetchone()
        return now is not None and now[0] > before[0]

    wait_until(moved, timeout_s=TIMEOUT_S, what="a heartbeat advances the commit position")
    after = store.execute(
        "SELECT source_txid, source_commit FROM catalog_view.watermark"
    ).fetchone()
    assert after is not None
    assert after[0] == txid, "no catalog change happened: the state is still that of our txid"
    assert after[1] > before[1]
    beat = admin.execute("SELECT count(*) FROM cdc_heartbeat").fetchone()
    assert beat == (1,), "Debezium's heartbeat.action.query wrote the heartbeat row"
