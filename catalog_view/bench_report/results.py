"""What each scenario of a bench run measured, and the run's metadata; read
from and written to JSON field by field."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from catalog_view.bench_report.figures import PRODUCT, Percentiles, lag_growth_s, percentiles, ratio

# --- results -----------------------------------------------------------------


def figures_of(result: object, *names: str) -> dict[str, Any]:
    """The named figures of a result (fields and derived ones), for its JSON."""
    return {name: getattr(result, name) for name in names}


def read_fields(data: dict[str, Any], **convert: Callable[[Any], Any]) -> dict[str, Any]:
    """The named fields of a result's JSON, each converted; a missing one is a
    KeyError that names it."""
    return {name: to(data[name]) for name, to in convert.items()}


def _floats_by_name(data: dict[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in data.items()}


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
        return ratio(self.store_s, self.kafka_s)

    @property
    def store_rows_per_s(self) -> float | None:
        return ratio(float(self.rows), self.store_s)

    @property
    def kafka_rows_per_s(self) -> float | None:
        return ratio(float(self.rows), self.kafka_s)

    def to_dict(self) -> dict[str, Any]:
        figures = ("rows", "transactions", "kafka_s", "store_s", "ratio", "peak_rss_mib")
        return figures_of(self, *figures)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaptureResult:
        seconds = dict.fromkeys(("kafka_s", "store_s", "peak_rss_mib"), optional_float)
        return cls(**read_fields(data, rows=int, transactions=int, **seconds))


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
        return {"b1": b1_to_dict(self.b1), "b2": b2_to_dict(self.b2), "notes": self.notes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineResults:
        return cls(b1_from_dict(data["b1"]), b2_from_dict(data["b2"]), list(data["notes"]))


@dataclass
class BackfillResult:
    """B3: the initial snapshot of `products` products."""

    products: int
    snapshot_s: float | None
    in_db_s: float | None  # the same rows computed by the reference queries in PostgreSQL
    # On the way, from the same start: every task of the job running, and the
    # whole snapshot in Kafka (None: not seen, or a report from before they were).
    running_s: float | None = None
    captured_s: float | None = None

    @property
    def ratio(self) -> float | None:
        return ratio(self.snapshot_s, self.in_db_s)

    @property
    def after_both_s(self) -> float | None:
        """The part no start-up or capture explains: from when the job ran and
        the snapshot was in Kafka, both, until the store was complete."""
        if self.snapshot_s is None or self.running_s is None or self.captured_s is None:
            return None
        return self.snapshot_s - max(self.running_s, self.captured_s)

    def to_dict(self) -> dict[str, Any]:
        return figures_of(
            self, "products", "snapshot_s", "in_db_s", "ratio", "running_s", "captured_s"
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackfillResult:
        seconds = dict.fromkeys(("snapshot_s", "in_db_s"), optional_float)
        return cls(
            **read_fields(data, products=int, **seconds),
            running_s=optional_float(data.get("running_s")),
            captured_s=optional_float(data.get("captured_s")),
        )


@dataclass
class FanOutResult:
    """B4: renaming a root category above `products` products."""

    products: int
    visible_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return figures_of(self, "products", "visible_s")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FanOutResult:
        return cls(**read_fields(data, products=int, visible_s=optional_float))


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
        return ratio(float(self.store_rows_written), optional_float(self.source_rows_changed))

    def to_dict(self) -> dict[str, Any]:
        counts = ("checkpoint_bytes", "store_rows_written", "source_rows_changed")
        return figures_of(self, "peak_rss_mib", *counts, "store_rows_per_source_row")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResourceResult:
        counts = ("checkpoint_bytes", "store_rows_written", "source_rows_changed")
        return cls(
            **read_fields(data, peak_rss_mib=_floats_by_name, **dict.fromkeys(counts, optional_int))
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
        figures = ("git_commit", "scale", "cores", "parallelism", "durations_s", "notes")
        return {"date": self.date.isoformat(), **figures_of(self, *figures)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunMetadata:
        return cls(
            **read_fields(
                data,
                date=datetime.fromisoformat,
                git_commit=str,
                scale=str,
                cores=int,
                parallelism=int,
                durations_s=_floats_by_name,
                notes=list,
            )
        )


@dataclass
class Measured:
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

    def rates(self) -> list[int]:
        """The B1 rates any pipeline measured, ascending."""
        return sorted({r.rate_tps for _, p in self.pipelines() for r in p.b1})

    def sizes(self) -> list[tuple[int, int]]:
        """The B2 sizes any pipeline measured: single transactions by size, then bursts."""
        sizes = {(c.rows, c.transactions) for _, p in self.pipelines() for c in p.b2}
        return sorted(sizes, key=lambda s: (s[1] > 1, s[0], s[1]))


def b1_to_dict(results: Sequence[FreshnessResult]) -> dict[str, Any]:
    return _keyed([(str(r.rate_tps), r.to_dict()) for r in results], "B1 rate")


def b2_to_dict(results: Sequence[CaptureResult]) -> dict[str, Any]:
    return _keyed([(c.key, c.to_dict()) for c in results], "B2 size")


def _keyed(items: list[tuple[str, dict[str, Any]]], what: str) -> dict[str, Any]:
    keyed = dict(items)
    if len(keyed) != len(items):
        raise ValueError(f"{what} measured twice: {[key for key, _ in items]}")
    return keyed


def b1_from_dict(data: dict[str, Any]) -> list[FreshnessResult]:
    return [FreshnessResult.from_dict(v) for v in data.values()]


def b2_from_dict(data: dict[str, Any]) -> list[CaptureResult]:
    return [CaptureResult.from_dict(v) for v in data.values()]


def optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def optional_int(value: Any) -> int | None:
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
