"""What a run of the checker found, as lines and as one JSON object."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

# How reports name each pipeline (--baseline: flink_jobs.options BASELINES).
PIPELINE_NAMES: dict[str | None, str] = {
    None: "aligned",
    "python": "baseline (plain join)",
    "sql": "SQL baseline (Flink SQL, JDBC sink, no watermark)",
}


@dataclass
class VerifyReport:
    observations: int
    violations: int
    final_equal: bool
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    lag_observed: int
    transactions: int
    seed: int
    parallelism: int
    baseline: str | None
    connections: int
    duration_s: float
    scenarios: dict[str, int]
    violation_examples: list[str]
    final_difference: str = ""
    job_restarts: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    store_unavailable_samples: int = 0

    @property
    def passed(self) -> bool:
        return self.violations == 0 and self.final_equal

    def to_json(self) -> str:
        data = asdict(self)
        data["passed"] = self.passed
        for key in ("lag_p50_ms", "lag_p99_ms", "duration_s"):
            if data[key] is not None:
                data[key] = round(data[key], 1)
        return json.dumps(data, sort_keys=True)

    def lines(self) -> list[str]:
        lag = "n/a"
        if self.lag_p50_ms is not None and self.lag_p99_ms is not None:
            lag = f"p50 {self.lag_p50_ms:.0f} ms, p99 {self.lag_p99_ms:.0f} ms"
        mode = PIPELINE_NAMES[self.baseline]
        out = [
            f"verify: {self.transactions} source transactions, {mode} pipeline at "
            f"parallelism {self.parallelism}, seed {self.seed}, {self.duration_s:.1f}s",
            f"verify: observations {self.observations}, violations {self.violations}, "
            f"final equal {'yes' if self.final_equal else 'NO'}",
            f"verify: commit-to-visible lag {lag} over {self.lag_observed} transactions",
        ]
        out += [f"verify: fault {f}" for f in [*self.job_restarts, *self.faults]]
        if self.store_unavailable_samples:
            out.append(
                f"verify: samples with the store unreachable: {self.store_unavailable_samples}"
            )
        out += [f"verify: violation: {v}" for v in self.violation_examples]
        if self.final_difference:
            out.append(f"verify: final difference: {self.final_difference}")
        out.append(f"verify: {'PASS' if self.passed else 'FAIL'}")
        return out
