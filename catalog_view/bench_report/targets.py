"""The targets of a bench run, each met, missed or not measured (with why)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from catalog_view.bench_report.figures import (
    LAG_GROWTH_LIMIT_S,
    LAG_MIN_POINTS,
    SQL_JDBC_BASELINE,
    num,
)
from catalog_view.bench_report.results import Measured, PipelineResults


class TargetStatus(str, Enum):
    MET = "met"
    MISSED = "missed"
    NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class TargetResult:
    key: str
    scenario: str
    rule: str
    status: TargetStatus
    measured: str  # the figure judged, or why there is none

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "scenario": self.scenario,
            "rule": self.rule,
            "status": self.status.value,
            "measured": self.measured,
        }


B2_RATIO_ROWS, B2_RATIO_LIMIT = 100_000, 1.5
B2_RSS_ROWS, B2_RSS_LIMIT_MIB = 1_000_000, 2048.0
B1_P99_RATE, B1_P99_LIMIT_S = 50, 1.0
B1_LAG_RATE = 200
B3_RATIO_LIMIT = 3.0
B4_VISIBLE_LIMIT_S = 5.0


def evaluate_targets(run: Measured) -> list[TargetResult]:
    return [check(run) for check in TARGET_CHECKS]


E = TypeVar("E")


@dataclass(frozen=True)
class AtMost(Generic[E]):
    """A target on one figure of one entry of the run (a rate's result, a
    size's capture, ...): met when the figure is at most `limit`."""

    key: str
    scenario: str
    rule: str
    limit: float
    unit: str
    entry: Callable[[Measured], E | None]
    figure: Callable[[E], float | None]
    # What is missing, for the reason given when the target is not measured:
    # the entry (no such entry in the run), or its figure.
    missing_entry: str
    missing_figure: str
    digits: int = 2
    unit_of: Callable[[E], str] | None = None  # a unit that names the entry's size

    def __call__(self, run: Measured) -> TargetResult:
        entry = self.entry(run)
        value = None if entry is None else self.figure(entry)
        if entry is None or value is None:
            why = (
                f"no {self.missing_entry} in this run"
                if entry is None
                else f"{self.missing_figure} not measured"
            )
            return TargetResult(self.key, self.scenario, self.rule, TargetStatus.NOT_MEASURED, why)
        status = TargetStatus.MET if value <= self.limit else TargetStatus.MISSED
        unit = self.unit + (self.unit_of(entry) if self.unit_of else "")
        return TargetResult(
            self.key, self.scenario, self.rule, status, num(value, self.digits, unit)
        )


B1_P99 = AtMost(
    "b1-p99-50",
    "B1",
    f"p99 commit-to-visible <= {B1_P99_LIMIT_S:.0f} s at {B1_P99_RATE} tx/s",
    B1_P99_LIMIT_S,
    " s",
    lambda run: run.product.freshness_at(B1_P99_RATE),
    lambda freshness: freshness.percentiles.p99,
    f"run at {B1_P99_RATE} tx/s",
    "latency",
)
B1_BOUNDED_LAG = AtMost(
    "b1-bounded-lag-200",
    "B1",
    f"no unbounded lag at {B1_LAG_RATE} tx/s: median lag of the run's last third "
    f"<= median lag of its first third + {LAG_GROWTH_LIMIT_S:.0f} s",
    LAG_GROWTH_LIMIT_S,
    " s growth",
    lambda run: run.product.freshness_at(B1_LAG_RATE),
    lambda freshness: freshness.lag_growth_s,
    f"run at {B1_LAG_RATE} tx/s",
    f"lag series (fewer than {LAG_MIN_POINTS} points)",
)
B2_RATIO = AtMost(
    "b2-ratio-100k",
    "B2",
    f"store_s / kafka_s <= {B2_RATIO_LIMIT} for one transaction of {B2_RATIO_ROWS:,} rows",
    B2_RATIO_LIMIT,
    "x",
    lambda run: run.product.capture_of(B2_RATIO_ROWS),
    lambda capture: capture.ratio,
    f"{B2_RATIO_ROWS:,}-row transaction",
    "kafka_s or store_s",
)
B2_RSS = AtMost(
    "b2-rss-1m",
    "B2",
    f"peak job RSS <= {B2_RSS_LIMIT_MIB:.0f} MiB for one transaction of {B2_RSS_ROWS:,} rows",
    B2_RSS_LIMIT_MIB,
    " MiB",
    lambda run: run.product.capture_of(B2_RSS_ROWS),
    lambda capture: capture.peak_rss_mib,
    f"{B2_RSS_ROWS:,}-row transaction",
    "peak RSS",
    digits=0,
)
B3_RATIO = AtMost(
    "b3-ratio",
    "B3",
    f"snapshot_s / in_db_s <= {B3_RATIO_LIMIT:.0f}",
    B3_RATIO_LIMIT,
    "x",
    lambda run: run.b3,
    lambda backfill: backfill.ratio,
    "backfill",
    "snapshot_s or in_db_s",
)
B4_VISIBLE = AtMost(
    "b4-visible",
    "B4",
    f"a root category's rename visible <= {B4_VISIBLE_LIMIT_S:.0f} s",
    B4_VISIBLE_LIMIT_S,
    " s",
    lambda run: run.b4,
    lambda fan_out: fan_out.visible_s,
    "fan-out",
    "visible_s",
    unit_of=lambda fan_out: f" ({fan_out.products:,} products)",
)


# (label, the product's figure, the baseline's figure); smaller is faster.
Comparison = tuple[str, float | None, float | None]


def _no_slower(
    run: Measured,
    key: str,
    scenario: str,
    rule: str,
    pairs_with: Callable[[PipelineResults], list[Comparison]],
) -> TargetResult:
    """Met when the product is no slower than the SQL+JDBC baseline wherever
    both figures were measured."""
    baseline = run.baselines.get(SQL_JDBC_BASELINE)
    if baseline is None:
        why = f"no {SQL_JDBC_BASELINE} baseline in this run"
        return TargetResult(key, scenario, rule, TargetStatus.NOT_MEASURED, why)
    pairs = pairs_with(baseline)
    both = [(label, p, b) for label, p, b in pairs if p is not None and b is not None]
    if not both:
        why = "no figure measured by both"
        return TargetResult(key, scenario, rule, TargetStatus.NOT_MEASURED, why)
    slower = [label for label, p, b in both if p > b]
    label, p, b = max(both, key=lambda c: c[1] / c[2] if c[2] > 0 else math.inf)
    measured = f"no slower at {len(both) - len(slower)} of {len(both)}"
    measured += f"; worst {label}: {p:.2f} s vs {b:.2f} s"
    if len(both) < len(pairs):
        measured += f"; {len(pairs) - len(both)} not measured by both"
    status = TargetStatus.MISSED if slower else TargetStatus.MET
    return TargetResult(key, scenario, rule, status, measured)


def _target_b1_vs_baseline(run: Measured) -> TargetResult:
    def p99_pairs(baseline: PipelineResults) -> list[Comparison]:
        pairs: list[Comparison] = []
        for result in run.b1:
            theirs = baseline.freshness_at(result.rate_tps)
            p99 = theirs.percentiles.p99 if theirs else None
            pairs.append((f"{result.rate_tps} tx/s", result.percentiles.p99, p99))
        return pairs

    rule = f"B1 p99 <= the {SQL_JDBC_BASELINE} baseline's at every rate"
    return _no_slower(run, "b1-vs-sql-jdbc", "B1", rule, p99_pairs)


def _target_b2_vs_baseline(run: Measured) -> TargetResult:
    def store_s_pairs(baseline: PipelineResults) -> list[Comparison]:
        pairs: list[Comparison] = []
        for capture in run.b2:
            theirs = baseline.capture_of(capture.rows, capture.transactions)
            pairs.append((capture.label, capture.store_s, theirs.store_s if theirs else None))
        return pairs

    rule = f"B2 store_s <= the {SQL_JDBC_BASELINE} baseline's at every size"
    return _no_slower(run, "b2-vs-sql-jdbc", "B2", rule, store_s_pairs)


TARGET_CHECKS: tuple[Callable[[Measured], TargetResult], ...] = (
    B1_P99,
    B1_BOUNDED_LAG,
    _target_b1_vs_baseline,
    B2_RATIO,
    B2_RSS,
    _target_b2_vs_baseline,
    B3_RATIO,
    B4_VISIBLE,
)
