"""The job's own metrics, read from Flink's Prometheus reporter (the job
registers them in group `catalogview`; docs/operations.md lists them) for
`catalog-view stack status`.

The reporter binds the first free port of CATALOG_VIEW_METRICS_PORT (a range);
the running job is told apart from another job on the same range by its job id,
the name of its checkpoint directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from catalog_view.errors import CatalogViewError

PREFIX = "flink_taskmanager_job_task_operator_catalogview_"


class MetricsError(CatalogViewError):
    pass


@dataclass(frozen=True)
class JobMetrics:
    port: int
    # Metric name (without PREFIX) -> value; a histogram gives name_p50,
    # name_p99 and name_count.
    values: dict[str, float]

    def get(self, name: str) -> float | None:
        return self.values.get(name)


def port_range(spec: str) -> list[int]:
    """ "9250-9259" -> [9250, ..., 9259]; "9250" -> [9250]."""
    low, _, high = spec.partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise MetricsError(f"metrics port {spec!r}: expected PORT or FIRST-LAST") from None
    if not 0 < first <= last < 65536:
        raise MetricsError(f"metrics port {spec!r}: not a port range")
    return list(range(first, last + 1))


def running_job_id(checkpoint_dir: Path) -> str | None:
    """The job id of the job that wrote the newest checkpoint (its directory)."""
    done = list(checkpoint_dir.glob("*/chk-*"))
    if not done:
        return None
    return max(done, key=lambda p: p.stat().st_mtime).parent.name


def parse(body: str, job_id: str | None) -> dict[str, float]:
    """The catalogview metrics of one job (of any job without an id) in a scrape,
    summed over subtasks (the operators that register them run at parallelism 1)."""
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if not sample.name.startswith(PREFIX):
                continue
            if job_id is not None and sample.labels.get("job_id") != job_id:
                continue
            name = sample.name.removeprefix(PREFIX)
            quantile = sample.labels.get("quantile")
            if quantile is not None:
                name = f"{name}_p{round(float(quantile) * 100)}"
            values[name] = values.get(name, 0.0) + sample.value
    return values


def scrape(port_spec: str, job_id: str | None, timeout_s: float = 5.0) -> JobMetrics | None:
    """The first reporter in the range that reports catalogview metrics of the
    job; None when none does."""
    for port in port_range(port_spec):
        try:
            response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=timeout_s)
        except requests.RequestException:
            continue
        if response.status_code != 200:
            continue
        values = parse(response.text, job_id)
        if values:
            return JobMetrics(port, values)
    return None


def summary(metrics: JobMetrics) -> str:
    """One line for `stack status`."""

    def show(name: str, unit: str = "", digits: int = 0) -> str:
        value = metrics.get(name)
        return "?" if value is None else f"{value:.{digits}f}{unit}"

    return (
        f"port {metrics.port}; {show('transactionsPerSecond', ' tx/s', 1)}, "
        f"queued {show('queuedTransactions')} tx / {show('bufferedRows')} rows, "
        f"watermark lsn {show('watermarkLsn')} lag {show('watermarkLagMs', ' ms')} "
        f"(released lsn {show('releasedCommitLsn')}), "
        f"commit p50/p99 {show('storeCommitLatencyMs_p50', ' ms')}/"
        f"{show('storeCommitLatencyMs_p99', ' ms')}, refused units {show('refusedUnits')}"
    )
