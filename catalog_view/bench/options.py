"""What one bench run measures: the scenarios, the scales and the options
of a run. Below both the command (which parses them) and the runner."""

from __future__ import annotations

from dataclasses import dataclass

SCENARIOS = ("b1", "b2", "b3", "b4", "b5")


@dataclass(frozen=True)
class Scale:
    rates: tuple[int, ...]  # B1, source transactions per second
    b1_seconds: float  # B1, per rate
    sizes: tuple[int, ...]  # B2, rows of each single transaction
    burst: int  # B2, single-row transactions of the burst (0: none)
    b3_products: int
    b4_products: int
    products: int  # the catalog B1, B2 and B4 run on (each pipeline starts on it)


SCALES = {
    # Within 15 minutes on a 2-core machine, baseline included.
    "small": Scale(
        rates=(20, 50, 100, 200),
        b1_seconds=12.0,
        sizes=(10_000,),
        burst=500,
        b3_products=2_000,
        b4_products=2_000,
        products=2_000,  # = b3_products: B3's snapshot starts the product
    ),
    "full": Scale(
        rates=(20, 50, 100, 200),
        b1_seconds=60.0,
        sizes=(10_000, 100_000, 1_000_000),
        burst=2_000,
        b3_products=100_000,
        b4_products=50_000,
        products=1_000,
    ),
}


@dataclass(frozen=True)
class BenchOptions:
    scale_name: str
    scale: Scale
    scenarios: tuple[str, ...]
    baselines: tuple[str, ...]  # keys of pipelines.BASELINES
    parallelism: int
    seed: int
    json: bool = False

    @property
    def custom(self) -> bool:
        return self.scale != SCALES[self.scale_name]

    @property
    def scale_label(self) -> str:
        return f"{self.scale_name} (custom)" if self.custom else self.scale_name

    def runs(self, scenario: str) -> bool:
        return scenario in self.scenarios

    @property
    def backfill_first(self) -> bool:
        """B3's snapshot is also the product's fresh start for B1, B2 and B4
        when they run on a catalog of B3's size: one fresh start saved. With
        none of them, B3 runs on its own (after the baselines)."""
        return (
            self.runs("b3")
            and any(self.runs(n) for n in ("b1", "b2", "b4"))
            and self.scale.b3_products == self.scale.products
        )

    def describe(self) -> str:
        s = self.scale
        baselines = ",".join(self.baselines) or "none"
        return (
            f"scenarios {','.join(self.scenarios)}; baselines {baselines}; "
            f"catalog {s.products:,} products; B1 {','.join(map(str, s.rates))} tx/s for "
            f"{s.b1_seconds:g} s each; B2 {','.join(f'{n:,}' for n in s.sizes) or 'no'} rows and a "
            f"burst of {s.burst:,}; B3 {s.b3_products:,} products; B4 {s.b4_products:,} products"
        )
