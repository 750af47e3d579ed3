"""The job on a standalone session cluster (one JobManager, two TaskManagers,
from the PyFlink wheel) and its lifecycle by `catalog-view job`: submit,
status, stop with a savepoint, resume, rescale; then the oracle at
parallelism 4 on the cluster. Also the lifecycle on the local mini-cluster.

The session job is stopped while these run and started fresh again at the
end of the module, awaited until the store equals the reference, so later
tests see the usual stack.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from catalog_view.checker.draws import Scale
from catalog_view.checker.options import VerifyOptions
from catalog_view.checker.verify import run_verify
from catalog_view.cli import main
from catalog_view.errors import StackError
from catalog_view.reference import converged
from catalog_view.settings import Settings
from catalog_view.stack import lifecycle
from catalog_view.stack.cluster import FlinkCluster
from catalog_view.stack.job import FlinkJob, savepoint_dir, wrote_since
from catalog_view.stack.job_report import job_report
from catalog_view.stack.local import LocalStack
from catalog_view.store import read_watermark
from catalog_view.waiting import wait_until
from tests.conftest import TEST_PORTS

pytestmark = pytest.mark.e2e


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """`catalog-view` commands in-process see the session stack's settings."""
    monkeypatch.setenv("CATALOG_VIEW_DATA_DIR", str(settings.data_dir))
    for field in TEST_PORTS:
        monkeypatch.setenv(f"CATALOG_VIEW_{field.upper()}", str(getattr(settings, field)))


# Measured durations, printed when the module's cluster stops (tests that
# capture their own output would swallow them).
TIMINGS: list[str] = []


def _timing(what: str, seconds: float) -> None:
    TIMINGS.append(f"timing: {what} {seconds:.1f}s")


@pytest.fixture(scope="module")
def cluster(stack: LocalStack) -> Iterator[FlinkCluster]:
    """The session stack with the local cluster running instead of the
    mini-cluster job, for this module; afterwards the cluster is down and the
    session job is back, started fresh, with the store equal to the reference."""
    stack.job.stop()
    local = FlinkCluster(stack.settings)
    try:
        _timing("cluster start-up (1 JobManager, 2 TaskManagers)", local.start())
        yield local
    finally:
        print("\n" + "\n".join(TIMINGS))
        lifecycle.ClusterJob(stack.settings).stop()
        local.stop()
        stack.job.stop()
        since = stack.job.restart(fresh=True)
        wait_until(
            lambda: wrote_since(stack.settings, since) and converged(stack.settings),
            timeout_s=600,
            what="session job back and store == reference",
            interval_s=1.0,
        )


def _wait_checkpoint(target: lifecycle.Target, after_ms: int) -> None:
    """Until a checkpoint completed after `after_ms` (epoch ms): the job moves."""

    def done() -> bool:
        job = target.rest.running_job()
        if job is None:
            return False
        info = target.rest.checkpoints(job.job_id)
        return info.last_ack_ms is not None and info.last_ack_ms > after_ms

    wait_until(done, timeout_s=180, what="a completed checkpoint", interval_s=0.5)


def test_cluster_processes_ports_and_logs(cluster: FlinkCluster, settings: Settings) -> None:
    overview = cluster.rest.overview()
    assert overview["taskmanagers"] == 2
    assert overview["slots-total"] == 2 * settings.flink_slots_per_taskmanager
    pids = {name: cluster.process(name).pid() for name in cluster.names}
    assert cluster.names == ["jobmanager", "taskmanager-1", "taskmanager-2"]
    assert all(pids.values()) and len(set(pids.values())) == 3, pids
    for name in cluster.names:
        assert list(cluster.log_dir(name).glob("*.log")), f"{name} wrote no log"
    ports = {cluster.config(n).get("taskmanager.rpc.port") for n in cluster.names[1:]}
    assert ports == {settings.flink_rpc_port + 1, settings.flink_rpc_port + 2}
    # Flink's Prometheus reporter answers on each process's own port.
    for name in cluster.names:
        metrics = requests.get(cluster.metrics_url(name), timeout=10)
        assert metrics.status_code == 200 and "flink_" in metrics.text, name
    rows = {row.name: row for row in LocalStack(settings).status()}
    for name in cluster.names:
        assert rows[f"flink-{name}"].state == "healthy", rows[f"flink-{name}"]


def test_job_lifecycle_on_the_cluster(
    cluster: FlinkCluster, settings: Settings, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    target = lifecycle.resolve_target(settings)
    assert target.kind == "cluster"

    submitted = lifecycle.submit(target, parallelism=2, fresh=True)
    _timing("submission (accepted)", submitted.submit_s)
    _timing("submission (every task running)", submitted.running_s)
    _wait_checkpoint(target, int(time.time() * 1000))
    # A fresh job shows a watermark once the replayed snapshot is committed,
    # which may take more than the first checkpoint.
    wait_until(
        lambda: read_watermark(settings) is not None,
        timeout_s=300,
        what="the fresh job's first watermark in the store",
        interval_s=0.5,
    )
    report = job_report(target)
    assert (report.state, report.job_id, report.parallelism) == ("RUNNING", submitted.job_id, 2)
    assert report.restarts == 0
    assert report.checkpoint is not None and report.checkpoint["age_s"] is not None
    assert report.watermark is not None, report.problems

    # The CLI's status: exit 0 while running; a second submit is refused.
    assert main(["job", "status", "--json"]) == 0
    assert f'"job_id": "{submitted.job_id}"' in capsys.readouterr().out
    assert main(["job", "submit"]) == 2
    assert "already runs" in capsys.readouterr().err

    stopped = lifecycle.stop(target)
    _timing("stop-with-savepoint", stopped.stop_s)
    savepoint = lifecycle.local_path(stopped.savepoint)
    assert (savepoint / "_metadata").is_file()
    assert savepoint.parent == savepoint_dir(settings)
    assert target.rest.job(stopped.job_id).state == "FINISHED"
    assert main(["job", "status"]) == 1
    assert "NOT RUNNING" in capsys.readouterr().out
    assert main(["job", "stop"]) == 2
    assert "no catalog-view job is running" in capsys.readouterr().err

    resumed = lifecycle.resume(target)
    _timing("resume from the savepoint (every task running)", resumed.running_s)
    assert resumed.restored_from == str(savepoint)
    restored = target.rest.checkpoints(resumed.job_id).restored_from
    assert restored is not None and Path(restored.removeprefix("file:")) == savepoint

    # By REST address, as for a remote cluster: the wheel's client
    # configuration, the savepoint in the cluster's configured directory.
    assert main(["job", "rescale", "4", "--rest-address", cluster.rest_url]) == 0
    out = capsys.readouterr().out
    assert "at parallelism 4" in out
    assert f"savepoint {savepoint_dir(settings).as_uri().replace('///', '/')}" in out
    report = job_report(target)
    assert (report.state, report.parallelism) == ("RUNNING", 4)
    assert lifecycle.ClusterJob(settings).stop()


def test_verify_on_the_cluster_at_parallelism_4(cluster: FlinkCluster, settings: Settings) -> None:
    """The oracle on the standalone cluster: every observed store state is the
    reference of the state its watermark names, and the store ends equal."""
    options = VerifyOptions(
        transactions=60,
        parallelism=4,
        seed=20240611,
        products=20,
        scale=Scale(bulk_rows=500, fan_out_products=100, toast_bytes=4096),
        ensure_stack=False,
        flink="cluster",
    )
    report = run_verify(settings, options)
    print("\n".join(report.lines()))
    assert report.observations > 0
    assert report.violations == 0, report.violation_examples
    assert report.final_equal, report.final_difference
    assert report.parallelism == 4


def test_job_lifecycle_on_the_mini_cluster(
    cluster: FlinkCluster, settings: Settings, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """status, stop with a savepoint and resume work on the mini-cluster too,
    through its REST port; a submit there is refused while the cluster runs a job."""
    mini = FlinkJob(settings)
    target = lifecycle.resolve_target(settings, flink="mini")
    assert target.kind == "mini"
    cluster_job = lifecycle.ClusterJob(settings)
    cluster_job.start(parallelism=1)
    with pytest.raises(StackError, match=r"runs on the local cluster: stop it first"):
        lifecycle.submit(target)
    assert cluster_job.stop()

    submitted = lifecycle.submit(target, parallelism=1)
    assert mini.alive() and job_report(target).state == "RUNNING"
    _wait_checkpoint(target, int(time.time() * 1000))
    assert main(["job", "status", "--flink", "mini"]) == 0
    assert submitted.job_id in capsys.readouterr().out

    stopped = lifecycle.stop(target)
    _timing("mini-cluster stop-with-savepoint", stopped.stop_s)
    assert not mini.alive()
    assert (lifecycle.local_path(stopped.savepoint) / "_metadata").is_file()

    # A plain start after `job stop` goes on from its savepoint (Flink deleted
    # the finished job's checkpoints): not a replay into an emptied store.
    at_stop = read_watermark(settings)
    again = lifecycle.submit(target, parallelism=1)
    assert again.restored_from is not None
    assert Path(again.restored_from).resolve() == lifecycle.local_path(stopped.savepoint).resolve()
    after = read_watermark(settings)
    assert at_stop is not None and after is not None
    assert after.commit_lsn >= at_stop.commit_lsn, "the store was emptied and rebuilt"
    assert lifecycle.stop(target).savepoint

    assert main(["job", "resume", "--flink", "mini", "--parallelism", "2"]) == 0
    assert "at parallelism 2 from" in capsys.readouterr().out
    assert job_report(target).parallelism == 2
    assert mini.stop()
