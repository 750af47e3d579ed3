"""`catalog-view job` without a cluster: Flink REST answers parsed, the job's
argument spec against the job's parser, targets, command errors, the
cluster's configuration."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from catalog_view.cli import main
from catalog_view.errors import StackError
from catalog_view.settings import REPO_ROOT, Settings, load_settings
from catalog_view.stack import lifecycle
from catalog_view.stack.cluster import FlinkCluster, flatten, flink_home
from catalog_view.stack.flink_rest import (
    FlinkRest,
    FlinkRestError,
    parse_checkpoints,
    parse_job_detail,
    parse_jobs_overview,
    parse_metric,
    parse_savepoint_status,
    running_job,
)
from catalog_view.stack.job import FlinkJob, job_arguments, savepoint_dir
from catalog_view.stack.job_report import JobReport, checkpoint_summary, describe_checkpoint
from flink_jobs.arguments import JobArguments, flags
from flink_jobs.options import STORE_PASSWORD_ENV, parse_options

pytestmark = pytest.mark.unit

JOBS = {
    "jobs": [
        {"jid": "a" * 32, "name": "catalog-view", "state": "FINISHED", "start-time": 1},
        {"jid": "b" * 32, "name": "catalog-view", "state": "RUNNING", "start-time": 2},
        {"jid": "c" * 32, "name": "other", "state": "RUNNING", "start-time": 3},
    ]
}
CHECKPOINTS = {
    "counts": {"restored": 1, "total": 12, "in_progress": 0, "completed": 10, "failed": 2},
    "latest": {
        "completed": {
            "id": 10,
            "latest_ack_timestamp": 1_000_000,
            "state_size": 3 * 1024 * 1024,
            "checkpointed_size": 2048,
            "external_path": "file:/d/flink/checkpoints/aligned/x/chk-10",
        },
        "restored": {"id": 4, "external_path": "file:/d/flink/savepoints/savepoint-b-1"},
    },
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path, writer_password="w")


# -- REST answers -------------------------------------------------------------------------


def test_the_running_job_is_the_one_not_terminal() -> None:
    jobs = parse_jobs_overview(JOBS)
    assert [j.state for j in jobs] == ["FINISHED", "RUNNING", "RUNNING"]
    found = running_job(jobs)
    assert found is not None and found.job_id == "b" * 32
    assert running_job(jobs[:1]) is None


def test_two_running_jobs_of_that_name_are_an_error() -> None:
    jobs = parse_jobs_overview(JOBS)
    twice = [jobs[1], jobs[1].__class__("d" * 32, "catalog-view", "RESTARTING", 4)]
    with pytest.raises(FlinkRestError, match=r"2 jobs named 'catalog-view' are running"):
        running_job(twice)


def test_job_detail_parallelism_and_running() -> None:
    data = {
        "jid": "b" * 32,
        "name": "catalog-view",
        "state": "RUNNING",
        "vertices": [
            {"id": "v1", "name": "Source", "parallelism": 4, "status": "RUNNING"},
            {"id": "v2", "name": "assemble", "parallelism": 1, "status": "DEPLOYING"},
        ],
    }
    detail = parse_job_detail(data)
    assert detail.parallelism == 4
    assert not detail.all_running
    data["vertices"][1]["status"] = "RUNNING"  # type: ignore[index]
    assert parse_job_detail(data).all_running


def test_checkpoints_last_completed_and_restore() -> None:
    info = parse_checkpoints(CHECKPOINTS)
    assert (info.completed, info.failed, info.last_id) == (10, 2, 10)
    assert info.restored_from == "file:/d/flink/savepoints/savepoint-b-1"
    summary = checkpoint_summary(info, now_ms=1_002_500)
    assert summary is not None and summary["age_s"] == 2.5
    text = describe_checkpoint(summary)
    assert text.startswith("#10 2.5s ago, state 3.0 MiB (this checkpoint wrote 2.0 KiB)")
    assert "restored from file:/d/flink/savepoints/savepoint-b-1" in text
    assert checkpoint_summary(parse_checkpoints({"counts": {}, "latest": {}}), 0) is None


def test_savepoint_status_in_progress_done_and_failed() -> None:
    assert not parse_savepoint_status({"status": {"id": "IN_PROGRESS"}}).done
    done = parse_savepoint_status(
        {"status": {"id": "COMPLETED"}, "operation": {"location": "file:/sp/savepoint-1"}}
    )
    assert (done.done, done.location, done.failure) == (True, "file:/sp/savepoint-1", None)
    failed = parse_savepoint_status(
        {
            "status": {"id": "COMPLETED"},
            "operation": {"failure-cause": {"stack-trace": "java.lang.Exception: boom\n\tat x"}},
        }
    )
    assert (failed.location, failed.failure) == (None, "java.lang.Exception: boom")


def test_metric_value() -> None:
    assert parse_metric([{"id": "numRestarts", "value": "3"}], "numRestarts") == 3.0
    assert parse_metric([], "numRestarts") is None


def _response(status: int, body: Any) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.reason = "Bad Request"
    return response


def test_rest_errors_name_the_url_and_flinks_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = _response(400, {"errors": ["Job could not be found.\nstack"]})
    monkeypatch.setattr(requests, "request", lambda *a, **k: answer)
    with pytest.raises(FlinkRestError, match=r"POST http://h:1/jobs/x/stop: 400 Job could not"):
        FlinkRest("http://h:1/").stop_with_savepoint("x", None)


def test_rest_unreachable_is_a_clear_error() -> None:
    rest = FlinkRest("http://127.0.0.1:1", timeout_s=1)
    assert not rest.reachable()
    with pytest.raises(FlinkRestError, match=r"http://127.0.0.1:1/jobs/overview unreachable"):
        rest.jobs()


def test_stop_sends_the_savepoint_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []

    def request(method: str, url: str, json: dict[str, Any], timeout: float) -> Any:
        sent.append({"method": method, "url": url, "body": json})
        return _response(202, {"request-id": "t1"})

    monkeypatch.setattr(requests, "request", request)
    assert FlinkRest("http://h:1").stop_with_savepoint("j", "file:///sp") == "t1"
    assert sent == [
        {
            "method": "POST",
            "url": "http://h:1/jobs/j/stop",
            "body": {"drain": False, "targetDirectory": "file:///sp"},
        }
    ]


# -- one spec of the job's arguments --------------------------------------------------------


def test_the_job_parses_every_argument_of_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STORE_PASSWORD_ENV, "pw")
    spec = JobArguments(
        bootstrap_servers="k:9092",
        topic_prefix="shop",
        source_schema="src",
        store_host="db",
        store_port=6543,
        store_db="store",
        store_schema="view",
        store_user="writer",
        parallelism=3,
        bad_records="dead-letter",
        managed_memory="512m",
        checkpoint_interval_ms=2000,
        commit_at="checkpoint",
        checkpoint_dir="/cp",
        sql_dir=str(REPO_ROOT / "sql"),
        restore_from="/sp/savepoint-1",
        rest_port=8089,
        jars=("file:///a.jar", "file:///b.jar"),
    )
    options = parse_options(spec.argv())
    assert (options.bootstrap_servers, options.topic_prefix, options.source_schema) == (
        "k:9092",
        "shop",
        "src",
    )
    assert (options.store_host, options.store_port, options.store_db) == ("db", 6543, "store")
    assert (options.store_schema, options.store_user) == ("view", "writer")
    assert (options.parallelism, options.bad_records, options.managed_memory) == (
        3,
        "dead-letter",
        "512m",
    )
    assert (options.checkpoint_interval_ms, options.commit_at) == (2000, "checkpoint")
    assert options.checkpoint_dir == Path("/cp/aligned")
    assert options.restore_from == Path("/sp/savepoint-1")
    assert options.rest_port == 8089
    assert options.jars == ("file:///a.jar", "file:///b.jar")
    fresh = parse_options(
        JobArguments(**{**spec.__dict__, "restore_from": None, "fresh": True}).argv()
    )
    assert fresh.fresh and fresh.restore_from is None


def test_every_flag_of_the_spec_is_an_option_of_the_job() -> None:
    source = (REPO_ROOT / "flink_jobs" / "options.py").read_text()
    for flag in flags():
        assert f'"{flag}"' in source, f"{flag} is in the spec, not in flink_jobs/options.py"


def test_restore_from_refuses_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STORE_PASSWORD_ENV, "pw")
    argv = ["--bootstrap-servers", "k", "--topic-prefix", "p", "--source-schema", "s"]
    argv += ["--checkpoint-dir", "/cp", "--restore-from", "/sp", "--fresh"]
    with pytest.raises(SystemExit):
        parse_options(argv)


def test_local_start_and_cluster_submission_render_the_spec(settings: Settings) -> None:
    local = FlinkJob(settings).argv(parallelism=2)
    assert local[1:3] == ["-m", "flink_jobs"]
    spec = job_arguments(
        settings,
        parallelism=2,
        checkpoint_dir=str(FlinkJob(settings).checkpoint_root),
        sql_dir=str(REPO_ROOT / "sql"),
        rest_port=settings.flink_mini_rest_port,
    ).argv()
    assert local[3 : 3 + len(spec)] == spec
    target = lifecycle.Target(settings, "remote", "http://flink.example:8081")
    run = lifecycle.flink_run_argv(target, 4, restore_from=Path("/sp/x"))
    assert run[1:7] == ["run", "-m", "flink.example:8081", "--detached", "-pym", "flink_jobs"]
    assert "--rest-port" not in run  # only the mini-cluster serves REST on a port of ours
    job_args = run[run.index("--bootstrap-servers") :]
    assert job_args[job_args.index("--parallelism") + 1] == "4"
    assert job_args[job_args.index("--restore-from") + 1] == "/sp/x"


# -- targets and command errors -------------------------------------------------------------


def test_targets(settings: Settings) -> None:
    remote = lifecycle.resolve_target(settings, rest_address="flink.example:8081")
    assert (remote.kind, remote.rest_url) == ("remote", "http://flink.example:8081")
    assert lifecycle.resolve_target(settings).kind == "mini"
    with pytest.raises(StackError, match=r"expected http://host:port"):
        lifecycle.resolve_target(settings, rest_address="http://nohost")
    with pytest.raises(StackError, match=r"does not go with --flink mini"):
        lifecycle.resolve_target(settings, rest_address="h:1", flink="mini")
    with pytest.raises(StackError, match=r"stack up --flink cluster"):
        lifecycle.resolve_target(settings, flink="cluster")


def test_newest_savepoint_and_locations(settings: Settings) -> None:
    with pytest.raises(StackError, match=r"no savepoint in .*savepoints"):
        lifecycle.newest_savepoint(settings)
    for name, mtime in (("savepoint-a", 100), ("savepoint-b", 300), ("savepoint-c", 200)):
        metadata = savepoint_dir(settings) / name / "_metadata"
        metadata.parent.mkdir(parents=True)
        metadata.write_bytes(b"x")
        os.utime(metadata, (mtime, mtime))
    assert lifecycle.newest_savepoint(settings).name == "savepoint-b"
    assert lifecycle.local_path("file:/sp/savepoint-1") == Path("/sp/savepoint-1")
    with pytest.raises(StackError, match=r"only local paths"):
        lifecycle.local_path("s3://bucket/savepoint-1")


@pytest.fixture
def no_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings of a stack that does not run: nothing answers on its ports."""
    for key in list(os.environ):
        if key.startswith("CATALOG_VIEW_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CATALOG_VIEW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CATALOG_VIEW_FLINK_MINI_REST_PORT", "1")
    monkeypatch.setenv("CATALOG_VIEW_PG_PORT", "2")
    monkeypatch.setenv("CATALOG_VIEW_KAFKA_PORT", "3")
    return tmp_path


def test_job_commands_without_a_job(no_stack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["job", "stop"]) == 2
    assert "no job to stop on local mini-cluster at http://127.0.0.1:1" in capsys.readouterr().err
    assert main(["job", "resume"]) == 2
    assert f"no savepoint in {no_stack / 'flink' / 'savepoints'}" in capsys.readouterr().err
    assert main(["job", "resume", "--from", str(no_stack)]) == 2
    assert "no _metadata there, not a savepoint" in capsys.readouterr().err
    assert main(["job", "rescale", "2", "--flink", "cluster"]) == 2
    assert "the local Flink cluster is not running" in capsys.readouterr().err
    assert main(["job", "status"]) == 1
    out = capsys.readouterr().out
    assert "job        NOT RUNNING on local mini-cluster" in out
    assert "problem    store unreadable" in out


def test_job_arguments_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["job", "rescale", "0"])
    assert "must be >= 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["job", "submit", "--flink", "yarn"])


def test_report_lines() -> None:
    report = JobReport("local cluster at http://h:1", "RUNNING", "j", 4, 0)
    report.backpressure = {"Join[95]": "high"}
    lines = report.lines()
    assert lines[0] == "job        RUNNING on local cluster at http://h:1, id j, parallelism 4"
    assert "checkpoint none completed yet" in lines
    assert "backpressure Join[95]: high" in lines
    assert report.running and not JobReport("x", "NOT RUNNING").running


# -- the cluster's configuration ------------------------------------------------------------


def test_cluster_configuration(settings: Settings) -> None:
    cluster = FlinkCluster(settings)
    assert cluster.names == ["jobmanager", "taskmanager-1", "taskmanager-2"]
    jm, tm2 = cluster.config("jobmanager"), cluster.config("taskmanager-2")
    assert jm["rest.port"] == settings.flink_rest_port
    assert jm["jobmanager.rpc.port"] == settings.flink_rpc_port
    assert "taskmanager.rpc.port" not in jm
    assert tm2["taskmanager.rpc.port"] == settings.flink_rpc_port + 2
    assert tm2["taskmanager.resource-id"] == "taskmanager-2"
    assert tm2["io.tmp.dirs"] != cluster.config("taskmanager-1")["io.tmp.dirs"]
    # The mini-cluster job's state backend and memory.
    assert tm2["state.backend.type"] == "rocksdb"
    assert tm2["execution.checkpointing.incremental"] == "true"
    assert tm2["taskmanager.memory.managed.size"] == settings.job_managed_memory
    assert tm2["execution.checkpointing.savepoint-dir"] == cluster.savepoint_dir.as_uri()
    assert tm2["metrics.reporter.prom.port"] == str(settings.flink_prometheus_port + 2)
    assert (flink_home() / "plugins" / "metrics-prometheus").is_dir()
    # The wheel's JVM flags for Java 17 are kept.
    assert "--add-opens" in str(tm2["env.java.opts.all"])
    assert flatten({"a": {"b": 1, "c": {"d": "x"}}, "e": 2}) == {"a.b": 1, "a.c.d": "x", "e": 2}
