"""The job's lifecycle, as `catalog-view job` runs it: submit, status, stop
(with a savepoint), resume (from the newest savepoint by default) and rescale
(stop with a savepoint, resume at another parallelism).

Where the job runs is a Target: the local session cluster
(`stack up --flink cluster`), a remote cluster by its REST address
(`--rest-address` or CATALOG_VIEW_FLINK_REST_ADDRESS), or the local
mini-cluster process (FlinkJob), which serves the same REST API on
`flink_mini_rest_port`. On a cluster the job is submitted with
`flink run --python`; on the mini-cluster submit and resume start the process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from catalog_view.errors import StackError
from catalog_view.settings import REPO_ROOT, Settings
from catalog_view.stack import jars
from catalog_view.stack.cluster import FlinkCluster, flink_home
from catalog_view.stack.flink_rest import FlinkRest, FlinkRestError
from catalog_view.stack.job import Baseline, FlinkJob, job_arguments, resume_point, savepoint_dir
from catalog_view.waiting import WaitTimeout, wait_until
from flink_jobs.checkpoints import completed_savepoints

Kind = Literal["mini", "cluster", "remote"]
SUBMITTED = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")


@dataclass(frozen=True)
class Target:
    settings: Settings
    kind: Kind
    rest_url: str

    @property
    def rest(self) -> FlinkRest:
        return FlinkRest(self.rest_url)

    @property
    def savepoint_target(self) -> str | None:
        """Where stop-with-savepoint writes (None: the cluster's configured default)."""
        if self.kind == "remote":
            return self.settings.flink_savepoint_dir
        return savepoint_dir(self.settings).as_uri()

    def describe(self) -> str:
        names = {"mini": "local mini-cluster", "cluster": "local cluster", "remote": "cluster"}
        return f"{names[self.kind]} at {self.rest_url}"


@dataclass(frozen=True)
class Submitted:
    job_id: str
    parallelism: int
    restored_from: str | None
    # Until Flink accepted the job, and until every task ran.
    submit_s: float
    running_s: float


@dataclass(frozen=True)
class Stopped:
    job_id: str
    savepoint: str
    stop_s: float


def checkpoint_root(settings: Settings) -> Path:
    return FlinkJob(settings).checkpoint_root


def resolve_target(
    settings: Settings, *, rest_address: str | None = None, flink: str | None = None
) -> Target:
    """An explicit address first, then the local cluster (asked for, or
    running), else the local mini-cluster."""
    address = rest_address or settings.flink_rest_address
    if address:
        if flink == "mini":
            raise StackError("--rest-address names a cluster; it does not go with --flink mini")
        parts = urlsplit(address if "://" in address else f"http://{address}")
        if not parts.hostname or not parts.port:
            raise StackError(f"REST address {address!r}: expected http://host:port")
        return Target(settings, "remote", f"{parts.scheme}://{parts.hostname}:{parts.port}")
    if flink not in (None, "mini", "cluster"):
        raise StackError(f"--flink must be 'mini' or 'cluster', got {flink!r}")
    cluster = FlinkCluster(settings)
    if flink == "cluster" or (flink is None and cluster.running()):
        if not cluster.running():
            raise StackError(
                "the local Flink cluster is not running: `catalog-view stack up --flink cluster`"
            )
        return Target(settings, "cluster", cluster.rest_url)
    return Target(settings, "mini", FlinkJob(settings).rest_url)


def newest_savepoint(settings: Settings) -> Path:
    """The newest savepoint under <data_dir>/flink/savepoints (by its _metadata)."""
    done = completed_savepoints(savepoint_dir(settings))
    if not done:
        raise StackError(
            f"no savepoint in {savepoint_dir(settings)}: `catalog-view job stop` takes one, "
            "or name one with --from"
        )
    return done[-1]


def local_path(location: str) -> Path:
    """A savepoint location as Flink reports it (file:/...) as a local path."""
    parts = urlsplit(location)
    if parts.scheme in ("", "file"):
        return Path(parts.path)
    raise StackError(f"savepoint {location}: only local paths (file:) can be restored from here")


def _running_elsewhere(target: Target) -> None:
    """One writer per store: no job may run under the other local runner."""
    mini = FlinkJob(target.settings)
    if target.kind != "mini" and mini.alive():
        raise StackError(
            f"the mini-cluster job runs (pid {mini.process.pid()}): stop it first "
            "(`catalog-view job stop --flink mini`)"
        )
    cluster = FlinkCluster(target.settings)
    if target.kind == "mini" and cluster.running():
        job = cluster.rest.running_job()
        if job is not None:
            raise StackError(
                f"job {job.job_id} runs on the local cluster: stop it first "
                "(`catalog-view job stop --flink cluster`)"
            )


def submit(
    target: Target,
    *,
    parallelism: int | None = None,
    fresh: bool = False,
    restore_from: Path | None = None,
    baseline: Baseline = None,
    timeout_s: float = 300,
) -> Submitted:
    """Start the job on the target and wait until every task runs. Without
    `restore_from` or `fresh` the job restores its newest retained checkpoint."""
    settings = target.settings
    p = parallelism or settings.flink_parallelism
    if p < 1:
        raise StackError(f"--parallelism must be >= 1, got {p}")
    _running_elsewhere(target)
    if target.kind != "remote" and restore_from is None and not fresh and not baseline:
        # A remote cluster's savepoints are not on this machine.
        restore_from = resume_point(settings, checkpoint_root(settings) / "aligned")
    started = time.monotonic()
    if target.kind == "mini":
        job = FlinkJob(settings)
        if job.alive():
            raise StackError(f"the mini-cluster job already runs (pid {job.process.pid()})")
        job.start(parallelism=p, baseline=baseline, fresh=fresh, restore_from=restore_from)
        job_id = _wait_mini_job(target, job, timeout_s)
    else:
        running = target.rest.running_job()
        if running is not None:
            raise StackError(f"job {running.job_id} already runs on {target.describe()}")
        job_id = _flink_run(target, p, fresh, restore_from, baseline, timeout_s)
    submit_s = time.monotonic() - started
    target.rest.wait_state(job_id, {"RUNNING"}, timeout_s)
    running_s = time.monotonic() - started
    restored = None if restore_from is None else str(restore_from)
    return Submitted(job_id, p, restored, submit_s, running_s)


def _wait_mini_job(target: Target, job: FlinkJob, timeout_s: float) -> str:
    found: list[str] = []

    def accepted() -> bool:
        if not job.alive():
            raise StackError(f"the job exited while starting:\n{job.process.log_tail()}")
        try:
            summary = target.rest.running_job()
        except FlinkRestError:
            return False  # the mini-cluster's REST endpoint is not up yet
        if summary is not None:
            found.append(summary.job_id)
        return bool(found)

    try:
        wait_until(accepted, timeout_s=timeout_s, what=f"the job on {target.describe()}")
    except WaitTimeout as exc:
        raise StackError(f"{exc}; see {job.process.log_file}") from None
    return found[0]


def _python_files(settings: Settings) -> Path:
    """flink_jobs as a zip for the cluster's Python workers (-pyfs)."""
    archive = settings.data_dir / "flink" / "flink_jobs.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted((REPO_ROOT / "flink_jobs").rglob("*.py")):
            out.write(path, path.relative_to(REPO_ROOT).as_posix())
    return archive


def flink_run_argv(
    target: Target,
    parallelism: int,
    *,
    fresh: bool = False,
    restore_from: Path | None = None,
    baseline: Baseline = None,
) -> list[str]:
    """`flink run --python` with the job's arguments from the spec."""
    settings = target.settings
    address = urlsplit(target.rest_url)
    arguments = job_arguments(
        settings,
        checkpoint_dir=str(checkpoint_root(settings)),
        sql_dir=str(REPO_ROOT / "sql"),
        parallelism=parallelism,
        baseline=baseline,
        fresh=fresh,
        restore_from=restore_from,
        jars=tuple(jars.flink_jar_urls()),
    )
    return [
        str(flink_home() / "bin" / "flink"),
        "run",
        "-m",
        f"{address.hostname}:{address.port}",
        "--detached",
        "-pym",
        "flink_jobs",
        "-pyfs",
        str(_python_files(settings)),
        # The client runs the job's Python program with this environment's Python.
        "-pyclientexec",
        sys.executable,
        *arguments.argv(),
    ]


def _flink_run(
    target: Target,
    parallelism: int,
    fresh: bool,
    restore_from: Path | None,
    baseline: Baseline,
    timeout_s: float,
) -> str:
    settings = target.settings
    argv = flink_run_argv(
        target, parallelism, fresh=fresh, restore_from=restore_from, baseline=baseline
    )
    cluster = FlinkCluster(settings)
    conf_dir = cluster.conf_dir("jobmanager") if target.kind == "cluster" else None
    log_dir = settings.data_dir / "logs" / "flink-client"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "FLINK_CONF_DIR": str(conf_dir or flink_home() / "conf"),
        "FLINK_LOG_DIR": str(log_dir),
        # The client runs flink_jobs from the repository to build the job graph.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        # The password travels in the environment, never on the command line.
        "CATALOG_VIEW_STORE_PASSWORD": settings.secret("writer_password"),
    }
    try:
        result = subprocess.run(
            argv, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        raise StackError(f"flink run did not return within {timeout_s:.0f}s") from None
    output = result.stdout + result.stderr
    (log_dir / "flink-run.log").write_text(output)
    match = SUBMITTED.search(output)
    if result.returncode != 0 or match is None:
        tail = "\n".join(output.strip().splitlines()[-25:])
        raise StackError(
            f"flink run failed (exit {result.returncode}) against {target.describe()}:\n{tail}"
        )
    return match.group(1)


def stop(target: Target, *, timeout_s: float = 300) -> Stopped:
    """Stop-with-savepoint: the job takes a savepoint and finishes."""
    started = time.monotonic()
    try:
        job = target.rest.running_job()
    except FlinkRestError as exc:
        raise StackError(f"no job to stop on {target.describe()}: {exc}") from None
    if job is None:
        raise StackError(f"no catalog-view job is running on {target.describe()}")
    target.rest.wait_state(job.job_id, {"RUNNING"}, timeout_s)
    trigger = target.rest.stop_with_savepoint(job.job_id, target.savepoint_target)
    try:
        location = target.rest.wait_savepoint(job.job_id, trigger, timeout_s)
    except FlinkRestError:
        # The mini-cluster may end with its job before it was asked once more.
        if target.kind != "mini" or FlinkJob(target.settings).alive():
            raise
        newest = newest_savepoint(target.settings)
        if (newest / "_metadata").stat().st_mtime < time.time() - (time.monotonic() - started):
            raise
        location = newest.as_uri()
    if target.kind == "mini":
        # The mini-cluster process ends with its job.
        mini = FlinkJob(target.settings)
        wait_until(lambda: not mini.alive(), timeout_s=timeout_s, what="the job process to exit")
        mini.stop()
    else:
        target.rest.wait_state(job.job_id, {"FINISHED"}, timeout_s)
    return Stopped(job.job_id, location, time.monotonic() - started)


def resume(
    target: Target,
    *,
    savepoint: str | Path | None = None,
    parallelism: int | None = None,
    timeout_s: float = 300,
) -> Submitted:
    """Submit the job restoring a savepoint (the newest one by default)."""
    if savepoint is None:
        point = newest_savepoint(target.settings)
    else:
        point = local_path(str(savepoint))
        if not (point / "_metadata").is_file():
            raise StackError(f"--from {savepoint}: no _metadata there, not a savepoint")
    return submit(target, parallelism=parallelism, restore_from=point, timeout_s=timeout_s)


def rescale(
    target: Target, parallelism: int, *, timeout_s: float = 300
) -> tuple[Stopped, Submitted]:
    """Stop with a savepoint, resume from it at `parallelism`."""
    if parallelism < 1:
        raise StackError(f"rescale: parallelism must be >= 1, got {parallelism}")
    stopped = stop(target, timeout_s=timeout_s)
    resumed = resume(
        target, savepoint=stopped.savepoint, parallelism=parallelism, timeout_s=timeout_s
    )
    return stopped, resumed


@dataclass(frozen=True)
class ClusterJob(FlinkJob):
    """The job on the local session cluster, driven like the mini-cluster
    process (start, stop, alive): what `catalog-view verify --flink cluster`
    runs. Stopping cancels it; its retained checkpoints stay, as when the
    mini-cluster process is stopped."""

    def _target(self) -> Target:
        return resolve_target(self.settings, flink="cluster")

    def start(
        self,
        *,
        parallelism: int | None = None,
        baseline: Baseline = None,
        fresh: bool = False,
        restore_from: Path | None = None,
    ) -> int:
        """Submit and wait until every task runs; returns the JobManager's pid."""
        submit(
            self._target(),
            parallelism=parallelism,
            baseline=baseline,
            fresh=fresh,
            restore_from=restore_from,
        )
        return FlinkCluster(self.settings).process("jobmanager").pid() or 0

    def stop(self) -> bool:
        cluster = FlinkCluster(self.settings)
        if not cluster.running():
            return False
        job = cluster.rest.running_job()
        if job is None:
            return False
        cluster.rest.cancel(job.job_id)
        cluster.rest.wait_state(job.job_id, {"CANCELED"}, timeout_s=120)
        return True

    def alive(self) -> bool:
        cluster = FlinkCluster(self.settings)
        if not cluster.running():
            return False
        try:
            return cluster.rest.running_job() is not None
        except FlinkRestError:
            return False
