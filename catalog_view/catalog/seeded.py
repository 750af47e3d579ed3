"""Fill the admin database with a realistic, reproducible catalog.

The same `--seed` always gives the same rows. Shapes follow a typical
storefront: a category tree six levels deep, product types with their
attributes, products with long (TOASTed) descriptions, variants with SKUs and
their own attribute values, and channel listings with prices per currency.
Everything goes in one transaction, so a seed is also a bulk-import workload.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from catalog_view.catalog.writes import delete_catalog, insert_rows
from catalog_view.errors import CatalogViewError
from catalog_view.settings import Settings
from catalog_view.source import connect_source

log = logging.getLogger(__name__)

CATEGORY_DEPTH = 6
WORDS = [
    "organic",
    "cotton",
    "linen",
    "merino",
    "wool",
    "recycled",
    "vintage",
    "classic",
    "slim",
    "relaxed",
    "premium",
    "everyday",
    "travel",
    "outdoor",
    "waterproof",
    "lightweight",
    "breathable",
    "handmade",
    "durable",
    "soft",
    "stretch",
    "summer",
    "winter",
    "studio",
    "urban",
    "trail",
    "coastal",
    "heritage",
    "modern",
    "essential",
]
ROOTS = ("Apparel", "Footwear", "Accessories", "Home", "Outdoor", "Electronics")
CHANNELS = (
    ("Default channel", "default-channel", "USD"),
    ("Poland", "channel-pln", "PLN"),
    ("Europe", "channel-eur", "EUR"),
)
ATTRIBUTES = {
    "color": ("Color", ("black", "white", "navy", "olive", "sand", "red", "forest")),
    "size": ("Size", ("xs", "s", "m", "l", "xl", "xxl")),
    "material": ("Material", ("cotton", "wool", "leather", "linen", "polyester")),
    "brand": ("Brand", ("northwind", "acme", "saltwater", "ridgeline", "kestrel")),
}
PRODUCT_TYPES = (
    ("T-shirt", "t-shirt", ("brand", "material"), ("color", "size")),
    ("Sneakers", "sneakers", ("brand",), ("color", "size")),
    ("Bag", "bag", ("brand", "material"), ("color",)),
    ("Gift card", "gift-card", (), ()),
)


class SeedError(CatalogViewError):
    """The catalog cannot be seeded as asked."""


@dataclass
class SeedReport:
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _slug(text: str) -> str:
    return "-".join(text.lower().split())


def seed_catalog(
    settings: Settings,
    products: int,
    seed: int,
    *,
    reset: bool = False,
    append: bool = False,
    progress: bool = True,
) -> SeedReport:
    if products < 0:
        raise SeedError(f"--products must be >= 0, got {products}")
    rng = random.Random(seed)
    report = SeedReport()
    with connect_source(settings) as conn:
        existing = conn.execute("SELECT count(*) FROM product").fetchone()
        if existing and existing[0] and not (reset or append):
            raise SeedError(
                f"the catalog already holds {existing[0]} products; "
                "`catalog-view seed --reset` deletes them first, --append adds to them"
            )
        if reset:
            delete_catalog(conn)
        _seed(conn, rng, products, report, progress)
    return report


def _insert(
    conn: psycopg.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: Sequence[tuple[object, ...]],
    report: SeedReport,
) -> list[int]:
    """Insert rows, returning their generated ids in order; counted in the report."""
    ids = insert_rows(conn, table, columns, rows)
    report.rows[table] = report.rows.get(table, 0) + len(rows)
    return ids


def _seed(
    conn: psycopg.Connection, rng: random.Random, products: int, report: SeedReport, progress: bool
) -> None:
    # Category tree: each root gets one chain CATEGORY_DEPTH deep plus siblings.
    leaves: list[int] = []
    for root in ROOTS:
        parent: int | None = None
        for level in range(CATEGORY_DEPTH):
            name = root if level == 0 else f"{root} {_words(rng, 2)} {level}"
            siblings = 1 if level == 0 else rng.randint(1, 3)
            rows = [
                (
                    parent,
                    f"{name}{'' if i == 0 else f' {i}'}",
                    _slug(f"{name} {i} {rng.randrange(10**6)}"),
                    _words(rng, 8),
                )
                for i in range(siblings)
            ]
            ids = _insert(
                conn, "category", ("parent_id", "name", "slug", "description"), rows, report
            )
            leaves.extend(ids[1:])
            parent = ids[0]
        leaves.append(parent)  # type: ignore[arg-type]

    attribute_ids: dict[str, int] = {}
    value_ids: dict[str, list[int]] = {}
    for slug, (name, values) in ATTRIBUTES.items():
        attribute_ids[slug] = _insert(conn, "attribute", ("name", "slug"), [(name, slug)], report)[
            0
        ]
        value_ids[slug] = _insert(
            conn,
            "attribute_value",
            ("attribute_id", "name", "slug", "sort_order"),
            [(attribute_ids[slug], v.title(), v, i) for i, v in enumerate(values)],
            report,
        )

    type_ids = _insert(
        conn,
        "product_type",
        ("name", "slug", "has_variants"),
        [(name, slug, bool(variant_attrs)) for name, slug, _, variant_attrs in PRODUCT_TYPES],
        report,
    )
    channel_ids = _insert(
        conn, "channel", ("name", "slug", "currency_code"), list(CHANNELS), report
    )
    currencies = dict(zip(channel_ids, (c[2] for c in CHANNELS), strict=True))

    batch = 500
    for start in range(0, products, batch):
        count = min(batch, products - start)
        kinds = [rng.randrange(len(PRODUCT_TYPES)) for _ in range(count)]
        product_rows = [
            (
                type_ids[k],
                rng.choice(leaves),
                f"{_words(rng, 3).title()} {start + i}",
                f"product-{start + i}-{rng.randrange(10**9)}",
                # 300..1500 words: many descriptions exceed the TOAST threshold.
                _words(rng, rng.randint(300, 1500)),
                rng.choice((None, 1, 2, 3, 4, 5)),
            )
            for i, k in enumerate(kinds)
        ]
        product_ids = _insert(
            conn,
            "product",
            ("product_type_id", "category_id", "name", "slug", "description", "rating"),
            product_rows,
            report,
        )
        assignments: list[tuple[object, ...]] = []
        variants: list[tuple[object, ...]] = []
        variant_kinds: list[int] = []
        listings: list[tuple[object, ...]] = []
        listed_channels: dict[int, list[int]] = {}
        for pid, k in zip(product_ids, kinds, strict=True):
            _, type_slug, product_attrs, variant_attrs = PRODUCT_TYPES[k]
            assignments += [(pid, rng.choice(value_ids[a])) for a in product_attrs]
            for n in range(rng.randint(1, 4) if variant_attrs else 1):
                variants.append((pid, f"{type_slug}-{pid}-{n}".upper(), f"Variant {n}", n))
                variant_kinds.append(k)
            listed_channels[pid] = rng.sample(channel_ids, rng.randint(1, len(channel_ids)))
            for ch in listed_channels[pid]:
                published = rng.random() < 0.8
                listings.append(
                    (
                        pid,
                        ch,
                        published,
                        date(2024, 1, 1) + timedelta(days=rng.randrange(700))
                        if published
                        else None,
                        rng.random() < 0.9,
                    )
                )
        _insert(
            conn,
            "assigned_product_attribute_value",
            ("product_id", "value_id"),
            assignments,
            report,
        )
        variant_ids = _insert(
            conn, "product_variant", ("product_id", "sku", "name", "sort_order"), variants, report
        )
        variant_values: list[tuple[object, ...]] = []
        variant_prices: list[tuple[object, ...]] = []
        for vid, k, v in zip(variant_ids, variant_kinds, variants, strict=True):
            variant_values += [(vid, rng.choice(value_ids[a])) for a in PRODUCT_TYPES[k][3]]
            for ch in listed_channels[int(str(v[0]))]:
                price = Decimal(rng.randrange(500, 50000)) / 100
                variant_prices.append((vid, ch, price, currencies[ch]))
        _insert(
            conn,
            "assigned_variant_attribute_value",
            ("variant_id", "value_id"),
            variant_values,
            report,
        )
        _insert(
            conn,
            "product_channel_listing",
            ("product_id", "channel_id", "is_published", "publication_date", "visible_in_listings"),
            listings,
            report,
        )
        _insert(
            conn,
            "product_variant_channel_listing",
            ("variant_id", "channel_id", "price_amount", "currency"),
            variant_prices,
            report,
        )
        if progress:
            log.info("%d/%d products", start + count, products)
