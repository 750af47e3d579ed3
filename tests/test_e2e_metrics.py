"""The job's metrics in Flink's metric system, scraped from the Prometheus
reporter of the session stack's job, and shown by `stack status`."""

from __future__ import annotations

import pytest

from catalog_view.stack import metrics
from catalog_view.stack.local import LocalStack
from catalog_view.waiting import wait_until

pytestmark = pytest.mark.e2e

NAMES = (
    "transactionsPerSecond",
    "queuedTransactions",
    "bufferedRows",
    "headWaitMs",
    "releasedCommitLsn",
    "watermarkLsn",
    "watermarkLagMs",
    "storeCommitLastMs",
    "storeCommitLatencyMs_p50",
    "storeCommitLatencyMs_count",
    "refusedUnits",
)


def test_reporter_exposes_the_jobs_metrics_with_sane_values(stack: LocalStack) -> None:
    settings = stack.settings
    found: list[metrics.JobMetrics] = []

    def reported() -> bool:
        job_id = metrics.running_job_id(stack.job.checkpoint_dir)
        got = metrics.scrape(settings.metrics_port, job_id)
        # Heartbeats are source transactions: the meter and the watermark move
        # on a quiet catalog too.
        if got is None or not all(n in got.values for n in NAMES):
            return False
        found[:] = [got]
        return got.values["transactionsPerSecond"] > 0 and got.values["watermarkLsn"] > 0

    wait_until(reported, timeout_s=180, what="the job's metrics on the reporter", interval_s=1.0)
    m = found[0]
    print(metrics.summary(m))
    assert m.port in metrics.port_range(settings.metrics_port)
    assert m.values["refusedUnits"] == 0
    assert m.values["queuedTransactions"] >= 0 and m.values["bufferedRows"] >= 0
    assert m.values["storeCommitLatencyMs_count"] >= 1
    assert 0 <= m.values["storeCommitLatencyMs_p50"] < 60_000
    # The store shows a state at most a few heartbeat intervals old.
    assert 0 <= m.values["watermarkLagMs"] < 120_000
    assert m.values["releasedCommitLsn"] >= m.values["watermarkLsn"]

    rows = {r.name: r for r in stack.status()}
    assert rows["job-metrics"].state == "running", rows["job-metrics"]
    assert "tx/s" in rows["job-metrics"].detail and "refused units 0" in rows["job-metrics"].detail
