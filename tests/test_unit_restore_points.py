# ruff: noqa: E501 (a verbatim Prometheus scrape)
"""Choosing an older restore point, the job's restore options, and
reading the job's metrics from a Prometheus scrape."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_view.checker.restore_points import older_restore_point
from catalog_view.errors import CatalogViewError
from catalog_view.stack import metrics
from flink_jobs.options import parse_options
from tests.helpers import write_checkpoint

pytestmark = pytest.mark.unit


def test_older_restore_point_is_the_oldest_of_the_newest_job(tmp_path: Path) -> None:
    write_checkpoint(tmp_path, "earlier-run", 90, 100.0)
    oldest = write_checkpoint(tmp_path, "job", 4, 200.0)
    write_checkpoint(tmp_path, "job", 5, 201.0)
    write_checkpoint(tmp_path, "job", 6, 202.0)
    (tmp_path / "job" / "chk-7").mkdir()  # in progress: no _metadata
    assert older_restore_point(tmp_path) == oldest


def test_older_restore_point_needs_a_newer_one(tmp_path: Path) -> None:
    write_checkpoint(tmp_path, "earlier-run", 1, 100.0)
    write_checkpoint(tmp_path, "job", 4, 200.0)
    with pytest.raises(CatalogViewError, match="retains 1 completed checkpoint"):
        older_restore_point(tmp_path)


ARGS = ["--bootstrap-servers", "k:9092", "--topic-prefix", "c", "--source-schema", "catalog"]


def test_restore_from_and_retained_checkpoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CATALOG_VIEW_STORE_PASSWORD", "x")
    base = [*ARGS, "--checkpoint-dir", str(tmp_path)]
    point = write_checkpoint(tmp_path, "job", 3, 10.0)
    options = parse_options([*base, "--restore-from", str(point), "--retained-checkpoints", "10"])
    assert (options.restore_from, options.retained_checkpoints) == (point, 10)
    with pytest.raises(SystemExit):
        parse_options([*base, "--retained-checkpoints", "0"])
    assert "--retained-checkpoints must be >= 1, got 0" in capsys.readouterr().err


SCRAPE = """\
# HELP flink_taskmanager_job_task_operator_catalogview_refusedUnits refusedUnits
# TYPE flink_taskmanager_job_task_operator_catalogview_refusedUnits gauge
flink_taskmanager_job_task_operator_catalogview_refusedUnits{job_id="a1",subtask_index="0",} 2.0
flink_taskmanager_job_task_operator_catalogview_refusedUnits{job_id="other",subtask_index="0",} 9.0
# HELP flink_taskmanager_job_task_operator_catalogview_storeCommitLatencyMs latency
# TYPE flink_taskmanager_job_task_operator_catalogview_storeCommitLatencyMs summary
flink_taskmanager_job_task_operator_catalogview_storeCommitLatencyMs{job_id="a1",quantile="0.5",} 12.0
flink_taskmanager_job_task_operator_catalogview_storeCommitLatencyMs{job_id="a1",quantile="0.99",} 80.0
flink_taskmanager_job_task_operator_catalogview_storeCommitLatencyMs_count{job_id="a1",} 31.0
# HELP flink_taskmanager_job_task_numRecordsIn numRecordsIn
# TYPE flink_taskmanager_job_task_numRecordsIn gauge
flink_taskmanager_job_task_numRecordsIn{job_id="a1",} 5.0
"""


def test_parse_keeps_the_jobs_catalogview_metrics() -> None:
    values = metrics.parse(SCRAPE, "a1")
    assert values == {
        "refusedUnits": 2.0,
        "storeCommitLatencyMs_p50": 12.0,
        "storeCommitLatencyMs_p99": 80.0,
        "storeCommitLatencyMs_count": 31.0,
    }
    assert metrics.parse(SCRAPE, None)["refusedUnits"] == 11.0


def test_port_range() -> None:
    assert metrics.port_range("9250-9252") == [9250, 9251, 9252]
    assert metrics.port_range("9250") == [9250]
    with pytest.raises(metrics.MetricsError, match="expected PORT or FIRST-LAST"):
        metrics.port_range("x")
    with pytest.raises(metrics.MetricsError, match="not a port range"):
        metrics.port_range("9300-9200")
