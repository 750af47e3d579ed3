"""The targets of a bench run, each met, missed or not measured (with why)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

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


def _at_most(
    key: str,
    scenario: str,
    rule: str,
    value: float | None,
    limit: float,
    unit: str,
    why: str,
    digits: int = 2,
) -> TargetResult:
    """A figure against its upper limit; `why` says what is missing when the
    figure was not measured."""
    if value is None:
        return TargetResult(key, scenario, rule, TargetStatus.NOT_MEASURED, why)
    status = TargetStatus.MET if value <= limit else TargetStatus.MISSED
    return TargetResult(key, scenario, rule, status, num(value, digits, unit))


def _missing_figure(entry: object | None, what: str, figure: str) -> str:
    return f"no {what} in this run" if entry is None else f"{figure} not measured"


def _target_b2_ratio(run: Measured) -> TargetResult:
    capture = run.product.capture_of(B2_RATIO_ROWS)
    return _at_most(
        "b2-ratio-100k",
        "B2",
        f"store_s / kafka_s <= {B2_RATIO_LIMIT} for one transaction of {B2_RATIO_ROWS:,} rows",
        capture.ratio if capture else None,
        B2_RATIO_LIMIT,
        "x",
        _missing_figure(capture, f"{B2_RATIO_ROWS:,}-row transaction", "kafka_s or store_s"),
    )


def _target_b2_rss(run: Measured) -> TargetResult:
    capture = run.product.capture_of(B2_RSS_ROWS)
    return _at_most(
        "b2-rss-1m",
        "B2",
        f"peak job RSS <= {B2_RSS_LIMIT_MIB:.0f} MiB for one transaction of {B2_RSS_ROWS:,} rows",
        capture.peak_rss_mib if capture else None,
        B2_RSS_LIMIT_MIB,
        " MiB",
        _missing_figure(capture, f"{B2_RSS_ROWS:,}-row transaction", "peak RSS"),
        digits=0,
    )


def _target_b1_p99(run: Measured) -> TargetResult:
    freshness = run.product.freshness_at(B1_P99_RATE)
    return _at_most(
        "b1-p99-50",
        "B1",
        f"p99 commit-to-visible <= {B1_P99_LIMIT_S:.0f} s at {B1_P99_RATE} tx/s",
        freshness.percentiles.p99 if freshness else None,
        B1_P99_LIMIT_S,
        " s",
        _missing_figure(freshness, f"run at {B1_P99_RATE} tx/s", "latency"),
    )


def _target_b1_bounded_lag(run: Measured) -> TargetResult:
    freshness = run.product.freshness_at(B1_LAG_RATE)
    return _at_most(
        "b1-bounded-lag-200",
        "B1",
        f"no unbounded lag at {B1_LAG_RATE} tx/s: median lag of the run's last third "
        f"<= median lag of its first third + {LAG_GROWTH_LIMIT_S:.0f} s",
        freshness.lag_growth_s if freshness else None,
        LAG_GROWTH_LIMIT_S,
        " s growth",
        _missing_figure(
            freshness,
            f"run at {B1_LAG_RATE} tx/s",
            f"lag series (fewer than {LAG_MIN_POINTS} points)",
        ),
    )


def _target_b3_ratio(run: Measured) -> TargetResult:
    return _at_most(
        "b3-ratio",
        "B3",
        f"snapshot_s / in_db_s <= {B3_RATIO_LIMIT:.0f}",
        run.b3.ratio if run.b3 else None,
        B3_RATIO_LIMIT,
        "x",
        _missing_figure(run.b3, "backfill", "snapshot_s or in_db_s"),
    )


def _target_b4_visible(run: Measured) -> TargetResult:
    return _at_most(
        "b4-visible",
        "B4",
        f"a root category's rename visible <= {B4_VISIBLE_LIMIT_S:.0f} s",
        run.b4.visible_s if run.b4 else None,
        B4_VISIBLE_LIMIT_S,
        " s" + (f" ({run.b4.products:,} products)" if run.b4 else ""),
        _missing_figure(run.b4, "fan-out", "visible_s"),
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
    _target_b1_p99,
    _target_b1_bounded_lag,
    _target_b1_vs_baseline,
    _target_b2_ratio,
    _target_b2_rss,
    _target_b2_vs_baseline,
    _target_b3_ratio,
    _target_b4_visible,
)
