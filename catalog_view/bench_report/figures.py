"""The bench's figures: names, report keys, percentiles and the lag-growth measure."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from catalog_view.errors import CatalogViewError

PRODUCT = "catalog-view"
SQL_JDBC_BASELINE = "sql-jdbc"

# Top-level keys of a result file. b1, b2 and baselines hold the figures per
# rate and size; b3/b4 hold their details beside the two headline figures.
REPORT_KEYS = (
    "metadata",
    "b1",
    "b2",
    "b3",
    "b3_ratio_in_db",
    "b4",
    "b4_visible_s",
    "b5",
    "baselines",
    "targets",
)

# "No unbounded lag": the median lag over the last third of the run may exceed
# the median lag over its first third by at most one freshness budget (the
# B1 p99 target, 1 s). Medians, so that a checkpoint's sawtooth or one pause
# does not decide it. A pipeline that falls behind accumulates backlog
# linearly: over 60 s per rate this flags one that keeps up with less than
# ~97.5% of the offered rate (1 s of growth between the thirds' centres, 40 s
# apart).
LAG_GROWTH_LIMIT_S = 1.0
LAG_MIN_POINTS = 9  # fewer points cannot fill three thirds meaningfully


class BenchReportError(CatalogViewError):
    """A result file that is not a bench report, or a report that cannot be written."""


# --- percentiles -------------------------------------------------------------


@dataclass(frozen=True)
class Percentiles:
    p50: float | None
    p95: float | None
    p99: float | None


def percentile_points(samples: Sequence[float], points: Sequence[int]) -> list[float | None]:
    """The given percentiles (1..99) of the samples, interpolated linearly
    between closest ranks (the 'inclusive' method, numpy's default); None for
    no samples, the sample itself for one."""
    if any(not 1 <= p <= 99 for p in points):
        raise ValueError(f"percentiles must be within 1..99: {list(points)}")
    if not samples:
        return [None for _ in points]
    if len(samples) == 1:
        return [float(samples[0]) for _ in points]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return [cuts[p - 1] for p in points]


def percentiles(samples: Sequence[float]) -> Percentiles:
    p50, p95, p99 = percentile_points(samples, (50, 95, 99))
    return Percentiles(p50, p95, p99)


def lag_growth_s(series: Sequence[tuple[float, float]]) -> float | None:
    """Median lag over the last third of the series' time span minus the
    median over its first third; None when the series is too short to tell."""
    if len(series) < LAG_MIN_POINTS:
        return None
    start = min(t for t, _ in series)
    end = max(t for t, _ in series)
    third = (end - start) / 3
    if third <= 0:
        return None
    first = [lag for t, lag in series if t <= start + third]
    last = [lag for t, lag in series if t >= end - third]
    return statistics.median(last) - statistics.median(first)


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base <= 0:
        return None
    return value / base


# --- how figures read ----------------------------------------------------------


def num(value: float | None, digits: int = 2, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def pcts(p: Percentiles) -> str:
    return "/".join(num(x) for x in (p.p50, p.p95, p.p99))


def mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:,.1f} MiB"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in rows), ""]
