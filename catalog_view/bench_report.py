"""The report of `make bench`: the results of each scenario, the targets
evaluated against them, and the files of one run under bench/results/.

Pure: it computes and writes files and never touches the stack or a database;
the measuring half fills a BenchRun and calls write_report.

Scenarios (the product's figures beside the baselines measured in the same run):

- B1 freshness: steady source transaction rates; commit-to-visible latencies
  (p50, p95, p99) and the lag over time, per rate.
- B2 capture ceiling: one transaction of N rows, and a burst of single-row
  transactions; kafka_s (until Debezium has put all of it into Kafka), store_s
  (until the store's watermark names it), their ratio, the job's peak RSS.
- B3 backfill: the initial snapshot of an existing catalog against the same
  rows computed by the reference queries inside PostgreSQL.
- B4 fan-out: renaming a root category above N products; time until visible.
- B5 resources: peak RSS per process, checkpoint size, store rows written per
  source row changed.

A baseline measures B1 and B2 only; a figure it cannot give is None, and how a
figure was measured differently (a baseline without a watermark: store_s is
the time until the store equals the reference) is recorded in its notes.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog_view.errors import CatalogViewError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

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


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base <= 0:
        return None
    return value / base


# --- results -----------------------------------------------------------------


@dataclass
class FreshnessResult:
    """B1 at one steady rate."""

    rate_tps: int
    duration_s: float
    latencies_s: list[float] = field(default_factory=list)  # commit -> visible, per transaction
    lag_series: list[tuple[float, float]] = field(default_factory=list)  # (since start, lag) s

    @property
    def percentiles(self) -> Percentiles:
        return percentiles(self.latencies_s)

    @property
    def lag_growth_s(self) -> float | None:
        return lag_growth_s(self.lag_series)

    def to_dict(self) -> dict[str, Any]:
        p = self.percentiles
        return {
            "rate_tps": self.rate_tps,
            "duration_s": self.duration_s,
            "samples": len(self.latencies_s),
            "p50": p.p50,
            "p95": p.p95,
            "p99": p.p99,
            "lag_growth_s": self.lag_growth_s,
            "latencies_s": self.latencies_s,
            "lag": [[t, lag] for t, lag in self.lag_series],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FreshnessResult:
        return cls(
            rate_tps=int(data["rate_tps"]),
            duration_s=float(data["duration_s"]),
            latencies_s=[float(x) for x in data["latencies_s"]],
            lag_series=[(float(t), float(lag)) for t, lag in data["lag"]],
        )


@dataclass
class CaptureResult:
    """B2 for one size: one transaction of `rows` rows, or a burst of
    `transactions` transactions of `rows` rows in all."""

    rows: int
    transactions: int = 1
    kafka_s: float | None = None
    store_s: float | None = None
    peak_rss_mib: float | None = None

    @property
    def key(self) -> str:
        return str(self.rows) if self.transactions == 1 else f"burst-{self.transactions}"

    @property
    def label(self) -> str:
        if self.transactions == 1:
            return f"1 tx of {self.rows:,} rows"
        return f"burst of {self.transactions:,} tx ({self.rows:,} rows)"

    @property
    def ratio(self) -> float | None:
        return _ratio(self.store_s, self.kafka_s)

    @property
    def store_rows_per_s(self) -> float | None:
        return _ratio(float(self.rows), self.store_s)

    @property
    def kafka_rows_per_s(self) -> float | None:
        return _ratio(float(self.rows), self.kafka_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "transactions": self.transactions,
            "kafka_s": self.kafka_s,
            "store_s": self.store_s,
            "ratio": self.ratio,
            "peak_rss_mib": self.peak_rss_mib,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaptureResult:
        return cls(
            rows=int(data["rows"]),
            transactions=int(data["transactions"]),
            kafka_s=_optional_float(data["kafka_s"]),
            store_s=_optional_float(data["store_s"]),
            peak_rss_mib=_optional_float(data["peak_rss_mib"]),
        )


@dataclass
class PipelineResults:
    """The B1 and B2 figures of one pipeline (the product or a baseline)."""

    b1: list[FreshnessResult] = field(default_factory=list)
    b2: list[CaptureResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def freshness_at(self, rate_tps: int) -> FreshnessResult | None:
        return next((r for r in self.b1 if r.rate_tps == rate_tps), None)

    def capture_of(self, rows: int, transactions: int = 1) -> CaptureResult | None:
        return next((c for c in self.b2 if (c.rows, c.transactions) == (rows, transactions)), None)

    def to_dict(self) -> dict[str, Any]:
        return {"b1": _b1_to_dict(self.b1), "b2": _b2_to_dict(self.b2), "notes": self.notes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineResults:
        return cls(_b1_from_dict(data["b1"]), _b2_from_dict(data["b2"]), list(data["notes"]))


@dataclass
class BackfillResult:
    """B3: the initial snapshot of `products` products."""

    products: int
    snapshot_s: float | None
    in_db_s: float | None  # the same rows computed by the reference queries in PostgreSQL

    @property
    def ratio(self) -> float | None:
        return _ratio(self.snapshot_s, self.in_db_s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "products": self.products,
            "snapshot_s": self.snapshot_s,
            "in_db_s": self.in_db_s,
            "ratio": self.ratio,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackfillResult:
        return cls(
            int(data["products"]),
            _optional_float(data["snapshot_s"]),
            _optional_float(data["in_db_s"]),
        )


@dataclass
class FanOutResult:
    """B4: renaming a root category above `products` products."""

    products: int
    visible_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"products": self.products, "visible_s": self.visible_s}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FanOutResult:
        return cls(int(data["products"]), _optional_float(data["visible_s"]))


@dataclass
class ResourceResult:
    """B5."""

    peak_rss_mib: dict[str, float] = field(default_factory=dict)  # process name -> MiB
    checkpoint_bytes: int | None = None
    store_rows_written: int | None = None
    source_rows_changed: int | None = None

    @property
    def store_rows_per_source_row(self) -> float | None:
        if self.store_rows_written is None:
            return None
        return _ratio(float(self.store_rows_written), _optional_float(self.source_rows_changed))

    def to_dict(self) -> dict[str, Any]:
        return {
            "peak_rss_mib": self.peak_rss_mib,
            "checkpoint_bytes": self.checkpoint_bytes,
            "store_rows_written": self.store_rows_written,
            "source_rows_changed": self.source_rows_changed,
            "store_rows_per_source_row": self.store_rows_per_source_row,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResourceResult:
        return cls(
            {str(k): float(v) for k, v in data["peak_rss_mib"].items()},
            _optional_int(data["checkpoint_bytes"]),
            _optional_int(data["store_rows_written"]),
            _optional_int(data["source_rows_changed"]),
        )


@dataclass
class RunMetadata:
    date: datetime  # when the run started
    git_commit: str
    scale: str  # the name of the scale the run was made at
    cores: int
    parallelism: int
    durations_s: dict[str, float] = field(default_factory=dict)  # e.g. b1_per_rate, total
    notes: list[str] = field(default_factory=list)  # about the product's figures

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "git_commit": self.git_commit,
            "scale": self.scale,
            "cores": self.cores,
            "parallelism": self.parallelism,
            "durations_s": self.durations_s,
            "notes": self.notes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunMetadata:
        return cls(
            date=datetime.fromisoformat(data["date"]),
            git_commit=str(data["git_commit"]),
            scale=str(data["scale"]),
            cores=int(data["cores"]),
            parallelism=int(data["parallelism"]),
            durations_s={str(k): float(v) for k, v in data["durations_s"].items()},
            notes=list(data["notes"]),
        )


@dataclass
class BenchRun:
    """One run of `make bench`: the product's figures and the baselines'."""

    metadata: RunMetadata
    b1: list[FreshnessResult] = field(default_factory=list)
    b2: list[CaptureResult] = field(default_factory=list)
    b3: BackfillResult | None = None
    b4: FanOutResult | None = None
    b5: ResourceResult | None = None
    baselines: dict[str, PipelineResults] = field(default_factory=dict)

    @property
    def product(self) -> PipelineResults:
        return PipelineResults(self.b1, self.b2, self.metadata.notes)

    def pipelines(self) -> list[tuple[str, PipelineResults]]:
        """The product first, then the baselines by name."""
        return [(PRODUCT, self.product), *sorted(self.baselines.items())]

    def targets(self) -> list[TargetResult]:
        return evaluate_targets(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "metadata": self.metadata.to_dict(),
            "b1": _b1_to_dict(self.b1),
            "b2": _b2_to_dict(self.b2),
            "b3": self.b3.to_dict() if self.b3 else None,
            "b3_ratio_in_db": self.b3.ratio if self.b3 else None,
            "b4": self.b4.to_dict() if self.b4 else None,
            "b4_visible_s": self.b4.visible_s if self.b4 else None,
            "b5": self.b5.to_dict() if self.b5 else None,
            "baselines": {name: p.to_dict() for name, p in sorted(self.baselines.items())},
            "targets": [t.to_dict() for t in self.targets()],
        }

    def to_json(self) -> str:
        # allow_nan=False: a NaN or infinity is a bug of the measuring half,
        # and would not be JSON that other tools read.
        return json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchRun:
        """Reads the measured figures back; derived figures (percentiles,
        ratios, targets) are computed again from them."""
        missing = [key for key in REPORT_KEYS if key not in data]
        if missing:
            raise BenchReportError(f"not a bench report: missing keys {missing}")
        try:
            return cls(
                metadata=RunMetadata.from_dict(data["metadata"]),
                b1=_b1_from_dict(data["b1"]),
                b2=_b2_from_dict(data["b2"]),
                b3=BackfillResult.from_dict(data["b3"]) if data["b3"] else None,
                b4=FanOutResult.from_dict(data["b4"]) if data["b4"] else None,
                b5=ResourceResult.from_dict(data["b5"]) if data["b5"] else None,
                baselines={
                    str(name): PipelineResults.from_dict(p) for name, p in data["baselines"].items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise BenchReportError(f"not a bench report: {type(e).__name__}: {e}") from None

    @classmethod
    def from_json(cls, text: str) -> BenchRun:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise BenchReportError(f"not a bench report: {e}") from None
        if not isinstance(data, dict):
            raise BenchReportError("not a bench report: expected a JSON object")
        return cls.from_dict(data)

    def lines(self) -> list[str]:
        return console_lines(self)


def _b1_to_dict(results: Sequence[FreshnessResult]) -> dict[str, Any]:
    return _keyed([(str(r.rate_tps), r.to_dict()) for r in results], "B1 rate")


def _b2_to_dict(results: Sequence[CaptureResult]) -> dict[str, Any]:
    return _keyed([(c.key, c.to_dict()) for c in results], "B2 size")


def _keyed(items: list[tuple[str, dict[str, Any]]], what: str) -> dict[str, Any]:
    keyed = dict(items)
    if len(keyed) != len(items):
        raise ValueError(f"{what} measured twice: {[key for key, _ in items]}")
    return keyed


def _b1_from_dict(data: dict[str, Any]) -> list[FreshnessResult]:
    return [FreshnessResult.from_dict(v) for v in data.values()]


def _b2_from_dict(data: dict[str, Any]) -> list[CaptureResult]:
    return [CaptureResult.from_dict(v) for v in data.values()]


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def describe_checkout(directory: Path) -> str:
    """The commit checked out in `directory`, with "-dirty" when the work tree
    differs from it; "unknown" outside a git checkout."""
    try:
        commit = _git(directory, "rev-parse", "HEAD")
        dirty = _git(directory, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def _git(directory: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=directory, check=True, capture_output=True, text=True, timeout=30
    )
    return done.stdout.strip()


# --- targets -----------------------------------------------------------------


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


def evaluate_targets(run: BenchRun) -> list[TargetResult]:
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
    return TargetResult(key, scenario, rule, status, _num(value, digits, unit))


def _missing_figure(entry: object | None, what: str, figure: str) -> str:
    return f"no {what} in this run" if entry is None else f"{figure} not measured"


def _target_b2_ratio(run: BenchRun) -> TargetResult:
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


def _target_b2_rss(run: BenchRun) -> TargetResult:
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


def _target_b1_p99(run: BenchRun) -> TargetResult:
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


def _target_b1_bounded_lag(run: BenchRun) -> TargetResult:
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


def _target_b3_ratio(run: BenchRun) -> TargetResult:
    return _at_most(
        "b3-ratio",
        "B3",
        f"snapshot_s / in_db_s <= {B3_RATIO_LIMIT:.0f}",
        run.b3.ratio if run.b3 else None,
        B3_RATIO_LIMIT,
        "x",
        _missing_figure(run.b3, "backfill", "snapshot_s or in_db_s"),
    )


def _target_b4_visible(run: BenchRun) -> TargetResult:
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
    run: BenchRun,
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


def _target_b1_vs_baseline(run: BenchRun) -> TargetResult:
    def p99_pairs(baseline: PipelineResults) -> list[Comparison]:
        pairs: list[Comparison] = []
        for result in run.b1:
            theirs = baseline.freshness_at(result.rate_tps)
            p99 = theirs.percentiles.p99 if theirs else None
            pairs.append((f"{result.rate_tps} tx/s", result.percentiles.p99, p99))
        return pairs

    rule = f"B1 p99 <= the {SQL_JDBC_BASELINE} baseline's at every rate"
    return _no_slower(run, "b1-vs-sql-jdbc", "B1", rule, p99_pairs)


def _target_b2_vs_baseline(run: BenchRun) -> TargetResult:
    def store_s_pairs(baseline: PipelineResults) -> list[Comparison]:
        pairs: list[Comparison] = []
        for capture in run.b2:
            theirs = baseline.capture_of(capture.rows, capture.transactions)
            pairs.append((capture.label, capture.store_s, theirs.store_s if theirs else None))
        return pairs

    rule = f"B2 store_s <= the {SQL_JDBC_BASELINE} baseline's at every size"
    return _no_slower(run, "b2-vs-sql-jdbc", "B2", rule, store_s_pairs)


TARGET_CHECKS: tuple[Callable[[BenchRun], TargetResult], ...] = (
    _target_b1_p99,
    _target_b1_bounded_lag,
    _target_b1_vs_baseline,
    _target_b2_ratio,
    _target_b2_rss,
    _target_b2_vs_baseline,
    _target_b3_ratio,
    _target_b4_visible,
)


# --- text --------------------------------------------------------------------


def _num(value: float | None, digits: int = 2, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def _p(p: Percentiles) -> str:
    return "/".join(_num(x) for x in (p.p50, p.p95, p.p99))


def console_lines(run: BenchRun) -> list[str]:
    """A short console summary: the headline figure of each scenario per pipeline."""
    meta = run.metadata
    out = [
        f"bench {meta.date:%Y-%m-%d %H:%M} scale {meta.scale}, commit {meta.git_commit[:12]}, "
        f"{meta.cores} cores, parallelism {meta.parallelism}",
        "B1 p50/p95/p99 s:",
    ]
    for rate in _rates(run):
        cells = []
        for name, pipeline in run.pipelines():
            result = pipeline.freshness_at(rate)
            cells.append(f"{name} {_p(result.percentiles) if result else 'n/a'}")
        out.append(f"  {rate:>4} tx/s  " + "  ".join(cells))
    out.append("B2 store_s (store/kafka, peak MiB):")
    for rows, transactions in _sizes(run):
        cells = []
        for name, pipeline in run.pipelines():
            c = pipeline.capture_of(rows, transactions)
            figures = (
                f"{_num(c.store_s, 1, 's')} ({_num(c.ratio, 2, 'x')}, {_num(c.peak_rss_mib, 0)})"
                if c
                else "n/a"
            )
            cells.append(f"{name} {figures}")
        out.append(f"  {CaptureResult(rows, transactions).label}  " + "  ".join(cells))
    if run.b3:
        out.append(
            f"B3 backfill of {run.b3.products:,} products: snapshot {_num(run.b3.snapshot_s, 1)}s, "
            f"in PostgreSQL {_num(run.b3.in_db_s, 1)}s, ratio {_num(run.b3.ratio)}"
        )
    if run.b4:
        out.append(f"B4 fan-out over {run.b4.products:,} products: {_num(run.b4.visible_s)}s")
    if run.b5:
        rss = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(run.b5.peak_rss_mib.items()))
        out.append(
            f"B5 peak MiB: {rss or 'n/a'}; checkpoint {_bytes(run.b5.checkpoint_bytes)}; "
            f"{_num(run.b5.store_rows_per_source_row)} store rows per source row"
        )
    return out + _target_lines(run.targets())


def _target_lines(targets: Sequence[TargetResult]) -> list[str]:
    counts = {s: sum(t.status is s for t in targets) for s in TargetStatus}
    out = ["targets: " + ", ".join(f"{n} {s.value}" for s, n in counts.items())]
    out += [
        f"  {t.status.value}: {t.key}: {t.measured}"
        for t in targets
        if t.status is not TargetStatus.MET
    ]
    return out


def _bytes(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:,.1f} MiB"


def _rates(run: BenchRun) -> list[int]:
    return sorted({r.rate_tps for _, p in run.pipelines() for r in p.b1})


def _sizes(run: BenchRun) -> list[tuple[int, int]]:
    """Single transactions by size, then bursts."""
    sizes = {(c.rows, c.transactions) for _, p in run.pipelines() for c in p.b2}
    return sorted(sizes, key=lambda s: (s[1] > 1, s[0], s[1]))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), line(["---"] * len(header)), *(line(r) for r in rows), ""]


# --- the report files ----------------------------------------------------------


@dataclass(frozen=True)
class ReportFiles:
    json: Path
    markdown: Path
    plots: dict[str, Path]  # plot name -> PNG

    def all(self) -> list[Path]:
        return [self.json, self.markdown, *self.plots.values()]


PLOT_TITLES = {
    "freshness": "B1 commit-to-visible latency per rate",
    "lag": "B1 lag over time per rate",
    "throughput": "B2 throughput against transaction size",
}


def write_report(run: BenchRun, out_dir: Path) -> ReportFiles:
    """Writes <date>.json, <date>.md and the PNG plots beside it into out_dir.
    <date> is the run's YYYY-MM-DD, with its time (and a counter) added when
    files of that name exist: an earlier result is never overwritten."""
    text = run.to_json()  # before anything is created: a bad result leaves nothing behind
    out_dir.mkdir(parents=True, exist_ok=True)
    for stem in _stems(run.metadata.date):
        files = _report_files(out_dir, stem)
        if any(path.exists() for path in files.all()):
            continue
        try:
            with files.json.open("x", encoding="utf-8") as out:
                out.write(text)
        except FileExistsError:  # another run took this name meanwhile
            continue
        for name, path in files.plots.items():
            _save_plot(run, PLOTS[name], path)
        with files.markdown.open("x", encoding="utf-8") as out:
            out.write(render_markdown(run, files))
        return files
    raise AssertionError("unreachable: _stems never ends")


def _stems(date: datetime) -> Iterator[str]:
    yield f"{date:%Y-%m-%d}"
    timed = f"{date:%Y-%m-%d-%H%M%S}"
    yield timed
    n = 2
    while True:
        yield f"{timed}-{n}"
        n += 1


def _report_files(out_dir: Path, stem: str) -> ReportFiles:
    return ReportFiles(
        json=out_dir / f"{stem}.json",
        markdown=out_dir / f"{stem}.md",
        plots={name: out_dir / f"{stem}-{name}.png" for name in PLOT_TITLES},
    )


def render_markdown(run: BenchRun, files: ReportFiles) -> str:
    meta = run.metadata
    parts = [
        f"# catalog-view benchmark, {meta.date:%Y-%m-%d}",
        "",
        *_metadata_section(run, files),
        "## Targets",
        "",
        *_table(
            ["target", "scenario", "rule", "measured", "status"],
            [[t.key, t.scenario, t.rule, t.measured, t.status.value] for t in run.targets()],
        ),
        *_b1_section(run, files),
        *_b2_section(run, files),
        *_b3_section(run),
        *_b4_section(run),
        *_b5_section(run),
        *_notes_section(run),
    ]
    return "\n".join(parts).rstrip("\n") + "\n"


def _image(files: ReportFiles, name: str) -> list[str]:
    return [f"![{PLOT_TITLES[name]}]({files.plots[name].name})", ""]


def _metadata_section(run: BenchRun, files: ReportFiles) -> list[str]:
    meta = run.metadata
    durations = ", ".join(f"{k} {v:,.0f} s" for k, v in meta.durations_s.items()) or "n/a"
    baselines = ", ".join(sorted(run.baselines)) or "none"
    return _table(
        ["run", ""],
        [
            ["date", meta.date.isoformat(timespec="seconds")],
            ["git commit", meta.git_commit],
            ["scale", meta.scale],
            ["machine cores", str(meta.cores)],
            ["parallelism", str(meta.parallelism)],
            ["durations", durations],
            ["baselines", baselines],
            ["figures", f"[{files.json.name}]({files.json.name})"],
        ],
    )


def _b1_section(run: BenchRun, files: ReportFiles) -> list[str]:
    rows = []
    for rate in _rates(run):
        product = run.product.freshness_at(rate)
        product_p99 = product.percentiles.p99 if product else None
        for name, pipeline in run.pipelines():
            r = pipeline.freshness_at(rate)
            p = r.percentiles if r else Percentiles(None, None, None)
            rows.append(
                [
                    str(rate),
                    name,
                    str(len(r.latencies_s)) if r else "n/a",
                    _num(p.p50),
                    _num(p.p95),
                    _num(p.p99),
                    _num(_ratio(p.p99, product_p99)),
                    _num(r.lag_growth_s if r else None),
                ]
            )
    header = ["tx/s", "pipeline", "samples", "p50 s", "p95 s", "p99 s", "p99 vs product"]
    return [
        "## B1 freshness",
        "",
        "Steady rates of mixed catalog edits; latency from a source commit until the store "
        "shows it. `p99 vs product` above 1 is slower than the product; lag growth is the "
        "median lag of the last third of the run minus that of the first third.",
        "",
        *_table([*header, "lag growth s"], rows),
        *_image(files, "freshness"),
        *_image(files, "lag"),
    ]


def _b2_section(run: BenchRun, files: ReportFiles) -> list[str]:
    rows = []
    for rows_, transactions in _sizes(run):
        product = run.product.capture_of(rows_, transactions)
        for name, pipeline in run.pipelines():
            c = pipeline.capture_of(rows_, transactions)
            rows.append(
                [
                    CaptureResult(rows_, transactions).label,
                    name,
                    _num(c.kafka_s if c else None),
                    _num(c.store_s if c else None),
                    _num(c.ratio if c else None),
                    _num(c.peak_rss_mib if c else None, 0),
                    _num(_ratio(c.store_s if c else None, product.store_s if product else None)),
                ]
            )
    header = ["size", "pipeline", "kafka_s", "store_s", "store/kafka", "peak RSS MiB"]
    return [
        "## B2 capture ceiling",
        "",
        "kafka_s: until Debezium has put the whole of it into Kafka; store_s: until the "
        "store's watermark names it (see the notes for baselines without a watermark).",
        "",
        *_table([*header, "store_s vs product"], rows),
        *_image(files, "throughput"),
    ]


def _b3_section(run: BenchRun) -> list[str]:
    b3 = run.b3
    row = (
        [f"{b3.products:,}", _num(b3.snapshot_s), _num(b3.in_db_s), _num(b3.ratio)]
        if b3
        else ["not measured", "n/a", "n/a", "n/a"]
    )
    return [
        "## B3 backfill",
        "",
        "The initial snapshot of an existing catalog against the same rows computed by the "
        "reference queries inside PostgreSQL.",
        "",
        *_table(["products", "snapshot_s", "in_db_s", "ratio"], [row]),
    ]


def _b4_section(run: BenchRun) -> list[str]:
    b4 = run.b4
    row = [f"{b4.products:,}", _num(b4.visible_s)] if b4 else ["not measured", "n/a"]
    return [
        "## B4 fan-out",
        "",
        "Renaming a root category above N products; time until every product shows it.",
        "",
        *_table(["products", "visible_s"], [row]),
    ]


def _b5_section(run: BenchRun) -> list[str]:
    b5 = run.b5
    if b5 is None:
        return ["## B5 resources", "", "Not measured in this run.", ""]
    rss = [[name, _num(mib, 0)] for name, mib in sorted(b5.peak_rss_mib.items())]
    return [
        "## B5 resources",
        "",
        *_table(["process", "peak RSS MiB"], rss or [["n/a", "n/a"]]),
        *_table(
            ["figure", "value"],
            [
                ["checkpoint size", _bytes(b5.checkpoint_bytes)],
                ["store rows written", _num(_optional_float(b5.store_rows_written), 0)],
                ["source rows changed", _num(_optional_float(b5.source_rows_changed), 0)],
                ["store rows per source row", _num(b5.store_rows_per_source_row)],
            ],
        ),
    ]


def _notes_section(run: BenchRun) -> list[str]:
    notes = [f"- {name}: {note}" for name, p in run.pipelines() for note in p.notes]
    return ["## Notes", "", *notes, ""] if notes else []


# --- plots ---------------------------------------------------------------------


def _save_plot(run: BenchRun, draw: Callable[[BenchRun, Figure], None], path: Path) -> None:
    # The Agg canvas is bound to this figure only: no pyplot, no global
    # backend, nothing left open between plots.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(layout="constrained")
    FigureCanvasAgg(figure)
    draw(run, figure)
    with path.open("xb") as out:
        figure.savefig(out, format="png", dpi=100)


def _panels(figure: Figure, count: int) -> list[Axes]:
    figure.set_size_inches(max(6.0, 4.0 * count), 3.6)
    return list(figure.subplots(1, max(1, count), squeeze=False)[0])


def _not_measured(ax: Axes) -> None:
    ax.text(0.5, 0.5, "not measured in this run", ha="center", va="center")
    ax.set_axis_off()


def _colors(run: BenchRun) -> dict[str, str]:
    """One colour per pipeline, the same in every plot."""
    return {name: f"C{i}" for i, (name, _) in enumerate(run.pipelines())}


def _plot_freshness(run: BenchRun, figure: Figure) -> None:
    rates = _rates(run)
    colors = _colors(run)
    if not rates:
        _not_measured(_panels(figure, 1)[0])
        return
    for ax, rate in zip(_panels(figure, len(rates)), rates, strict=True):
        samples = {
            name: r.latencies_s
            for name, p in run.pipelines()
            if (r := p.freshness_at(rate)) and r.latencies_s
        }
        if not samples:
            _not_measured(ax)
            continue
        upper = max(max(s) for s in samples.values()) or 1.0
        for name, values in samples.items():
            # Shared bins, so that the pipelines' histograms compare bar by bar.
            ax.hist(
                values, bins=40, range=(0.0, upper), histtype="step", color=colors[name], label=name
            )
            p99 = percentiles(values).p99
            if p99 is not None:
                ax.axvline(p99, color=colors[name], linestyle=":", label=f"{name} p99")
        ax.set_title(f"{rate} tx/s")
        ax.set_xlabel("commit to visible (s)")
        ax.set_ylabel("transactions")
        ax.legend(fontsize="small")


def _plot_lag(run: BenchRun, figure: Figure) -> None:
    rates = _rates(run)
    colors = _colors(run)
    if not rates:
        _not_measured(_panels(figure, 1)[0])
        return
    for ax, rate in zip(_panels(figure, len(rates)), rates, strict=True):
        series = {
            name: r.lag_series
            for name, p in run.pipelines()
            if (r := p.freshness_at(rate)) and r.lag_series
        }
        if not series:
            _not_measured(ax)
            continue
        for name, points in series.items():
            ax.plot(
                [t for t, _ in points], [lag for _, lag in points], color=colors[name], label=name
            )
        ax.set_title(f"{rate} tx/s")
        ax.set_xlabel("time since start (s)")
        ax.set_ylabel("lag (s)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize="small")


def _plot_throughput(run: BenchRun, figure: Figure) -> None:
    (ax,) = _panels(figure, 1)
    colors = _colors(run)
    drawn = False
    for name, pipeline in run.pipelines():
        single = _points(pipeline, lambda c: c.transactions == 1, lambda c: c.store_rows_per_s)
        if single:
            ax.plot(*_xy(single), marker="o", color=colors[name], label=name)
        burst = _points(pipeline, lambda c: c.transactions > 1, lambda c: c.store_rows_per_s)
        if burst:
            ax.scatter(*_xy(burst), marker="s", color=colors[name], label=f"{name}, burst")
        drawn = drawn or bool(single or burst)
    capture = next(
        (
            points
            for _, p in run.pipelines()
            if (points := _points(p, lambda c: c.transactions == 1, lambda c: c.kafka_rows_per_s))
        ),
        [],
    )
    if capture:
        ax.plot(*_xy(capture), linestyle="--", color="grey", label="Kafka capture (reference)")
    if not (drawn or capture):
        _not_measured(ax)
        return
    ax.set_xscale("log")
    ax.set_xlabel("rows in the transaction (burst of single-row tx: in all)")
    ax.set_ylabel("rows/s until visible")
    ax.set_title("throughput against size")
    ax.legend(fontsize="small")


def _points(
    pipeline: PipelineResults,
    keep: Callable[[CaptureResult], bool],
    figure: Callable[[CaptureResult], float | None],
) -> list[tuple[float, float]]:
    points = [(float(c.rows), figure(c)) for c in pipeline.b2 if keep(c)]
    return sorted((x, y) for x, y in points if y is not None)


def _xy(points: Sequence[tuple[float, float]]) -> tuple[list[float], list[float]]:
    return [x for x, _ in points], [y for _, y in points]


PLOTS: dict[str, Callable[[BenchRun, Figure], None]] = {
    "freshness": _plot_freshness,
    "lag": _plot_lag,
    "throughput": _plot_throughput,
}
