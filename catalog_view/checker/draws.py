"""What a workload is made of: the sizes of its big scenarios (Scale), a
scenario (its source transactions in order), and the seeded draws from which
every random choice of a scenario comes, so that one seed replays the same
workload."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

from catalog_view.catalog.writes import NewProduct
from catalog_view.cli_options import cli_field
from catalog_view.errors import CatalogViewError

# A source transaction's writes: run by the recorder, which commits it.
Transaction = Callable[[psycopg.Connection], None]

WORDS = ("alpine", "harbor", "linen", "merino", "canvas", "cobalt", "ember", "fjord", "juniper")


class WorkloadError(CatalogViewError):
    """A workload was asked for with impossible parameters."""


@dataclass(frozen=True)
class Scale:
    """Sizes of the big scenarios; the defaults keep a CI run small.

    docs/design.md ("Scenarios") asks for fan-out to thousands of products and
    bulk imports of 10k+ rows: `Scale.full()` gives those sizes."""

    bulk_rows: int = cli_field(2000, "rows per bulk import (--full-scale: 12000)")
    fan_out_products: int = cli_field(
        200, "products beneath the fan-out category", flag="--fan-out"
    )
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


def draw_product(d: Draws, description: str = "") -> NewProduct:
    """Everything a product create needs, drawn in advance."""
    variants = d.integer(0, 3)
    return NewProduct(
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
